"""``write_tracking_order``, the order extensions and upgrades leave in the books, at
service level and as ``GET /v1/orders`` then shows it."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select

from flexbill.core import clock
from flexbill.core.db import Database
from flexbill.events.models import Event
from flexbill.orders import dedup
from flexbill.orders.details import ExtensionDetails
from flexbill.orders.models import Order, OrderFingerprint
from flexbill.orders.tracking import (
    TrackedItem,
    UpgradeFacts,
    tracking_fingerprint,
    write_tracking_order,
)
from flexbill.tenancy.context import TenantContext
from tests.orders.support import (
    ADDRESS,
    LAPTOP,
    create_catalog,
    exact,
    order_body,
    place,
    tenant_context,
)
from tests.support import Api, Tenant

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
SHIPPING = {**ADDRESS, "contactName": "Ada Lovelace", "city": "Washington"}

ITEM = TrackedItem(
    rental_id="sub_tracked", sku=LAPTOP, variant_id="var_x", product_name="Laptop Pro 16",
    variant_name="Space grey, grade A", contract_length=6, unit_price=4999, list_price=199900,
    list_price_source="variant", acquisition_cost=None, acquisition_cost_source="unknown",
)  # fmt: skip
UPGRADE = UpgradeFacts(
    previous_device="Laptop Pro 14", previous_serial_number="SN-OLD",
    previous_monthly_amount=3950, previous_rental_id="sub_old", upgrade_reason="Bigger screen",
)  # fmt: skip


@pytest.fixture(autouse=True)
def _frozen_clock() -> Any:
    with clock.frozen(NOW):
        yield


@pytest.fixture
async def ctx(api: Api, database: Database, tenant: Tenant) -> TenantContext:
    await create_catalog(api)
    return await tenant_context(database, tenant)


@pytest.fixture
async def original(api: Api) -> dict[str, Any]:
    """A placed in-store order with a company customer and a shipping address."""
    customer = {
        "email": "grace@example.com", "firstName": "Grace", "lastName": "Hopper",
        "company": "Navy", "phone": "+1 555 0100", "customerType": "business",
    }  # fmt: skip
    body = order_body(
        "grace@example.com", customer=customer, shippingAddress=SHIPPING, channel="in_store"
    )
    return await place(api, body)


async def _write(
    database: Database,
    ctx: TenantContext,
    original_order_id: str,
    details: ExtensionDetails | UpgradeFacts,
    item: TrackedItem = ITEM,
) -> str:
    async with database.transaction() as session:
        order = await write_tracking_order(
            session, ctx, original_order_id=original_order_id, item=item, details=details,
            notes="For the books", at=clock.now(),
        )  # fmt: skip
        return order.id


async def _get(api: Api, path: str, **params: Any) -> Any:
    response = await api.get(path, **params)
    assert response.status_code == 200, response.text
    return exact(response)


def _extension_of(order_id: str) -> ExtensionDetails:
    return ExtensionDetails(
        original_order_id=order_id, extension_months=6, previous_end_date=date(2026, 6, 1),
        new_end_date=date(2026, 12, 1), reason="Customer asked",
    )  # fmt: skip


async def test_an_extension_order_is_fulfilled_and_addressed_like_the_original(
    api: Api, database: Database, ctx: TenantContext, original: dict[str, Any]
) -> None:
    order_id = await _write(database, ctx, original["orderId"], _extension_of(original["orderId"]))

    order = await _get(api, f"/v1/orders/{order_id}")
    assert order["orderId"].startswith("ord_")
    assert (order["status"], order["orderType"], order["channel"]) == (
        "fulfilled", "extension", "in_store",
    )  # fmt: skip
    assert order["customerId"] == original["customerId"]
    assert order["customer"] == original["customer"]
    assert order["billingAddress"] == original["billingAddress"] == ADDRESS
    assert order["shippingAddress"] == original["shippingAddress"] == SHIPPING
    assert order["extensionDetails"] == {
        "originalOrderId": original["orderId"], "extensionMonths": 6,
        "previousEndDate": "2026-06-01", "newEndDate": "2026-12-01", "reason": "Customer asked",
    }  # fmt: skip
    assert order["upgradeDetails"] is None
    assert order["items"] == [
        {
            "sku": LAPTOP, "productName": "Laptop Pro 16", "variantName": "Space grey, grade A",
            "quantity": 1, "contractLength": 6, "unitPrice": Decimal("49.99"),
            "listPrice": Decimal("1999.00"), "listPriceSource": "variant",
            "acquisitionCost": None, "acquisitionCostSource": "unknown",
            "setupFee": Decimal("0.00"), "rentalIds": ["sub_tracked"],
            "rentalStatus": "completed",
        }
    ]  # fmt: skip
    assert order["totals"] == {
        "subtotal": Decimal("49.99"), "taxAmount": Decimal("0.00"), "total": Decimal("49.99"),
        "currency": "EUR", "totalDevices": 1,
    }  # fmt: skip
    assert order["rentalProgress"] == {"totalDevices": 1, "rentedDevices": 1}
    assert order["rentalIds"] == ["sub_tracked"]
    assert order["payment"]["status"] == "pending"
    assert order["notes"] == "For the books"
    assert order["customFields"] == {}
    assert order["confirmedAt"] == order["createdAt"] == order["updatedAt"]
    assert order["createdAt"] == "2025-06-01T12:00:00Z"
    assert order["cancelledAt"] is None


async def test_an_upgrade_order_shows_its_details_in_major_units(
    api: Api, database: Database, ctx: TenantContext, original: dict[str, Any]
) -> None:
    order_id = await _write(database, ctx, original["orderId"], UPGRADE)

    order = await _get(api, f"/v1/orders/{order_id}")
    assert order["orderType"] == "upgrade"
    assert order["extensionDetails"] is None
    assert order["upgradeDetails"] == {
        "previousDevice": "Laptop Pro 14", "previousSerialNumber": "SN-OLD",
        "previousMonthlyAmount": Decimal("39.50"), "previousRentalId": "sub_old",
        "upgradeReason": "Bigger screen",
    }  # fmt: skip


async def test_it_is_counted_on_the_customer_and_announced(
    api: Api, database: Database, ctx: TenantContext, original: dict[str, Any]
) -> None:
    order_id = await _write(database, ctx, original["orderId"], UPGRADE)

    customer = await _get(api, f"/v1/customers/{original['customerId']}")
    assert customer["totalOrders"] == 2
    assert customer["orderIds"] == [original["orderId"], order_id]
    assert customer["lastShippingAddress"] == SHIPPING
    async with database.transaction() as session:
        created = (
            await session.scalars(
                select(Event).where(Event.type == "order.created").order_by(Event.id)
            )
        ).all()
    assert [event.data["orderId"] for event in created] == [original["orderId"], order_id]
    data = created[1].data
    assert (data["status"], data["orderType"], data["channel"]) == (
        "fulfilled", "upgrade", "in_store",
    )  # fmt: skip
    assert data["rentalProgress"] == {"totalDevices": 1, "rentedDevices": 1}
    assert data["totals"]["total"] == Decimal("49.99")


@pytest.mark.parametrize(
    ("vat", "subtotal", "tax", "total"),
    [
        ({"enabled": True, "rate": 19}, "49.99", "9.50", "59.49"),
        ({"enabled": True, "rate": 19, "mode": "inclusive"}, "49.99", "7.98", "49.99"),
        ({"enabled": False, "rate": 19}, "49.99", "0.00", "49.99"),
    ],
)
async def test_totals_follow_the_business_units_vat(
    api: Api,
    database: Database,
    ctx: TenantContext,
    original: dict[str, Any],
    vat: dict[str, Any],
    subtotal: str,
    tax: str,
    total: str,
) -> None:
    response = await api.patch("/v1/settings", {"vat": vat})
    assert response.status_code == 200, response.text

    order_id = await _write(database, ctx, original["orderId"], UPGRADE)

    totals = (await _get(api, f"/v1/orders/{order_id}"))["totals"]
    assert (totals["subtotal"], totals["taxAmount"], totals["total"]) == (
        Decimal(subtotal), Decimal(tax), Decimal(total),
    )  # fmt: skip


async def test_it_claims_no_de_duplication_key(
    api: Api, database: Database, ctx: TenantContext, original: dict[str, Any]
) -> None:
    async with database.transaction() as session:
        claimed_before = await session.scalar(select(func.count()).select_from(OrderFingerprint))

    first = await _write(database, ctx, original["orderId"], UPGRADE)
    second = await _write(database, ctx, original["orderId"], UPGRADE)

    assert first != second
    async with database.transaction() as session:
        assert (
            await session.scalar(select(func.count()).select_from(OrderFingerprint))
            == claimed_before
        )
        order = await session.get(Order, (ctx.tenant_id, first))
        assert order is not None
        assert order.fingerprint == tracking_fingerprint(first)
    # A real key is a SHA-256 hex digest; a tracking key can never be one.
    real = dedup.fingerprint("grace@example.com", [(LAPTOP, 1, 6)], order_type="upgrade")
    assert len(real) == 64
    assert set(real) <= set("0123456789abcdef")
    assert ":" in tracking_fingerprint(first)
    assert len(tracking_fingerprint(first)) <= 64


async def test_a_placed_order_is_not_answered_with_a_tracking_order(
    api: Api, database: Database, ctx: TenantContext, original: dict[str, Any]
) -> None:
    await _write(database, ctx, original["orderId"], _extension_of(original["orderId"]))
    again = order_body("grace@example.com", items=[{"sku": LAPTOP, "quantity": 1}])
    first = await api.post("/v1/orders", again)
    assert first.status_code == 201, first.text
    repeated = await api.post("/v1/orders", again)
    assert repeated.status_code == 200, repeated.text  # the window answers with the placed one
    assert repeated.json()["orderId"] == first.json()["orderId"]


async def test_tracking_orders_are_listed_and_filtered_by_type(
    api: Api, database: Database, ctx: TenantContext, original: dict[str, Any]
) -> None:
    extension = await _write(database, ctx, original["orderId"], _extension_of(original["orderId"]))
    upgrade = await _write(database, ctx, original["orderId"], UPGRADE)

    listed = await _get(api, "/v1/orders", sortDir="asc")
    assert [(o["orderId"], o["orderType"]) for o in listed["orders"]] == [
        (original["orderId"], "standard"), (extension, "extension"), (upgrade, "upgrade"),
    ]  # fmt: skip
    by_type = await _get(api, "/v1/orders", orderType="upgrade")
    assert [o["orderId"] for o in by_type["orders"]] == [upgrade]
    fulfilled = await _get(api, "/v1/orders", status="fulfilled", sortDir="asc")
    assert [o["orderId"] for o in fulfilled["orders"]] == [extension, upgrade]
    by_customer = await _get(api, "/v1/orders", customerId=original["customerId"])
    assert by_customer["count"] == 3


async def test_a_tracking_order_cannot_be_cancelled(
    api: Api, database: Database, ctx: TenantContext, original: dict[str, Any]
) -> None:
    order_id = await _write(database, ctx, original["orderId"], UPGRADE)
    response = await api.post(f"/v1/orders/{order_id}/cancel", {"reason": "oops"})
    assert response.status_code == 400, response.text
    assert response.json()["error"]["code"] == "ORDER_NOT_CANCELLABLE"
