"""Request and response bodies of ``/v1/plan-subscriptions`` (general subscriptions of
plan prices; SubscriptionFlow's model, seed 004, in the /v1 face's camelCase).

Money is in major units, exact: amounts the subscription was billed or owes are whole
minor units of the business unit's currency; a unit amount override is a unit price and
may have up to six decimals. Dates are ``YYYY-MM-DD``; every ``…End`` date is exclusive
(the first day no longer in).
"""

from __future__ import annotations

import functools
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import Field
from pydantic.alias_generators import to_camel

from flexbill.api.v1.responses import Amount, V1Model
from flexbill.api.v1.subscriptions.dates import CalendarDate
from flexbill.catalog.plan_models import PeriodUnit
from flexbill.core.money import decimal_places, exponent, to_major
from flexbill.plan_subscriptions.contract import (
    ItemChange,
    ItemInput,
    NewPlanSubscription,
    PlanSubscriptionView,
)
from flexbill.plan_subscriptions.models import (
    ChangeOption,
    PendingCharge,
    SubscriptionItem,
    SubscriptionType,
    TrialUnit,
)

MAX_ITEMS = 100
MAX_NOTES_LENGTH = 5000
MAX_COUNT = 10_000  # periods, quantities: far above any real use, inside every int column

Reference = Annotated[str, Field(min_length=1, max_length=100)]
Count = Annotated[int, Field(ge=1, le=MAX_COUNT)]
Quantity = Annotated[int, Field(ge=1, le=1_000_000_000)]
UnitAmount = Annotated[
    Decimal,
    Field(
        ge=0,
        lt=Decimal(10) ** 13,
        decimal_places=6,
        description="Major units, up to six decimals: replaces the price's unit amount "
        "(flat_fee and per_unit prices)",
    ),
]
TypeName = Literal["termed", "evergreen"]
PeriodUnitName = Literal["day", "week", "month", "year"]
TrialUnitName = Literal["days", "months"]
OptionName = Literal["today", "end_of_last_invoice_period", "specific_date", "end_of_current_term"]
StatusName = Literal["draft", "pending", "trial", "active", "suspended", "cancelled", "expired"]


def _unit(name: str | None) -> PeriodUnit | None:
    return None if name is None else PeriodUnit(name)


class ItemCreateBody(V1Model):
    plan_price_id: Reference
    quantity: Quantity | None = Field(
        default=None, description="Defaults to the price's `defaultQuantity`"
    )
    unit_amount_override: UnitAmount | None = None
    product_id: Reference | None = None

    def to_domain(self) -> ItemInput:
        return ItemInput(
            plan_price_id=self.plan_price_id, quantity=self.quantity,
            unit_amount_override=self.unit_amount_override, product_id=self.product_id,
        )  # fmt: skip


class PlanSubscriptionCreateBody(V1Model):
    """The body of ``POST /v1/plan-subscriptions``."""

    customer_id: Reference
    type: TypeName
    items: list[ItemCreateBody] = Field(min_length=1, max_length=MAX_ITEMS)
    start_date: CalendarDate | None = Field(
        default=None, description="The first day of service; today by default"
    )
    order_date: CalendarDate | None = None
    name: str | None = Field(default=None, min_length=1, max_length=200)
    term_start: CalendarDate | None = None
    initial_period: Count | None = None
    initial_period_unit: PeriodUnitName | None = None
    renewal_type: str | None = Field(default=None, min_length=1, max_length=60)
    renewal_period: Count | None = None
    renewal_period_unit: PeriodUnitName | None = None
    auto_renew: bool = False
    trial_period: Count | None = None
    trial_period_unit: TrialUnitName | None = None
    is_gift: bool = False
    recipient_id: Reference | None = None
    invoice_separately: bool = False
    draft: bool = False
    custom_fields: dict[str, Any] = Field(default_factory=dict)
    notes: str | None = Field(default=None, max_length=MAX_NOTES_LENGTH)

    def to_domain(self) -> NewPlanSubscription:
        return NewPlanSubscription(
            customer_id=self.customer_id, type=SubscriptionType(self.type),
            items=[item.to_domain() for item in self.items], start_date=self.start_date,
            order_date=self.order_date, name=self.name, term_start=self.term_start,
            initial_period=self.initial_period,
            initial_period_unit=_unit(self.initial_period_unit),
            renewal_type=self.renewal_type, renewal_period=self.renewal_period,
            renewal_period_unit=_unit(self.renewal_period_unit), auto_renew=self.auto_renew,
            trial_period=self.trial_period,
            trial_period_unit=(
                None if self.trial_period_unit is None else TrialUnit(self.trial_period_unit)
            ),
            is_gift=self.is_gift, recipient_id=self.recipient_id,
            invoice_separately=self.invoice_separately, draft=self.draft,
            custom_fields=self.custom_fields, notes=self.notes,
        )  # fmt: skip


