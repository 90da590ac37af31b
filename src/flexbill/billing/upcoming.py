"""The next invoice of a rental, computed without writing anything.

It is what the billing run (``billing/run.py``) will write next for the rental if nothing
changes before, computed by the run's own functions: the terms (``run.terms_of``), the
period (``periods.period_from``, or ``periods.group_share`` in a billing group), the lines
(``invoicing._items``: the period's amount, and the setup fee while it is still due) and
their VAT (``invoicing.price_lines``). The answer has the shape of a general
subscription's next invoice (``plan_subscriptions.contract.UpcomingInvoice``), so one
route answers for both kinds of subscription.

**Billing groups.** A member of an active billing group is billed on the group's invoice:
the answer is the member's share of the group's next invoice that bills it. The group's
VAT is computed once on the whole invoice and shared out over its lines, so the member's
lines are priced with every member due on that invoice and carry exactly the tax they
will carry there; the totals are those of the member's lines.

**Today** is the day on the customer's clock: a customer attached to a test clock is
billed on the clock's time, as the run bills it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from flexbill.billing import invoicing
from flexbill.billing.models import BillingGroup, BillingGroupStatus
from flexbill.billing.periods import group_period_start, group_share, period_from
from flexbill.billing.run import terms_of
from flexbill.billing.test_clocks import customer_now
from flexbill.core.errors import FlexbillError, NotFound
from flexbill.customers.models import Customer
from flexbill.orders.totals import vat_rule
from flexbill.plan_subscriptions.contract import UpcomingInvoice, UpcomingLine
from flexbill.settings.rules import BusinessSettings
from flexbill.settings.service import get_settings
from flexbill.subscriptions.lifecycle import SubscriptionStatus
from flexbill.subscriptions.models import Subscription
from flexbill.subscriptions.periods import add_months
from flexbill.tenancy.context import TenantContext


class _Missing(NotFound):
    def __init__(self, code: str, message: str) -> None:
        FlexbillError.__init__(self, code, message)


def no_upcoming_invoice(subscription_id: str) -> NotFound:
    """``NO_UPCOMING_INVOICE``: nothing more will be billed for the subscription."""
    return _Missing(
        "NO_UPCOMING_INVOICE", f"Nothing more will be billed for subscription '{subscription_id}'"
    )


def subscription_not_found(subscription_id: str) -> FlexbillError:
    return FlexbillError("SUBSCRIPTION_NOT_FOUND", f"Subscription '{subscription_id}' not found")


async def _active_group(
    session: AsyncSession, ctx: TenantContext, rental: Subscription
) -> BillingGroup | None:
    if rental.billing_group_id is None:
        return None
    group = await session.get(BillingGroup, (ctx.tenant_id, rental.billing_group_id))
    if group is None or group.status != BillingGroupStatus.ACTIVE or group.deleted_at is not None:
        return None  # the run bills members of an inactive group on their own
    return group


async def _members(
    session: AsyncSession, ctx: TenantContext, group: BillingGroup
) -> list[Subscription]:
    """The group's active members in id order, as the run takes them."""
    statement = (
        select(Subscription)
        .where(
            Subscription.tenant_id == ctx.tenant_id,
            Subscription.billing_group_id == group.id,
            Subscription.status == SubscriptionStatus.ACTIVE,
        )
        .order_by(Subscription.id)
    )
    return list((await session.scalars(statement)).all())


def own_bill(rental: Subscription, settings: BusinessSettings) -> invoicing.Bill | None:
    """The rental's next individual invoice; ``None`` once its contract has no day left
    to bill."""
    if rental.next_billing_date is None:
        return None
    period = period_from(terms_of(rental, settings), rental.next_billing_date)
    return None if period is None else invoicing.subscription_bill(rental, period)


