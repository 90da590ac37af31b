"""Billing one general subscription up to a day: the days due are worked through in
order (``days.Days``), then their invoices are issued, the usage they rated is marked,
the pending charges they took name them, and the events are written.

The caller holds the subscription's row lock (the billing run locks its batch; a request
locks the one it changes), so nobody else moves it meanwhile. Each invoice has its own
key (``billing_key(id, day)``, or ``<id>:<day>:<reason>`` for a final one); a key that
is already taken (a subscription suspended and resumed on the same day bills twice that
day) gets a suffix, because what the subscription has billed is recorded on its items
(``billed_through``) under the lock, not in the keys.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from flexbill.billing import invoicing
from flexbill.billing.models import Invoice
from flexbill.catalog.plan_lookup import price_versions
from flexbill.catalog.plan_models import PlanPrice
from flexbill.events import service as events
from flexbill.plan_subscriptions.days import Days, Draft, UsageReader
from flexbill.plan_subscriptions.models import PendingCharge, PlanSubscription, SubscriptionItem
from flexbill.settings.rules import BusinessSettings
from flexbill.tenancy.context import TenantContext
from flexbill.usage import rating


@dataclass
class Billed:
    """What billing one or more subscriptions did."""

    invoices: int = 0
    renewed: int = 0
    ended: int = 0

    def add(self, other: Billed) -> None:
        self.invoices += other.invoices
        self.renewed += other.renewed
        self.ended += other.ended


async def items_of(
    session: AsyncSession, tenant_id: str, subscription_ids: Sequence[str]
) -> dict[str, list[SubscriptionItem]]:
    """The items of each subscription, by position, in one query."""
    found: dict[str, list[SubscriptionItem]] = {sid: [] for sid in subscription_ids}
    if not subscription_ids:
        return found
    statement = (
        select(SubscriptionItem)
        .where(
            SubscriptionItem.tenant_id == tenant_id,
            SubscriptionItem.subscription_id.in_(sorted(set(subscription_ids))),
        )
        .order_by(SubscriptionItem.subscription_id, SubscriptionItem.position)
    )
    for item in await session.scalars(statement):
        found[item.subscription_id].append(item)
    return found


async def unbilled_charges(
    session: AsyncSession, tenant_id: str, subscription_ids: Sequence[str]
) -> dict[str, list[PendingCharge]]:
    """The pending charges no invoice has taken yet, oldest first, in one query."""
    found: dict[str, list[PendingCharge]] = {sid: [] for sid in subscription_ids}
    if not subscription_ids:
        return found
    statement = (
        select(PendingCharge)
        .where(
            PendingCharge.tenant_id == tenant_id,
            PendingCharge.subscription_id.in_(sorted(set(subscription_ids))),
            PendingCharge.invoice_id.is_(None),
        )
        .order_by(PendingCharge.created_at, PendingCharge.id)
    )
    for charge in await session.scalars(statement):
        found[charge.subscription_id].append(charge)
    return found


async def prices_of(
    session: AsyncSession, tenant_id: str, items: Sequence[SubscriptionItem]
) -> dict[str, PlanPrice]:
    """Each item's price version, by item id."""
    versions = await price_versions(
        session, tenant_id, [(item.plan_price_id, item.plan_price_version) for item in items]
    )
    return {item.id: versions[(item.plan_price_id, item.plan_price_version)] for item in items}


def usage_reader(session: AsyncSession, tenant_id: str) -> UsageReader:
    async def read(item_ids: Sequence[str], start: date, end: date) -> Mapping[str, Decimal]:
        return await rating.usage_totals(session, tenant_id, item_ids, start, end)

    return read


async def load(
    session: AsyncSession, ctx: TenantContext, subscription: PlanSubscription, now: datetime
) -> Days:
    """The subscription's items, prices and pending charges, ready to move through days."""
    items = (await items_of(session, ctx.tenant_id, [subscription.id]))[subscription.id]
    pending = (await unbilled_charges(session, ctx.tenant_id, [subscription.id]))[subscription.id]
    prices = await prices_of(session, ctx.tenant_id, items)
    return Days(subscription, items, prices, pending, usage_reader(session, ctx.tenant_id), now)


async def _free_keys(session: AsyncSession, tenant_id: str, drafts: Sequence[Draft]) -> None:
    """Give each draft a key that no invoice and no other draft has (one query, rarely
    more)."""
    bases = [draft.key for draft in drafts]
    suffixes = [1 for _ in drafts]
    while True:
        keys = [draft.key for draft in drafts]
        statement = select(Invoice.billing_key).where(
            Invoice.tenant_id == tenant_id, Invoice.billing_key.in_(keys)
        )
        taken = set(await session.scalars(statement))
        clashing = False
        for index, draft in enumerate(drafts):
            if draft.key in taken or draft.key in keys[:index]:
                clashing = True
                suffixes[index] += 1
                draft.key = f"{bases[index]}:{suffixes[index]}"
                keys[index] = draft.key
        if not clashing:
            return


async def issue(
    session: AsyncSession, ctx: TenantContext, settings: BusinessSettings, days: Days
) -> int:
    """Issue the invoices ``days`` collected, in order; how many were written."""
    subscription, drafts = days.subscription, days.outcome.drafts
    if not drafts:
        return 0
    await _free_keys(session, ctx.tenant_id, drafts)
    bills = []
    for draft in drafts:
        period = draft.period
        bills.append(
            invoicing.Bill(
                key=draft.key, customer_id=subscription.customer_id,
                subscription_id=subscription.id, billing_group_id=None,
                period_start=period.start, period_end=period.end, charges=[],
                lines=draft.lines, rental=False,
            )
        )  # fmt: skip
    issued = await invoicing.issue(session, ctx, settings, bills, now=days.now)
    for draft, one in zip(drafts, issued, strict=True):
        assert one is not None, f"invoice key {draft.key} was free a moment ago"
        for charge in draft.pending:
            charge.invoice_id = one.invoice.id
        by_part: dict[tuple[date, date], list[str]] = {}
        for item_id, part in draft.rated:
            by_part.setdefault((part.start, part.end), []).append(item_id)
        for (start, end), item_ids in by_part.items():
            await rating.mark_rated(session, ctx.tenant_id, item_ids, start, end, one.invoice.id)
    days.outcome.drafts = []
    return len(drafts)


async def run_due(days: Days, today: date) -> None:
    """Work through every day due up to ``today`` (included), in order."""
    subscription = days.subscription
    while subscription.next_bill_date is not None and subscription.next_bill_date <= today:
        day = subscription.next_bill_date
        await days.run(day)
        subscription.next_bill_date = days.next_bill_date(day)


async def finish(
    session: AsyncSession, ctx: TenantContext, settings: BusinessSettings, days: Days
) -> Billed:
    """Write what ``days`` collected: its invoices, then its events."""
    outcome = days.outcome
    invoices = await issue(session, ctx, settings, days)
    await events.emit_many(session, ctx, outcome.events)
    billed = Billed(invoices=invoices, renewed=outcome.renewed, ended=outcome.ended)
    outcome.events, outcome.renewed, outcome.ended = [], 0, 0
    await session.flush()
    return billed


async def bill_until(
    session: AsyncSession, ctx: TenantContext, settings: BusinessSettings,
    subscription: PlanSubscription, now: datetime, *, days: Days | None = None,
) -> Billed:  # fmt: skip
    """Bill every day due up to ``now``'s date and write the outcome."""
    days = days or await load(session, ctx, subscription, now)
    await run_due(days, now.date())
    return await finish(session, ctx, settings, days)