class OptionBody(V1Model):
    """The body of ``suspend``, ``resume`` and ``cancel``: when the change takes effect."""

    option: OptionName
    date: CalendarDate | None = Field(
        default=None, description="The day it takes effect; only with `specific_date`"
    )

    @property
    def change_option(self) -> ChangeOption:
        return ChangeOption(self.option)


class ItemChangeBody(V1Model):
    """The body of ``PATCH /v1/plan-subscriptions/{id}/items/{itemId}``: fields left out
    stay as they are; ``unitAmountOverride: null`` removes the override."""

    quantity: Quantity | None = None
    unit_amount_override: UnitAmount | None = None
    plan_price_id: Reference | None = Field(
        default=None, description="Another price of the item's plan, or the item's own price "
        "to move to its current version",
    )  # fmt: skip
    invoice_now: bool = Field(
        default=False,
        description="Bill the proration at once on an invoice of its own, instead of on "
        "the next invoice",
    )

    def to_domain(self) -> ItemChange:
        clear = (
            "unit_amount_override" in self.model_fields_set and self.unit_amount_override is None
        )
        return ItemChange(
            quantity=self.quantity, unit_amount_override=self.unit_amount_override,
            clear_override=clear, plan_price_id=self.plan_price_id,
            invoice_now=self.invoice_now,
        )  # fmt: skip


def unit_price(value: Decimal | None, currency: str) -> Decimal | None:
    """A unit price as sent back: without the trailing zeros a decimal column keeps, but
    with at least the currency's decimals (``12.50``, ``0.0125``)."""
    if value is None:
        return None
    shown = value.normalize()
    places = exponent(currency)
    if decimal_places(shown) < places:
        shown = shown.quantize(Decimal(1).scaleb(-places))
    return shown


class ItemBody(V1Model):
    id: str
    position: int
    plan_id: str
    product_id: str | None
    plan_price_id: str
    plan_price_version: int = Field(description="The price version the item bills at")
    quantity: int
    unit_amount_override: Decimal | None
    billed_through: date | None = Field(
        description="The first day of the item's next period not yet billed (in advance) "
        "or not yet rated (in arrears)"
    )
    started_on: date
    ended_on: date | None

    @classmethod
    def of(cls, item: SubscriptionItem, currency: str) -> ItemBody:
        return cls(
            id=item.id, position=item.position, plan_id=item.plan_id,
            product_id=item.product_id, plan_price_id=item.plan_price_id,
            plan_price_version=item.plan_price_version, quantity=item.quantity,
            unit_amount_override=unit_price(item.unit_amount_override, currency),
            billed_through=item.billed_through, started_on=item.started_on,
            ended_on=item.ended_on,
        )  # fmt: skip


class PendingChargeBody(V1Model):
    id: str
    item_id: str | None
    kind: str = Field(description="`proration_credit` (negative) or `proration_charge`")
    description: str
    amount: Amount
    period_start: date
    period_end: date

    @classmethod
    def of(cls, charge: PendingCharge, currency: str) -> PendingChargeBody:
        return cls(
            id=charge.id, item_id=charge.item_id, kind=charge.kind,
            description=charge.description, amount=to_major(charge.amount, currency),
            period_start=charge.period_start, period_end=charge.period_end,
        )  # fmt: skip


class ScheduledChangeBody(V1Model):
    action: Literal["suspend", "resume", "cancel"]
    option: OptionName
    date: date


# History entries repeat a handful of keys; converting each once keeps list pages cheap.
_wire_key = functools.lru_cache(maxsize=256)(to_camel)


