"""Which billing group a subscription may join: a live group of the subscription's own
customer (one invoice is addressed to one customer), and the errors that name the
subscription a client sent when it may not."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from flexbill.billing.models import BillingGroup
from flexbill.core.errors import Conflict, ErrorDetail, FlexbillError, InvalidState
from flexbill.tenancy.context import TenantContext


def billing_group_not_found(billing_group_id: str) -> FlexbillError:
    return FlexbillError("BILLING_GROUP_NOT_FOUND", f"Billing group '{billing_group_id}' not found")


def _details(path: str | None, message: str, code: str) -> tuple[ErrorDetail, ...]:
    return () if path is None else (ErrorDetail(path=path, message=message, code=code),)


def different_customer(
    rental_id: str, customer_id: str, *, path: str | None = None
) -> FlexbillError:
    message = f"Subscription '{rental_id}' belongs to another customer than '{customer_id}'"
    return FlexbillError(
        "SUBSCRIPTION_DIFFERENT_CUSTOMER", message, _details(path, message, "different_customer")
    )


def subscription_not_found(rental_id: str, *, path: str | None = None) -> FlexbillError:
    message = f"Subscription '{rental_id}' not found"
    return FlexbillError("SUBSCRIPTION_NOT_FOUND", message, _details(path, message, "not_found"))


def subscription_not_active(
    rental_id: str, status: str, *, path: str | None = None
) -> InvalidState:
    message = (
        f"Subscription '{rental_id}' is '{status}'; only active subscriptions can join a "
        "billing group"
    )
    return InvalidState("SUBSCRIPTION_NOT_ACTIVE", message, _details(path, message, "not_active"))


def in_another_group(rental_id: str, billing_group_id: str, *, path: str | None = None) -> Conflict:
    message = (
        f"Subscription '{rental_id}' is already in billing group '{billing_group_id}'; "
        "remove it from that group first"
    )
    return Conflict(
        "SUBSCRIPTION_IN_ANOTHER_GROUP", message, _details(path, message, "in_another_group")
    )


async def find_group(
    session: AsyncSession, ctx: TenantContext, billing_group_id: str, *, for_update: bool = False
) -> BillingGroup:
    """A billing group of the tenant that has not been deleted, or ``BILLING_GROUP_NOT_FOUND``;
    locked with ``for_update`` (see ``lock_group``)."""
    if for_update:
        group = await lock_group(session, ctx, billing_group_id)
    else:
        group = await session.get(BillingGroup, (ctx.tenant_id, billing_group_id))
    if group is None or group.deleted_at is not None:
        raise billing_group_not_found(billing_group_id)
    return group


async def lock_group(
    session: AsyncSession, ctx: TenantContext, billing_group_id: str
) -> BillingGroup | None:
    """Lock the group row, as its own changes do before they lock its members; the live
    group, or ``None`` when it is unknown or was deleted meanwhile.

    Whoever locks a group and some of its member subscriptions locks the group first:
    that one order keeps membership changes, upgrades and starts from deadlocking.
    """
    group = await session.get(
        BillingGroup,
        (ctx.tenant_id, billing_group_id),
        with_for_update=True,
        populate_existing=True,
    )
    return None if group is None or group.deleted_at is not None else group


async def joinable_group(
    session: AsyncSession, ctx: TenantContext, billing_group_id: str, *, rental_id: str,
    customer_id: str,
) -> BillingGroup:  # fmt: skip
    """The group a subscription of ``customer_id`` is about to join; refused with
    ``SUBSCRIPTION_DIFFERENT_CUSTOMER`` when the group bills another customer.

    The group is locked, as deleting it or replacing its members does: a subscription
    cannot join a group that a concurrent transaction is deleting."""
    group = await find_group(session, ctx, billing_group_id, for_update=True)
    if group.customer_id != customer_id:
        raise different_customer(rental_id, group.customer_id)
    return group
