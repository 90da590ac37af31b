"""API key bodies of the /v1 face.

A flexbill addition: FlexPortal manages keys in its dashboard.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import AwareDatetime, Field

from flexbill.api.v1.responses import V1Model
from flexbill.core import clock
from flexbill.tenancy.models import ApiKey


class ApiKeyCreateBody(V1Model):
    name: Annotated[str, Field(max_length=200)] = ""
    permissions: Annotated[list[str], Field(min_length=1)]
    tier: Literal["starter", "growth", "enterprise"] | None = None
    allowed_ips: list[str] = Field(default_factory=list, description="Trusted IPs or CIDRs")
    expires_at: AwareDatetime | None = None


class ApiKeyBody(V1Model):
    key_id: str
    name: str
    mode: str
    prefix: str
    permissions: list[str]
    tier: str
    allowed_ips: list[str]
    status: Literal["active", "revoked", "expired"]
    expires_at: datetime | None
    revoked_at: datetime | None
    created_at: datetime

    @classmethod
    def of(cls, key: ApiKey, mode: str) -> ApiKeyBody:
        if key.revoked_at is not None:
            status: Literal["active", "revoked", "expired"] = "revoked"
        elif key.expires_at is not None and key.expires_at <= clock.now():
            status = "expired"
        else:
            status = "active"
        return cls(
            key_id=key.id, name=key.name, mode=mode, prefix=key.display_prefix,
            permissions=list(key.permissions), tier=key.tier, allowed_ips=list(key.allowed_ips),
            status=status, expires_at=key.expires_at, revoked_at=key.revoked_at,
            created_at=key.created_at,
        )  # fmt: skip


class ApiKeyCreated(V1Model):
    success: bool = True
    message: str
    api_key: str = Field(description="The secret. It is shown only in this response.")
    key_id: str
    key: ApiKeyBody


class ApiKeyResult(V1Model):
    success: bool = True
    message: str
    key_id: str
    key: ApiKeyBody


class ApiKeyList(V1Model):
    api_keys: list[ApiKeyBody]
    count: int
    limit: int
    has_more: bool
    next_cursor: str | None
