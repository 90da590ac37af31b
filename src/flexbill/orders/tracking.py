"""Tracking orders: the order of type ``extension`` or ``upgrade`` that a change to a
running contract leaves in the books.

Nobody places it and nothing is left to fulfil: it is ``fulfilled`` from the start, its one
item already names the subscription it tracks, and it is priced at the amounts the change
agreed on rather than from the catalog. It is addressed like the contract's original order
(same customer, customer snapshot and addresses), counted on the customer, announced with
``order.created``, and listed by ``GET /v1/orders`` like any other order.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from flexbill.core.ids import new_id
from flexbill.customers import ordering
from flexbill.customers.service import Address, Customers
from flexbill.events import service as events
from flexbill.events.models import EventType
from flexbill.orders.create import DEFAULT_ID_PREFIX
from flexbill.orders.details import ExtensionDetails
from flexbill.orders.event_data import order_summary
from flexbill.orders.lifecycle import OrderStatus, RentalStatus
from flexbill.orders.models import Order, OrderItem, OrderType
from flexbill.orders.repository import Orders
from flexbill.orders.totals import Line, order_totals, vat_rule
from flexbill.settings.service import get_settings
from flexbill.tenancy.context import TenantContext

TRACKING_FINGERPRINT_PREFIX = "tracking:"
"""Real orders' de-duplication keys are SHA-256 hex digests (``orders.dedup``); a key with
this prefix can never equal one, and a tracking order claims no fingerprint row, so it can
neither answer for a placed order nor keep one from being placed."""


@dataclass(frozen=True)
class TrackedItem:
    """The one device a tracking order is about, at the agreed monthly ``unit_price`` (minor
    units) for ``contract_length`` months, rented by the subscription ``rental_id``."""

    rental_id: str
    sku: str
    variant_id: str
    product_name: str
    variant_name: str
    contract_length: int
    unit_price: int
    list_price: int | None
    list_price_source: str
    acquisition_cost: int | None
    acquisition_cost_source: str


@dataclass(frozen=True)
class UpgradeFacts:
    """What an upgrade order records about the contract it ends (``upgradeDetails``)."""

    previous_device: str
    previous_serial_number: str
    previous_monthly_amount: int  # minor units
    previous_rental_id: str
    upgrade_reason: str | None = None


def tracking_fingerprint(order_id: str) -> str:
    return f"{TRACKING_FINGERPRINT_PREFIX}{order_id}"


def _stored_details(
    details: ExtensionDetails | UpgradeFacts,
) -> tuple[OrderType, dict[str, Any] | None, dict[str, Any] | None]:
    """The order type and the ``extension_details``/``upgrade_details`` columns, in the
    stored shape ``orders.details`` gives placed orders."""
    if isinstance(details, ExtensionDetails):
        extension = {
            "original_order_id": details.original_order_id,
            "extension_months": details.extension_months,
            "previous_end_date": details.previous_end_date.isoformat(),
            "new_end_date": details.new_end_date.isoformat(),
            "reason": details.reason,
        }
        return OrderType.EXTENSION, extension, None
    upgrade = {
        "previous_device": details.previous_device,
        "previous_serial_number": details.previous_serial_number,
        "previous_monthly_amount": details.previous_monthly_amount,
        "previous_rental_id": details.previous_rental_id,
        "upgrade_reason": details.upgrade_reason,
    }
    return OrderType.UPGRADE, None, upgrade


def _item(ctx: TenantContext, item: TrackedItem) -> OrderItem:
    return OrderItem(
        tenant_id=ctx.tenant_id, position=0, sku=item.sku, variant_id=item.variant_id,
        product_name=item.product_name, variant_name=item.variant_name, quantity=1,
        contract_length=item.contract_length, unit_price=item.unit_price,
        list_price=item.list_price, list_price_source=item.list_price_source,
        acquisition_cost=item.acquisition_cost,
        acquisition_cost_source=item.acquisition_cost_source, setup_fee=0,
        rental_ids=[item.rental_id], rental_status=RentalStatus.COMPLETED,
    )  # fmt: skip


async def write_tracking_order(
    session: AsyncSession,
    ctx: TenantContext,
    *,
    original_order_id: str,
    item: TrackedItem,
    details: ExtensionDetails | UpgradeFacts,
    notes: str | None,
    at: datetime,
) -> Order:
    """Write the fulfilled order of type ``extension`` (for ``ExtensionDetails``) or
    ``upgrade`` (for ``UpgradeFacts``) tracking ``item``, addressed like
    ``original_order_id``. Callers flush their own changes to the customer first: it is
    locked and re-read here."""
    settings = await get_settings(session, ctx)
    original = await Orders(session, ctx.tenant_id).get(original_order_id)
    order_type, extension, upgrade = _stored_details(details)
    order_id = new_id(settings.id_prefixes.order or DEFAULT_ID_PREFIX)
    totals = order_totals([Line(1, item.unit_price)], vat_rule(settings.vat))
    customer = await Customers(session, ctx.tenant_id).get(original.customer_id, for_update=True)
    shipping = original.shipping_address
    ordering.record_order(
        customer,
        order_id,
        Address(**original.billing_address),
        None if shipping is None else Address(**shipping),
    )
    order = Order(
        tenant_id=ctx.tenant_id, id=order_id, status=OrderStatus.FULFILLED,
        order_type=order_type, channel=original.channel, customer_id=original.customer_id,
        customer=dict(original.customer), billing_address=dict(original.billing_address),
        shipping_address=None if shipping is None else dict(shipping),
        subtotal=totals.subtotal, tax_amount=totals.tax_amount, total=totals.total,
        total_devices=totals.total_devices, rented_devices=totals.total_devices,
        rental_ids=[item.rental_id], custom_fields={}, notes=notes,
        extension_details=extension, upgrade_details=upgrade, confirmed_at=at,
        fingerprint=tracking_fingerprint(order_id), created_by=ctx.actor, created_at=at,
        items=[_item(ctx, item)],
    )  # fmt: skip
    session.add(order)
    await session.flush()
    await events.emit(session, ctx, EventType.ORDER_CREATED, order_summary(order, ctx.currency))
    return order
