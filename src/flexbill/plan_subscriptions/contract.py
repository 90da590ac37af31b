"""What the plan-subscription domain offers the faces: the inputs and views they share.

The faces (``/v1/plan-subscriptions`` now, SubscriptionFlow's ``/api/v1`` later) build
these inputs from their requests and render these views; the functions that take and
give them live in ``service.py`` (create, read, list, items), ``lifecycle.py`` (suspend,
resume, cancel, activate) and ``upcoming.py`` (the next invoice).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from flexbill.catalog.plan_models import PeriodUnit
from flexbill.plan_subscriptions.models import (
    ChangeOption,
    PendingCharge,
    PlanSubscription,
    SubscriptionItem,
    SubscriptionType,
    TrialUnit,
)


@dataclass(frozen=True)
class ItemInput:
    """One plan price to subscribe to. ``quantity`` defaults to the price's
    ``default_quantity``; ``unit_amount_override`` (major units) replaces the price's unit
    amount for this item only."""

    plan_price_id: str
    quantity: int | None = None
    unit_amount_override: Decimal | None = None
    product_id: str | None = None


@dataclass(frozen=True)
class NewPlanSubscription:
    """A subscription to create. ``start_date`` (SubscriptionFlow's trigger date) defaults
    to today on the customer's clock; ``draft`` creates it unbilled until activated."""

    customer_id: str
    type: SubscriptionType
    items: Sequence[ItemInput]
    start_date: date | None = None
    order_date: date | None = None
    name: str | None = None
    term_start: date | None = None
    initial_period: int | None = None
    initial_period_unit: PeriodUnit | None = None
    renewal_type: str | None = None
    renewal_period: int | None = None
    renewal_period_unit: PeriodUnit | None = None
    auto_renew: bool = False
    trial_period: int | None = None
    trial_period_unit: TrialUnit | None = None
    is_gift: bool = False
    recipient_id: str | None = None
    invoice_separately: bool = False
    draft: bool = False
    custom_fields: Mapping[str, Any] = field(default_factory=dict)
    notes: str | None = None


@dataclass(frozen=True)
class ItemChange:
    """A change to one item from today: a new quantity and/or a new unit amount override
    (``clear_override`` removes it) and/or another price of the same plan. ``invoice_now``
    bills the proration at once on an invoice of its own; otherwise it waits for the next
    invoice (``PendingCharge`` rows)."""

    quantity: int | None = None
    unit_amount_override: Decimal | None = None
    clear_override: bool = False
    plan_price_id: str | None = None
    invoice_now: bool = False


@dataclass(frozen=True)
class ScheduledChange:
    """A suspension, resumption or cancellation waiting for its day."""

    action: str  # ScheduledAction
    option: ChangeOption
    on: date


@dataclass(frozen=True)
class PlanSubscriptionView:
    """A subscription with its items (current first, then ended ones, by position) and
    the amounts waiting for its next invoice."""

    subscription: PlanSubscription
    items: Sequence[SubscriptionItem]
    pending_charges: Sequence[PendingCharge] = ()

    @property
    def scheduled_change(self) -> ScheduledChange | None:
        s = self.subscription
        if s.scheduled_action is None or s.scheduled_on is None or s.scheduled_option is None:
            return None
        return ScheduledChange(s.scheduled_action, ChangeOption(s.scheduled_option), s.scheduled_on)


@dataclass(frozen=True)
class UpcomingLine:
    kind: str  # LineKind
    description: str
    item_id: str | None
    plan_price_id: str | None
    plan_price_version: int | None
    quantity: int
    usage_quantity: Decimal | None
    period_start: date | None
    period_end: date | None
    amount: int  # net, minor units; negative for a credit
    tax_amount: int
    total: int
    details: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class UpcomingInvoice:
    """What the next invoice of a subscription will hold if nothing changes before it:
    issued on ``bill_date`` for ``period_start``–``period_end`` (exclusive). Usage lines
    rate what is recorded so far. ``None`` from ``upcoming.next_invoice`` when nothing
    more will be billed (cancelled, expired, suspended without a resumption)."""

    subscription_id: str
    customer_id: str
    currency: str
    bill_date: date
    period_start: date
    period_end: date
    lines: Sequence[UpcomingLine]
    subtotal: int
    tax_amount: int
    total: int
    credit_available: int = 0  # the customer's unapplied credit the invoice would use
    amount_due: int = 0
