"""Settings on the /v1 face: camelCase names, amounts in major units.

The domain speaks snake_case and minor units (``flexbill.settings.rules``); this module
translates in both directions. The translation lives here rather than as aliases on the
domain models because names and units are a face's choice: the SubscriptionFlow face
speaks snake_case, the dashboard and the worker no wire format at all, and no face but
this one shows ``12.34`` for ``1234``. It is driven by the domain models themselves (their
field names and ``MINOR_UNITS`` marks), so a new setting needs no translation code; the
response models below are written out so that the API reference shows every field, and
refuse unknown fields so that a setting missing here fails loudly instead of vanishing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Final, get_args, get_origin

from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema
from pydantic.alias_generators import to_camel
from pydantic.fields import FieldInfo

from flexbill.api.v1.responses import Amount, V1Model
from flexbill.core.errors import ErrorDetail, ValidationFailed
from flexbill.core.money import (
    PRECISION_CODE,
    PrecisionError,
    to_major,
    to_minor_exact,
)
from flexbill.settings.rules import (
    BillingCycleType,
    BusinessSettings,
    BuyoutMethod,
    ContractEnd,
    DunningOutcome,
    EarlyReturnMethod,
    FirstPayment,
    LateFeeType,
    PaymentTerms,
    Rounding,
    VatMode,
    is_amount,
)

Percent = Annotated[
    Decimal, WithJsonSchema({"type": "number", "description": "Percent, exact, 2 decimals at most"})
]

# Larger amounts are refused before any arithmetic, which would otherwise round them.
_LARGEST_AMOUNT: Final = Decimal(10) ** 13


# ---- requests: a merge patch in wire form → the same patch in domain form ----------------


def domain_patch(body: Mapping[str, Any], currency: str) -> dict[str, Any]:
    """Wire names → domain names and amounts → minor units, key by key. Unknown fields and
    amounts with more decimals than ``currency`` has are a ``VALIDATION_ERROR``; every
    other rule is the domain's to check, on the merged document."""
    problems: list[ErrorDetail] = []
    patch = _translate(body, BusinessSettings, currency, "", problems)
    if problems:
        raise ValidationFailed("Invalid settings", problems)
    return patch


def _translate(
    body: Mapping[str, Any],
    model: type[BaseModel],
    currency: str,
    prefix: str,
    problems: list[ErrorDetail],
) -> dict[str, Any]:
    fields = {to_camel(name): (name, field) for name, field in model.model_fields.items()}
    translated: dict[str, Any] = {}
    for key, value in body.items():
        path = f"{prefix}{key}"
        if key not in fields:
            problems.append(
                ErrorDetail(path=path, message="Unknown field", code="unrecognized_keys")
            )
            continue
        name, field = fields[key]
        translated[name] = _translate_value(value, field, currency, path, problems)
    return translated


def _translate_value(
    value: Any, field: FieldInfo, currency: str, path: str, problems: list[ErrorDetail]
) -> Any:
    if value is None:
        return None  # merge patch: back to the default
    if is_amount(field):
        return _minor_units(value, currency, path, problems)
    section = _model(field.annotation)
    if section is not None and isinstance(value, Mapping):
        return _translate(value, section, currency, f"{path}.", problems)
    item = _model(get_args(field.annotation)[0]) if _is_sequence(field.annotation) else None
    if item is not None and isinstance(value, list):
        return [
            _translate(element, item, currency, f"{path}.{index}.", problems)
            if isinstance(element, Mapping)
            else element
            for index, element in enumerate(value)
        ]
    return value  # the domain judges it