def _camel_keys(entry: dict[str, Any]) -> dict[str, Any]:
    return {_wire_key(key): value for key, value in entry.items()}


class PlanSubscriptionBody(V1Model):
    id: str
    customer_id: str
    name: str | None
    status: StatusName
    type: TypeName
    currency: str
    order_date: date
    start_date: date
    term_start: date | None
    initial_period: int | None
    initial_period_unit: str | None
    renewal_type: str | None
    renewal_period: int | None
    renewal_period_unit: str | None
    auto_renew: bool
    current_term_start: date | None
    current_term_end: date | None
    renewal_count: int
    trial_period: int | None
    trial_period_unit: str | None
    trial_end: date | None
    is_gift: bool
    recipient_id: str | None
    invoice_separately: bool
    billing_anchor: date | None = Field(description="The day billing periods are counted from")
    next_bill_date: date | None = Field(description="The next day something is due")
    last_invoice_period_end: date | None
    billing_end_date: date | None
    scheduled_change: ScheduledChangeBody | None = Field(
        description="A suspension, resumption or cancellation waiting for its day"
    )
    suspended_at: datetime | None
    resumed_at: datetime | None
    cancelled_at: datetime | None
    ended_on: date | None
    renewed_at: datetime | None
    total_collected: Amount
    items: list[ItemBody] = Field(description="Current items first, then ended ones")
    pending_charges: list[PendingChargeBody] = Field(
        description="Prorations waiting for the next invoice"
    )
    custom_fields: dict[str, Any]
    notes: str | None
    history: list[dict[str, Any]] = Field(description="Every operation, oldest first")
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, view: PlanSubscriptionView) -> PlanSubscriptionBody:
        s = view.subscription
        currency = s.currency
        scheduled = view.scheduled_change
        return cls(
            id=s.id, customer_id=s.customer_id, name=s.name, status=s.status, type=s.type,
            currency=currency, order_date=s.order_date, start_date=s.start_date,
            term_start=s.term_start, initial_period=s.initial_period,
            initial_period_unit=s.initial_period_unit, renewal_type=s.renewal_type,
            renewal_period=s.renewal_period, renewal_period_unit=s.renewal_period_unit,
            auto_renew=s.auto_renew, current_term_start=s.current_term_start,
            current_term_end=s.current_term_end, renewal_count=s.renewal_count,
            trial_period=s.trial_period, trial_period_unit=s.trial_period_unit,
            trial_end=s.trial_end, is_gift=s.is_gift, recipient_id=s.recipient_id,
            invoice_separately=s.invoice_separately, billing_anchor=s.billing_anchor,
            next_bill_date=s.next_bill_date, last_invoice_period_end=s.last_invoice_period_end,
            billing_end_date=s.billing_end_date,
            scheduled_change=(
                None
                if scheduled is None
                else ScheduledChangeBody(
                    action=scheduled.action, option=scheduled.option.value, date=scheduled.on
                )
            ),
            suspended_at=s.suspended_at, resumed_at=s.resumed_at, cancelled_at=s.cancelled_at,
            ended_on=s.ended_on, renewed_at=s.renewed_at,
            total_collected=to_major(s.total_collected, currency),
            items=[ItemBody.of(item, currency) for item in view.items],
            pending_charges=[PendingChargeBody.of(c, currency) for c in view.pending_charges],
            custom_fields=dict(s.custom_fields), notes=s.notes,
            history=[_camel_keys(entry) for entry in s.history], created_at=s.created_at,
            updated_at=s.updated_at,
        )  # fmt: skip


class PlanSubscriptionResult(V1Model):
    success: bool = True
    message: str
    subscription: PlanSubscriptionBody

    @classmethod
    def of(cls, message: str, view: PlanSubscriptionView) -> PlanSubscriptionResult:
        return cls(message=message, subscription=PlanSubscriptionBody.of(view))


class PlanSubscriptionAnswer(V1Model):
    success: bool = True
    subscription: PlanSubscriptionBody


class PlanSubscriptionList(V1Model):
    success: bool = True
    subscriptions: list[PlanSubscriptionBody]
    count: int
    limit: int
    has_more: bool
    next_cursor: str | None
