"""Activations: a license limited to N machines, each named by a fingerprint.

The license row is locked before its activations are counted, so two machines activating
at once cannot both take the last place.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from flexbill.core.errors import FlexbillError, NotFound, ValidationFailed
from flexbill.core.ids import new_id
from flexbill.licenses import errors, service
from flexbill.licenses.models import License, LicenseActivation, LicenseProduct
from flexbill.licenses.products import get_product


def _fingerprint(value: str) -> str:
    cleaned = value.strip()
    if not cleaned or len(cleaned) > 200:
        raise ValidationFailed.field("fingerprint", "Must be 1 to 200 characters", "too_small")
    return cleaned


class _MissingActivation(NotFound):
    def __init__(self, fingerprint: str) -> None:
        FlexbillError.__init__(
            self, "ACTIVATION_NOT_FOUND", f"The license is not active on '{fingerprint}'"
        )


async def _find(
    session: AsyncSession, record: License, fingerprint: str
) -> LicenseActivation | None:
    found = await session.scalars(
        select(LicenseActivation).where(
            LicenseActivation.tenant_id == record.tenant_id,
            LicenseActivation.license_id == record.id,
            LicenseActivation.fingerprint == fingerprint,
        )
    )
    return found.one_or_none()


async def count(session: AsyncSession, record: License) -> int:
    total = await session.scalar(
        select(func.count()).where(
            LicenseActivation.tenant_id == record.tenant_id,
            LicenseActivation.license_id == record.id,
        )
    )
    return int(total or 0)


async def activate(
    session: AsyncSession, tenant_id: str, license_id: str, fingerprint: str
) -> tuple[License, LicenseActivation]:
    """Activate a license on a machine; activating the same machine again changes nothing."""
    machine = _fingerprint(fingerprint)
    record = await service.LicenseRepository(session, tenant_id).find(license_id, for_update=True)
    if record is None:
        raise errors.unknown_license(license_id)
    if record.revoked_at is not None:
        raise errors.license_revoked(record.key)
    existing = await _find(session, record, machine)
    if existing is not None:
        return record, existing
    limit = record.max_activations
    if limit is not None and await count(session, record) >= limit:
        raise errors.activation_limit(limit)
    activation = LicenseActivation(
        id=new_id("lact"), tenant_id=tenant_id, license_id=record.id, fingerprint=machine
    )
    session.add(activation)
    await session.flush()
    return record, activation


async def deactivate(
    session: AsyncSession, tenant_id: str, license_id: str, fingerprint: str
) -> License:
    machine = _fingerprint(fingerprint)
    record = await service.get_license(session, tenant_id, license_id)
    removed = await session.execute(
        delete(LicenseActivation)
        .where(
            LicenseActivation.tenant_id == tenant_id,
            LicenseActivation.license_id == record.id,
            LicenseActivation.fingerprint == machine,
        )
        .execution_options(synchronize_session=False)
    )
    if not getattr(removed, "rowcount", 0):
        raise _MissingActivation(machine)
    return record


@dataclass(frozen=True)
class Validation:
    license: License
    product: LicenseProduct
    valid: bool
    reason: str  # VALID, NOT_VALID (expired, negative, unverified or revoked), NOT_ACTIVATED
    activations: int


async def validate(
    session: AsyncSession, tenant_id: str, license_id: str, fingerprint: str | None
) -> Validation:
    """Whether the license is valid, and, given a fingerprint, active on that machine."""
    record = await service.get_license(session, tenant_id, license_id)
    product = await get_product(session, tenant_id, record.product_id)
    used = await count(session, record)
    if not service.is_valid(product, record):
        return Validation(record, product, False, "NOT_VALID", used)
    if fingerprint is not None and await _find(session, record, _fingerprint(fingerprint)) is None:
        return Validation(record, product, False, "NOT_ACTIVATED", used)
    return Validation(record, product, True, "VALID", used)
