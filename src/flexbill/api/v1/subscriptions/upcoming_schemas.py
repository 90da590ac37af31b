"""The body of ``GET /v1/subscriptions/{subscriptionId}/upcoming-invoice``: the next
invoice of a rental or of a general subscription, in one shape.

Money in major units, exact; a credit line is negative. ``periodEnd`` is exclusive.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from typing import Any

from pydantic import Field

from flexbill.api.v1.responses import Amount, V1Model
from flexbill.core.money import to_major
from flexbill.plan_subscriptions.contract import UpcomingInvoice, UpcomingLine


def _exact(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))


class TierBody(V1Model):
    """One tier's part of a usage line's rating."""

    tier: int = Field(description="1-based position in the price's tiers")
    first_unit: Decimal = Field(description="The tier starts above this many units")
    up_to: Decimal | None = Field(description="The tier's last unit; `null`: no limit")
    quantity: Decimal = Field(description="Units priced in this tier")
    unit_amount: Decimal
    flat_amount: Decimal
    amount: Decimal = Field(description="Exact, before the line is rounded")

    @classmethod
    def of(cls, use: Mapping[str, Any]) -> TierBody:
        return cls(
            tier=int(use["tier"]), first_unit=_exact(use.get("firstUnit")) or Decimal(0),
            up_to=_exact(use.get("upTo")), quantity=_exact(use.get("quantity")) or Decimal(0),
            unit_amount=_exact(use.get("unitAmount")) or Decimal(0),
            flat_amount=_exact(use.get("flatAmount")) or Decimal(0),
            amount=_exact(use.get("amount")) or Decimal(0),
        )  # fmt: skip


class UpcomingLineBody(V1Model):
    kind: str = Field(
        description="`plan`, `usage`, `one_time`, `proration_credit`, `proration_charge`; "
        "for a rental `rental`, `proration` or `setup_fee`"
    )
    description: str
    item_id: str | None
    plan_price_id: str | None
    plan_price_version: int | None
    quantity: int
    usage_quantity: Decimal | None = Field(description="The usage rated so far (usage lines)")
    period_start: date | None
    period_end: date | None
    amount: Amount = Field(description="Net")
    tax_amount: Amount
    total: Amount
    tiers: list[TierBody] | None = Field(description="The tiers a usage line's rating used")

    @classmethod
    def of(cls, line: UpcomingLine, currency: str) -> UpcomingLineBody:
        tiers = None if line.details is None else line.details.get("tiers")
        return cls(
            kind=line.kind, description=line.description, item_id=line.item_id,
            plan_price_id=line.plan_price_id, plan_price_version=line.plan_price_version,
            quantity=line.quantity, usage_quantity=line.usage_quantity,
            period_start=line.period_start, period_end=line.period_end,
            amount=to_major(line.amount, currency),
            tax_amount=to_major(line.tax_amount, currency),
            total=to_major(line.total, currency),
            tiers=None if tiers is None else [TierBody.of(use) for use in tiers],
        )  # fmt: skip


class UpcomingInvoiceBody(V1Model):
    subscription_id: str
    customer_id: str
    currency: str
    bill_date: date = Field(description="The day the invoice will be issued")
    period_start: date
    period_end: date = Field(description="Exclusive: the next period's first day")
    lines: list[UpcomingLineBody]
    subtotal: Amount = Field(description="Net")
    tax_amount: Amount
    total: Amount
    credit_available: Amount = Field(
        description="The customer's unapplied credit the invoice would use"
    )
    amount_due: Amount = Field(description="What the invoice would ask to collect")

    @classmethod
    def of(cls, upcoming: UpcomingInvoice) -> UpcomingInvoiceBody:
        currency = upcoming.currency
        return cls(
            subscription_id=upcoming.subscription_id, customer_id=upcoming.customer_id,
            currency=currency, bill_date=upcoming.bill_date,
            period_start=upcoming.period_start, period_end=upcoming.period_end,
            lines=[UpcomingLineBody.of(line, currency) for line in upcoming.lines],
            subtotal=to_major(upcoming.subtotal, currency),
            tax_amount=to_major(upcoming.tax_amount, currency),
            total=to_major(upcoming.total, currency),
            credit_available=to_major(upcoming.credit_available, currency),
            amount_due=to_major(upcoming.amount_due, currency),
        )  # fmt: skip


class UpcomingInvoiceAnswer(V1Model):
    success: bool = True
    upcoming_invoice: UpcomingInvoiceBody
