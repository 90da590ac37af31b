"""The Ed25519 key of each tenant that signs its offline license files."""

from __future__ import annotations

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from flexbill.core import clock
from flexbill.core.errors import FlexbillError
from flexbill.licenses.models import LicenseSigningKey


def _raw_public(private: Ed25519PrivateKey) -> str:
    return (
        private.public_key()
        .public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        .hex()
    )


async def ensure_signing_key(session: AsyncSession, tenant_id: str) -> None:
    """Make the tenant's key unless it exists (concurrent callers keep the first one)."""
    if await session.get(LicenseSigningKey, tenant_id) is not None:
        return
    private = Ed25519PrivateKey.generate()
    raw = private.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
        serialization.NoEncryption(),
    ).hex()  # fmt: skip
    values = {
        "tenant_id": tenant_id, "private_key": raw, "public_key": _raw_public(private),
        "created_at": clock.now(), "updated_at": clock.now(),
    }  # fmt: skip
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    await session.execute(
        dialect.insert(LicenseSigningKey).values(**values).on_conflict_do_nothing()
    )


async def signing_key(session: AsyncSession, tenant_id: str) -> LicenseSigningKey:
    key = await session.get(LicenseSigningKey, tenant_id)
    if key is None:
        raise FlexbillError("SIGNING_KEY_MISSING", "This environment has no license product yet")
    return key


async def public_key(session: AsyncSession, tenant_id: str) -> str:
    """The tenant's public key, hex of the raw 32 bytes."""
    return (await signing_key(session, tenant_id)).public_key
