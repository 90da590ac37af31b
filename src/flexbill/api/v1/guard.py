"""The gate every authenticated /v1 operation passes: key, tenant, address, rate limit,
permission, and (for POST) the ``Idempotency-Key``.

Use ``Depends(require("customers:read"))``; the route receives the ``TenantContext``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Annotated

from fastapi import Depends, Security
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request

from flexbill.api.runtime import client_ip, runtime
from flexbill.api.unit_of_work import on_commit, request_session
from flexbill.core.errors import FlexbillError
from flexbill.core.ratelimit import Quota
from flexbill.idempotency import service as idempotency
from flexbill.idempotency.models import IdempotencyRecord
from flexbill.tenancy import service as tenancy
from flexbill.tenancy.context import TenantContext

bearer = HTTPBearer(auto_error=False, description="Your API key: `Authorization: Bearer pk_live_…`")
tenant_header = APIKeyHeader(
    name="Tenant-ID", auto_error=False, description="Your business unit ID"
)

Session = Annotated[AsyncSession, Depends(request_session)]


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


async def _authenticate(
    request: Request,
    session: AsyncSession,
    credentials: HTTPAuthorizationCredentials | None,
    tenant_id: str | None,
) -> TenantContext:
    if credentials is None:
        if request.headers.get("authorization"):
            raise FlexbillError("INVALID_TOKEN", "Authorization must be 'Bearer <API key>'")
        raise FlexbillError("AUTH_REQUIRED", "Missing Authorization header")
    return await tenancy.authenticate(
        session,
        secret=credentials.credentials,
        business_unit_id=tenant_id,
        client_ip=client_ip(request),
    )


async def _count_request(request: Request, ctx: TenantContext) -> None:
    rt = runtime(request)
    limit = tenancy.requests_per_minute(ctx.tier, rt.settings)
    quota = await rt.limiter.hit(f"key:{ctx.key_id}", limit)
    request.state.quota = quota
    if not quota.allowed:
        raise rate_limited(quota)


async def _claim_idempotency_key(
    request: Request, session: AsyncSession, ctx: TenantContext, key: str
) -> None:
    ttl = timedelta(hours=runtime(request).settings.idempotency_ttl_hours)
    fingerprint = idempotency.fingerprint(request.method, request.url.path, await request.body())
    claimed = await idempotency.claim(
        session, tenant_id=ctx.tenant_id, key=key, fingerprint=fingerprint, ttl=ttl
    )
    if isinstance(claimed, idempotency.StoredResponse):
        raise IdempotentReplay(claimed)
    record: IdempotencyRecord = claimed

    async def remember(status: int, body: bytes) -> None:
        await idempotency.complete(session, record, status, body)

    on_commit(request, remember)


def require(permission: str) -> Callable[..., Awaitable[TenantContext]]:
    async def guard(
        request: Request,
        session: Session,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Security(bearer)],
        tenant_id: Annotated[str | None, Security(tenant_header)],
    ) -> TenantContext:
        ctx = await _authenticate(request, session, credentials, tenant_id)
        await _count_request(request, ctx)
        ctx.require(permission)
        key = request.headers.get("idempotency-key")
        if request.method == "POST" and key is not None:
            await _claim_idempotency_key(request, session, ctx, key)
        return ctx

    return guard
