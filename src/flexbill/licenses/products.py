"""License products and their API keys."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from flexbill.core import clock
from flexbill.core.errors import ValidationFailed
from flexbill.core.ids import new_id
from flexbill.core.pagination import Page, PageRequest, SortOrders, paginate
from flexbill.core.repository import TenantRepository
from flexbill.licenses import errors, signing
from flexbill.licenses.models import LicenseProduct, LicenseProductKey
from flexbill.licenses.rules import CURRENCIES, DAYS, CurrencyTerms, ProductType


class ProductRepository(TenantRepository[LicenseProduct]):
    model = LicenseProduct
    noun = "License product"


@dataclass
class ProductDraft:
    """A product's settings; amounts are integers in the product's unit (minor units of a
    Currency product's currency)."""

    name: str
    type: ProductType
    unit: str | None = None
    free_trial: int = 0
    is_test: bool = False
    credit_per_payment: int = 0
    paypal_receiver_email: str | None = None
    payment_amount: int | None = None
    payment_currency: str | None = None
    rate_percent: Decimal = Decimal(0)
    min_charge: int = 0
    exchange_rates: dict[str, Decimal] = field(default_factory=dict)
    access_information: str | None = None
    max_activations: int | None = None


def _unit_of(draft: ProductDraft) -> str:
    if draft.type is ProductType.TIME_LIMITED:
        return DAYS
    if draft.type is ProductType.CURRENCY:
        unit = (draft.unit or "").upper()
        if unit not in CURRENCIES:
            raise ValidationFailed.field(
                "unit", f"A Currency product's unit is one of {', '.join(CURRENCIES)}", "invalid"
            )
        return unit
    unit = (draft.unit or "").strip()
    return unit or "credits"


def _check(draft: ProductDraft) -> None:
    if not draft.name.strip():
        raise ValidationFailed.field("name", "Name must not be blank", "too_small")
    for path, value in (
        ("freeTrial", draft.free_trial),
        ("creditPerPayment", draft.credit_per_payment),
        ("minCharge", draft.min_charge),
    ):
        if value < 0:
            raise ValidationFailed.field(path, "Must not be negative", "too_small")
    if draft.rate_percent < 0:
        raise ValidationFailed.field("ratePercent", "Must not be negative", "too_small")
    if draft.payment_amount is not None and draft.payment_amount <= 0:
        raise ValidationFailed.field("paymentAmount", "Must be positive", "too_small")
    if draft.max_activations is not None and draft.max_activations < 1:
        raise ValidationFailed.field("maxActivations", "Must be at least 1", "too_small")
    for code, rate in draft.exchange_rates.items():
        if code not in CURRENCIES:
            raise ValidationFailed.field(
                f"exchangeRates.{code}", f"Currency must be one of {', '.join(CURRENCIES)}"
            )
        if not rate.is_finite() or rate <= 0:
            raise ValidationFailed.field(f"exchangeRates.{code}", "Rate must be positive")


def _apply(product: LicenseProduct, draft: ProductDraft) -> None:
    _check(draft)
    product.name = draft.name.strip()
    product.type = draft.type.value
    product.unit = _unit_of(draft)
    product.free_trial = draft.free_trial
    product.is_test = draft.is_test
    product.credit_per_payment = draft.credit_per_payment
    product.paypal_receiver_email = draft.paypal_receiver_email
    product.payment_amount = draft.payment_amount
    product.payment_currency = (
        draft.payment_currency.upper() if draft.payment_currency else product.unit
        if draft.type is ProductType.CURRENCY else None
    )  # fmt: skip
    product.rate_percent = draft.rate_percent
    product.min_charge = draft.min_charge
    product.exchange_rates = {code: str(rate) for code, rate in draft.exchange_rates.items()}
    product.access_information = draft.access_information
    product.max_activations = draft.max_activations


def draft_of(product: LicenseProduct) -> ProductDraft:
    """The settings of ``product``, to change some and ``update_product`` with the rest."""
    return ProductDraft(
        name=product.name, type=ProductType(product.type), unit=product.unit,
        free_trial=product.free_trial, is_test=product.is_test,
        credit_per_payment=product.credit_per_payment,
        paypal_receiver_email=product.paypal_receiver_email,
        payment_amount=product.payment_amount, payment_currency=product.payment_currency,
        rate_percent=product.rate_percent, min_charge=product.min_charge,
        exchange_rates=currency_terms(product).exchange_rates,
        access_information=product.access_information, max_activations=product.max_activations,
    )  # fmt: skip


def currency_terms(product: LicenseProduct) -> CurrencyTerms:
    return CurrencyTerms(
        currency=product.unit,
        rate_percent=Decimal(product.rate_percent),
        min_charge_minor=product.min_charge,
        exchange_rates={code: Decimal(rate) for code, rate in product.exchange_rates.items()},
    )


async def create_product(
    session: AsyncSession, tenant_id: str, draft: ProductDraft
) -> LicenseProduct:
    product = LicenseProduct(id=new_id("lprod"))
    _apply(product, draft)
    ProductRepository(session, tenant_id).add(product)
    await session.flush()
    # The key that signs offline license files exists from the first product on, so
    # that handing out a file (a GET) only reads.
    await signing.ensure_signing_key(session, tenant_id)
    return product


async def update_product(
    session: AsyncSession, tenant_id: str, product_id: str, changes: dict[str, Any]
) -> LicenseProduct:
    """Change the settings named in ``changes`` (``ProductDraft`` field names)."""
    product = await get_product(session, tenant_id, product_id)
    draft = draft_of(product)
    for name, value in changes.items():
        setattr(draft, name, value)
    _apply(product, draft)
    await session.flush()
    return product


async def get_product(session: AsyncSession, tenant_id: str, product_id: str) -> LicenseProduct:
    product = await ProductRepository(session, tenant_id).find(product_id)
    if product is None:
        raise errors.unknown_product(product_id)
    return product


PRODUCT_SORTS = SortOrders({"createdAt": LicenseProduct.created_at}, LicenseProduct.id)


async def list_products(
    session: AsyncSession, tenant_id: str, page: PageRequest
) -> Page[LicenseProduct]:
    return await paginate(
        session, ProductRepository(session, tenant_id).select(), PRODUCT_SORTS, page
    )


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True)
class IssuedProductKey:
    secret: str  # shown once
    record: LicenseProductKey