def group_bill(
    rental: Subscription,
    group: BillingGroup,
    members: Sequence[Subscription],
    settings: BusinessSettings,
) -> invoicing.Bill | None:
    """The group's next invoice that bills ``rental``, as the run's ``bill_group`` would
    write it: the group's invoices are played forward, each billing the members due on its
    billing day, until one bills ``rental``. ``None`` when none will."""
    next_day = {member.id: member.next_billing_date for member in members}
    while True:
        due: dict[date, list[Subscription]] = {}
        for member in members:
            first = next_day[member.id]
            if first is None or terms_of(member, settings).over(first):
                continue
            due.setdefault(group_period_start(group.billing_day, first, first), []).append(member)
        if not any(
            member.id == rental.id for members_due in due.values() for member in members_due
        ):
            return None
        start = min(due)
        charges = []
        for member in due[start]:
            first = next_day[member.id]
            assert first is not None, "only members with a next billing date are due"
            share = group_share(terms_of(member, settings), group.billing_day, first, start)
            charges.append(invoicing.Charge(member, share))
        if any(charge.subscription.id == rental.id for charge in charges):
            period = (start, add_months(start, 1))
            return invoicing.group_bill(group.id, group.customer_id, period, charges)
        for charge in charges:
            next_day[charge.subscription.id] = charge.period.end


def _line(item: invoicing._Item, amounts: invoicing.LineAmounts) -> UpcomingLine:
    assert item.charge is not None, "a rental's lines are its charges'"
    period = item.charge.period
    return UpcomingLine(
        kind=item.kind.value, description=item.description, item_id=None, plan_price_id=None,
        plan_price_version=None, quantity=1, usage_quantity=None, period_start=period.start,
        period_end=period.end, amount=amounts.amount, tax_amount=amounts.tax_amount,
        total=amounts.total,
    )  # fmt: skip


def upcoming_of(
    rental: Subscription,
    bill: invoicing.Bill,
    settings: BusinessSettings,
    *,
    currency: str,
    today: date,
    credit: int,
) -> UpcomingInvoice:
    """``bill`` priced as ``invoicing.issue`` prices it, cut to ``rental``'s lines.
    ``credit`` is the customer's unapplied credit."""
    items = invoicing._items(bill, settings)
    priced = invoicing.price_lines([item.price for item in items], vat_rule(settings.vat))
    lines = [
        _line(item, amounts)
        for item, amounts in zip(items, priced.lines, strict=True)
        if item.charge is not None and item.charge.subscription.id == rental.id
    ]
    total = sum(line.total for line in lines)
    credit_used = min(max(credit, 0), max(total, 0))
    return UpcomingInvoice(
        subscription_id=rental.id, customer_id=rental.customer_id, currency=currency,
        bill_date=max(bill.period_start, today), period_start=bill.period_start,
        period_end=bill.period_end, lines=lines, subtotal=sum(line.amount for line in lines),
        tax_amount=sum(line.tax_amount for line in lines), total=total,
        credit_available=credit_used, amount_due=total - credit_used,
    )  # fmt: skip


async def next_invoice(
    session: AsyncSession, ctx: TenantContext, rental_id: str
) -> UpcomingInvoice | None:
    """What the next invoice of the rental ``rental_id`` will hold; ``None`` when nothing
    more will be billed (the contract is not active, or has no day left to bill). Another
    tenant's rental is ``SUBSCRIPTION_NOT_FOUND``."""
    rental = await session.get(Subscription, (ctx.tenant_id, rental_id))
    if rental is None:
        raise subscription_not_found(rental_id)
    if rental.status != SubscriptionStatus.ACTIVE:
        return None
    settings = await get_settings(session, ctx)
    group = await _active_group(session, ctx, rental)
    if group is None:
        bill = own_bill(rental, settings)
    else:
        bill = group_bill(rental, group, await _members(session, ctx, group), settings)
    if bill is None:
        return None
    customer = await session.get(Customer, (ctx.tenant_id, rental.customer_id))
    assert customer is not None, "a rental's customer exists (foreign key)"
    today = (await customer_now(session, ctx, customer)).date()
    return upcoming_of(
        rental, bill, settings, currency=ctx.currency, today=today,
        credit=customer.unapplied_amount,
    )  # fmt: skip
