"""``/v1/api-keys``: a key with the `admin` permission manages its environment's keys."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from starlette.requests import Request

from flexbill.api.runtime import runtime
from flexbill.api.unit_of_work import after_commit
from flexbill.api.v1.api_keys.schemas import (
    ApiKeyBody,
    ApiKeyCreateBody,
    ApiKeyCreated,
    ApiKeyList,
    ApiKeyResult,
)
from flexbill.api.v1.guard import Call, keep_out_of_replays, require
from flexbill.api.v1.pagination import ListQuery, list_query, page_fields
from flexbill.api.v1.responses import V1JSONResponse, respond
from flexbill.tenancy import permissions
from flexbill.tenancy import service as tenancy

router = APIRouter(prefix="/api-keys", tags=["API keys"])

Admin = Annotated[Call, Depends(require(permissions.ADMIN))]


@router.get("", response_model=ApiKeyList)
async def list_api_keys(
    call: Admin, query: Annotated[ListQuery, Depends(list_query)]
) -> V1JSONResponse:
    """List the API keys of this business unit's environment (live keys for a live key,
    test keys for a test key). Secrets are never shown again; `prefix` helps recognise a key."""
    page = await tenancy.list_tenant_api_keys(call.session, call.ctx, query.page)
    return respond(
        ApiKeyList(
            api_keys=[ApiKeyBody.of(key, call.ctx.mode) for key in page.items],
            **page_fields(page),
        )
    )


@router.post("", response_model=ApiKeyCreated, status_code=201)
async def create_api_key(call: Admin, body: ApiKeyCreateBody, request: Request) -> V1JSONResponse:
    """Create a key in the caller's environment. Permissions are `<resource>:read`,
    `<resource>:write`, `admin` and `*`; a key can only grant permissions and a rate tier
    it holds itself (the tier defaults to the caller's). The secret (`apiKey`) is returned
    once and never stored: a request replayed with the same `Idempotency-Key` gets the
    key's details with `apiKey: null`."""
    ctx = call.ctx
    issued = await tenancy.create_api_key(
        call.session, business_unit_id=ctx.business_unit_id, mode=ctx.mode,
        permissions=body.permissions, tier=body.tier or ctx.tier, allowed_ips=body.allowed_ips,
        expires_at=body.expires_at, name=body.name, granted_by=ctx,
    )  # fmt: skip
    keep_out_of_replays(request, "apiKey")
    return respond(
        ApiKeyCreated(
            message="API key created; store it now, it will not be shown again",
            api_key=issued.secret,
            key_id=issued.record.id,
            key=ApiKeyBody.of(issued.record, issued.mode),
        ),
        status_code=201,
    )


@router.delete("/{keyId}", response_model=ApiKeyResult)
async def revoke_api_key(
    keyId: str,  # noqa: N803
    call: Admin,
    request: Request,
) -> V1JSONResponse:
    """Revoke a key. Requests that use it then fail with `401 INVALID_TOKEN` (at once on
    this server; other API processes notice within `FLEXBILL_AUTH_CACHE_SECONDS`).
    A key can revoke only keys it could have created itself."""
    key, mode = await tenancy.revoke_api_key(
        call.session, business_unit_id=call.ctx.business_unit_id, key_id=keyId,
        mode=call.ctx.mode, revoked_by=call.ctx,
    )  # fmt: skip
    cache = runtime(request).key_cache
    after_commit(request, lambda: cache.forget(key.id))
    return respond(
        ApiKeyResult(message="API key revoked", key_id=key.id, key=ApiKeyBody.of(key, mode))
    )
