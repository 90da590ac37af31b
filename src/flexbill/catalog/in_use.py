"""What keeps a variant in use: an active subscription renting a unit of it, or an open
order (pending, confirmed or partially fulfilled) with an item of it.

Discontinuing a product makes all its variants inactive; this module says whether that is
allowed (``VARIANT_IN_USE``, ``PRODUCT_HAS_ACTIVE_ORDERS``). Each question is one
statement, whatever the number of variants. The catalog reads the orders and subscriptions
tables here, never the other way round: those domains name variants by id and do not
import this module, so the dependency stays one-way.
"""

from __future__ import annotations

from sqlalchemy import and_, select
from sqlalchemy.ext.asyncio import AsyncSession

# The orders and subscriptions tables have foreign keys to customers, billing groups and
# others: every table must be known before the first query (or loader option, as
# ``catalog.repository`` builds at import) configures the mappers.
import flexbill.tables  # noqa: F401
from flexbill.catalog import errors
from flexbill.catalog.models import Product, Variant
from flexbill.orders.lifecycle import OrderStatus
from flexbill.orders.models import Order, OrderItem
from flexbill.subscriptions.lifecycle import SubscriptionStatus
from flexbill.subscriptions.models import Subscription

OPEN_ORDER_STATUSES = (OrderStatus.PENDING, OrderStatus.CONFIRMED, OrderStatus.PARTIAL)

# How many open orders a refusal names: enough to find them, short enough to read.
ORDERS_NAMED = 5


async def subscribed_variant_skus(session: AsyncSession, product: Product) -> list[str]:
    """SKUs of the product's variants that at least one active subscription rents, sorted."""
    rented = (
        select(Subscription.id)
        .where(
            Subscription.tenant_id == Variant.tenant_id,
            Subscription.variant_id == Variant.id,
            Subscription.status == SubscriptionStatus.ACTIVE,
        )
        .exists()
    )
    statement = (
        select(Variant.sku)
        .where(Variant.tenant_id == product.tenant_id, Variant.product_id == product.id, rented)
        .order_by(Variant.sku)
    )
    return list(await session.scalars(statement))


async def open_order_ids(session: AsyncSession, product: Product, limit: int) -> list[str]:
    """Up to ``limit`` ids of open orders with an item of one of the product's variants."""
    of_product = (
        select(OrderItem.order_id)
        .join(
            Variant,
            and_(Variant.tenant_id == OrderItem.tenant_id, Variant.id == OrderItem.variant_id),
        )
        .where(
            OrderItem.tenant_id == Order.tenant_id,
            OrderItem.order_id == Order.id,
            Variant.product_id == product.id,
        )
        .exists()
    )
    statement = (
        select(Order.id)
        .where(
            Order.tenant_id == product.tenant_id,
            Order.status.in_(OPEN_ORDER_STATUSES),
            of_product,
        )
        # The order of the (tenant, status, id) index: the search stays on open orders
        # instead of walking every order of the tenant by id.
        .order_by(Order.status, Order.id)
        .limit(limit)
    )
    return list(await session.scalars(statement))


async def ensure_discontinuable(session: AsyncSession, product: Product) -> None:
    """Raise ``VARIANT_IN_USE`` when an active subscription rents one of the product's
    variants, else ``PRODUCT_HAS_ACTIVE_ORDERS`` when an open order asks for one."""
    subscribed = await subscribed_variant_skus(session, product)
    if subscribed:
        raise errors.variant_in_use(subscribed)
    orders = await open_order_ids(session, product, ORDERS_NAMED + 1)
    if orders:
        raise errors.product_has_active_orders(
            product.sku, orders[:ORDERS_NAMED], more=len(orders) > ORDERS_NAMED
        )
