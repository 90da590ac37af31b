"""Licenses: status, withdrawals, trials and their validation, credits and revocation.

Withdrawals are one conditional ``UPDATE … SET balance = balance - :amount WHERE balance >=
:amount``: the database decides on the row's current balance, so two concurrent
withdrawals can never both spend the same credit, on PostgreSQL (the second waits for the
first's row lock and re-checks the condition) as on SQLite (writers are serialized).
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from flexbill.core import clock
from flexbill.core.ids import new_id
from flexbill.core.money import to_major
from flexbill.core.pagination import Page, PageRequest, SortOrders, paginate
from flexbill.core.repository import TenantRepository
from flexbill.licenses import errors, rules
from flexbill.licenses.models import License, LicenseProduct, LicenseProductKey
from flexbill.licenses.products import currency_terms, digest, product_of_api_key
from flexbill.licenses.rules import ChargeError, ProductType
from flexbill.mail import outbox


class LicenseRepository(TenantRepository[License]):
    model = License
    noun = "License"


def product_type(product: LicenseProduct) -> ProductType:
    return ProductType(product.type)


def shown_balance(product: LicenseProduct, balance: int) -> int | Decimal:
    """A balance in the unit clients read: major units for a Currency product."""
    if product_type(product) is ProductType.CURRENCY:
        return to_major(balance, product.unit)
    return balance


def is_valid(product: LicenseProduct, record: License) -> bool:
    return rules.is_valid(
        product_type=product_type(product), verified=record.verified, balance=record.balance,
        expires_at=record.expires_at, revoked=record.revoked_at is not None, now=clock.now(),
    )  # fmt: skip


def _not_custom(product: LicenseProduct) -> None:
    if product_type(product) is ProductType.CUSTOM:
        raise errors.wrong_product_type("Product type 'Custom' has no license keys to check")


async def find_license(session: AsyncSession, product: LicenseProduct, key: str) -> License:
    """The license of ``product`` whose key is ``key``; ``LICENSE_NOT_FOUND`` otherwise."""
    _not_custom(product)
    wanted = key.strip().lower()
    found = await session.scalars(
        select(License).where(
            License.tenant_id == product.tenant_id,
            License.product_id == product.id,
            License.key == wanted,
        )
    )
    record = found.one_or_none()
    if record is None:
        raise errors.unknown_license(key)
    return record


async def license_by_keys(
    session: AsyncSession, api_key: str, license_key: str
) -> tuple[LicenseProduct, License]:
    """The license ``license_key`` of the product whose API key is ``api_key``, in one
    query (``/license-status`` is the hot path); the precise error when there is none."""
    found = (
        await session.execute(
            select(LicenseProduct, License)
            .join(
                LicenseProductKey,
                (LicenseProductKey.tenant_id == LicenseProduct.tenant_id)
                & (LicenseProductKey.product_id == LicenseProduct.id),
            )
            .join(
                License,
                (License.tenant_id == LicenseProduct.tenant_id)
                & (License.product_id == LicenseProduct.id),
            )
            .where(
                LicenseProductKey.secret_digest == digest(api_key.strip()),
                LicenseProductKey.revoked_at.is_(None),
                License.key == license_key.strip().lower(),
            )
        )
    ).one_or_none()
    if found is None:
        product = await product_of_api_key(session, api_key)
        return product, await find_license(session, product, license_key)
    product, record = found
    _not_custom(product)
    return product, record


@dataclass(frozen=True)
class Withdrawal:
    amount: int | Decimal  # what was debited, in the product's unit as clients read it
    unit: str
    balance: int | Decimal  # what remains


async def withdraw(
    session: AsyncSession,
    product: LicenseProduct,
    key: str,
    amount_text: str,
    currency: str | None = None,
) -> Withdrawal:
    """Debit a license of an Inner credit or Currency product (seed 002's /withdraw-client).

    ``amount_text`` is as the client sent it: a whole number of credits, or major units of
    ``currency`` (the product's currency by default) that are converted, with the rate and
    the minimum charge applied.
    """
    kind = product_type(product)
    if kind not in rules.WITHDRAWABLE:
        raise errors.wrong_product_type(
            f"Product type '{kind.value}' has no balance to withdraw from; "
            "only 'Inner credit' and 'Currency' products do"
        )
    record = await find_license(session, product, key)
    try:
        if kind is ProductType.CURRENCY:
            debit = rules.currency_charge_minor(
                currency_terms(product), rules.parse_amount(amount_text), currency or product.unit
            )
        else:
            debit = rules.credit_amount(amount_text)
    except ChargeError as error:
        raise errors.invalid_amount(str(error)) from None
    if record.revoked_at is not None:
        raise errors.license_revoked(record.key)
    if not record.verified:
        raise errors.wrong_license_state("License is not verified yet")
    remaining = await session.scalar(
        update(License)
        .where(
            License.tenant_id == record.tenant_id,
            License.id == record.id,
            License.balance >= debit,
        )
        .values(balance=License.balance - debit)
        .returning(License.balance)
        .execution_options(synchronize_session=False)
    )
    if remaining is None:
        await session.refresh(record, ["balance"])
        raise errors.insufficient_balance(str(shown_balance(product, record.balance)), product.unit)
    await session.refresh(record, ["balance"])
    return Withdrawal(
        amount=shown_balance(product, debit),
        unit=product.unit,
        balance=shown_balance(product, remaining),
    )


def new_key() -> str:
    return str(uuid.uuid4())


async def issue_license(
    session: AsyncSession,
    product: LicenseProduct,
    *,
    email: str,
    balance: int,
    verified: bool,
) -> License:
    """A new license of ``product``; a verified Time limited one runs from now."""
    record = License(
        id=new_id("lic"), tenant_id=product.tenant_id, product_id=product.id, key=new_key(),
        email=outbox.recipient_address(email).lower(), balance=balance, verified=verified,
        max_activations=product.max_activations,
    )  # fmt: skip
    if verified and product_type(product) is ProductType.TIME_LIMITED:
        record.expires_at = clock.now() + timedelta(days=balance)
    session.add(record)
    await session.flush()
    return record


async def create_trial(
    session: AsyncSession,
    product: LicenseProduct,
    email: str,
    validation_link: Callable[[str], str],
) -> License:
    """A trial license (seed 002's /create-client): the free-trial balance, not verified
    until the client follows the link e-mailed to ``email``; ``validation_link(token)``
    is that link."""
    _not_custom(product)
    if product.free_trial <= 0:
        raise errors.no_free_trial()
    record = await issue_license(
        session, product, email=email, balance=product.free_trial, verified=False
    )
    token = secrets.token_urlsafe(32)
    record.validation_digest = digest(token)
    await session.flush()
    await outbox.send(
        session, product.tenant_id, template="trial_validation", to=record.email,
        data={"product": product.name, "validation_link": validation_link(token)},
    )  # fmt: skip
    return record


async def verify_trial(session: AsyncSession, token: str) -> tuple[LicenseProduct, License]:
    """Follow a validation link: the license becomes verified (a Time limited trial starts
    now). A link works once."""
    found = await session.scalars(
        select(License).where(License.validation_digest == digest(token)).with_for_update()
    )
    record = found.one_or_none()
    if record is None:
        raise errors.invalid_validation_link()
    product = await session.get(LicenseProduct, (record.tenant_id, record.product_id))
    assert product is not None
    record.verified = True
    record.validation_digest = None
    if product_type(product) is ProductType.TIME_LIMITED:
        record.expires_at = clock.now() + timedelta(days=record.balance)
    await session.flush()
    return product, record


async def credit(
    session: AsyncSession, product: LicenseProduct, record: License, amount: int
) -> License:
    """Add ``amount`` (the product's unit) to a record. Time limited: the days run on
    from the current expiry, or from now when it has passed."""
    await session.execute(
        update(License)
        .where(License.tenant_id == record.tenant_id, License.id == record.id)
        .values(balance=License.balance + amount)
        .execution_options(synchronize_session=False)
    )
    await session.refresh(record, ["balance"])
    if product_type(product) is ProductType.TIME_LIMITED and record.verified:
        now = clock.now()
        start = record.expires_at if record.expires_at and record.expires_at > now else now
        record.expires_at = start + timedelta(days=amount)
    await session.flush()
    return record


async def mark_paid(
    session: AsyncSession, product: LicenseProduct, record: License, amount: int
) -> License:
    """Credit a license its owner paid for; a payment verifies it like a validation link."""
    if not record.verified:
        record.verified = True
        record.validation_digest = None
        if product_type(product) is ProductType.TIME_LIMITED:
            record.expires_at = clock.now() + timedelta(days=record.balance)
    return await credit(session, product, record, amount)


async def get_license(session: AsyncSession, tenant_id: str, license_id: str) -> License:
    record = await LicenseRepository(session, tenant_id).find(license_id)
    if record is None:
        raise errors.unknown_license(license_id)
    return record


async def revoke(session: AsyncSession, tenant_id: str, license_id: str) -> License:
    record = await get_license(session, tenant_id, license_id)
    if record.revoked_at is None:
        record.revoked_at = clock.now()
        await session.flush()
    return record


LICENSE_SORTS = SortOrders({"createdAt": License.created_at}, License.id)


async def list_licenses(
    session: AsyncSession,
    tenant_id: str,
    page: PageRequest,
    *,
    product_id: str | None = None,
    email: str | None = None,
) -> Page[License]:
    base = LicenseRepository(session, tenant_id).select()
    if product_id is not None:
        base = base.where(License.product_id == product_id)
    if email is not None:
        base = base.where(License.email == email.strip().lower())
    return await paginate(session, base, LICENSE_SORTS, page)


def expiry_of(product: LicenseProduct, record: License) -> datetime | None:
    return record.expires_at if product_type(product) is ProductType.TIME_LIMITED else None


async def products_of(
    session: AsyncSession, tenant_id: str, licenses: list[License]
) -> dict[str, LicenseProduct]:
    """The products of ``licenses``, by id, in one query."""
    wanted = {record.product_id for record in licenses}
    if not wanted:
        return {}
    rows = await session.scalars(
        select(LicenseProduct).where(
            LicenseProduct.tenant_id == tenant_id, LicenseProduct.id.in_(wanted)
        )
    )
    return {product.id: product for product in rows}
