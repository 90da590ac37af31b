"""Billing groups: several active subscriptions of one customer billed together, on one
day of the month (1–28, a day every month has).

A group keeps no list of its own: its members are the subscriptions whose
``billing_group_id`` names it. Moving a subscription in or out locks it, sets or clears
that column and writes a ``billing_group_joined`` / ``billing_group_left`` entry in its
history. Deleting a group is soft; its members go back to individual billing.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import Enum

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from flexbill.billing import membership
from flexbill.billing.models import BillingGroup, BillingGroupStatus
from flexbill.core import clock
from flexbill.core.errors import ErrorDetail, FlexbillError, ValidationFailed
from flexbill.core.filtering import FilterSet, equals, one_of
from flexbill.core.ids import new_id
from flexbill.core.pagination import Page, PageRequest, SortOrders, paginate
from flexbill.core.repository import TenantRepository
from flexbill.customers.models import Customer
from flexbill.subscriptions import periods
from flexbill.subscriptions.lifecycle import display_status, is_active
from flexbill.subscriptions.models import Subscription
from flexbill.subscriptions.records import record
from flexbill.subscriptions.repository import Subscriptions
from flexbill.tenancy.context import TenantContext

ID_PREFIX = "bg"
FIRST_BILLING_DAY = 1
LAST_BILLING_DAY = 28


class Keep(Enum):
    """Marks a field an update leaves as it is (``None`` would clear it)."""

    KEEP = "keep"


KEEP = Keep.KEEP


@dataclass(frozen=True)
class NewBillingGroup:
    customer_id: str
    group_name: str
    billing_day: int
    rental_ids: Sequence[str]
    notes: str | None = None


@dataclass(frozen=True)
class GroupChanges:
    """A partial update: ``None`` and ``KEEP`` leave a field as it is. ``rental_ids``
    replaces the member list."""

    group_name: str | None = None
    billing_day: int | None = None
    rental_ids: Sequence[str] | None = None
    status: BillingGroupStatus | None = None
    notes: str | Keep | None = KEEP


@dataclass(frozen=True)
class Member:
    rental_id: str
    status: str
    monthly_amount: int  # minor units


@dataclass(frozen=True)
class GroupView:
    """A group with what its members add up to, as of ``today``."""

    group: BillingGroup
    members: Sequence[Member]  # oldest first
    today: date

    @property
    def rental_ids(self) -> list[str]:
        return [member.rental_id for member in self.members]

    @property
    def active_count(self) -> int:
        """Members still active (``rental_ids`` also lists those that ended since)."""
        return sum(1 for member in self.members if is_active(member.status))

    @property
    def total_monthly_amount(self) -> int:
        """What one period bills: the monthly amounts of the members still active."""
        return sum(member.monthly_amount for member in self.members if is_active(member.status))

    @property
    def next_billing_date(self) -> date:
        return next_billing_date(self.today, self.group.billing_day)


def next_billing_date(today: date, billing_day: int) -> date:
    """The first ``billing_day`` of a month on or after ``today``."""
    candidate = today.replace(day=billing_day)
    return candidate if candidate >= today else periods.add_months(candidate, 1)


class BillingGroups(TenantRepository[BillingGroup]):
    model = BillingGroup
    noun = "Billing group"


SORT_ORDERS = SortOrders(
    columns={"createdAt": BillingGroup.created_at, "updatedAt": BillingGroup.updated_at},
    id_column=BillingGroup.id,
)

FILTERS = FilterSet(
    equals("customerId", BillingGroup.customer_id),
    one_of("status", BillingGroup.status, tuple(BillingGroupStatus)),
)


def check_billing_day(billing_day: int) -> None:
    if not FIRST_BILLING_DAY <= billing_day <= LAST_BILLING_DAY:
        message = (
            f"billingDay must be between {FIRST_BILLING_DAY} and {LAST_BILLING_DAY} "
            f"(a day every month has); got {billing_day}"
        )
        code = "too_small" if billing_day < FIRST_BILLING_DAY else "too_big"
        raise FlexbillError(
            "INVALID_BILLING_DAY", message, (ErrorDetail("billingDay", message, code),)
        )


def _check_rental_ids(rental_ids: Sequence[str], *, at_least_one: bool) -> None:
    """Each subscription listed once; ``at_least_one`` for a new group (a group whose
    members all left may live on empty, to be filled again)."""
    if at_least_one and not rental_ids:
        raise ValidationFailed.field(
            "rentalIds", "A billing group needs at least one subscription", "too_small"
        )
    seen: set[str] = set()
    for index, rental_id in enumerate(rental_ids):
        if rental_id in seen:
            raise ValidationFailed.field(
                f"rentalIds.{index}", f"Subscription '{rental_id}' is listed twice", "duplicate"
            )
        seen.add(rental_id)


async def _locked(
    session: AsyncSession, ctx: TenantContext, *, rental_ids: Collection[str] = (),
    billing_group_id: str | None = None,
) -> dict[str, Subscription]:  # fmt: skip
    """The subscriptions named, or the members of ``billing_group_id``, locked and re-read;
    locked in id order, so two transactions moving the same subscriptions cannot deadlock."""
    statement = Subscriptions(session, ctx.tenant_id).select()
    if billing_group_id is not None:
        statement = statement.where(Subscription.billing_group_id == billing_group_id)
    elif rental_ids:
        statement = statement.where(Subscription.id.in_(sorted(rental_ids)))
    else:
        return {}
    statement = (
        statement.order_by(Subscription.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return {subscription.id: subscription for subscription in await session.scalars(statement)}


async def _live_group_ids(
    session: AsyncSession, ctx: TenantContext, group_ids: Collection[str]
) -> set[str]:
    if not group_ids:
        return set()
    statement = select(BillingGroup.id).where(
        BillingGroup.tenant_id == ctx.tenant_id,
        BillingGroup.id.in_(sorted(group_ids)),
        BillingGroup.deleted_at.is_(None),
    )
    return set(await session.scalars(statement))


async def _check_joiners(
    session: AsyncSession, ctx: TenantContext, *, group_id: str | None, customer_id: str,
    rental_ids: Sequence[str], subscriptions: Mapping[str, Subscription],
) -> None:  # fmt: skip
    """Every subscription named may be a member of the group ``group_id`` (``None``: a
    group not written yet) of ``customer_id``; the first one that may not is refused,
    named by its position in ``rentalIds``."""
    other_groups = {
        s.billing_group_id
        for s in subscriptions.values()
        if s.billing_group_id is not None and s.billing_group_id != group_id
    }
    live_other_groups = await _live_group_ids(session, ctx, other_groups)
    for index, rental_id in enumerate(rental_ids):
        path = f"rentalIds.{index}"
        subscription = subscriptions.get(rental_id)
        if subscription is None:
            raise membership.subscription_not_found(rental_id, path=path)
        if subscription.customer_id != customer_id:
            raise membership.different_customer(rental_id, customer_id, path=path)
        if group_id is not None and subscription.billing_group_id == group_id:
            continue  # a member already: it stays, even if it has ended since it joined
        if not is_active(subscription.status):
            status = display_status(subscription.status, subscription.end_reason)
            raise membership.subscription_not_active(rental_id, status, path=path)
        if subscription.billing_group_id in live_other_groups:
            raise membership.in_another_group(rental_id, subscription.billing_group_id, path=path)


def _join(subscription: Subscription, ctx: TenantContext, group_id: str, at: datetime) -> None:
    subscription.billing_group_id = group_id
    record(subscription, ctx, "billing_group_joined", at, billing_group_id=group_id)


def _leave(subscription: Subscription, ctx: TenantContext, at: datetime) -> None:
    group_id = subscription.billing_group_id
    subscription.billing_group_id = None
    record(subscription, ctx, "billing_group_left", at, billing_group_id=group_id)


async def _members_by_group(
    session: AsyncSession, ctx: TenantContext, group_ids: Collection[str]
) -> dict[str, list[Member]]:
    """The members of all ``group_ids`` in one query, each group's oldest first."""
    members: dict[str, list[Member]] = {group_id: [] for group_id in group_ids}
    if not group_ids:
        return members
    statement = (
        select(
            Subscription.billing_group_id,
            Subscription.id,
            Subscription.status,
            Subscription.monthly_amount,
        )
        .where(
            Subscription.tenant_id == ctx.tenant_id,
            Subscription.billing_group_id.in_(sorted(group_ids)),
        )
        .order_by(Subscription.created_at, Subscription.id)
    )
    for group_id, rental_id, status, monthly_amount in await session.execute(statement):
        # Never None: the statement selects members of the groups asked for.
        members[group_id or ""].append(Member(rental_id, status, monthly_amount))
    return members


