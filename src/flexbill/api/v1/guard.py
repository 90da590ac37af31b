"""The gate every authenticated /v1 operation passes: key, tenant, address, rate limit,
permission, and (for POST) the ``Idempotency-Key``.

A route declares ``call: Annotated[Call, Depends(require("customers:read"))]`` and gets
the caller's ``TenantContext`` and the request's session in one dependency: each extra
FastAPI dependency costs measurable time on every request (see bench/README.md).
The security schemes are documented in OpenAPI by ``openapi.py``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated

import orjson
from fastapi import Depends
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import UploadFile
from starlette.requests import Request

from flexbill.api.runtime import client_ip, runtime
from flexbill.api.unit_of_work import on_commit, request_session
from flexbill.core.errors import FlexbillError
from flexbill.core.ratelimit import Quota
from flexbill.idempotency import service as idempotency
from flexbill.idempotency.models import IdempotencyRecord
from flexbill.tenancy import service as tenancy
from flexbill.tenancy.context import TenantContext

Session = Annotated[AsyncSession, Depends(request_session)]


@dataclass(frozen=True)
class Call:
    """An authorized request: who calls, and the transaction the request runs in."""

    ctx: TenantContext
    session: AsyncSession


class IdempotentReplay(Exception):
    """The request repeats an earlier one; answer with the stored response."""

    def __init__(self, stored: idempotency.StoredResponse) -> None:
        super().__init__("idempotent replay")
        self.stored = stored


def rate_limited(quota: Quota) -> FlexbillError:
    return FlexbillError(
        "RATE_LIMITED",
        f"Rate limit of {quota.limit} requests per minute exceeded; "
        f"retry after {quota.retry_after} s",
        data={"retry_after": quota.retry_after},
    )


def _bearer_token(request: Request) -> str:
    authorization = request.headers.get("authorization")
    if not authorization:
        raise FlexbillError("AUTH_REQUIRED", "Missing Authorization header")
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise FlexbillError("INVALID_TOKEN", "Authorization must be 'Bearer <API key>'")
    return token.strip()


async def _authenticate(request: Request, session: AsyncSession) -> TenantContext:
    return await tenancy.authenticate(
        session,
        secret=_bearer_token(request),
        business_unit_id=request.headers.get("tenant-id"),
        client_ip=client_ip(request),
        cache=runtime(request).key_cache,
    )


async def _count_request(request: Request, ctx: TenantContext) -> None:
    rt = runtime(request)
    limit = tenancy.requests_per_minute(ctx.tier, rt.settings)
    quota = await rt.limiter.hit(f"key:{ctx.key_id}", limit)
    request.state.quota = quota
    if not quota.allowed:
        raise rate_limited(quota)


async def _content(request: Request) -> bytes:
    """What a request's idempotency fingerprint covers: its body, or for a multipart body
    its parts (FastAPI may have read the stream into a form already, and a client picks a
    new boundary each time it retries the same upload)."""
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        return await request.body()
    parts: list[list[str | None]] = []
    for name, value in (await request.form()).multi_items():
        if isinstance(value, UploadFile):
            content = await value.read()
            await value.seek(0)  # the route reads it again
            parts.append([name, value.filename, hashlib.sha256(content).hexdigest()])
        else:
            parts.append([name, value])
    return orjson.dumps(parts)


async def _claim_idempotency_key(
    request: Request, session: AsyncSession, ctx: TenantContext, key: str
) -> None:
    ttl = timedelta(hours=runtime(request).settings.idempotency_ttl_hours)
    fingerprint = idempotency.fingerprint(
        request.method, request.url.path, await _content(request), caller=ctx.key_id or ""
    )
    claimed = await idempotency.claim(
        session, tenant_id=ctx.tenant_id, key=key, fingerprint=fingerprint, ttl=ttl
    )
    if isinstance(claimed, idempotency.StoredResponse):
        raise IdempotentReplay(claimed)
    record: IdempotencyRecord = claimed

    async def remember(status: int, body: bytes) -> None:
        secret_fields: set[str] = getattr(request.state, "secret_fields", set())
        if secret_fields:
            answer = orjson.loads(body)
            answer.update(dict.fromkeys(secret_fields))
            body = orjson.dumps(answer)
        await idempotency.complete(session, record, status, body)

    on_commit(request, remember)


def keep_out_of_replays(request: Request, *fields: str) -> None:
    """Never store these top-level response fields (secrets shown once): a replayed answer
    carries ``null`` in their place."""
    secret_fields: set[str] = getattr(request.state, "secret_fields", set())
    request.state.secret_fields = secret_fields | set(fields)


async def authenticate_caller(request: Request) -> TenantContext:
    """Authenticate and count a request outside a route's guard (see errors.py)."""
    ctx = await _authenticate(request, await request_session(request))
    await _count_request(request, ctx)
    return ctx


def require(permission: str) -> Callable[[Request], Awaitable[Call]]:
    async def guard(request: Request) -> Call:
        session = await request_session(request)
        ctx = await _authenticate(request, session)
        await _count_request(request, ctx)
        ctx.require(permission)
        key = request.headers.get("idempotency-key")
        if request.method == "POST" and key is not None:
            await _claim_idempotency_key(request, session, ctx, key)
        return Call(ctx=ctx, session=session)

    return guard
