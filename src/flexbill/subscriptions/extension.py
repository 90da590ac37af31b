"""Extending a running contract by some months, perhaps at a new monthly amount.

The contract stays ``active``; ``contract_length`` grows and ``end_date`` moves. The end
date is always counted from the start date (``periods.add_months``), so a contract that
began on the 31st keeps ending on the last day of short months however often it is
extended. The business unit's extension settings decide which lengths are offered, how
many extensions a contract may have and until when (``extension_rules``).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from flexbill.core import clock
from flexbill.core.errors import ValidationFailed
from flexbill.events import service as events
from flexbill.events.models import EventType
from flexbill.events.service import rfc3339
from flexbill.orders import tracking
from flexbill.orders.details import ExtensionDetails
from flexbill.settings.service import get_settings
from flexbill.subscriptions import accounting, periods
from flexbill.subscriptions.details import ExtensionEntry
from flexbill.subscriptions.event_data import subscription_data
from flexbill.subscriptions.extension_rules import check_extension
from flexbill.subscriptions.lifecycle import check_active, display_status
from flexbill.subscriptions.models import Subscription
from flexbill.subscriptions.records import record
from flexbill.subscriptions.repository import Subscriptions
from flexbill.tenancy.context import TenantContext


@dataclass(frozen=True)
class Extension:
    rental_id: str
    extension_months: int
    reason: str | None = None
    new_monthly_amount: int | None = None  # minor units; None keeps the current amount
    notes: str | None = None


@dataclass(frozen=True)
class Extended:
    subscription: Subscription
    entry: ExtensionEntry
    tracking_order_id: str | None


def _tracked_item(subscription: Subscription, months: int) -> tracking.TrackedItem:
    """The subscription's own device, for the extension's months at its (new) amount."""
    s = subscription
    return tracking.TrackedItem(
        rental_id=s.id, sku=s.sku, variant_id=s.variant_id, product_name=s.product_name,
        variant_name=s.variant_name, contract_length=months, unit_price=s.monthly_amount,
        list_price=s.list_price, list_price_source=s.list_price_source,
        acquisition_cost=s.acquisition_cost, acquisition_cost_source=s.acquisition_cost_source,
    )  # fmt: skip


async def extend_subscription(
    session: AsyncSession, ctx: TenantContext, extension: Extension
) -> Extended:
    """Extend the active subscription ``extension.rental_id`` by
    ``extension.extension_months`` months.

    Raises ``NOT_FOUND``, ``SUBSCRIPTION_NOT_ACTIVE``, ``INVALID_EXTENSION_MONTHS``,
    ``MAX_EXTENSIONS_REACHED``, ``EXTENSION_TOO_LATE`` and ``VALIDATION_ERROR`` (the
    contract would end past the calendar, year 9999). With the setting
    ``create_tracking_order`` an order of type ``extension`` records it for the books.
    """
    settings = await get_settings(session, ctx)
    subscription = await Subscriptions(session, ctx.tenant_id).get(
        extension.rental_id, for_update=True
    )
    check_active(subscription.status, subscription.end_reason, "extended")
    now = clock.now()
    months = extension.extension_months
    check_extension(
        settings.extensions,
        months=months,
        extensions_so_far=len(subscription.extension_history),
        today=now.date(),
        end_date=subscription.end_date,
    )
    old_end, old_length = subscription.end_date, subscription.contract_length
    old_amount = subscription.monthly_amount
    new_length = old_length + months
    try:
        new_end = periods.add_months(subscription.start_date, new_length)
    except periods.DateOutOfRange:
        raise ValidationFailed.field(
            "extensionMonths", "The contract would end after the year 9999", "too_big"
        ) from None
    new_amount = (
        old_amount if extension.new_monthly_amount is None else extension.new_monthly_amount
    )

    if new_amount != old_amount:
        customer = await accounting.locked_customer(session, ctx, subscription.customer_id)
        accounting.count_new_amount(customer, old_amount, new_amount)
        subscription.monthly_amount = new_amount
        # Flushed before the tracking order locks the same customer again.
        await session.flush()

    tracking_order_id = None
    if settings.extensions.create_tracking_order:
        order = await tracking.write_tracking_order(
            session, ctx, original_order_id=subscription.order_id,
            item=_tracked_item(subscription, months),
            details=ExtensionDetails(
                original_order_id=subscription.order_id, extension_months=months,
                previous_end_date=old_end, new_end_date=new_end, reason=extension.reason,
            ),
            notes=extension.notes, at=now,
        )  # fmt: skip
        tracking_order_id = order.id

    entry = ExtensionEntry(
        extended_at=rfc3339(now), extension_months=months, old_end_date=old_end.isoformat(),
        new_end_date=new_end.isoformat(), old_contract_length=old_length,
        new_contract_length=new_length, old_monthly_amount=old_amount,
        new_monthly_amount=new_amount, reason=extension.reason, notes=extension.notes,
        processed_by=ctx.actor, tracking_order_id=tracking_order_id,
    )  # fmt: skip
    subscription.contract_length = new_length
    subscription.end_date = new_end
    # A new list, not an append: the ORM notices a JSON column change by assignment.
    subscription.extension_history = [*subscription.extension_history, dict(entry)]
    status = display_status(subscription.status, subscription.end_reason)
    record(
        subscription, ctx, "extended", now, from_status=status, extension_months=months,
        old_end_date=old_end.isoformat(), new_end_date=new_end.isoformat(),
        tracking_order_id=tracking_order_id,
    )  # fmt: skip
    await session.flush()
    data = subscription_data(
        subscription, ctx.currency, extensionMonths=months, oldEndDate=old_end.isoformat(),
        newEndDate=new_end.isoformat(), oldContractLength=old_length,
        newContractLength=new_length,
    )  # fmt: skip
    await events.emit(session, ctx, EventType.SUBSCRIPTION_EXTENDED, data)
    await Subscriptions(session, ctx.tenant_id).load_customers([subscription])
    return Extended(subscription=subscription, entry=entry, tracking_order_id=tracking_order_id)