async def issue_key(session: AsyncSession, tenant_id: str, product_id: str) -> IssuedProductKey:
    """A new API key for ``product_id``: a UUID like FlexLicense's, stored as its digest."""
    await get_product(session, tenant_id, product_id)
    secret = str(uuid.uuid4())
    record = LicenseProductKey(
        id=new_id("lkey"), tenant_id=tenant_id, product_id=product_id,
        secret_digest=digest(secret), display_prefix=secret[:8],
    )  # fmt: skip
    session.add(record)
    await session.flush()
    return IssuedProductKey(secret=secret, record=record)


async def list_keys(
    session: AsyncSession, tenant_id: str, product_id: str
) -> list[LicenseProductKey]:
    await get_product(session, tenant_id, product_id)
    rows = await session.scalars(
        select(LicenseProductKey)
        .where(LicenseProductKey.tenant_id == tenant_id, LicenseProductKey.product_id == product_id)
        .order_by(LicenseProductKey.created_at, LicenseProductKey.id)
    )
    return list(rows)


async def revoke_key(
    session: AsyncSession, tenant_id: str, product_id: str, key_id: str
) -> LicenseProductKey:
    key = await session.get(LicenseProductKey, (tenant_id, key_id))
    if key is None or key.product_id != product_id:
        raise errors.unknown_product_key(key_id)
    if key.revoked_at is None:
        key.revoked_at = clock.now()
        await session.flush()
    return key


async def product_of_api_key(session: AsyncSession, secret: str) -> LicenseProduct:
    """The product an API key of the FlexLicense face belongs to; ``LICENSE_API_KEY_INVALID``
    for an unknown or revoked key."""
    row = (
        await session.execute(
            select(LicenseProduct)
            .join(
                LicenseProductKey,
                (LicenseProductKey.tenant_id == LicenseProduct.tenant_id)
                & (LicenseProductKey.product_id == LicenseProduct.id),
            )
            .where(
                LicenseProductKey.secret_digest == digest(secret.strip()),
                LicenseProductKey.revoked_at.is_(None),
            )
        )
    ).scalar_one_or_none()
    if row is None:
        raise errors.unknown_api_key()
    return row


async def product_by_id(session: AsyncSession, product_id: str) -> LicenseProduct | None:
    """A product found by its id alone (PayPal names it in ``item_number``)."""
    result = await session.scalars(select(LicenseProduct).where(LicenseProduct.id == product_id))
    return result.one_or_none()
