"""Plan and plan price bodies of the /v1 face (SubscriptionFlow's plans and plan prices,
seed 004, in flexbill's native camelCase).

A price's ``amounts`` hold one object per ISO currency: ``{"unitAmount": 9.99}`` for a
flat fee or per-unit price, ``{"tiers": [{"upTo": 100, "unitAmount": 0.10,
"flatAmount": 0.00}, {"upTo": null, …}]}`` for a tiered or volume price. Requests may send
amounts as JSON numbers or strings; answers write them as JSON numbers digit for digit.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, TypeVar

from pydantic import AwareDatetime, Field, WithJsonSchema

from flexbill.api.v1.responses import Amount, V1Model
from flexbill.catalog.charge_models import PriceBook, Tier
from flexbill.catalog.plan_models import (
    MAX_PLAN_NAME_LENGTH,
    BillingTiming,
    ChargeModel,
    PeriodUnit,
    Plan,
    PlanPrice,
    PlanStatus,
    PriceCategory,
)
from flexbill.catalog.plan_queries import PlanView
from flexbill.catalog.plans import (
    KEEP,
    BookInput,
    Keep,
    NewPlan,
    NewPlanPrice,
    PlanChanges,
    PriceChanges,
    PriceTerms,
)
from flexbill.core.money import decimal_places, exponent
from flexbill.tenancy.context import TenantContext

T = TypeVar("T")

MAX_INT32 = 2**31 - 1
MAX_PRODUCTS = 1000
MAX_TIERS = 100
MAX_CURRENCIES = 200

Name = Annotated[str, Field(min_length=1, max_length=MAX_PLAN_NAME_LENGTH)]
Description = Annotated[str | None, Field(default=None, max_length=20000)]
Reference = Annotated[str, Field(min_length=1, max_length=40)]
Held = Annotated[str | None, Field(default=None, max_length=60)]
HeldNumber = Annotated[int | None, Field(default=None, ge=0, le=MAX_INT32)]
BillingMonth = Annotated[int | None, Field(default=None, ge=1, le=12)]
BillingPeriod = Annotated[int, Field(ge=1, le=1000, description="Periods of `billingPeriodUnit`")]
DefaultQuantity = Annotated[int, Field(ge=1, le=MAX_INT32)]
IncludedUnits = Annotated[
    Decimal, Field(ge=0, description="Units of each period that cost nothing (up to 6 decimals)")
]
ProductIds = Annotated[list[Reference], Field(max_length=MAX_PRODUCTS)]
Quantity = Annotated[
    Decimal, WithJsonSchema({"type": "number", "description": "A number of units, exact"})
]


def _sent(body: V1Model, name: str, value: T) -> T | Keep:
    """A field left out keeps its value; a field sent (as null too) is a change."""
    return value if name in body.model_fields_set else KEEP


def _given(value: T | None) -> T | Keep:
    """For fields that cannot be cleared: null and left out both keep the value."""
    return KEEP if value is None else value


# ---------------------------------------------------------------- plans


class PlanCreateBody(V1Model):
    """The body of ``POST /v1/plans``."""

    name: Name
    description: Description = None
    status: PlanStatus = PlanStatus.ACTIVE
    effective_start_date: AwareDatetime | None = Field(
        default=None, description="Available for new subscriptions from (RFC 3339)"
    )
    effective_end_date: AwareDatetime | None = Field(
        default=None, description="Available until (exclusive; after the start)"
    )
    is_gift: bool = False
    product_ids: ProductIds = Field(
        default_factory=list, description="Catalog products the plan is sold with"
    )
    custom_fields: dict[str, Any] = Field(default_factory=dict)

    def to_domain(self) -> NewPlan:
        return NewPlan(
            name=self.name, description=self.description, status=self.status,
            effective_start_date=self.effective_start_date,
            effective_end_date=self.effective_end_date, is_gift=self.is_gift,
            product_ids=self.product_ids, custom_fields=self.custom_fields,
        )  # fmt: skip


class PlanUpdateBody(V1Model):
    """The body of ``PATCH /v1/plans/{planId}``: fields left out keep their value;
    ``description`` and the effective dates are cleared by null; ``productIds`` and
    ``customFields`` replace the whole list or object."""

    name: Name | None = None
    description: Description = None
    status: PlanStatus | None = None
    effective_start_date: AwareDatetime | None = None
    effective_end_date: AwareDatetime | None = None
    is_gift: bool | None = None
    product_ids: ProductIds | None = None
    custom_fields: dict[str, Any] | None = None

    def to_domain(self) -> PlanChanges:
        return PlanChanges(
            name=_given(self.name),
            description=_sent(self, "description", self.description),
            status=_given(self.status),
            effective_start_date=_sent(self, "effective_start_date", self.effective_start_date),
            effective_end_date=_sent(self, "effective_end_date", self.effective_end_date),
            is_gift=_given(self.is_gift),
            product_ids=_given(self.product_ids),
            custom_fields=_given(self.custom_fields),
        )


class ProductLinkBody(V1Model):
    """The body of ``POST /v1/plans/{planId}/products``."""

    product_id: Reference


# ---------------------------------------------------------------- price amounts


class PlanPriceTierBody(V1Model):
    up_to: Decimal | None = Field(
        default=None, description="Last unit of the tier (inclusive); null for the last tier"
    )
    unit_amount: Decimal = Field(default=Decimal(0), description="Per unit, up to 6 decimals")
    flat_amount: Decimal = Field(default=Decimal(0), description="Once, when the tier is used")


class PlanPriceAmountsBody(V1Model):
    """One currency's amounts: ``unitAmount`` for ``flat_fee`` and ``per_unit`` prices,
    ``tiers`` for ``tiered`` and ``volume`` prices."""

    unit_amount: Decimal | None = None
    tiers: Annotated[list[PlanPriceTierBody], Field(max_length=MAX_TIERS)] | None = None

    def to_domain(self) -> BookInput:
        tiers = None
        if self.tiers is not None:
            tiers = [Tier(t.up_to, t.unit_amount, t.flat_amount) for t in self.tiers]
        return BookInput(unit_amount=self.unit_amount, tiers=tiers)


Amounts = Annotated[
    dict[str, PlanPriceAmountsBody],
    Field(
        min_length=1,
        max_length=MAX_CURRENCIES,
        description='Per ISO 4217 currency code, e.g. `{"EUR": {"unitAmount": "9.99"}}`',
    ),
]


def _amounts(amounts: dict[str, PlanPriceAmountsBody]) -> dict[str, BookInput]:
    return {currency: book.to_domain() for currency, book in amounts.items()}


# ---------------------------------------------------------------- prices


class PlanPriceCreateBody(V1Model):
    """The body of ``POST /v1/plan-prices``."""

    plan_id: Reference
    name: Name
    description: Description = None
    status: PlanStatus = PlanStatus.ACTIVE
    category: PriceCategory = PriceCategory.RECURRING
    charge_model: ChargeModel
    billing_timing: BillingTiming = BillingTiming.IN_ADVANCE
    billing_period: BillingPeriod = 1
    billing_period_unit: PeriodUnit = PeriodUnit.MONTH
    amounts: Amounts
    included_units: IncludedUnits = Decimal(0)
    default_quantity: DefaultQuantity = 1
    uom: Held = Field(default=None, description="Unit of measure, e.g. `GB`")
    list_price_base: Held = None
    trigger_condition: Held = None
    end_date: date | None = Field(default=None, description="Sold until (exclusive)")
    billing_period_alignment: Held = None
    usage_records_rating_option: Held = None
    accounting_account_code: Held = None
    billing_month: BillingMonth = None
    billing_day_type: HeldNumber = None
    billing_week_day: HeldNumber = None

    def to_domain(self) -> NewPlanPrice:
        terms = self.model_dump(exclude={"plan_id", "amounts"})
        return NewPlanPrice(
            plan_id=self.plan_id, terms=PriceTerms(**terms), amounts=_amounts(self.amounts)
        )


# Optional fields a PATCH clears with null (the others keep their value on null).
_CLEARABLE = frozenset(
    {
        "description", "uom", "list_price_base", "trigger_condition", "end_date",
        "billing_period_alignment", "usage_records_rating_option", "accounting_account_code",
        "billing_month", "billing_day_type", "billing_week_day",
    }
)  # fmt: skip


class PlanPriceUpdateBody(V1Model):
    """The body of ``PATCH /v1/plan-prices/{priceId}``: fields left out keep their
    value; the optional text and number fields are cleared by null; ``amounts``
    replaces every currency's amounts. A price never changes plans."""

    name: Name | None = None
    description: Description = None
    status: PlanStatus | None = None
    category: PriceCategory | None = None
    charge_model: ChargeModel | None = None
    billing_timing: BillingTiming | None = None
    billing_period: BillingPeriod | None = None
    billing_period_unit: PeriodUnit | None = None
    amounts: Amounts | None = None
    included_units: IncludedUnits | None = None
    default_quantity: DefaultQuantity | None = None
    uom: Held = None
    list_price_base: Held = None
    trigger_condition: Held = None
    end_date: date | None = None
    billing_period_alignment: Held = None
    usage_records_rating_option: Held = None
    accounting_account_code: Held = None
    billing_month: BillingMonth = None
    billing_day_type: HeldNumber = None
    billing_week_day: HeldNumber = None

    def to_domain(self) -> PriceChanges:
        changes: dict[str, Any] = {}
        for name in type(self).model_fields:
            value = getattr(self, name)
            if name == "amounts":
                changes[name] = KEEP if value is None else _amounts(value)
            elif name in _CLEARABLE:
                changes[name] = _sent(self, name, value)
            else:
                changes[name] = _given(value)
        return PriceChanges(**changes)


