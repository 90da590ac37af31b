"""Offline license files: a license's claims signed with the tenant's Ed25519 key.

A file is JSON ``{"algorithm": "Ed25519", "payload": <base64 of the claims' JSON>,
"signature": <base64>}``; the signature covers the payload bytes exactly, so a verifier
needs only the public key (see docs/licenses-offline.md). A file expires
(``certificateExpiresAt``) so that a revoked license stops working offline too, in time.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy.ext.asyncio import AsyncSession

from flexbill.core import clock
from flexbill.core.errors import InvalidState, ValidationFailed
from flexbill.licenses import errors, service
from flexbill.licenses.products import get_product
from flexbill.licenses.signing import signing_key

ALGORITHM = "Ed25519"
MAX_VALID_DAYS = 366


@dataclass(frozen=True)
class Certificate:
    file: dict[str, str]
    claims: dict[str, Any]


async def certificate(
    session: AsyncSession, tenant_id: str, license_id: str, valid_days: int
) -> Certificate:
    """A signed license file of ``license_id`` that expires after ``valid_days``."""
    if not 1 <= valid_days <= MAX_VALID_DAYS:
        raise ValidationFailed.field(
            "validDays", f"validDays must be between 1 and {MAX_VALID_DAYS}", "too_big"
        )
    record = await service.get_license(session, tenant_id, license_id)
    if record.revoked_at is not None:
        raise errors.license_revoked(record.key)
    product = await get_product(session, tenant_id, record.product_id)
    if not service.is_valid(product, record):
        raise InvalidState("LICENSE_NOT_VALID", "Only a valid license gets a license file")
    now = clock.now().replace(microsecond=0)
    expires = service.expiry_of(product, record)
    claims: dict[str, Any] = {
        "licenseId": record.id, "licenseKey": record.key, "productId": product.id,
        "product": product.name, "type": product.type, "email": record.email,
        "balance": str(service.shown_balance(product, record.balance)), "unit": product.unit,
        "maxActivations": record.max_activations,
        "licenseExpiresAt": expires.isoformat().replace("+00:00", "Z") if expires else None,
        "issuedAt": now.isoformat().replace("+00:00", "Z"),
        "certificateExpiresAt": (now + timedelta(days=valid_days))
        .isoformat()
        .replace("+00:00", "Z"),
    }  # fmt: skip
    payload = json.dumps(claims, separators=(",", ":"), sort_keys=True).encode()
    key = await signing_key(session, tenant_id)
    private = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(key.private_key))
    signature = private.sign(payload)
    return Certificate(
        file={
            "algorithm": ALGORITHM,
            "payload": base64.b64encode(payload).decode(),
            "signature": base64.b64encode(signature).decode(),
        },
        claims=claims,
    )
