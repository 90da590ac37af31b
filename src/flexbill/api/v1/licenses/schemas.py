"""Request and response bodies of ``/v1/licenses``."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from pydantic import Field

from flexbill.api.v1.license_products.schemas import shown
from flexbill.api.v1.responses import Amount, V1Model
from flexbill.licenses import service
from flexbill.licenses.models import License, LicenseProduct


class LicenseCreateBody(V1Model):
    product_id: str
    email: str = Field(max_length=320)
    # In the product's unit (major units of a Currency product); default: its free trial.
    balance: Decimal | None = None
    verified: bool = True
    # Machines the license may be active on at once; default: the product's setting.
    max_activations: int | None = Field(default=None, ge=1)


class LicenseCreditBody(V1Model):
    amount: Decimal


class LicenseBody(V1Model):
    id: str
    product_id: str
    key: str
    email: str
    balance: Amount
    unit: str
    verified: bool
    valid: bool
    expires_at: datetime | None
    max_activations: int | None
    revoked_at: datetime | None
    created_at: datetime

    @classmethod
    def of(cls, record: License, product: LicenseProduct) -> LicenseBody:
        return cls(
            id=record.id, product_id=record.product_id, key=record.key, email=record.email,
            balance=shown(record.balance, product), unit=product.unit,
            verified=record.verified, valid=service.is_valid(product, record),
            expires_at=service.expiry_of(product, record),
            max_activations=record.max_activations, revoked_at=record.revoked_at,
            created_at=record.created_at,
        )  # fmt: skip


class LicenseResult(V1Model):
    message: str
    license: LicenseBody


class LicenseAnswer(V1Model):
    license: LicenseBody


class LicenseList(V1Model):
    licenses: list[LicenseBody]
    count: int
    limit: int
    has_more: bool
    next_cursor: str | None


class FingerprintBody(V1Model):
    fingerprint: str = Field(min_length=1, max_length=200)


class ValidateBody(V1Model):
    fingerprint: str | None = Field(default=None, min_length=1, max_length=200)


class ActivationBody(V1Model):
    id: str
    fingerprint: str
    created_at: datetime


class ActivationResult(V1Model):
    message: str
    activation: ActivationBody | None
    license: LicenseBody


class ValidationResult(V1Model):
    valid: bool
    code: str  # VALID, NOT_VALID or NOT_ACTIVATED
    activations: int
    license: LicenseBody


class PublicKeyAnswer(V1Model):
    algorithm: str
    public_key: str
