"""Test clocks (flexbill's addition, as Stripe and Kill Bill have them): in a test
environment, customers attached to a clock are billed on the clock's time, and advancing
the clock runs everything that falls due in between, day by day, in order.

What "everything" is lives in ``STEPS``: the billing run and payment collection, each
called with the clock's moment and the attached customers.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from flexbill.billing.models import TestClock
from flexbill.core import clock as real_clock
from flexbill.core.errors import FlexbillError, NotFound, ValidationFailed
from flexbill.core.filtering import FilterSet
from flexbill.core.ids import new_id
from flexbill.core.pagination import Page, PageRequest, SortOrders, paginate
from flexbill.core.repository import TenantRepository
from flexbill.customers.models import Customer
from flexbill.tenancy.context import TenantContext
from flexbill.tenancy.models import Mode

ClockStep = Callable[[AsyncSession, TenantContext, datetime, Sequence[str]], Awaitable[None]]
"""Something that happens at a moment for some customers (billing, collection)."""

STEPS: list[ClockStep] = []
"""Run at every step of an advance, in this order; filled by the billing modules."""

STEP = timedelta(days=1)
LONGEST_ADVANCE = timedelta(days=2 * 366)


class TestClocks(TenantRepository[TestClock]):
    __test__ = False  # not a pytest test class, whatever its name says
    model = TestClock
    noun = "Test clock"


SORT_ORDERS = SortOrders(
    columns={"createdAt": TestClock.created_at, "frozenTime": TestClock.frozen_time},
    id_column=TestClock.id,
)


def _test_mode_only(ctx: TenantContext) -> None:
    if ctx.mode != Mode.TEST:
        raise FlexbillError(
            "TEST_MODE_ONLY", "Test clocks exist only in the test environment: use a test API key"
        )


async def create_clock(
    session: AsyncSession, ctx: TenantContext, *, frozen_time: datetime, name: str | None
) -> TestClock:
    _test_mode_only(ctx)
    clock = TestClocks(session, ctx.tenant_id).add(
        TestClock(id=new_id("clock"), name=name, frozen_time=frozen_time, status="ready")
    )
    await session.flush()
    return clock


async def get_clock(session: AsyncSession, ctx: TenantContext, clock_id: str) -> TestClock:
    _test_mode_only(ctx)
    return await TestClocks(session, ctx.tenant_id).get(clock_id)


async def list_clocks(
    session: AsyncSession, ctx: TenantContext, filters: Mapping[str, str], page: PageRequest
) -> Page[TestClock]:
    _test_mode_only(ctx)
    statement = FilterSet().apply(TestClocks(session, ctx.tenant_id).select(), filters)
    return await paginate(session, statement, SORT_ORDERS, page)


async def attached_customers(session: AsyncSession, ctx: TenantContext, clock_id: str) -> list[str]:
    return (await customers_by_clock(session, ctx, [clock_id]))[clock_id]


async def customers_by_clock(
    session: AsyncSession, ctx: TenantContext, clock_ids: Sequence[str]
) -> dict[str, list[str]]:
    """The customers attached to each of ``clock_ids``, in one query (a list page)."""
    attached: dict[str, list[str]] = {clock_id: [] for clock_id in clock_ids}
    statement = (
        select(Customer.test_clock_id, Customer.id)
        .where(Customer.tenant_id == ctx.tenant_id, Customer.test_clock_id.in_(list(clock_ids)))
        .order_by(Customer.id)
    )
    for clock_id, customer_id in (await session.execute(statement)).all():
        attached[str(clock_id)].append(customer_id)
    return attached


async def customer_now(session: AsyncSession, ctx: TenantContext, customer: Customer) -> datetime:
    """The time on ``customer``'s clock: its test clock's, or the real time."""
    if customer.test_clock_id is not None:
        attached = await session.get(TestClock, (ctx.tenant_id, customer.test_clock_id))
        if attached is not None:
            return attached.frozen_time
    return real_clock.now()


async def delete_clock(session: AsyncSession, ctx: TenantContext, clock_id: str) -> None:
    """Delete the clock; its customers go back to the real time."""
    clock = await get_clock(session, ctx, clock_id)
    await session.execute(
        update(Customer)
        .where(Customer.tenant_id == ctx.tenant_id, Customer.test_clock_id == clock.id)
        .values(test_clock_id=None)
    )
    await session.delete(clock)
    await session.flush()


async def _customer(session: AsyncSession, ctx: TenantContext, customer_id: str) -> Customer:
    customer = await session.get(Customer, (ctx.tenant_id, customer_id), with_for_update=True)
    if customer is None:
        raise FlexbillError("CUSTOMER_NOT_FOUND", f"Customer '{customer_id}' not found")
    return customer


async def attach(
    session: AsyncSession, ctx: TenantContext, clock_id: str, customer_id: str
) -> TestClock:
    """Bill ``customer_id`` on the clock's time from now on."""
    clock = await get_clock(session, ctx, clock_id)
    customer = await _customer(session, ctx, customer_id)
    if customer.test_clock_id not in (None, clock.id):
        raise FlexbillError(
            "CUSTOMER_HAS_TEST_CLOCK",
            f"Customer '{customer_id}' is attached to test clock '{customer.test_clock_id}'",
        )
    customer.test_clock_id = clock.id
    await session.flush()
    return clock


async def detach(
    session: AsyncSession, ctx: TenantContext, clock_id: str, customer_id: str
) -> TestClock:
    clock = await get_clock(session, ctx, clock_id)
    customer = await _customer(session, ctx, customer_id)
    if customer.test_clock_id != clock.id:
        raise NotFound("Customer of this test clock", customer_id)
    customer.test_clock_id = None
    await session.flush()
    return clock


def moments(start: datetime, until: datetime, step: timedelta = STEP) -> list[datetime]:
    """The moments an advance from ``start`` to ``until`` stops at: every ``step`` after
    ``start``, and ``until`` itself. Pure."""
    stops = []
    moment = start + step
    while moment < until:
        stops.append(moment)
        moment += step
    stops.append(until)
    return stops


async def advance(
    session: AsyncSession, ctx: TenantContext, clock_id: str, until: datetime
) -> TestClock:
    """Move the clock to ``until`` (later than its time, at most two years on), running
    ``STEPS`` for its customers at every day in between and at ``until``."""
    clock = await TestClocks(session, ctx.tenant_id).get(clock_id, for_update=True)
    _test_mode_only(ctx)
    if until <= clock.frozen_time:
        raise ValidationFailed.field(
            "frozenTime", "A test clock only moves forward: give a later time", "too_small"
        )
    if until - clock.frozen_time > LONGEST_ADVANCE:
        raise ValidationFailed.field(
            "frozenTime", "A test clock advances at most two years at a time", "too_big"
        )
    customers = await attached_customers(session, ctx, clock.id)
    for moment in moments(clock.frozen_time, until):
        for step in STEPS:
            await step(session, ctx, moment, customers)
        clock.frozen_time = moment
    await session.flush()
    return clock