def _model(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    return None


def _is_sequence(annotation: Any) -> bool:
    return get_origin(annotation) in (tuple, list)


def _minor_units(value: Any, currency: str, path: str, problems: list[ErrorDetail]) -> int | None:
    """A major-unit amount in minor units. Digits the currency does not have are refused,
    not rounded: a rounded amount would be one the client never sent."""
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        problems.append(ErrorDetail(path=path, message="Expected a number", code="invalid_type"))
        return None
    # JSON numbers arrive as float; their shortest repr is the number the client wrote.
    amount = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    if not amount.is_finite():
        problems.append(ErrorDetail(path=path, message="Expected a number", code="invalid_type"))
        return None
    if amount.copy_abs() >= _LARGEST_AMOUNT:
        problems.append(
            ErrorDetail(path=path, message=f"Must be below {_LARGEST_AMOUNT:f}", code="too_big")
        )
        return None
    try:
        return to_minor_exact(amount, currency)
    except PrecisionError as error:
        problems.append(ErrorDetail(path=path, message=str(error), code=PRECISION_CODE))
        return None


def with_wire_paths(error: ValidationFailed) -> ValidationFailed:
    """The domain's error with its field paths in wire names (``vat.rate``,
    ``billingCycle.dayOfMonth``, ``contractLengths.1.months``)."""
    details = [
        replace(detail, path=".".join(to_camel(part) for part in detail.path.split(".")))
        for detail in error.details
    ]
    return ValidationFailed(error.message, details)


# ---- responses: domain settings → wire form ----------------------------------------------


def _in_major_units(rules: BaseModel, currency: str) -> dict[str, Any]:
    shown: dict[str, Any] = {}
    for name, field in type(rules).model_fields.items():
        value = getattr(rules, name)
        if is_amount(field) and value is not None:
            shown[name] = to_major(value, currency)
        elif isinstance(value, BaseModel):
            shown[name] = _in_major_units(value, currency)
        elif isinstance(value, tuple):
            shown[name] = [
                _in_major_units(v, currency) if isinstance(v, BaseModel) else v for v in value
            ]
        else:
            shown[name] = value
    return shown


class _Shown(V1Model):
    model_config = ConfigDict(extra="forbid")


class VatBody(_Shown):
    enabled: bool
    rate: Percent
    mode: VatMode


class BillingCycleBody(_Shown):
    type: BillingCycleType
    day_of_month: int | None


class LateFeesBody(_Shown):
    enabled: bool
    type: LateFeeType
    amount: Amount | None
    percentage: Percent | None
    grace_period_days: int


class PaymentRetryBody(_Shown):
    automatic: bool
    attempts: int
    interval_days: int
    final_outcome: DunningOutcome = Field(
        description="After the last failed attempt: `stay_active`, `suspend` or `cancel` "
        "the subscription (flexbill)"
    )


class BuyoutBody(_Shown):
    method: BuyoutMethod
    flat_fee: Amount | None
    rrp_percentage: Percent | None
    allow_manual_override: bool
    allow_rrp_estimation: bool


class EarlyReturnBody(_Shown):
    method: EarlyReturnMethod
    flat_fee: Amount | None
    fee_percentage: Percent
    grace_period_days: int
    partial_month_rounding: Rounding
    charge_current_month: bool
    allow_manual_override: bool


class ExtensionsBody(_Shown):
    available_lengths: list[int]
    max_extensions: int
    min_days_before_end: int
    approval_required: bool
    create_tracking_order: bool


class ContractLengthBody(_Shown):
    months: int
    adjustment_percent: Percent


class IdPrefixesBody(_Shown):
    order: str | None
    subscription: str | None
    asset: str | None
    customer: str | None


class OrderRulesBody(_Shown):
    idempotency_window_minutes: int


class CompanyBody(_Shown):
    name: str
    address: str
    email: str | None
    phone: str | None
    vat_id: str | None
    registration_number: str | None


class NotificationsBody(_Shown):
    email_invoices: bool
    email_payment_failures: bool


class SettingsBody(_Shown):
    currency: str
    vat: VatBody
    payment_terms: PaymentTerms
    billing_cycle: BillingCycleBody
    first_payment: FirstPayment
    late_fees: LateFeesBody
    payment_retry: PaymentRetryBody
    buyout: BuyoutBody
    early_return: EarlyReturnBody
    extensions: ExtensionsBody
    contract_end: ContractEnd
    contract_lengths: list[ContractLengthBody]
    id_prefixes: IdPrefixesBody
    orders: OrderRulesBody
    company: CompanyBody
    notifications: NotificationsBody
    updated_at: datetime | None

    @classmethod
    def of(cls, settings: BusinessSettings) -> SettingsBody:
        return cls.model_validate(_in_major_units(settings, settings.currency))


class SettingsEnvelope(V1Model):
    settings: SettingsBody


class SettingsResult(V1Model):
    success: bool = True
    message: str
    settings: SettingsBody


PATCH_EXAMPLE: Final = {
    "vat": {"enabled": True, "rate": 19},
    "paymentTerms": "net_14",
    "billingCycle": {"type": "fixed_day", "dayOfMonth": 1},
    "earlyReturn": {"method": "flat_fee", "flatFee": 49.99},
    "contractLengths": [{"months": 12, "adjustmentPercent": 0}, {"months": 24}],
}
