"""Placing an order: price its items from the catalog, total them with the tenant's VAT,
match or create its customer, and record ``order.created``, all in the caller's transaction.

An order repeating one placed within the tenant's window (same customer e-mail, same
items) is not placed again: ``place_order`` answers with the order that exists.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from flexbill.catalog import errors as catalog_errors
from flexbill.catalog.models import Variant
from flexbill.catalog.repository import Variants
from flexbill.catalog.service import PriceQuote, price_for
from flexbill.core import clock
from flexbill.core.errors import ErrorDetail, FlexbillError, ValidationFailed
from flexbill.core.ids import new_id
from flexbill.customers import ordering
from flexbill.customers.models import CustomerType
from flexbill.customers.service import Address, NewCustomer, normalize_email
from flexbill.events import service as events
from flexbill.events.models import EventType
from flexbill.orders import dedup
from flexbill.orders.details import ExtensionDetails, StoredDetails, UpgradeDetails, check_details
from flexbill.orders.event_data import order_summary
from flexbill.orders.lifecycle import OrderStatus, RentalStatus
from flexbill.orders.models import (
    AcquisitionCostSource,
    Channel,
    ListPriceSource,
    Order,
    OrderItem,
    OrderType,
)
from flexbill.orders.repository import Orders
from flexbill.orders.totals import Line, Totals, order_totals, vat_rule
from flexbill.settings.service import get_settings
from flexbill.tenancy.context import TenantContext

DEFAULT_ID_PREFIX = "ord"
# The largest monthly total an order may reach, in minor units: beyond any real order, and
# far below what the 64-bit amount columns hold (SQLite would silently store a float).
MAX_ORDER_TOTAL = 10**15


@dataclass(frozen=True)
class OrderLine:
    """An item as ordered: ``contract_length`` ``None`` takes the variant's shortest."""

    sku: str
    quantity: int
    contract_length: int | None = None


@dataclass(frozen=True)
class OrderCustomer:
    email: str
    first_name: str
    last_name: str
    company: str | None = None
    phone: str | None = None
    customer_type: str = CustomerType.INDIVIDUAL


@dataclass(frozen=True)
class NewOrder:
    customer: OrderCustomer
    billing_address: Address
    items: Sequence[OrderLine]
    shipping_address: Address | None = None
    order_type: OrderType = OrderType.STANDARD
    channel: Channel = Channel.ONLINE
    extension_details: ExtensionDetails | None = None
    upgrade_details: UpgradeDetails | None = None
    custom_fields: Mapping[str, Any] = field(default_factory=dict)
    notes: str | None = None


@dataclass(frozen=True)
class PlacedOrder:
    order: Order
    created: bool  # False: an identical order placed within the window was returned
    window_minutes: int


async def place_order(session: AsyncSession, ctx: TenantContext, new: NewOrder) -> PlacedOrder:
    """Place ``new``, or return the identical order placed within the tenant's window.

    Raises ``VALIDATION_ERROR`` (details that do not fit the order type, a total too large
    to store), ``ORDER_NOT_FOUND``
    (an extension of an unknown order), and per item ``VARIANT_NOT_FOUND``,
    ``VARIANT_INACTIVE`` or ``INVALID_CONTRACT_LENGTH`` with the item's path.
    """
    settings = await get_settings(session, ctx)
    window_minutes = settings.orders.idempotency_window_minutes
    details = await check_details(
        session, ctx, new.order_type, new.extension_details, new.upgrade_details
    )
    now = clock.now()
    order_id = new_id(settings.id_prefixes.order or DEFAULT_ID_PREFIX)
    key = _fingerprint(new, details)
    holder = await dedup.claim(
        session,
        tenant_id=ctx.tenant_id,
        key=key,
        order_id=order_id,
        now=now,
        expires_at=now + timedelta(minutes=window_minutes),
    )
    if holder != order_id:
        existing = await Orders(session, ctx.tenant_id).get(holder)
        return PlacedOrder(existing, created=False, window_minutes=window_minutes)

    priced = [
        (line, await _quote(session, ctx, index, line)) for index, line in enumerate(new.items)
    ]
    lines = (Line(line.quantity, quote.monthly_price) for line, quote in priced)
    totals = order_totals(lines, vat_rule(settings.vat))
    if totals.total > MAX_ORDER_TOTAL:
        raise ValidationFailed.field("items", "The order's total is too large", "too_big")
    customer = await ordering.match_or_create(session, ctx, _new_customer(new))
    ordering.record_order(customer, order_id, new.billing_address, new.shipping_address)
    order = _order(ctx, new, order_id, key, customer.id, priced, totals, details)
    session.add(order)
    await session.flush()
    await events.emit(session, ctx, EventType.ORDER_CREATED, order_summary(order, ctx.currency))
    return PlacedOrder(order, created=True, window_minutes=window_minutes)


