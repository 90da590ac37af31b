"""Issuing invoices and scheduled payments: one of each per billing period billed.

One subscription's period gives an individual invoice with one line; one billing group's
period gives one consolidated invoice with a line per member billed. Each invoice is
``open``, numbered gaplessly (``numbering``), due after the payment terms, and asks for its
total through one ``pending`` payment; ``payment.scheduled`` announces it.

**Once per key.** Invoice and payment carry the billing key
``"<subscription or group id>:<period start>"``, unique in the database. The caller holds
the subscription's (or group's) row lock, so nobody else can bill that key meanwhile; an
invoice already there means the period was billed, and nothing is written again.

**VAT** follows ``orders.totals``: computed once per invoice on the sum of its lines,
rounded half up once (exclusive: added on top of net prices; inclusive: contained in
gross prices). Each line then carries its part of that tax, shared out in proportion to
its price by largest remainders (ties to the earlier line), so the lines add up to the
invoice exactly. A line's ``amount`` is net, ``total`` what it asks the customer for.

**Lines from elsewhere.** A rental's lines are computed here from its charges; a general
subscription's (plan prices, usage, prorations) come computed as ``LineSpec``s. A credit
line is negative; an invoice whose total is not above zero asks for nothing.

**Customer credit** (``billing.balance``) is applied as each invoice is issued: the
payment asks only for what the credit leaves, and an invoice the credit covers entirely
is ``paid`` at once, without a payment.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from flexbill.billing import balance, notices
from flexbill.billing.models import (
    Invoice,
    InvoiceLine,
    InvoiceStatus,
    LineKind,
    Payment,
    PaymentStatus,
    PaymentType,
)
from flexbill.billing.numbering import invoice_number, take_sequences
from flexbill.billing.periods import Period
from flexbill.billing.settlement import payment_data
from flexbill.core.ids import new_id
from flexbill.events import service as events
from flexbill.events.models import EventType
from flexbill.orders.totals import Line, VatRule, order_totals, vat_rule
from flexbill.settings.rules import BusinessSettings, FirstPayment, VatMode
from flexbill.subscriptions.models import Subscription
from flexbill.tenancy.context import TenantContext

INVOICE_PREFIX = "inv"
PAYMENT_PREFIX = "pay"


def billing_key(owner_id: str, period_start: date) -> str:
    """``sub_…:2025-03-01``: what one subscription or group owes for one period."""
    return f"{owner_id}:{period_start.isoformat()}"


def billing_period(period_start: date) -> str:
    """FlexPortal's ``YYYY-MM`` label of a period."""
    return period_start.strftime("%Y-%m")


@dataclass(frozen=True)
class Charge:
    """A subscription's days billed on an invoice, at its price (net with exclusive VAT,
    gross with inclusive VAT, as monthly amounts are)."""

    subscription: Subscription
    period: Period


@dataclass(frozen=True)
class LineAmounts:
    amount: int  # net
    tax_amount: int
    total: int


@dataclass(frozen=True)
class Priced:
    lines: list[LineAmounts]
    subtotal: int  # net
    tax_amount: int
    total: int


def _share_out(total: int, weights: Sequence[int]) -> list[int]:
    """``total`` split in proportion to ``weights`` into integers that add up to it
    (largest remainders; ties go to the earlier weight)."""
    whole = sum(weights)
    if whole == 0:
        return [0 for _ in weights]
    exact = [Fraction(total * weight, whole) for weight in weights]
    shares = [math.floor(part) for part in exact]  # credits make some weights negative
    left = total - sum(shares)
    by_remainder = sorted(range(len(weights)), key=lambda i: (-(exact[i] - shares[i]), i))
    for index in by_remainder[:left]:
        shares[index] += 1
    return shares


