"""The settings document: every rule a business unit keeps in FlexPortal's dashboard, and
the defaults a tenant has until it changes them.

The models are frozen pydantic models (pydantic is a validation library, not a web
framework): a ``BusinessSettings`` is checked whole when it is built, so code that holds
one can rely on every rule below, cross-field ones included. Field names are the domain's
(snake_case); each face translates them into its own wire names.

- Money is an ``int`` of the currency's minor unit, marked with ``MINOR_UNITS`` so that a
  face can find the amounts to show in major units without a list of its own.
- Percentages are ``Decimal`` with at most two decimals, kept in their shortest form.
- Lists are tuples, so that a frozen model is frozen all the way down.
- Integers and booleans are strict: ``"3"`` is not a number of attempts and ``1`` is not
  ``true``. An amount or a flag that was silently converted would be a rule nobody chose.

Cross-field rules raise ``PydanticCustomError`` with the offending field in
``ctx["field"]``: pydantic locates a model validator's error at the model, and the client
needs to know which field to fix (``billing_cycle.day_of_month``, not ``billing_cycle``).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any, Final, Self

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    field_validator,
    model_validator,
)
from pydantic.fields import FieldInfo
from pydantic_core import PydanticCustomError


class _MinorUnitsMarker:
    """Marks an ``int`` field as an amount in minor units of the business unit's currency."""

    def __repr__(self) -> str:
        return "MINOR_UNITS"


MINOR_UNITS: Final = _MinorUnitsMarker()

# Far above any fee, and far below what a BIGINT column downstream can hold.
MAX_AMOUNT_MINOR: Final = 10**16


def is_amount(field: FieldInfo) -> bool:
    """Whether a settings field holds money in minor units."""
    return MINOR_UNITS in field.metadata


def _shortest(value: Decimal) -> Decimal:
    """``12.50`` → ``12.5``, ``100.0`` → ``100``: one stored and shown form per value."""
    if value == 0:
        return Decimal(0)  # not ``-0``
    return value.quantize(Decimal(1)) if value == value.to_integral_value() else value.normalize()


Amount = Annotated[StrictInt | None, Field(ge=0, lt=MAX_AMOUNT_MINOR), MINOR_UNITS]
Percent = Annotated[Decimal, Field(ge=0, le=100, decimal_places=2), AfterValidator(_shortest)]
Adjustment = Annotated[Decimal, Field(ge=-50, le=100, decimal_places=2), AfterValidator(_shortest)]
Months = Annotated[StrictInt, Field(ge=1, le=120)]
GraceDays = Annotated[StrictInt, Field(ge=0, le=365)]
IdPrefix = Annotated[str | None, Field(pattern=r"^[A-Za-z0-9]{1,5}$")]


class VatMode(StrEnum):
    EXCLUSIVE = "exclusive"  # prices are net, VAT is added on top
    INCLUSIVE = "inclusive"  # prices already contain VAT


class PaymentTerms(StrEnum):
    DUE_IMMEDIATELY = "due_immediately"
    NET_7 = "net_7"
    NET_14 = "net_14"
    NET_30 = "net_30"

    @property
    def days(self) -> int:
        """Days between an invoice's issue and its due date."""
        return _PAYMENT_TERM_DAYS[self]


_PAYMENT_TERM_DAYS: Final = {
    PaymentTerms.DUE_IMMEDIATELY: 0,
    PaymentTerms.NET_7: 7,
    PaymentTerms.NET_14: 14,
    PaymentTerms.NET_30: 30,
}


class BillingCycleType(StrEnum):
    SUBSCRIPTION_START = "subscription_start"  # bill on the day the subscription started
    FIXED_DAY = "fixed_day"  # bill every subscription on one day of the month
    EVERY_30_DAYS = "every_30_days"


class FirstPayment(StrEnum):
    FULL_MONTH = "full_month"
    PRORATED = "prorated"
    FREE_UNTIL_CYCLE = "free_until_cycle"
    COLLECTED_EXTERNALLY = "collected_externally"


class LateFeeType(StrEnum):
    FLAT = "flat"
    PERCENTAGE = "percentage"


class BuyoutMethod(StrEnum):
    FLAT_FEE = "flat_fee"
    REMAINING_MONTHS = "remaining_months"
    RRP_PERCENTAGE = "rrp_percentage"
    REMAINING_MONTHS_PLUS_RRP = "remaining_months_plus_rrp"


class EarlyReturnMethod(StrEnum):
    REMAINING_MONTHS = "remaining_months"
    FLAT_FEE = "flat_fee"
    NO_FEE = "no_fee"


class Rounding(StrEnum):
    UP = "up"
    DOWN = "down"


