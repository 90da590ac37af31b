"""Starting a subscription, reading subscriptions, and annotating them.

``create_subscription`` rents one unit of a confirmed order. ``open_subscription`` is the
part every new contract shares (a created one, the new half of an upgrade): the row, its
first history entry, the customer's counters and the ``subscription.created`` and
``asset.assigned`` events. Operations that end a contract share ``closing.close``; each
operation lives in a module named after it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from flexbill.assets import service as assets
from flexbill.assets.models import Asset
from flexbill.billing.membership import joinable_group
from flexbill.core import clock
from flexbill.core.errors import ValidationFailed
from flexbill.core.ids import new_id
from flexbill.customers.models import Customer
from flexbill.events import service as events
from flexbill.events.models import EventType
from flexbill.orders import fulfilment
from flexbill.orders import lifecycle as order_lifecycle
from flexbill.orders.lifecycle import OrderStatus
from flexbill.orders.models import AcquisitionCostSource, Order, OrderItem
from flexbill.orders.repository import Orders
from flexbill.settings.rules import BusinessSettings
from flexbill.settings.service import get_settings
from flexbill.subscriptions import accounting, periods
from flexbill.subscriptions.event_data import asset_data, subscription_data
from flexbill.subscriptions.lifecycle import SubscriptionStatus
from flexbill.subscriptions.models import Subscription
from flexbill.subscriptions.records import record
from flexbill.subscriptions.repository import Subscriptions
from flexbill.tenancy.context import TenantContext

DEFAULT_ID_PREFIX = "sub"


@dataclass(frozen=True)
class NewSubscription:
    order_id: str
    asset_serial_number: str
    customer_id: str
    billing_group_id: str | None = None
    start_date: date | None = None  # None: today
    contract_length: int | None = None  # months; None: the order item's
    notes: str | None = None
    custom_fields: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Terms:
    """What a new contract runs on: from ``start`` for ``months`` at ``monthly_amount``."""

    start: date
    months: int
    monthly_amount: int
    billing_group_id: str | None = None
    upgrade_from_rental_id: str | None = None
    notes: str | None = None
    custom_fields: Mapping[str, Any] = field(default_factory=dict)


def new_rental_id(settings: BusinessSettings) -> str:
    return new_id(settings.id_prefixes.subscription or DEFAULT_ID_PREFIX)


def _item_of(order: Order, rental_id: str) -> OrderItem:
    return next(item for item in order.items if rental_id in item.rental_ids)


def _acquisition_cost(item: OrderItem, asset_cost: int | None) -> tuple[int | None, str]:
    """What this very unit cost: the asset's own figure when it has one and it differs
    from what the order item assumed."""
    if asset_cost is None or asset_cost == item.acquisition_cost:
        return item.acquisition_cost, item.acquisition_cost_source
    return asset_cost, AcquisitionCostSource.MANUAL


async def open_subscription(
    session: AsyncSession,
    ctx: TenantContext,
    settings: BusinessSettings,
    *,
    rental_id: str,
    customer: Customer,
    order: Order,
    item: OrderItem,
    asset: Asset,
    terms: Terms,
    at: datetime,
) -> Subscription:
    """Write a new active subscription of ``asset`` (already assigned to ``rental_id``) for
    ``customer`` under ``order``'s ``item``; count it on the customer and record
    ``subscription.created`` and ``asset.assigned``. A ``terms.billing_group_id`` must
    name a group the caller locked (``membership.joinable_group``).

    Raises ``VALIDATION_ERROR`` on ``startDate`` when the contract would end past the
    calendar (year 9999).
    """
    cycle = settings.billing_cycle
    try:
        end_date = periods.add_months(terms.start, terms.months)
        first_billing = periods.first_billing_date(
            terms.start, cycle.type, settings.first_payment, cycle.day_of_month
        )
    except (periods.DateOutOfRange, OverflowError):
        raise ValidationFailed.field(
            "startDate", "The contract would end after the year 9999", "too_big"
        ) from None
    acquisition_cost, acquisition_cost_source = _acquisition_cost(item, asset.acquisition_cost)
    subscriptions = Subscriptions(session, ctx.tenant_id)
    subscription = subscriptions.add(
        Subscription(
            id=rental_id, status=SubscriptionStatus.ACTIVE, customer_id=customer.id,
            order_id=order.id, order_item_position=item.position, sku=item.sku,
            variant_id=item.variant_id, product_name=item.product_name,
            variant_name=item.variant_name, asset_id=asset.id,
            serial_number=asset.serial_number, monthly_amount=terms.monthly_amount,
            original_contract_length=terms.months, contract_length=terms.months,
            start_date=terms.start, end_date=end_date, next_billing_date=first_billing,
            billing_group_id=terms.billing_group_id,
            upgrade_from_rental_id=terms.upgrade_from_rental_id, list_price=item.list_price,
            list_price_source=item.list_price_source, acquisition_cost=acquisition_cost,
            acquisition_cost_source=acquisition_cost_source, total_collected=0,
            setup_fee=item.setup_fee,
            custom_fields=dict(terms.custom_fields), notes=terms.notes, extension_history=[],
            replacement_history=[], history=[], created_by=ctx.actor, created_at=at,
        )
    )  # fmt: skip
    record(subscription, ctx, "created", at, serial_number=asset.serial_number)
    if terms.billing_group_id is not None:
        # The same entry a group's own membership changes write (billing/groups.py).
        record(
            subscription, ctx, "billing_group_joined", at, billing_group_id=terms.billing_group_id
        )
    accounting.count_start(customer, subscription)
    await session.flush()
    await events.emit(
        session, ctx, EventType.SUBSCRIPTION_CREATED, subscription_data(subscription, ctx.currency)
    )
    await events.emit(session, ctx, EventType.ASSET_ASSIGNED, asset_data(asset, subscription))
    await subscriptions.load_customers([subscription])
    return subscription


async def create_subscription(
    session: AsyncSession, ctx: TenantContext, new: NewSubscription
) -> Subscription:
    """Rent the unit ``new.asset_serial_number`` to the customer of order ``new.order_id``:
    the asset becomes rented out, the order item (and perhaps the order) moves towards
    fulfilled, the customer's counters move.

    Raises ``ORDER_NOT_FOUND``, ``ORDER_NOT_CONFIRMED`` (pending or cancelled order),
    ``CUSTOMER_NOT_FOUND``, ``VALIDATION_ERROR`` (the customer is not the order's),
    ``ASSET_NOT_FOUND``, ``ASSET_NOT_AVAILABLE``, ``SKU_MISMATCH`` (the unit's SKU is not
    in the order), ``ITEM_FULLY_FULFILLED``, and for a billing group
    ``BILLING_GROUP_NOT_FOUND`` or ``SUBSCRIPTION_DIFFERENT_CUSTOMER``.
    """
    settings = await get_settings(session, ctx)
    order = await Orders(session, ctx.tenant_id).get(new.order_id, for_update=True)
    status = OrderStatus(order.status)
    if status is not OrderStatus.FULFILLED and not order_lifecycle.can_rent(status):
        # Checked before the unit is touched, so the client hears about the order first;
        # a fulfilled order is ITEM_FULLY_FULFILLED, from the fulfilment below.
        raise order_lifecycle.not_confirmed(status)
    rental_id = new_rental_id(settings)
    if new.billing_group_id is not None:
        # A group is locked before the customer and the unit, as an upgrade locks it
        # before its subscription and the customer: one order, no deadlock.
        await joinable_group(
            session, ctx, new.billing_group_id, rental_id=rental_id, customer_id=new.customer_id
        )
    customer = await accounting.locked_customer(session, ctx, new.customer_id)
    if customer.id != order.customer_id:
        raise ValidationFailed.field(
            "customerId",
            f"Order '{order.id}' belongs to customer '{order.customer_id}'",
            "mismatch",
        )
    asset = await assets.assign(
        session, ctx, new.asset_serial_number, rental_id=rental_id, customer_id=customer.id
    )
    order = await fulfilment.record_rental(session, ctx, order.id, asset.sku, rental_id)
    item = _item_of(order, rental_id)
    now = clock.now()
    terms = Terms(
        start=new.start_date or now.date(),
        months=new.contract_length or item.contract_length,
        monthly_amount=item.unit_price,
        billing_group_id=new.billing_group_id,
        notes=new.notes,
        custom_fields=new.custom_fields,
    )
    return await open_subscription(
        session, ctx, settings, rental_id=rental_id, customer=customer, order=order, item=item,
        asset=asset, terms=terms, at=now,
    )  # fmt: skip


async def get_subscription(
    session: AsyncSession, ctx: TenantContext, rental_id: str
) -> Subscription:
    subscriptions = Subscriptions(session, ctx.tenant_id)
    subscription = await subscriptions.get(rental_id)
    await subscriptions.load_customers([subscription])
    return subscription


async def replace_notes(
    session: AsyncSession, ctx: TenantContext, rental_id: str, notes: str | None
) -> Subscription:
    """Replace the notes, in any status: notes are for people, not for rules."""
    subscriptions = Subscriptions(session, ctx.tenant_id)
    subscription = await subscriptions.get(rental_id, for_update=True)
    subscription.notes = notes
    record(subscription, ctx, "notes_updated", clock.now())
    await session.flush()
    await subscriptions.load_customers([subscription])
    return subscription