def price_lines(prices: Sequence[int], vat: VatRule) -> Priced:
    """The lines and totals of an invoice whose lines cost ``prices``. Pure."""
    totals = order_totals([Line(quantity=1, unit_price=p) for p in prices], vat)
    taxes = _share_out(totals.tax_amount, prices)
    if vat.mode is VatMode.EXCLUSIVE:
        lines = [LineAmounts(p, tax, p + tax) for p, tax in zip(prices, taxes, strict=True)]
    else:
        lines = [LineAmounts(p - tax, tax, p) for p, tax in zip(prices, taxes, strict=True)]
    return Priced(
        lines=lines,
        subtotal=sum(line.amount for line in lines),
        tax_amount=totals.tax_amount,
        total=totals.total,
    )


def describe(subscription: Subscription, period: Period) -> str:
    """``Laptop Pro 16 – Space grey (SN-1), 2025-03-10 to 2025-04-09`` (the last day billed)."""
    last_day = period.end - timedelta(days=1)
    return (
        f"{subscription.product_name} – {subscription.variant_name} "
        f"({subscription.serial_number}), {period.start.isoformat()} to {last_day.isoformat()}"
    )


@dataclass(frozen=True)
class LineSpec:
    """A line computed by another domain: a plan price's period, rated usage, a
    proration. ``price`` is net with exclusive VAT, gross with inclusive VAT, negative for
    a credit; ``quantity`` and the plan fields are shown on the line as they are."""

    kind: LineKind
    description: str
    price: int
    subscription_id: str | None
    period_start: date | None
    period_end: date | None
    quantity: int = 1
    item_id: str | None = None
    plan_price_id: str | None = None
    plan_price_version: int | None = None
    usage_quantity: Decimal | None = None
    details: dict[str, Any] | None = None


@dataclass(frozen=True)
class Bill:
    """What one invoice bills: for a subscription or a group, one period, some charges
    (a rental's) and lines computed elsewhere (a general subscription's)."""

    key: str
    customer_id: str
    subscription_id: str | None
    billing_group_id: str | None
    period_start: date
    period_end: date
    charges: Sequence[Charge]
    lines: Sequence[LineSpec] = ()
    # The payment of a rental names it (``rental_id``); a general subscription's does not.
    rental: bool = True


@dataclass(frozen=True)
class Issued:
    invoice: Invoice
    payment: Payment | None  # None: nothing left to collect (credit, or a total ≤ 0)


KEYS_PER_QUERY = 500


async def _billed_keys(session: AsyncSession, tenant_id: str, keys: Sequence[str]) -> set[str]:
    """Which of ``keys`` already have their invoice."""
    found: set[str] = set()
    for first in range(0, len(keys), KEYS_PER_QUERY):
        chunk = keys[first : first + KEYS_PER_QUERY]
        statement = select(Invoice.billing_key).where(
            Invoice.tenant_id == tenant_id, Invoice.billing_key.in_(chunk)
        )
        found.update(await session.scalars(statement))
    return found


@dataclass(frozen=True)
class _Item:
    """One line to write: a charge's days, the one-off setup fee of its device, or a line
    computed elsewhere (``spec``)."""

    charge: Charge | None
    kind: LineKind
    description: str
    price: int  # net with exclusive VAT, gross with inclusive VAT
    spec: LineSpec | None = None


def _setup_fee_due(charge: Charge, settings: BusinessSettings) -> bool:
    """Whether ``charge``'s subscription still owes its setup fee: it is billed once, on
    the first invoice that bills the subscription, unless that first payment was
    collected outside flexbill (the setup fee with it)."""
    subscription = charge.subscription
    return (
        subscription.setup_fee > 0
        and subscription.setup_fee_invoice_id is None
        and settings.first_payment is not FirstPayment.COLLECTED_EXTERNALLY
    )


def _items(bill: Bill, settings: BusinessSettings) -> list[_Item]:
    items = []
    for charge in bill.charges:
        subscription, period = charge.subscription, charge.period
        kind = LineKind.RENTAL if period.whole else LineKind.PRORATION
        items.append(_Item(charge, kind, describe(subscription, period), period.amount))
        if _setup_fee_due(charge, settings):
            description = (
                f"Setup fee – {subscription.product_name} – {subscription.variant_name} "
                f"({subscription.serial_number})"
            )
            items.append(_Item(charge, LineKind.SETUP_FEE, description, subscription.setup_fee))
    items.extend(_Item(None, spec.kind, spec.description, spec.price, spec) for spec in bill.lines)
    return items


