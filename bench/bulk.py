"""Seed many subscriptions fast: SQLAlchemy Core ``executemany`` into the tables, not the API.

Starting 100,000 subscriptions through ``POST /v1/subscriptions`` would take the better part
of an hour; the list benchmark only needs rows of the right shape. Each customer has one
fulfilled order of ``DEVICES_PER_ORDER`` devices of one catalog variant, each device an
asset rented out by one active subscription: the foreign keys (customers ← orders ←
order items, orders and customers ← subscriptions) hold, and the counters on customers,
orders and assets agree with the rows, as the API would have left them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import insert, select, text
from sqlalchemy.ext.asyncio import AsyncConnection

from flexbill.assets.models import Asset
from flexbill.core.db import Database
from flexbill.core.ids import new_id
from flexbill.core.models import Base
from flexbill.customers.models import Customer
from flexbill.events.service import rfc3339
from flexbill.orders.models import Order, OrderItem
from flexbill.subscriptions.models import Subscription
from flexbill.tenancy.models import Tenant

DEVICES_PER_ORDER = 4
MONTHS = 12
MONTHLY_AMOUNT = 5999  # minor units
ACQUISITION_COST = 120050
LIST_PRICE = 199900
# Rows per executemany call: bounds the memory of one batch, not the number of statements
# (SQLAlchemy sends multi-row INSERTs of its own size underneath).
BATCH = 5000
ACTOR = "bench:bulk"
ADDRESS = {
    "contactName": "Bench Customer",
    "streetAddress": "1 Load Street",
    "city": "Arlington",
    "postalCode": "22202",
    "country": "US",
}


@dataclass(frozen=True)
class CatalogVariant:
    """The variant every seeded order and subscription is of."""

    id: str
    sku: str
    product_name: str
    variant_name: str


async def tenant_ids(database_url: str, business_unit_id: str) -> dict[str, str]:
    """mode (``live``/``test``) → tenant id of the business unit."""
    database = Database(database_url)
    try:
        async with database.transaction(write=False) as session:
            rows = await session.execute(
                select(Tenant.mode, Tenant.id).where(Tenant.business_unit_id == business_unit_id)
            )
            return {str(mode): str(tenant_id) for mode, tenant_id in rows}
    finally:
        await database.dispose()


def _fingerprint(order_id: str) -> str:
    return hashlib.sha256(order_id.encode()).hexdigest()


# Parents before children, so that every foreign key points at a row already written.
TABLES: tuple[type[Base], ...] = (Customer, Order, OrderItem, Asset, Subscription)

Rows = list[dict[str, Any]]


def _rows(
    tenant_id: str, variant: CatalogVariant, customers: int, start: datetime, label: str
) -> Iterator[tuple[type[Base], Rows]]:
    """Batches of rows for ``customers`` customers, each batch's tables in ``TABLES`` order."""
    batch: dict[type[Base], Rows] = {model: [] for model in TABLES}
    for number in range(customers):
        at = start + timedelta(seconds=number * DEVICES_PER_ORDER)
        customer_id, order_id = new_id("cust"), new_id("ord")
        rentals = [new_id("sub") for _ in range(DEVICES_PER_ORDER)]
        email = f"bulk-{label}-{number:07d}@example.com"
        base = {"tenant_id": tenant_id, "created_at": at, "updated_at": at}
        batch[Customer].append({
            **base, "id": customer_id, "email": email, "first_name": f"Bulk{number}",
            "last_name": label, "company": None, "phone": None, "customer_type": "individual",
            "status": "active", "custom_fields": {}, "last_billing_address": ADDRESS,
            "last_shipping_address": None, "total_orders": 1,
            "total_devices_rented": DEVICES_PER_ORDER,
            "total_monthly_revenue": MONTHLY_AMOUNT * DEVICES_PER_ORDER, "lifetime_collected": 0,
            "total_acquisition_cost": ACQUISITION_COST * DEVICES_PER_ORDER,
            "subscriptions_tracked": DEVICES_PER_ORDER, "order_ids": [order_id],
            "rental_ids": rentals, "created_by": ACTOR,
        })  # fmt: skip
        subtotal = MONTHLY_AMOUNT * DEVICES_PER_ORDER
        batch[Order].append({
            **base, "id": order_id, "status": "fulfilled", "order_type": "standard",
            "channel": "online", "customer_id": customer_id,
            "customer": {"email": email, "firstName": f"Bulk{number}", "lastName": label},
            "billing_address": ADDRESS, "shipping_address": None, "subtotal": subtotal,
            "tax_amount": 0, "total": subtotal, "total_devices": DEVICES_PER_ORDER,
            "rented_devices": DEVICES_PER_ORDER, "rental_ids": rentals,
            "payment_status": "pending", "payment_method": "manual", "paid_amount": 0,
            "payment_manually_marked": False, "custom_fields": {},
            "fingerprint": _fingerprint(order_id), "confirmed_at": at, "created_by": ACTOR,
        })  # fmt: skip
        batch[OrderItem].append({
            "tenant_id": tenant_id, "order_id": order_id, "position": 0, "sku": variant.sku,
            "variant_id": variant.id, "product_name": variant.product_name,
            "variant_name": variant.variant_name, "quantity": DEVICES_PER_ORDER,
            "contract_length": MONTHS, "unit_price": MONTHLY_AMOUNT, "list_price": LIST_PRICE,
            "list_price_source": "variant", "acquisition_cost": ACQUISITION_COST,
            "acquisition_cost_source": "variant", "setup_fee": 0, "rental_ids": rentals,
            "rental_status": "completed",
        })  # fmt: skip
        for device, rental_id in enumerate(rentals):
            serial = f"BULK-{label}-{number:07d}-{device}"
            started = at + timedelta(seconds=device)
            rented = {"tenant_id": tenant_id, "created_at": started, "updated_at": started}
            asset_id = new_id("ast")
            batch[Asset].append({
                **rented, "id": asset_id, "serial_number": serial, "sku": variant.sku,
                "product_name": variant.product_name, "status": "rented_out",
                "acquisition_cost": ACQUISITION_COST, "customer_id": customer_id,
                "rental_id": rental_id, "revision": 0,
            })  # fmt: skip
            day = started.date()
            batch[Subscription].append({
                **rented, "id": rental_id, "status": "active", "end_reason": None,
                "customer_id": customer_id, "order_id": order_id, "order_item_position": 0,
                "sku": variant.sku, "variant_id": variant.id,
                "product_name": variant.product_name, "variant_name": variant.variant_name,
                "asset_id": asset_id, "serial_number": serial, "monthly_amount": MONTHLY_AMOUNT,
                "original_contract_length": MONTHS, "contract_length": MONTHS,
                "start_date": day, "end_date": _add_months(day, MONTHS),
                "next_billing_date": _add_months(day, 1), "billing_group_id": None,
                "list_price": LIST_PRICE, "list_price_source": "variant",
                "acquisition_cost": ACQUISITION_COST, "acquisition_cost_source": "variant",
                "total_collected": 0, "custom_fields": {}, "extension_history": [],
                "replacement_history": [],
                "history": [{
                    "at": rfc3339(started), "action": "created",
                    "from_status": None, "to_status": "active", "processed_by": ACTOR,
                    "serial_number": serial,
                }],
                "created_by": ACTOR,
            })  # fmt: skip
        if len(batch[Subscription]) >= BATCH:
            for model in TABLES:
                yield model, batch[model]
                batch[model] = []
    for model in TABLES:
        if batch[model]:
            yield model, batch[model]