# ---------------------------------------------------------------- answers


def _plain(value: Decimal, at_least: int = 0) -> Decimal:
    """``value`` with no trailing zeros past ``at_least`` decimals: ``100``, ``2.5``,
    ``0.10`` (EUR)."""
    return value.quantize(Decimal(1).scaleb(-max(at_least, decimal_places(value))))


class PlanPriceTier(V1Model):
    up_to: Quantity | None
    unit_amount: Amount
    flat_amount: Amount


class PlanPriceUnitAmount(V1Model):
    unit_amount: Amount


class PlanPriceTiers(V1Model):
    tiers: list[PlanPriceTier]


def _amounts_out(price: PlanPrice) -> dict[str, PlanPriceUnitAmount | PlanPriceTiers]:
    shown: dict[str, PlanPriceUnitAmount | PlanPriceTiers] = {}
    tiered = price.charge_model in (ChargeModel.TIERED, ChargeModel.VOLUME)
    for currency, stored in price.amounts.items():
        book = PriceBook.from_json(stored)
        digits = exponent(currency)
        if not tiered:
            shown[currency] = PlanPriceUnitAmount(unit_amount=_plain(book.unit_amount, digits))
            continue
        shown[currency] = PlanPriceTiers(
            tiers=[
                PlanPriceTier(
                    up_to=None if tier.up_to is None else _plain(tier.up_to),
                    unit_amount=_plain(tier.unit_amount, digits),
                    flat_amount=_plain(tier.flat_amount, digits),
                )
                for tier in book.tiers
            ]
        )
    return shown