def _line_item(item: _Item, line: InvoiceLine) -> dict[str, Any]:
    """A payment's ``line_items`` entry (minor units, snake_case like every JSON column)."""
    entry: dict[str, Any] = {
        "description": line.description,
        "kind": line.kind,
        "rental_id": item.charge.subscription.id if item.charge is not None else None,
        "period_start": line.period_start.isoformat() if line.period_start else None,
        "period_end": line.period_end.isoformat() if line.period_end else None,
        "net_amount": line.amount,
        "tax_amount": line.tax_amount,
        "amount": line.total,
    }
    if item.spec is not None:
        entry["subscription_id"] = item.spec.subscription_id
        entry["item_id"] = item.spec.item_id
    return entry


def _line(
    ctx: TenantContext, invoice_id: str, position: int, item: _Item, amounts: LineAmounts
) -> InvoiceLine:
    charge, spec = item.charge, item.spec
    if charge is not None:
        return InvoiceLine(
            tenant_id=ctx.tenant_id, invoice_id=invoice_id, position=position, kind=item.kind,
            description=item.description, subscription_id=charge.subscription.id, quantity=1,
            unit_amount=amounts.amount, amount=amounts.amount, tax_amount=amounts.tax_amount,
            total=amounts.total, period_start=charge.period.start, period_end=charge.period.end,
        )  # fmt: skip
    assert spec is not None, "an item is a charge's or a spec's"
    quantity = spec.quantity if spec.quantity > 0 else 1
    return InvoiceLine(
        tenant_id=ctx.tenant_id, invoice_id=invoice_id, position=position, kind=item.kind,
        description=item.description, subscription_id=spec.subscription_id, quantity=quantity,
        unit_amount=round(Fraction(amounts.amount, quantity)),  # shown; half to even
        amount=amounts.amount, tax_amount=amounts.tax_amount, total=amounts.total,
        period_start=spec.period_start, period_end=spec.period_end, item_id=spec.item_id,
        plan_price_id=spec.plan_price_id, plan_price_version=spec.plan_price_version,
        usage_quantity=spec.usage_quantity, details=spec.details,
    )  # fmt: skip


def _rows(
    ctx: TenantContext, settings: BusinessSettings, bill: Bill, number: str, now: datetime
) -> Issued:
    """The invoice (with its lines) and the payment of ``bill``, not added to the session.
    A subscription whose setup fee this invoice bills is marked with the invoice."""
    vat = vat_rule(settings.vat)
    items = _items(bill, settings)
    priced = price_lines([item.price for item in items], vat)
    due_date = now.date() + timedelta(days=settings.payment_terms.days)
    invoice_id = new_id(INVOICE_PREFIX)
    lines = [
        _line(ctx, invoice_id, position, item, amounts)
        for position, (item, amounts) in enumerate(zip(items, priced.lines, strict=True), start=1)
    ]
    for item in items:
        if item.kind is LineKind.SETUP_FEE and item.charge is not None:
            item.charge.subscription.setup_fee_invoice_id = invoice_id
    invoice = Invoice(
        tenant_id=ctx.tenant_id, id=invoice_id, number=number, billing_key=bill.key,
        status=InvoiceStatus.OPEN, customer_id=bill.customer_id,
        subscription_id=bill.subscription_id, billing_group_id=bill.billing_group_id,
        period_start=bill.period_start, period_end=bill.period_end, vat_rate=vat.rate,
        vat_mode=vat.mode, subtotal=priced.subtotal, tax_amount=priced.tax_amount,
        total=priced.total, amount_paid=0, issued_at=now, due_date=due_date, lines=lines,
        created_at=now, updated_at=now,
    )  # fmt: skip
    payment = Payment(
        tenant_id=ctx.tenant_id, id=new_id(PAYMENT_PREFIX), status=PaymentStatus.PENDING,
        payment_type=(
            PaymentType.INDIVIDUAL if bill.billing_group_id is None else PaymentType.CONSOLIDATED
        ),
        customer_id=bill.customer_id, rental_id=bill.subscription_id if bill.rental else None,
        billing_group_id=bill.billing_group_id, invoice_id=invoice_id,
        billing_period=billing_period(bill.period_start), period_start=bill.period_start,
        amount=priced.total, original_amount=priced.total, late_fee_applied=False,
        late_fee_amount=0, due_date=due_date, capture_attempts=0,
        line_items=[_line_item(item, line) for item, line in zip(items, lines, strict=True)],
        idempotency_key=bill.key, manually_marked=False, created_at=now, updated_at=now,
    )  # fmt: skip
    return Issued(invoice=invoice, payment=payment)


