"""The authenticated caller: which tenant it acts in and what it may do."""

from __future__ import annotations

from dataclasses import dataclass

from flexbill.core.errors import FlexbillError
from flexbill.tenancy import permissions


@dataclass(frozen=True)
class TenantContext:
    tenant_id: str  # the environment (live or test) every row is scoped to
    business_unit_id: str  # what clients call the Tenant-ID
    mode: str
    region: str
    currency: str
    key_id: str | None
    permissions: frozenset[str]
    tier: str

    def require(self, permission: str) -> None:
        if not permissions.grants(self.permissions, permission):
            raise FlexbillError(
                "INSUFFICIENT_PERMISSIONS", f"This API key lacks the '{permission}' permission"
            )

    @property
    def actor(self) -> str:
        return f"api_key:{self.key_id}" if self.key_id else "system"
