"""The invoice lines of one item of a general subscription. Pure.

What an item's price costs for a period:

- **in advance** (billed on the period's first day, at the item's quantity): ``flat_fee``
  its amount whatever the quantity; ``per_unit`` quantity × unit amount; ``tiered`` and
  ``volume`` rated (``charge_models.rate``) for the quantity. An item's
  ``unit_amount_override`` replaces the unit amount of ``flat_fee`` and ``per_unit``.
- **in arrears** (billed on the day after the period's last): ``flat_fee`` its amount;
  the others rated from the usage recorded for the period, after the price's included
  units (a ``usage`` line with the quantity, the tiers used and the billable quantity).
- **one-time** prices: once, on the subscription's first invoice.

A part of a period (a term ending mid-period, a suspension or a cancellation) costs the
period's amount × its days ÷ the period's days, rounded half up once
(``billing.proration``); the unused days of a period billed in advance come back as a
negative ``proration_credit`` line. Usage is never prorated: a part of a period is rated
from the usage recorded in that part.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from typing import Any

from flexbill.billing.invoicing import LineSpec
from flexbill.billing.models import LineKind
from flexbill.billing.proration import prorate
from flexbill.catalog.charge_models import PriceBook, Rating, TierUse, rate
from flexbill.catalog.plan_lookup import book_of
from flexbill.catalog.plan_models import (
    BillingTiming,
    ChargeModel,
    PeriodUnit,
    PlanPrice,
    PriceCategory,
)
from flexbill.plan_subscriptions.models import PendingCharge, SubscriptionItem
from flexbill.plan_subscriptions.terms import Span, period_containing

OVERRIDABLE = frozenset({ChargeModel.FLAT_FEE, ChargeModel.PER_UNIT})
DEFAULT_UOM = "units"


def is_one_time(price: PlanPrice) -> bool:
    return PriceCategory(price.category) is PriceCategory.ONE_TIME


def in_advance(price: PlanPrice) -> bool:
    return BillingTiming(price.billing_timing) is BillingTiming.IN_ADVANCE


def rated_from_usage(price: PlanPrice) -> bool:
    """Whether an item of ``price`` bills what was recorded (``usage`` lines)."""
    return (
        not is_one_time(price)
        and not in_advance(price)
        and ChargeModel(price.charge_model) is not ChargeModel.FLAT_FEE
    )


def period_of(anchor: date, price: PlanPrice, day: date) -> Span:
    """The billing period of ``price`` counted from ``anchor`` that contains ``day``."""
    unit = PeriodUnit(price.billing_period_unit)
    return period_containing(anchor, price.billing_period, unit, day)


def book(item: SubscriptionItem, price: PlanPrice, currency: str) -> PriceBook:
    """The amounts ``item`` is billed at: the price's, or its override's."""
    if item.unit_amount_override is not None and ChargeModel(price.charge_model) in OVERRIDABLE:
        return PriceBook(unit_amount=item.unit_amount_override)
    return book_of(price, currency)


def quantity_shown(item: SubscriptionItem, price: PlanPrice) -> int:
    return 1 if ChargeModel(price.charge_model) is ChargeModel.FLAT_FEE else item.quantity


def period_amount(item: SubscriptionItem, price: PlanPrice, currency: str) -> int:
    """What one whole period of ``item`` costs, in minor units (flat fee, or the item's
    quantity rated; the usage of an in-arrears price is not known here)."""
    model = ChargeModel(price.charge_model)
    quantity = Decimal(quantity_shown(item, price))
    return rate(model, book(item, price, currency), quantity, currency).amount


def _days(part: Span) -> str:
    return f"{part.start.isoformat()} to {part.last_day.isoformat()}"


def _quantity_text(quantity: Decimal) -> str:
    """``12,500`` or ``1,234.5``: without the trailing zeros a decimal column keeps."""
    if quantity == quantity.to_integral_value():
        return f"{quantity.to_integral_value():,}"
    return f"{quantity.normalize():,f}"


def _exact_text(value: Decimal | None) -> str | None:
    return None if value is None else format(value.normalize(), "f")


def _tier(use: TierUse) -> dict[str, Any]:
    return {
        "tier": use.tier,
        "firstUnit": _exact_text(use.first_unit),
        "upTo": _exact_text(use.up_to),
        "quantity": _exact_text(use.quantity),
        "unitAmount": _exact_text(use.unit_amount),
        "flatAmount": _exact_text(use.flat_amount),
        "amount": _exact_text(use.amount),
    }


def _spec(
    subscription_id: str, item: SubscriptionItem, price: PlanPrice, kind: LineKind,
    description: str, amount: int, part: Span, *, quantity: int = 1,
    usage_quantity: Decimal | None = None, details: dict[str, Any] | None = None,
) -> LineSpec:  # fmt: skip
    return LineSpec(
        kind=kind, description=description, price=amount, subscription_id=subscription_id,
        period_start=part.start, period_end=part.end, quantity=quantity, item_id=item.id,
        plan_price_id=price.id, plan_price_version=price.version,
        usage_quantity=usage_quantity, details=details,
    )  # fmt: skip


def plan_line(
    subscription_id: str, item: SubscriptionItem, price: PlanPrice, currency: str,
    part: Span, period: Span,
) -> LineSpec:  # fmt: skip
    """``item``'s ``part`` of ``period`` at its quantity (a flat fee in arrears too)."""
    amount = period_amount(item, price, currency)
    if part != period:
        amount = prorate(amount, (part.start, part.end), (period.start, period.end))
    quantity = quantity_shown(item, price)
    times = f" × {quantity}" if quantity != 1 else ""
    description = f"{price.name}{times}, {_days(part)}"
    return _spec(
        subscription_id, item, price, LineKind.PLAN, description, amount, part, quantity=quantity
    )