async def issue(
    session: AsyncSession,
    ctx: TenantContext,
    settings: BusinessSettings,
    bills: Sequence[Bill],
    *,
    now: datetime,
) -> list[Issued | None]:
    """Write the invoice, its lines and its pending payment of each of ``bills`` (in
    order, numbered in that order) and record ``payment.scheduled`` for each; ``None`` in
    the answer (and nothing written) for a key billed before.

    The caller holds the row locks of the subscriptions or groups billed. Many bills at
    once cost a few statements, not a few per bill (one ``payment.scheduled`` each)."""
    if not bills:
        return []
    billed = await _billed_keys(session, ctx.tenant_id, [bill.key for bill in bills])
    fresh: dict[str, Bill] = {}
    for bill in bills:
        if bill.key not in billed:
            fresh.setdefault(bill.key, bill)  # a key twice in one call is billed once
    if not fresh:
        return [None for _ in bills]
    first = await take_sequences(session, ctx.tenant_id, len(fresh))
    written = {
        bill.key: _rows(ctx, settings, bill, invoice_number(first + offset), now)
        for offset, bill in enumerate(fresh.values())
    }
    invoices = [issued.invoice for issued in written.values()]
    session.add_all(invoices)
    # Payments name their invoices (a foreign key): the invoices go in first.
    await session.flush()
    credited = await balance.invoices_issued(session, ctx, invoices, now=now)
    for key, issued in list(written.items()):
        invoice, payment = issued.invoice, issued.payment
        assert payment is not None
        due = invoice.total - credited.get(invoice.id, 0)
        if due > 0:
            payment.amount = payment.original_amount = due
            continue
        invoice.status = InvoiceStatus.PAID
        invoice.paid_at = now
        written[key] = Issued(invoice=invoice, payment=None)
    payments = [issued.payment for issued in written.values() if issued.payment is not None]
    session.add_all(payments)
    await session.flush()
    scheduled = [(EventType.PAYMENT_SCHEDULED, payment_data(p, ctx.currency)) for p in payments]
    await events.emit_many(session, ctx, scheduled)
    await notices.invoices_issued(session, ctx, invoices)
    return [written.get(bill.key) for bill in bills]


def subscription_bill(subscription: Subscription, period: Period) -> Bill:
    """The individual invoice of ``subscription`` for ``period``."""
    return Bill(
        key=billing_key(subscription.id, period.start), customer_id=subscription.customer_id,
        subscription_id=subscription.id, billing_group_id=None, period_start=period.start,
        period_end=period.end, charges=[Charge(subscription, period)],
    )  # fmt: skip


def group_bill(
    billing_group_id: str, customer_id: str, period: tuple[date, date], charges: Sequence[Charge]
) -> Bill:
    """The consolidated invoice of a billing group for the group's ``period``: one line per
    member charged."""
    start, end = period
    return Bill(
        key=billing_key(billing_group_id, start), customer_id=customer_id,
        subscription_id=None, billing_group_id=billing_group_id, period_start=start,
        period_end=end, charges=charges,
    )  # fmt: skip