class ContractEnd(StrEnum):
    AUTO_RENEW_MONTHLY = "auto_renew_monthly"
    AUTO_RENEW_SAME_TERM = "auto_renew_same_term"
    REQUIRE_ACTION = "require_action"
    AUTO_TERMINATE = "auto_terminate"


def _required(field: str, when: str) -> PydanticCustomError:
    return PydanticCustomError("invalid_type", f"Required when {when}", {"field": field})


class _Rules(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Vat(_Rules):
    enabled: StrictBool = False
    rate: Percent = Decimal(0)
    mode: VatMode = VatMode.EXCLUSIVE


class BillingCycle(_Rules):
    type: BillingCycleType = BillingCycleType.SUBSCRIPTION_START
    day_of_month: Annotated[StrictInt | None, Field(ge=1, le=28)] = None

    @model_validator(mode="after")
    def _day_of_month_iff_fixed_day(self) -> Self:
        fixed = self.type is BillingCycleType.FIXED_DAY
        if fixed and self.day_of_month is None:
            raise _required("day_of_month", "the billing cycle type is fixed_day")
        if not fixed and self.day_of_month is not None:
            # A day that silently stops applying would be read back as if it did.
            raise PydanticCustomError(
                "custom",
                "Only allowed when the billing cycle type is fixed_day; send null to clear it",
                {"field": "day_of_month"},
            )
        return self


class LateFees(_Rules):
    """A fee added to a payment still unpaid ``grace_period_days`` after its due date."""

    enabled: StrictBool = False
    type: LateFeeType = LateFeeType.FLAT
    amount: Amount = None
    percentage: Percent | None = None
    grace_period_days: GraceDays = 0

    @model_validator(mode="after")
    def _fee_of_the_chosen_type(self) -> Self:
        # Both values may be kept while fees are off or of the other type, as the
        # dashboard keeps both inputs; only the one that applies is required.
        if self.enabled and self.type is LateFeeType.FLAT and self.amount is None:
            raise _required("amount", "flat late fees are enabled")
        if self.enabled and self.type is LateFeeType.PERCENTAGE and self.percentage is None:
            raise _required("percentage", "percentage late fees are enabled")
        return self


class DunningOutcome(StrEnum):
    """What happens to a subscription whose payment failed its last attempt."""

    STAY_ACTIVE = "stay_active"
    SUSPEND = "suspend"
    CANCEL = "cancel"


class PaymentRetry(_Rules):
    automatic: StrictBool = False
    attempts: Annotated[StrictInt, Field(ge=1, le=5)] = 3
    interval_days: Annotated[StrictInt, Field(ge=1, le=30)] = 3
    final_outcome: DunningOutcome = DunningOutcome.STAY_ACTIVE


class Buyout(_Rules):
    """How the price to buy a rented device is quoted (seed reference §1.3.4)."""

    method: BuyoutMethod = BuyoutMethod.REMAINING_MONTHS
    flat_fee: Amount = None
    rrp_percentage: Percent | None = None
    allow_manual_override: StrictBool = True
    allow_rrp_estimation: StrictBool = False  # estimate a missing list price

    @model_validator(mode="after")
    def _inputs_of_the_method(self) -> Self:
        if self.method is BuyoutMethod.FLAT_FEE and self.flat_fee is None:
            raise _required("flat_fee", "the buyout method is flat_fee")
        uses_rrp = self.method in (
            BuyoutMethod.RRP_PERCENTAGE,
            BuyoutMethod.REMAINING_MONTHS_PLUS_RRP,
        )
        if uses_rrp and self.rrp_percentage is None:
            raise _required("rrp_percentage", f"the buyout method is {self.method}")
        return self


class EarlyReturn(_Rules):
    """The fee for ending a rental before its term: ``remaining value × fee_percentage``
    for ``remaining_months``; nothing within ``grace_period_days`` of the start."""

    method: EarlyReturnMethod = EarlyReturnMethod.REMAINING_MONTHS
    flat_fee: Amount = None
    fee_percentage: Percent = Decimal(100)
    grace_period_days: GraceDays = 14
    partial_month_rounding: Rounding = Rounding.UP
    charge_current_month: StrictBool = True
    allow_manual_override: StrictBool = True

    @model_validator(mode="after")
    def _flat_fee_for_flat_fee(self) -> Self:
        if self.method is EarlyReturnMethod.FLAT_FEE and self.flat_fee is None:
            raise _required("flat_fee", "the early-return method is flat_fee")
        return self


def _first_repeat(values: tuple[Any, ...]) -> int | None:
    seen: set[Any] = set()
    for index, value in enumerate(values):
        if value in seen:
            return index
        seen.add(value)
    return None


def _repeated(index: int, what: str, field: str = "") -> PydanticCustomError:
    where = f"{index}.{field}" if field else str(index)
    return PydanticCustomError("custom", f"{what} must be distinct", {"field": where})


class Extensions(_Rules):
    available_lengths: tuple[Months, ...] = (6, 12)
    max_extensions: Annotated[StrictInt, Field(ge=0, le=100)] = 3
    min_days_before_end: Annotated[StrictInt, Field(ge=0, le=3650)] = 0
    approval_required: StrictBool = False
    create_tracking_order: StrictBool = True  # an order of type "extension" for the books

    @field_validator("available_lengths")
    @classmethod
    def _distinct(cls, lengths: tuple[int, ...]) -> tuple[int, ...]:
        repeat = _first_repeat(lengths)
        if repeat is not None:
            raise _repeated(repeat, "Extension lengths")
        return lengths


class ContractLength(_Rules):
    """A contract length offered to customers and its price adjustment (−50 … +100 %)."""

    months: Months
    adjustment_percent: Adjustment = Decimal(0)


class IdPrefixes(_Rules):
    """Prefixes of the public ids shown to customers; ``None`` keeps flexbill's own."""

    order: IdPrefix = None
    subscription: IdPrefix = None
    asset: IdPrefix = None
    customer: IdPrefix = None


class Company(_Rules):
    """Who the business is, as its documents (invoices, contracts) and e-mails show it.
    ``email`` is also where flexbill tells the owner about trouble (a webhook endpoint
    disabled after failing for days)."""

    name: Annotated[str, Field(max_length=200)] = ""
    address: Annotated[str, Field(max_length=1000)] = ""  # lines separated by "\n"
    email: Annotated[str | None, Field(max_length=254)] = None
    phone: Annotated[str | None, Field(max_length=50)] = None
    vat_id: Annotated[str | None, Field(max_length=50)] = None
    registration_number: Annotated[str | None, Field(max_length=50)] = None


class Notifications(_Rules):
    """Which e-mails flexbill sends the business's customers (off until the business turns
    them on: many send their own)."""

    email_invoices: StrictBool = False  # each issued invoice, with its amount and due date
    email_payment_failures: StrictBool = False  # each failed attempt, with what comes next


class OrderRules(_Rules):
    # Orders of one customer e-mail with the same items within this window are one order.
    idempotency_window_minutes: Annotated[StrictInt, Field(ge=1, le=1440)] = 10


DEFAULT_CONTRACT_LENGTHS: Final = tuple(ContractLength(months=m) for m in (6, 12, 24, 36))

READ_ONLY: Final = {
    "currency": "currency is fixed when the business unit is created",
    "updated_at": "set by the server when the settings change",
}
"""Fields of ``BusinessSettings`` that are facts, not rules: never stored, never patched."""


class BusinessSettings(_Rules):
    """One tenant's settings. ``currency`` (the business unit's) and ``updated_at`` (when
    they were last changed, ``None`` while they are the defaults) come with the document
    but are not part of it."""

    currency: str
    vat: Vat = Vat()
    payment_terms: PaymentTerms = PaymentTerms.DUE_IMMEDIATELY
    billing_cycle: BillingCycle = BillingCycle()
    first_payment: FirstPayment = FirstPayment.FULL_MONTH
    late_fees: LateFees = LateFees()
    payment_retry: PaymentRetry = PaymentRetry()
    buyout: Buyout = Buyout()
    early_return: EarlyReturn = EarlyReturn()
    extensions: Extensions = Extensions()
    contract_end: ContractEnd = ContractEnd.AUTO_RENEW_MONTHLY
    contract_lengths: tuple[ContractLength, ...] = DEFAULT_CONTRACT_LENGTHS
    id_prefixes: IdPrefixes = IdPrefixes()
    orders: OrderRules = OrderRules()
    company: Company = Company()
    notifications: Notifications = Notifications()
    updated_at: datetime | None = None

    @field_validator("contract_lengths")
    @classmethod
    def _non_empty_and_distinct(
        cls, lengths: tuple[ContractLength, ...]
    ) -> tuple[ContractLength, ...]:
        # Checked here, not with min_length: pydantic would also report an empty list
        # whenever one of the lengths is invalid.
        if not lengths:
            raise PydanticCustomError("too_small", "At least one contract length is required")
        repeat = _first_repeat(tuple(length.months for length in lengths))
        if repeat is not None:
            raise _repeated(repeat, "Contract lengths", "months")
        return lengths

    def document(self) -> dict[str, Any]:
        """The stored form: JSON types only, the read-only facts left out."""
        return self.model_dump(mode="json", exclude=set(READ_ONLY))

    @classmethod
    def from_document(
        cls, document: dict[str, Any], *, currency: str, updated_at: datetime | None
    ) -> BusinessSettings:
        return cls.model_validate({**document, "currency": currency, "updated_at": updated_at})
