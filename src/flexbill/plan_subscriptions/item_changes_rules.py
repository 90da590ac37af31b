"""What changing an item mid-period does and costs. Pure: no I/O, no clock.

A change takes effect on day D. What a period of an item costs, and which period D falls
in, are the billing run's own rules (``plan_subscriptions.lines``, ``.terms``).

- **Billed in advance, period invoiced.** When the item's current period ``[S, E)`` is
  already invoiced (its ``billed_through`` is past D), the unused days at the old terms
  come back as a credit, −(old period amount) × (E − D) ÷ (E − S), and the new terms are
  charged for the same days, +(new period amount) × (E − D) ÷ (E − S); each rounded half
  up once to minor units (``billing.proration``). A change of quantity or override that
  leaves the period's amount as it was (a flat fee's quantity) costs nothing.
- **Another price** of the same plan ends the item on D and starts a new one from D. The
  new price is charged for the rest of its own period around D (the same days as the
  credit when both prices have the same period), and the new item is billed from that
  period's end. When nothing was invoiced for the old item's current period and a period
  of the new price starts on D, the new item is simply billed from D, whole.
- **Billed in arrears.** Nothing is prorated: the new quantity, override or price applies
  from the next rating; the period is rated at its end at the terms the item has then.
  Such an item moves only to another in-arrears price with the same billing period, so
  the period being recorded stays the period that is rated.
- **One-time** prices are changed only until they are billed, and only for another
  one-time price.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from flexbill.billing.proration import prorate
from flexbill.catalog.plan_models import PlanPrice
from flexbill.core.errors import FlexbillError, InvalidState
from flexbill.plan_subscriptions import lines
from flexbill.plan_subscriptions.models import SubscriptionItem
from flexbill.plan_subscriptions.terms import Span


def not_changeable(item_id: str, why: str) -> FlexbillError:
    """``ITEM_NOT_CHANGEABLE`` (an ``InvalidState``: 422)."""
    return InvalidState("ITEM_NOT_CHANGEABLE", f"Item '{item_id}' cannot be changed: {why}")


def not_available(price_id: str, why: str) -> FlexbillError:
    return InvalidState("PLAN_NOT_AVAILABLE", f"Plan price '{price_id}' {why}")


def check_changeable(item: SubscriptionItem, price: PlanPrice) -> None:
    """Whether ``item`` (of ``price``) may change at all."""
    if item.ended_on is not None:
        raise not_changeable(item.id, f"it ended on {item.ended_on.isoformat()}")
    if lines.is_one_time(price) and item.one_time_billed:
        raise not_changeable(item.id, "its one-time price is billed already")


def check_replacement(item: SubscriptionItem, old: PlanPrice, new: PlanPrice) -> None:
    """Whether ``new`` may replace ``old`` on ``item``: a price of the same plan, billed
    the same way (see the module's text)."""
    if new.plan_id != item.plan_id:
        raise not_available(new.id, f"is not a price of the item's plan '{item.plan_id}'")
    if lines.is_one_time(old) != lines.is_one_time(new):
        raise not_available(new.id, "is not of the item's category (recurring or one-time)")
    if lines.is_one_time(old):
        return
    if lines.in_advance(old) != lines.in_advance(new):
        raise not_available(new.id, "is not billed with the item's timing (in advance or not)")
    same_period = (old.billing_period, old.billing_period_unit) == (
        new.billing_period,
        new.billing_period_unit,
    )
    if not lines.in_advance(old) and not same_period:
        raise not_available(new.id, "is billed in arrears on another period than the item")


@dataclass(frozen=True)
class Terms:
    """An item's terms after a change: its price version, quantity and override."""

    price: PlanPrice
    quantity: int
    unit_amount_override: Decimal | None


@dataclass(frozen=True)
class Part:
    """Days of a period and what they cost (minor units, negative for a credit)."""

    span: Span
    amount: int
    quantity: int


@dataclass(frozen=True)
class Effect:
    """What a change costs and where billing picks up: ``credit`` and ``charge`` wait for
    an invoice (``None``: nothing); ``billed_through`` is the item's (or the new item's)
    first day not yet billed."""

    credit: Part | None
    charge: Part | None
    billed_through: date | None


def _priced(item: SubscriptionItem, terms: Terms) -> SubscriptionItem:
    """``item`` as it is under ``terms``, for pricing (never added to a session)."""
    return SubscriptionItem(
        id=item.id, plan_id=item.plan_id, plan_price_id=terms.price.id,
        plan_price_version=terms.price.version, quantity=terms.quantity,
        unit_amount_override=terms.unit_amount_override,
    )  # fmt: skip


def _part(amount: int, part: Span, period: Span, quantity: int) -> Part:
    return Part(part, prorate(amount, (part.start, part.end), (period.start, period.end)), quantity)


def effect(
    item: SubscriptionItem,
    old: Terms,
    new: Terms,
    *,
    anchor: date,
    day: date,
    currency: str,
) -> Effect:
    """What changing ``item`` from ``old`` to ``new`` terms on ``day`` costs."""
    replacing = (new.price.id, new.price.version) != (old.price.id, old.price.version)
    if lines.is_one_time(old.price) or not lines.in_advance(old.price):
        return Effect(None, None, item.billed_through)
    period = lines.period_of(anchor, old.price, day)
    invoiced = item.billed_through is not None and item.billed_through > day
    before = _priced(item, old)
    after = _priced(item, new)
    old_amount = lines.period_amount(before, old.price, currency)
    new_amount = lines.period_amount(after, new.price, currency)
    credit = None
    if invoiced:
        unused = _part(
            old_amount, Span(day, period.end), period, lines.quantity_shown(before, old.price)
        )
        credit = Part(unused.span, -unused.amount, unused.quantity)
    if not replacing:
        if credit is None or old_amount == new_amount:
            return Effect(None, None, item.billed_through)
        charge = _part(
            new_amount, Span(day, period.end), period, lines.quantity_shown(after, new.price)
        )
        return Effect(credit, charge, item.billed_through)
    new_period = lines.period_of(anchor, new.price, day)
    if new_period.start == day and not invoiced:
        return Effect(None, None, day)
    charge = _part(
        new_amount, Span(day, new_period.end), new_period, lines.quantity_shown(after, new.price)
    )
    return Effect(credit, charge, new_period.end)