async def _view(session: AsyncSession, ctx: TenantContext, group: BillingGroup) -> GroupView:
    members = await _members_by_group(session, ctx, [group.id])
    return GroupView(group, members[group.id], clock.now().date())


async def create_group(
    session: AsyncSession, ctx: TenantContext, new: NewBillingGroup
) -> GroupView:
    """Bill the active subscriptions ``new.rental_ids`` of customer ``new.customer_id``
    together on ``new.billing_day``.

    Raises ``INVALID_BILLING_DAY``, ``VALIDATION_ERROR`` (no or repeated rental ids),
    ``CUSTOMER_NOT_FOUND``, and for a rental id ``SUBSCRIPTION_NOT_FOUND``,
    ``SUBSCRIPTION_DIFFERENT_CUSTOMER``, ``SUBSCRIPTION_NOT_ACTIVE`` or
    ``SUBSCRIPTION_IN_ANOTHER_GROUP``.
    """
    check_billing_day(new.billing_day)
    _check_rental_ids(new.rental_ids, at_least_one=True)
    customer = await session.get(Customer, (ctx.tenant_id, new.customer_id))
    if customer is None:
        raise FlexbillError("CUSTOMER_NOT_FOUND", f"Customer '{new.customer_id}' not found")
    subscriptions = await _locked(session, ctx, rental_ids=new.rental_ids)
    await _check_joiners(
        session, ctx, group_id=None, customer_id=customer.id, rental_ids=new.rental_ids,
        subscriptions=subscriptions,
    )  # fmt: skip
    now = clock.now()
    group = BillingGroups(session, ctx.tenant_id).add(
        BillingGroup(
            id=new_id(ID_PREFIX), customer_id=customer.id, group_name=new.group_name,
            billing_day=new.billing_day, status=BillingGroupStatus.ACTIVE, notes=new.notes,
            created_by=ctx.actor, created_at=now, updated_at=now,
        )
    )  # fmt: skip
    # The group row must exist before any subscription names it (a foreign key).
    await session.flush()
    for rental_id in new.rental_ids:
        _join(subscriptions[rental_id], ctx, group.id, now)
    await session.flush()
    return await _view(session, ctx, group)


