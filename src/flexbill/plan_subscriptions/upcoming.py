"""The next invoice of a general subscription, computed without writing anything.

The subscription and its items are copied (detached rows, never added to the session)
and moved through their coming days by the same ``days.Days`` the billing run uses, until
a day gives a regular invoice: its lines (usage rated from what is recorded so far,
pending charges included) are priced with the tenant's VAT rule as ``invoicing`` prices
them, and the customer's unapplied credit is set against the total. Final invoices of a
scheduled suspension or cancellation on the way are not the *next regular* invoice and are
passed over. ``None`` when nothing more will be billed.
"""

from __future__ import annotations

import copy
from typing import TypeVar

from sqlalchemy import inspect
from sqlalchemy.ext.asyncio import AsyncSession

from flexbill.billing import invoicing, test_clocks
from flexbill.customers.models import Customer
from flexbill.orders.totals import vat_rule
from flexbill.plan_subscriptions import billing, queries
from flexbill.plan_subscriptions.contract import UpcomingInvoice, UpcomingLine
from flexbill.plan_subscriptions.days import Days, Draft
from flexbill.settings.service import get_settings
from flexbill.tenancy.context import TenantContext

LONGEST_LOOK_AHEAD = 3660
"""Days looked through at most (a day with nothing to invoice, such as a renewal, is
passed over; ten years of them is beyond any subscription's next invoice)."""

Row = TypeVar("Row")


def detached(row: Row) -> Row:
    """A copy of ``row`` that no session knows: changing it writes nothing."""
    mapper = inspect(type(row))
    values = {attr.key: copy.copy(getattr(row, attr.key)) for attr in mapper.column_attrs}
    return type(row)(**values)


async def _next_draft(days: Days) -> Draft | None:
    subscription = days.subscription
    for _ in range(LONGEST_LOOK_AHEAD):
        day = subscription.next_bill_date
        if day is None:
            return None
        await days.run(day)
        regular = [draft for draft in days.outcome.drafts if draft.regular]
        if regular:
            return regular[0]
        days.outcome.drafts = []
        subscription.next_bill_date = days.next_bill_date(day)
    return None


async def next_invoice(
    session: AsyncSession, ctx: TenantContext, subscription_id: str
) -> UpcomingInvoice | None:
    """What the next invoice will hold (the same line builder the billing run uses)."""
    found = await queries.find(session, ctx, subscription_id)
    customer = await session.get(Customer, (ctx.tenant_id, found.customer_id))
    assert customer is not None, "a subscription's customer exists (a foreign key)"
    now = await test_clocks.customer_now(session, ctx, customer)
    items = (await billing.items_of(session, ctx.tenant_id, [found.id]))[found.id]
    pending = (await billing.unbilled_charges(session, ctx.tenant_id, [found.id]))[found.id]
    prices = await billing.prices_of(session, ctx.tenant_id, items)
    subscription = detached(found)
    days = Days(
        subscription, [detached(item) for item in items], prices, pending,
        billing.usage_reader(session, ctx.tenant_id), now,
    )  # fmt: skip
    draft = await _next_draft(days)
    if draft is None:
        return None
    settings = await get_settings(session, ctx)
    priced = invoicing.price_lines([line.price for line in draft.lines], vat_rule(settings.vat))
    lines = [
        UpcomingLine(
            kind=line.kind, description=line.description, item_id=line.item_id,
            plan_price_id=line.plan_price_id, plan_price_version=line.plan_price_version,
            quantity=line.quantity if line.quantity > 0 else 1,
            usage_quantity=line.usage_quantity, period_start=line.period_start,
            period_end=line.period_end, amount=amounts.amount, tax_amount=amounts.tax_amount,
            total=amounts.total, details=line.details,
        )
        for line, amounts in zip(draft.lines, priced.lines, strict=True)
    ]  # fmt: skip
    credit = min(max(customer.unapplied_amount, 0), max(priced.total, 0))
    period = draft.period
    return UpcomingInvoice(
        subscription_id=found.id, customer_id=found.customer_id, currency=found.currency,
        bill_date=draft.day, period_start=period.start, period_end=period.end, lines=lines,
        subtotal=priced.subtotal, tax_amount=priced.tax_amount, total=priced.total,
        credit_available=credit, amount_due=max(priced.total - credit, 0),
    )  # fmt: skip