def usage_line(
    subscription_id: str, item: SubscriptionItem, price: PlanPrice, currency: str,
    part: Span, used: Decimal,
) -> LineSpec:  # fmt: skip
    """``used`` units recorded for ``item`` in ``part``, rated after the included units:
    ``API calls – 12,500 calls, 2026-01-01 to 2026-01-31``."""
    rating: Rating = rate(
        ChargeModel(price.charge_model), book(item, price, currency), used, currency,
        included_units=price.included_units,
    )  # fmt: skip
    uom = price.uom or DEFAULT_UOM
    description = f"{price.name} – {_quantity_text(used)} {uom}, {_days(part)}"
    details = {
        "tiers": [_tier(use) for use in rating.tiers],
        "includedUnits": _exact_text(price.included_units),
        "billableQuantity": _exact_text(rating.billable_quantity),
    }
    return _spec(
        subscription_id, item, price, LineKind.USAGE, description, rating.amount, part,
        usage_quantity=used, details=details,
    )  # fmt: skip


def one_time_line(
    subscription_id: str, item: SubscriptionItem, price: PlanPrice, currency: str, day: date
) -> LineSpec:
    """A one-time price, billed on ``day`` (its period is that day)."""
    quantity = quantity_shown(item, price)
    times = f" × {quantity}" if quantity != 1 else ""
    return _spec(
        subscription_id, item, price, LineKind.ONE_TIME, f"{price.name}{times}",
        period_amount(item, price, currency), Span(day, day), quantity=quantity,
    )  # fmt: skip


def unused_credit(
    subscription_id: str, item: SubscriptionItem, price: PlanPrice, currency: str,
    unused: Span, period: Span,
) -> LineSpec:  # fmt: skip
    """The days ``unused`` of ``period``, billed in advance and given back."""
    amount = -prorate(
        period_amount(item, price, currency), (unused.start, unused.end),
        (period.start, period.end),
    )  # fmt: skip
    description = f"Unused time – {price.name}, {_days(unused)}"
    return _spec(
        subscription_id, item, price, LineKind.PRORATION_CREDIT, description, amount, unused,
        quantity=quantity_shown(item, price),
    )  # fmt: skip


def pending_line(charge: PendingCharge, prices: Mapping[str, PlanPrice]) -> LineSpec:
    """A pending charge (a change's credit or charge) as a line; ``prices`` by item id
    names the price version of its item when known."""
    price = prices.get(charge.item_id or "")
    return LineSpec(
        kind=LineKind(charge.kind), description=charge.description, price=charge.amount,
        subscription_id=charge.subscription_id, period_start=charge.period_start,
        period_end=charge.period_end, quantity=charge.quantity, item_id=charge.item_id,
        plan_price_id=price.id if price else None,
        plan_price_version=price.version if price else None,
    )  # fmt: skip