class PlanPriceBody(V1Model):
    id: str = Field(description="The price's id (`price_…`), the same for all its versions")
    version: int = Field(description="1 at first; each change of a billed version adds one")
    plan_id: str
    name: str
    description: str | None
    status: PlanStatus
    category: PriceCategory
    charge_model: ChargeModel
    billing_timing: BillingTiming
    billing_period: int
    billing_period_unit: PeriodUnit
    amounts: dict[str, PlanPriceUnitAmount | PlanPriceTiers] = Field(
        description="Per currency: `unitAmount`, or `tiers` for tiered and volume prices"
    )
    included_units: Quantity
    default_quantity: int
    uom: str | None
    list_price_base: str | None
    trigger_condition: str | None
    end_date: date | None
    billing_period_alignment: str | None
    usage_records_rating_option: str | None
    accounting_account_code: str | None
    billing_month: int | None
    billing_day_type: int | None
    billing_week_day: int | None
    superseded_at: datetime | None = Field(
        description="When a newer version replaced this one; null for the current version"
    )
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, price: PlanPrice) -> PlanPriceBody:
        return cls(
            id=price.id, version=price.version, plan_id=price.plan_id, name=price.name,
            description=price.description, status=PlanStatus(price.status),
            category=PriceCategory(price.category),
            charge_model=ChargeModel(price.charge_model),
            billing_timing=BillingTiming(price.billing_timing),
            billing_period=price.billing_period,
            billing_period_unit=PeriodUnit(price.billing_period_unit),
            amounts=_amounts_out(price), included_units=_plain(price.included_units),
            default_quantity=price.default_quantity, uom=price.uom,
            list_price_base=price.list_price_base, trigger_condition=price.trigger_condition,
            end_date=price.end_date, billing_period_alignment=price.billing_period_alignment,
            usage_records_rating_option=price.usage_records_rating_option,
            accounting_account_code=price.accounting_account_code,
            billing_month=price.billing_month, billing_day_type=price.billing_day_type,
            billing_week_day=price.billing_week_day, superseded_at=price.superseded_at,
            created_at=price.created_at, updated_at=price.updated_at,
        )  # fmt: skip


