"""The billing run: every period that has started is invoiced and scheduled for payment,
once; contracts past their end are ended or renewed.

``bill_due`` works through a tenant's active subscriptions whose next billing date has
come (or whose contract has ended), in keyset batches by id, each batch's rows locked; a
subscription's ``next_billing_date`` (its first unbilled day) moves past every period it
invoices in the same transaction, so the next run starts where this one stopped. A
suspended subscription is not billed (the periods it misses are billed once it is active
again: the device stayed with the customer). Members of an active billing group are billed
through the group, on its billing day (``periods.group_share``); members of an inactive
group are billed on their own.

A run first takes the tenant's invoice counter (``numbering.lock_counter``): the runs of one
tenant take turns (numbers are gapless, so invoices are issued one transaction at a time
anyway), while tenants are billed side by side.

At the end of a contract (``end_date``, exclusive, has come) ``settings.contract_end``
applies: ``auto_terminate`` bills what is still unbilled up to the end and ends the
subscription as completed; ``auto_renew_monthly`` and ``auto_renew_same_term`` extend it by
a month or by its original term (counted from the start, as extensions are; a history
entry ``renewed``, no extension counted); ``require_action`` leaves it active, and nothing
is billed past its end until someone extends it.

General subscriptions (``plan_subscriptions``) are the run's last phase, batched and
locked the same way: each one whose ``next_bill_date`` has come is moved through every day
due up to today (``plan_subscriptions.billing``: its periods, trial end, term end,
scheduled suspension, resumption or cancellation), its invoices issued as it goes.

Jobs: the periodic ``billing.sweep`` enqueues one ``billing.run_tenant`` per tenant with
due work and time slot; that job bills up to ``billing_units_per_job`` (configuration)
subscriptions or groups in its transaction (short, as the job queue asks) and enqueues its
own continuation.
Customers attached to a test clock are billed on the clock's time instead, by the clock's
advance (``test_clocks.STEPS``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, exists, or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from flexbill import config
from flexbill.billing import invoicing, numbering, test_clocks
from flexbill.billing.models import BillingGroup, BillingGroupStatus
from flexbill.billing.periods import Cycle, Terms, group_period_start, group_share, period_from
from flexbill.core import clock
from flexbill.core.jobs import Job, enqueue
from flexbill.customers.models import Customer
from flexbill.plan_subscriptions import billing as plan_billing
from flexbill.plan_subscriptions.models import PlanSubscription
from flexbill.settings.rules import BusinessSettings, ContractEnd
from flexbill.settings.service import get_settings
from flexbill.subscriptions.closing import close
from flexbill.subscriptions.lifecycle import EndReason, SubscriptionStatus, display_status
from flexbill.subscriptions.models import Subscription
from flexbill.subscriptions.periods import add_months
from flexbill.subscriptions.records import record
from flexbill.tenancy.context import TenantContext
from flexbill.tenancy.models import Mode
from flexbill.tenancy.service import system_context
from flexbill.worker.registry import handles

SWEEP = "billing.sweep"
RUN_TENANT = "billing.run_tenant"

BATCH = 200
"""Subscriptions (or groups) loaded and locked at a time."""
"""Subscriptions (or groups) one ``billing.run_tenant`` job bills before continuing."""

RENEWING = frozenset({ContractEnd.AUTO_RENEW_MONTHLY, ContractEnd.AUTO_RENEW_SAME_TERM})
GROUPS, SUBSCRIPTIONS, PLAN_SUBSCRIPTIONS = "groups", "subscriptions", "plan_subscriptions"
PHASES = (GROUPS, SUBSCRIPTIONS, PLAN_SUBSCRIPTIONS)


@dataclass
class RunResult:
    """What a run did; ``cursor`` says where a limited run stopped (``None``: done)."""

    invoices: int = 0
    renewed: int = 0
    ended: int = 0
    cursor: str | None = None


def terms_of(subscription: Subscription, settings: BusinessSettings) -> Terms:
    cycle = settings.billing_cycle
    return Terms(
        start=subscription.start_date,
        end=subscription.end_date,
        monthly_amount=subscription.monthly_amount,
        cycle=Cycle(cycle.type, subscription.start_date, cycle.day_of_month),
        first_payment=settings.first_payment,
        renews=settings.contract_end in RENEWING,
    )


def _due(settings: BusinessSettings, today: date) -> ColumnElement[bool]:
    """Subscriptions with something to do: a period that has started, or a contract end."""
    started = Subscription.next_billing_date <= today
    if settings.contract_end is ContractEnd.REQUIRE_ACTION:
        # Past its end such a contract waits for people; only unbilled days before it count.
        return and_(started, Subscription.next_billing_date < Subscription.end_date)
    return or_(started, Subscription.end_date <= today)


def _without_test_clock(
    tenant_id: InstrumentedAttribute[str], customer_id: InstrumentedAttribute[str]
) -> ColumnElement[bool]:
    return ~exists().where(
        Customer.tenant_id == tenant_id,
        Customer.id == customer_id,
        Customer.test_clock_id.is_not(None),
    )


def _customers(
    ctx: TenantContext,
    tenant_id: InstrumentedAttribute[str],
    customer_id: InstrumentedAttribute[str],
    customer_ids: Sequence[str] | None,
) -> ColumnElement[bool]:
    """The customers a run bills: those named (a test clock's), or every customer on the
    real time."""
    if customer_ids is not None:
        return customer_id.in_(sorted(customer_ids))
    if ctx.mode == Mode.TEST:
        return _without_test_clock(tenant_id, customer_id)
    return true()


def _locking(session: AsyncSession, statement: Select[Any]) -> Select[Any]:
    """Lock the rows read; on PostgreSQL rows another transaction holds are skipped (an
    API request changing them; it is billed by the next run)."""
    if session.bind is not None and session.bind.dialect.name == "postgresql":
        statement = statement.with_for_update(skip_locked=True)
    return statement.execution_options(populate_existing=True)


def _active_group_of_subscription() -> ColumnElement[bool]:
    return exists().where(
        BillingGroup.tenant_id == Subscription.tenant_id,
        BillingGroup.id == Subscription.billing_group_id,
        BillingGroup.status == BillingGroupStatus.ACTIVE,
        BillingGroup.deleted_at.is_(None),
    )


async def _due_subscriptions(
    session: AsyncSession, ctx: TenantContext, settings: BusinessSettings, today: date, *,
    after: str, size: int, customer_ids: Sequence[str] | None,
) -> list[Subscription]:  # fmt: skip
    statement = (
        select(Subscription)
        .where(
            Subscription.tenant_id == ctx.tenant_id,
            Subscription.status == SubscriptionStatus.ACTIVE,
            or_(Subscription.billing_group_id.is_(None), ~_active_group_of_subscription()),
            _due(settings, today),
            _customers(ctx, Subscription.tenant_id, Subscription.customer_id, customer_ids),
            Subscription.id > after,
        )
        .order_by(Subscription.id)
        .limit(size)
    )
    return list((await session.scalars(_locking(session, statement))).all())


async def _due_groups(
    session: AsyncSession, ctx: TenantContext, settings: BusinessSettings, today: date, *,
    after: str, size: int, customer_ids: Sequence[str] | None,
) -> list[BillingGroup]:  # fmt: skip
    member_due = exists().where(
        Subscription.tenant_id == BillingGroup.tenant_id,
        Subscription.billing_group_id == BillingGroup.id,
        Subscription.status == SubscriptionStatus.ACTIVE,
        _due(settings, today),
    )
    statement = (
        select(BillingGroup)
        .where(
            BillingGroup.tenant_id == ctx.tenant_id,
            BillingGroup.status == BillingGroupStatus.ACTIVE,
            BillingGroup.deleted_at.is_(None),
            member_due,
            _customers(ctx, BillingGroup.tenant_id, BillingGroup.customer_id, customer_ids),
            BillingGroup.id > after,
        )
        .order_by(BillingGroup.id)
        .limit(size)
    )
    return list((await session.scalars(_locking(session, statement))).all())


async def _due_plan_subscriptions(
    session: AsyncSession, ctx: TenantContext, today: date, *, after: str, size: int,
    customer_ids: Sequence[str] | None,
) -> list[PlanSubscription]:  # fmt: skip
    """General subscriptions with something due by ``today`` (``next_bill_date`` is
    empty when nothing can happen)."""
    statement = (
        select(PlanSubscription)
        .where(
            PlanSubscription.tenant_id == ctx.tenant_id,
            PlanSubscription.next_bill_date <= today,
            _customers(ctx, PlanSubscription.tenant_id, PlanSubscription.customer_id, customer_ids),
            PlanSubscription.id > after,
        )
        .order_by(PlanSubscription.id)
        .limit(size)
    )
    return list((await session.scalars(_locking(session, statement))).all())


async def _members(
    session: AsyncSession, ctx: TenantContext, group: BillingGroup
) -> list[Subscription]:
    """The group's active members, locked in id order (as membership changes lock them)."""
    statement = (
        select(Subscription)
        .where(
            Subscription.tenant_id == ctx.tenant_id,
            Subscription.billing_group_id == group.id,
            Subscription.status == SubscriptionStatus.ACTIVE,
        )
        .order_by(Subscription.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return list((await session.scalars(statement)).all())


class _Run:
    """One run's shared state: the tenant, its settings, the moment, what was done."""

    def __init__(
        self, session: AsyncSession, ctx: TenantContext, settings: BusinessSettings, now: datetime
    ) -> None:
        self.session = session
        self.ctx = ctx
        self.settings = settings
        self.now = now
        self.today = now.date()
        self.result = RunResult()

    def due_bills(self, subscription: Subscription, *, through: date) -> list[invoicing.Bill]:
        """The individual invoices of ``subscription`` for every period starting by
        ``through``; its next billing date moves past them."""
        terms = terms_of(subscription, self.settings)
        bills = []
        while (
            subscription.next_billing_date is not None and subscription.next_billing_date <= through
        ):
            period = period_from(terms, subscription.next_billing_date)
            if period is None:
                break
            bills.append(invoicing.subscription_bill(subscription, period))
            subscription.next_billing_date = period.end
        return bills

    async def issue(self, bills: Sequence[invoicing.Bill]) -> list[invoicing.Issued | None]:
        issued = await invoicing.issue(self.session, self.ctx, self.settings, bills, now=self.now)
        self.result.invoices += sum(one is not None for one in issued)
        return issued

    async def bill_subscriptions(self, subscriptions: Sequence[Subscription]) -> None:
        """Bill a batch of subscriptions on their own, all their invoices written at once;
        then their contract ends."""
        await self.issue(
            [bill for s in subscriptions for bill in self.due_bills(s, through=self.today)]
        )
        for subscription in subscriptions:
            await self.end_of_contract(subscription)

    async def bill_group(self, group: BillingGroup) -> None:
        """Invoice the group for each of its periods that has started, each member from its
        first unbilled day; then the members' contract ends."""
        members = await _members(self.session, self.ctx, group)
        taken: dict[str, date] = {}  # a member's next period, when an earlier one was billed
        while True:
            due: dict[date, list[Subscription]] = {}
            for member in members:
                first = member.next_billing_date
                if first is None or terms_of(member, self.settings).over(first):
                    continue
                start = group_period_start(group.billing_day, first, taken.get(member.id, first))
                if start <= self.today:
                    due.setdefault(start, []).append(member)
            if not due:
                break
            start = min(due)
            charges = [self.share(member, group, start) for member in due[start]]
            period = (start, add_months(start, 1))
            bill = invoicing.group_bill(group.id, group.customer_id, period, charges)
            if (await self.issue([bill])) == [None]:
                # That period was invoiced before these members were due in it.
                for member in due[start]:
                    taken[member.id] = add_months(start, 1)
                continue
            for charge in charges:
                charge.subscription.next_billing_date = charge.period.end
        for member in members:
            await self.end_of_contract(member)

    def share(self, member: Subscription, group: BillingGroup, start: date) -> invoicing.Charge:
        """``member``'s line on the group's invoice of the period from ``start``."""
        terms = terms_of(member, self.settings)
        first = member.next_billing_date or start
        return invoicing.Charge(member, group_share(terms, group.billing_day, first, start))

    async def end_of_contract(self, subscription: Subscription) -> None:
        if subscription.end_date > self.today:
            return
        rule = self.settings.contract_end
        if rule is ContractEnd.REQUIRE_ACTION:
            return
        if rule in RENEWING:
            months = (
                1
                if rule is ContractEnd.AUTO_RENEW_MONTHLY
                else subscription.original_contract_length
            )
            while subscription.end_date <= self.today:
                self.renew(subscription, months)
            return
        # What the contract still owes (a group member's days before its group's billing
        # day) is billed on its own invoice before it ends.
        last_day = date.fromordinal(subscription.end_date.toordinal() - 1)
        await self.issue(self.due_bills(subscription, through=last_day))
        await close(
            self.session, self.ctx, subscription, status=SubscriptionStatus.ENDED,
            end_reason=EndReason.COMPLETED, asset_status="returned", action="completed",
            at=self.now,
        )  # fmt: skip
        self.result.ended += 1

    async def bill_plan_subscriptions(self, subscriptions: Sequence[PlanSubscription]) -> None:
        """Bill a batch of general subscriptions (locked) up to today, each through every
        day it has due (``plan_subscriptions.billing``)."""
        for subscription in subscriptions:
            billed = await plan_billing.bill_until(
                self.session, self.ctx, self.settings, subscription, self.now
            )
            self.result.invoices += billed.invoices
            self.result.renewed += billed.renewed
            self.result.ended += billed.ended

    def renew(self, subscription: Subscription, months: int) -> None:
        old_end = subscription.end_date
        subscription.contract_length += months
        subscription.end_date = add_months(subscription.start_date, subscription.contract_length)
        status = display_status(subscription.status, subscription.end_reason)
        record(
            subscription, self.ctx, "renewed", self.now, from_status=status,
            renewal_months=months, old_end_date=old_end.isoformat(),
            new_end_date=subscription.end_date.isoformat(),
        )  # fmt: skip
        self.result.renewed += 1


def _parse_cursor(cursor: str | None) -> tuple[int, str]:
    if cursor is None:
        return 0, ""
    phase, _, after = cursor.partition(":")
    return PHASES.index(phase), after


async def bill_due(
    session: AsyncSession,
    ctx: TenantContext,
    now: datetime,
    *,
    customer_ids: Sequence[str] | None = None,
    limit: int | None = None,
    cursor: str | None = None,
) -> RunResult:
    """Bill every period of the tenant's active subscriptions that has started by ``now``,
    and apply the contract-end setting to contracts that ended by then.

    ``customer_ids`` bills only those customers (a test clock's); otherwise customers
    attached to a test clock are left to their clock. With ``limit`` the run stops after
    that many subscriptions or groups and returns a ``cursor`` to continue from.
    """
    settings = await get_settings(session, ctx)
    await numbering.lock_counter(session, ctx.tenant_id)
    run = _Run(session, ctx, settings, now)
    first_phase, after = _parse_cursor(cursor)
    budget = limit
    for phase in PHASES[first_phase:]:
        while True:
            size = BATCH if budget is None else min(BATCH, budget)
            if size == 0:
                run.result.cursor = f"{phase}:{after}"
                return run.result
            units: Sequence[Subscription | BillingGroup | PlanSubscription]
            if phase == PLAN_SUBSCRIPTIONS:
                general = await _due_plan_subscriptions(
                    session, ctx, run.today, after=after, size=size, customer_ids=customer_ids
                )
                await run.bill_plan_subscriptions(general)
                units = general
            elif phase == GROUPS:
                groups = await _due_groups(
                    session, ctx, settings, run.today, after=after, size=size,
                    customer_ids=customer_ids,
                )  # fmt: skip
                for group in groups:
                    await run.bill_group(group)
                units = groups
            else:
                subscriptions = await _due_subscriptions(
                    session, ctx, settings, run.today, after=after, size=size,
                    customer_ids=customer_ids,
                )  # fmt: skip
                await run.bill_subscriptions(subscriptions)
                units = subscriptions
            await session.flush()
            if budget is not None:
                budget -= len(units)
            if len(units) < size:
                break
            after = units[-1].id
        after = ""
    return run.result


async def tenants_with_due_work(session: AsyncSession, today: date) -> list[str]:
    """Tenants with a period to bill or a contract end to apply (on the real time) today,
    or a general subscription with something due."""
    live = and_(
        Subscription.status == SubscriptionStatus.ACTIVE,
        _without_test_clock(Subscription.tenant_id, Subscription.customer_id),
    )
    billing = select(Subscription.tenant_id).where(
        live,
        Subscription.next_billing_date <= today,
        Subscription.next_billing_date < Subscription.end_date,
    )
    ending = select(Subscription.tenant_id).where(live, Subscription.end_date <= today)
    general = select(PlanSubscription.tenant_id).where(
        PlanSubscription.next_bill_date <= today,
        _without_test_clock(PlanSubscription.tenant_id, PlanSubscription.customer_id),
    )
    due = set(await session.scalars(billing.distinct()))
    due.update(await session.scalars(general.distinct()))
    for tenant_id in set(await session.scalars(ending.distinct())) - due:
        settings = await get_settings(session, await system_context(session, tenant_id))
        if settings.contract_end is not ContractEnd.REQUIRE_ACTION:
            due.add(tenant_id)
    return sorted(due)


@handles(SWEEP)
async def sweep(session: AsyncSession, job: Job) -> None:
    """Enqueue a billing run for each tenant with due work, once per tenant and slot."""
    now = clock.now()
    slot = str(job.payload.get("slot") or now.isoformat())
    for tenant_id in await tenants_with_due_work(session, now.date()):
        await enqueue(
            session, RUN_TENANT, {"slot": slot}, tenant_id=tenant_id,
            dedup_key=f"{RUN_TENANT}:{tenant_id}:{slot}",
        )  # fmt: skip


@handles(RUN_TENANT)
async def run_tenant(session: AsyncSession, job: Job) -> None:
    """Bill one tenant, a bounded part at a time: a run that stops early continues in a
    new job, from where it stopped."""
    if job.tenant_id is None:
        raise ValueError("a billing run needs its tenant")
    ctx = await system_context(session, job.tenant_id)
    result = await bill_due(
        session, ctx, clock.now(), limit=config.get_settings().billing_units_per_job,
        cursor=job.payload.get("cursor"),
    )  # fmt: skip
    if result.cursor is not None:
        slot = str(job.payload.get("slot", ""))
        await enqueue(
            session, RUN_TENANT, {"slot": slot, "cursor": result.cursor},
            tenant_id=job.tenant_id,
            dedup_key=f"{RUN_TENANT}:{job.tenant_id}:{slot}:{result.cursor}",
        )  # fmt: skip


async def bill_on_test_clock(
    session: AsyncSession, ctx: TenantContext, moment: datetime, customer_ids: Sequence[str]
) -> None:
    """A test clock's step: bill its customers at the clock's ``moment``."""
    if customer_ids:
        await bill_due(session, ctx, moment, customer_ids=customer_ids)


if bill_on_test_clock not in test_clocks.STEPS:
    # Billing comes before collection at each step of an advance: a period is invoiced
    # before its payment can be collected.
    test_clocks.STEPS.insert(0, bill_on_test_clock)