async def get_group(session: AsyncSession, ctx: TenantContext, billing_group_id: str) -> GroupView:
    group = await membership.find_group(session, ctx, billing_group_id)
    return await _view(session, ctx, group)


async def list_groups(
    session: AsyncSession, ctx: TenantContext, filters: Mapping[str, str], page: PageRequest
) -> Page[GroupView]:
    """Live groups, filtered by ``customerId`` and ``status``; the members of the whole
    page come from one query."""
    statement = FILTERS.apply(
        BillingGroups(session, ctx.tenant_id).select().where(BillingGroup.deleted_at.is_(None)),
        filters,
    )
    groups = await paginate(session, statement, SORT_ORDERS, page)
    members = await _members_by_group(session, ctx, [group.id for group in groups.items])
    today = clock.now().date()
    return Page(
        items=[GroupView(group, members[group.id], today) for group in groups.items],
        limit=groups.limit,
        has_more=groups.has_more,
        next_cursor=groups.next_cursor,
    )


async def _replace_members(
    session: AsyncSession, ctx: TenantContext, group: BillingGroup, rental_ids: Sequence[str],
    at: datetime,
) -> bool:  # fmt: skip
    """Make ``rental_ids`` (perhaps none) the members of ``group``; whether any
    subscription moved."""
    _check_rental_ids(rental_ids, at_least_one=False)
    current = await _locked(session, ctx, billing_group_id=group.id)
    named = await _locked(session, ctx, rental_ids=set(rental_ids) - set(current))
    await _check_joiners(
        session, ctx, group_id=group.id, customer_id=group.customer_id, rental_ids=rental_ids,
        subscriptions={**current, **named},
    )  # fmt: skip
    wanted = set(rental_ids)
    leaving = [
        subscription for rental_id, subscription in current.items() if rental_id not in wanted
    ]
    for subscription in leaving:
        _leave(subscription, ctx, at)
    for rental_id in rental_ids:
        if rental_id not in current:
            _join(named[rental_id], ctx, group.id, at)
    return bool(leaving) or bool(named)


async def update_group(
    session: AsyncSession, ctx: TenantContext, billing_group_id: str, changes: GroupChanges
) -> GroupView:
    """Change a group's name, billing day, status or notes, and replace its members with
    ``changes.rental_ids`` when given: subscriptions left out leave the group (all of
    them, for an empty list).

    Raises ``BILLING_GROUP_NOT_FOUND``, ``INVALID_BILLING_DAY`` and the errors of
    ``create_group`` about rental ids.
    """
    group = await membership.find_group(session, ctx, billing_group_id, for_update=True)
    now = clock.now()
    changed = False
    if changes.billing_day is not None:
        check_billing_day(changes.billing_day)
        changed |= group.billing_day != changes.billing_day
        group.billing_day = changes.billing_day
    if changes.group_name is not None:
        changed |= group.group_name != changes.group_name
        group.group_name = changes.group_name
    if changes.status is not None:
        changed |= group.status != changes.status
        group.status = changes.status
    if changes.notes is not KEEP:
        changed |= group.notes != changes.notes
        group.notes = changes.notes
    if changes.rental_ids is not None:
        changed |= await _replace_members(session, ctx, group, changes.rental_ids, now)
    if changed:
        group.updated_at = now
    await session.flush()
    return await _view(session, ctx, group)


async def delete_group(session: AsyncSession, ctx: TenantContext, billing_group_id: str) -> str:
    """Delete the group (softly: payments made for it still name it); its members go back
    to individual billing. Raises ``BILLING_GROUP_NOT_FOUND``, also for a deleted group."""
    group = await membership.find_group(session, ctx, billing_group_id, for_update=True)
    now = clock.now()
    for subscription in (await _locked(session, ctx, billing_group_id=group.id)).values():
        _leave(subscription, ctx, now)
    group.deleted_at = now
    # Inactive as well, so that nothing billing groups by status alone bills it again.
    group.status = BillingGroupStatus.INACTIVE
    group.updated_at = now
    await session.flush()
    return group.id