def _add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    return day.replace(year=year, month=month, day=min(day.day, 28))


async def seed_subscriptions(
    database_url: str, tenant_id: str, variant: CatalogVariant, count: int, label: str,
    *, days_ago: int = 0,
) -> int:  # fmt: skip
    """Insert ``count`` active subscriptions (rounded up to whole orders) with their
    customers, orders, items and assets into ``tenant_id``; the number of rows written.

    The last order is placed ``days_ago`` days before now: more than a month ago makes
    every subscription due for its second period."""
    customers = -(-count // DEVICES_PER_ORDER)
    # One order every few seconds up to then, so that dates read like a real history.
    start = datetime.now(UTC) - timedelta(days=days_ago, seconds=customers * DEVICES_PER_ORDER + 60)
    database = Database(database_url)
    written = 0
    try:
        async with database.write_engine.begin() as connection:
            for model, rows in _rows(tenant_id, variant, customers, start, label):
                await connection.execute(insert(model), rows)
                written += len(rows)
                if database.kind == "postgresql" and model is TABLES[-1]:
                    await _analyze(connection)
    finally:
        await database.dispose()
    return written


async def _analyze(connection: AsyncConnection) -> None:
    # PostgreSQL checks each foreign key with a plan it caches per connection. Planned
    # while the parent tables were empty, that plan scans them whole, and a load into
    # empty tables turns quadratic (minutes for 100,000 rows). Fresh statistics after
    # each batch invalidate the cached plans, and the checks use the primary keys.
    for model in TABLES:
        await connection.execute(text(f"ANALYZE {model.__tablename__}"))


async def seed_customers(database_url: str, tenant_id: str, count: int, label: str) -> list[str]:
    """Insert ``count`` customers alone (no orders, no subscriptions) into ``tenant_id``;
    their ids, in the order written."""
    unused = CatalogVariant(id="unused", sku="UNUSED", product_name="-", variant_name="-")
    start = datetime.now(UTC) - timedelta(seconds=count * DEVICES_PER_ORDER + 60)
    database = Database(database_url)
    ids: list[str] = []
    try:
        async with database.write_engine.begin() as connection:
            for model, rows in _rows(tenant_id, unused, count, start, label):
                if model is Customer:
                    await connection.execute(insert(Customer), rows)
                    ids.extend(str(row["id"]) for row in rows)
            if database.kind == "postgresql":
                await connection.execute(text(f"ANALYZE {Customer.__tablename__}"))
    finally:
        await database.dispose()
    return ids