class PlanBody(V1Model):
    plan_id: str
    tenant_id: str = Field(description="The business unit (what requests send as `Tenant-ID`)")
    name: str
    description: str | None
    status: PlanStatus
    effective_start_date: datetime | None
    effective_end_date: datetime | None
    is_gift: bool
    product_ids: list[str]
    custom_fields: dict[str, Any]
    prices: list[PlanPriceBody] = Field(description="The current prices, oldest first")
    created_by: str = Field(description="Who created the plan (an API key, or a user)")
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, view: PlanView, ctx: TenantContext) -> PlanBody:
        plan: Plan = view.plan
        return cls(
            plan_id=plan.id, tenant_id=ctx.business_unit_id, name=plan.name,
            description=plan.description, status=PlanStatus(plan.status),
            effective_start_date=plan.effective_start_date,
            effective_end_date=plan.effective_end_date, is_gift=plan.is_gift,
            product_ids=list(plan.product_ids), custom_fields=dict(plan.custom_fields),
            prices=[PlanPriceBody.of(price) for price in view.prices],
            created_by=plan.created_by, created_at=plan.created_at, updated_at=plan.updated_at,
        )  # fmt: skip


class PlanResult(V1Model):
    success: bool = True
    message: str
    plan: PlanBody


class PlanAnswer(V1Model):
    success: bool = True
    plan: PlanBody


class PlanList(V1Model):
    success: bool = True
    plans: list[PlanBody]
    count: int
    limit: int
    has_more: bool
    next_cursor: str | None


class PlanDeleted(V1Model):
    success: bool = True
    message: str
    plan_id: str


class PlanPriceResult(V1Model):
    success: bool = True
    message: str
    plan_price: PlanPriceBody


class PlanPriceUpdated(V1Model):
    success: bool = True
    message: str
    new_version: bool = Field(
        description="True when the change was written as a new version because the "
        "previous one had been billed; `planPrice.version` is the version now current"
    )
    plan_price: PlanPriceBody


class PlanPriceAnswer(V1Model):
    success: bool = True
    plan_price: PlanPriceBody


class PlanPriceList(V1Model):
    success: bool = True
    plan_prices: list[PlanPriceBody]
    count: int
    limit: int
    has_more: bool
    next_cursor: str | None


class PlanPriceVersions(V1Model):
    success: bool = True
    plan_prices: list[PlanPriceBody] = Field(description="Every version, newest first")
    count: int


class PlanPriceDeleted(V1Model):
    success: bool = True
    message: str
    id: str
