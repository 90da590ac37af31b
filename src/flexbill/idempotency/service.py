"""Claim an idempotency key for a request, or find the answer it already produced."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import timedelta

import orjson
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from flexbill.core import clock
from flexbill.core.errors import Conflict, ValidationFailed
from flexbill.idempotency.models import IdempotencyRecord

MAX_KEY_LENGTH = 255


@dataclass(frozen=True)
class StoredResponse:
    status: int
    body: bytes


def fingerprint(method: str, path: str, body: bytes, *, caller: str) -> str:
    """What makes two requests "the same": the same caller (API key) sending the same
    method, path and JSON value of the body (whitespace and key order do not count). Another
    key reusing the idempotency key is refused rather than shown the first caller's answer."""
    try:
        canonical = orjson.dumps(orjson.loads(body), option=orjson.OPT_SORT_KEYS) if body else b""
    except orjson.JSONDecodeError:
        canonical = body
    head = f"{caller}\n{method} {path}\n".encode()
    return hashlib.sha256(head + canonical).hexdigest()


async def claim(
    session: AsyncSession, *, tenant_id: str, key: str, fingerprint: str, ttl: timedelta
) -> IdempotencyRecord | StoredResponse:
    """Reserve ``key`` for this request, or return the response it already produced.

    Concurrent requests with one key serialize on the row: the second waits for the first
    to commit, then replays its answer.
    """
    if not 1 <= len(key) <= MAX_KEY_LENGTH:
        raise ValidationFailed.field(
            "Idempotency-Key", f"Idempotency-Key must be 1 to {MAX_KEY_LENGTH} characters"
        )
    now = clock.now()
    # Forget the tenant's expired keys (this one included) as we go; the index on
    # (tenant_id, expires_at) keeps this cheap.
    await session.execute(
        delete(IdempotencyRecord).where(
            IdempotencyRecord.tenant_id == tenant_id, IdempotencyRecord.expires_at <= now
        )
    )
    record = IdempotencyRecord(
        tenant_id=tenant_id, key=key, fingerprint=fingerprint, created_at=now, expires_at=now + ttl
    )
    try:
        async with session.begin_nested():
            session.add(record)
    except IntegrityError:
        pass
    else:
        return record
    existing = (
        await session.scalars(
            select(IdempotencyRecord)
            .where(IdempotencyRecord.tenant_id == tenant_id, IdempotencyRecord.key == key)
            .execution_options(populate_existing=True)
        )
    ).one()
    if existing.fingerprint != fingerprint:
        raise Conflict(
            "IDEMPOTENCY_KEY_REUSED",
            "This Idempotency-Key was already used with a different request",
        )
    if existing.response_status is None or existing.response_body is None:
        raise Conflict(
            "IDEMPOTENCY_KEY_IN_USE", "A request with this Idempotency-Key is still in progress"
        )
    return StoredResponse(status=existing.response_status, body=existing.response_body)


async def complete(
    session: AsyncSession, record: IdempotencyRecord, status: int, body: bytes
) -> None:
    record.response_status = status
    record.response_body = body
    await session.flush()