def _fingerprint(new: NewOrder, details: StoredDetails) -> str:
    lines = [(line.sku, line.quantity, line.contract_length) for line in new.items]
    return dedup.fingerprint(
        normalize_email(new.customer.email),
        lines,
        order_type=new.order_type,
        details=details.extension or details.upgrade,
    )


async def _quote(
    session: AsyncSession, ctx: TenantContext, index: int, line: OrderLine
) -> PriceQuote:
    """The price of one item; a catalog refusal names the item (``items.1.sku``)."""
    try:
        months = line.contract_length
        if months is None:
            months = await _shortest_contract_length(session, ctx, line.sku)
        return await price_for(session, ctx, line.sku, months)
    except FlexbillError as error:
        error.details = _under_item(index, error)
        raise


async def _shortest_contract_length(session: AsyncSession, ctx: TenantContext, sku: str) -> int:
    variant: Variant | None = await Variants(session, ctx.tenant_id).by_sku(sku)
    if variant is None:
        raise catalog_errors.variant_not_found(sku)
    offered = [price.contract_length for price in variant.prices]
    if not offered:
        raise catalog_errors.invalid_contract_length(sku, 0, offered)
    return min(offered)


def _under_item(index: int, error: FlexbillError) -> tuple[ErrorDetail, ...]:
    at = f"items.{index}"
    if not error.details:
        return (ErrorDetail(path=f"{at}.sku", message=error.message, code=error.code.lower()),)
    return tuple(
        ErrorDetail(path=f"{at}.{detail.path}", message=detail.message, code=detail.code)
        for detail in error.details
    )


def _new_customer(new: NewOrder) -> NewCustomer:
    customer = new.customer
    return NewCustomer(
        email=customer.email, first_name=customer.first_name, last_name=customer.last_name,
        company=customer.company, phone=customer.phone, customer_type=customer.customer_type,
        billing_address=new.billing_address, shipping_address=new.shipping_address,
    )  # fmt: skip


def list_price_of(variant: Variant) -> tuple[int | None, ListPriceSource]:
    if variant.list_price is None:
        return None, ListPriceSource.UNKNOWN
    return variant.list_price, ListPriceSource.VARIANT


def acquisition_cost_of(variant: Variant) -> tuple[int | None, AcquisitionCostSource]:
    if variant.acquisition_cost is not None:
        return variant.acquisition_cost, AcquisitionCostSource.VARIANT
    if variant.list_price is not None:
        # Cost recovery needs a cost; without one the list price is the honest upper bound.
        return variant.list_price, AcquisitionCostSource.LIST_PRICE
    return None, AcquisitionCostSource.UNKNOWN


def _item(ctx: TenantContext, position: int, line: OrderLine, quote: PriceQuote) -> OrderItem:
    list_price, list_price_source = list_price_of(quote.variant)
    acquisition_cost, acquisition_cost_source = acquisition_cost_of(quote.variant)
    return OrderItem(
        tenant_id=ctx.tenant_id, position=position, sku=quote.variant.sku,
        variant_id=quote.variant.id, product_name=quote.product.name,
        variant_name=quote.variant.name, quantity=line.quantity,
        contract_length=quote.price.contract_length, unit_price=quote.monthly_price,
        list_price=list_price, list_price_source=list_price_source,
        acquisition_cost=acquisition_cost, acquisition_cost_source=acquisition_cost_source,
        setup_fee=quote.price.setup_fee, rental_ids=[], rental_status=RentalStatus.PENDING,
    )  # fmt: skip


def _order(
    ctx: TenantContext,
    new: NewOrder,
    order_id: str,
    fingerprint: str,
    customer_id: str,
    priced: Sequence[tuple[OrderLine, PriceQuote]],
    totals: Totals,
    details: StoredDetails,
) -> Order:
    customer = asdict(new.customer)
    customer["email"] = normalize_email(new.customer.email)
    return Order(
        tenant_id=ctx.tenant_id, id=order_id, status=OrderStatus.PENDING,
        order_type=new.order_type, channel=new.channel, customer_id=customer_id,
        customer=customer, billing_address=asdict(new.billing_address),
        shipping_address=None if new.shipping_address is None else asdict(new.shipping_address),
        subtotal=totals.subtotal, tax_amount=totals.tax_amount, total=totals.total,
        total_devices=totals.total_devices, rented_devices=0, rental_ids=[],
        custom_fields=dict(new.custom_fields), notes=new.notes,
        extension_details=details.extension, upgrade_details=details.upgrade,
        fingerprint=fingerprint, created_by=ctx.actor,
        items=[
            _item(ctx, position, line, quote) for position, (line, quote) in enumerate(priced)
        ],
    )  # fmt: skip
