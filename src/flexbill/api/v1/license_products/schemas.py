"""Request and response bodies of ``/v1/license-products``.

Amounts are in the product's unit: whole days or credits, or major units of a Currency
product's currency (``12.50``), stored as minor units.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

from pydantic import Field

from flexbill.api.v1.responses import Amount, V1Model
from flexbill.core.errors import ValidationFailed
from flexbill.core.money import PrecisionError, to_major, to_minor_exact
from flexbill.licenses.models import LicenseProduct, LicenseProductKey
from flexbill.licenses.products import ProductDraft
from flexbill.licenses.rules import ProductType

TypeName = Literal["Time limited", "Inner credit", "Currency", "Custom"]


def units(value: Decimal, kind: ProductType, unit: str | None, path: str) -> int:
    """``value`` in the product's stored unit: minor units of a Currency product."""
    if kind is ProductType.CURRENCY:
        try:
            return to_minor_exact(value, unit or "")
        except PrecisionError as error:
            raise ValidationFailed.field(path, str(error), "not_multiple_of") from None
    if not value.is_finite() or value != value.to_integral_value():
        raise ValidationFailed.field(path, "Must be a whole number", "not_multiple_of")
    return int(value)


def shown(value: int, product: LicenseProduct) -> Decimal:
    if ProductType(product.type) is ProductType.CURRENCY:
        return to_major(value, product.unit)
    return Decimal(value)


class ProductSettings(V1Model):
    name: str | None = Field(default=None, max_length=200)
    unit: str | None = Field(default=None, max_length=40)
    free_trial: Decimal | None = Field(default=None, ge=0)
    is_test: bool | None = None
    credit_per_payment: Decimal | None = Field(default=None, ge=0)
    paypal_receiver_email: str | None = Field(default=None, max_length=320)
    payment_amount: Decimal | None = Field(default=None, gt=0)
    payment_currency: str | None = Field(default=None, min_length=3, max_length=3)
    rate_percent: Decimal | None = Field(default=None, ge=0)
    min_charge: Decimal | None = Field(default=None, ge=0)
    exchange_rates: dict[str, Decimal] | None = None
    access_information: str | None = None
    max_activations: int | None = Field(default=None, ge=1)

    def changes(self, kind: ProductType, unit: str | None) -> dict[str, Any]:
        """The settings given, as ``ProductDraft`` fields in stored units."""
        given = {name: getattr(self, name) for name in self.model_fields_set}
        given.pop("type", None)
        unit = (self.unit or unit or "").upper()
        for name, path in (("free_trial", "freeTrial"), ("credit_per_payment",
                           "creditPerPayment"), ("min_charge", "minCharge")):  # fmt: skip
            if given.get(name) is not None:
                given[name] = units(given[name], kind, unit, path)
        if given.get("payment_amount") is not None:
            currency = (self.payment_currency or unit or "").upper()
            try:
                given["payment_amount"] = to_minor_exact(given["payment_amount"], currency)
            except PrecisionError as error:
                raise ValidationFailed.field("paymentAmount", str(error)) from None
        return {name: value for name, value in given.items() if value is not None}


class LicenseProductCreateBody(ProductSettings):
    name: str = Field(max_length=200)
    type: TypeName

    def to_domain(self) -> ProductDraft:
        kind = ProductType(self.type)
        return ProductDraft(
            name=self.name, type=kind, **{
                k: v for k, v in self.changes(kind, self.unit).items() if k != "name"
            },
        )  # fmt: skip


class LicenseProductBody(V1Model):
    id: str
    name: str
    type: TypeName
    unit: str
    free_trial: Amount
    is_test: bool
    credit_per_payment: Amount
    paypal_receiver_email: str | None
    payment_amount: Amount | None
    payment_currency: str | None
    rate_percent: Amount
    min_charge: Amount
    exchange_rates: dict[str, Amount]
    access_information: str | None
    max_activations: int | None
    created_at: datetime

    @classmethod
    def of(cls, product: LicenseProduct) -> LicenseProductBody:
        return cls(
            id=product.id, name=product.name, type=product.type,
            unit=product.unit, free_trial=shown(product.free_trial, product),
            is_test=product.is_test,
            credit_per_payment=shown(product.credit_per_payment, product),
            paypal_receiver_email=product.paypal_receiver_email,
            payment_amount=(
                to_major(product.payment_amount, product.payment_currency or "")
                if product.payment_amount is not None else None
            ),
            payment_currency=product.payment_currency,
            rate_percent=Decimal(product.rate_percent).normalize(),
            min_charge=shown(product.min_charge, product),
            exchange_rates={k: Decimal(v) for k, v in product.exchange_rates.items()},
            access_information=product.access_information,
            max_activations=product.max_activations, created_at=product.created_at,
        )  # fmt: skip


class LicenseProductResult(V1Model):
    message: str
    license_product: LicenseProductBody


class LicenseProductAnswer(V1Model):
    license_product: LicenseProductBody


class LicenseProductList(V1Model):
    license_products: list[LicenseProductBody]
    count: int
    limit: int
    has_more: bool
    next_cursor: str | None


class ProductKeyBody(V1Model):
    id: str
    product_id: str
    display_prefix: str
    key: str | None = None  # only in the answer that created it
    created_at: datetime
    revoked_at: datetime | None

    @classmethod
    def of(cls, record: LicenseProductKey, secret: str | None = None) -> ProductKeyBody:
        return cls(
            id=record.id, product_id=record.product_id, display_prefix=record.display_prefix,
            key=secret, created_at=record.created_at, revoked_at=record.revoked_at,
        )  # fmt: skip


class ProductKeyResult(V1Model):
    message: str
    api_key: ProductKeyBody


class ProductKeyList(V1Model):
    api_keys: list[ProductKeyBody]
