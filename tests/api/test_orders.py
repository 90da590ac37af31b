"""Placing and reading orders on the /v1 face, as a FlexPortal client would.

Natural idempotency lives in ``tests/orders/test_natural_idempotency.py``, status changes
in ``tests/orders/test_changes.py``, the list in ``tests/orders/test_list.py``.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select

from flexbill.core.db import Database
from flexbill.events.models import Event
from flexbill.events.service import payload
from flexbill.tenancy.context import TenantContext
from tests.orders.support import (
    ADDRESS,
    LAPTOP,
    PHONE,
    create_catalog,
    exact,
    order_body,
    place,
    tenant_context,
)
from tests.support import Api, Tenant, error_code, issue_key, new_tenant

ORDER_FIELDS = {
    "orderId", "tenantId", "status", "orderType", "channel", "customer", "customerId", "items",
    "totals", "payment", "rentalProgress", "rentalIds", "billingAddress", "shippingAddress",
    "billingGroupId", "trackingNumber", "shippedAt", "notes", "customFields",
    "extensionDetails", "upgradeDetails", "createdAt", "updatedAt",
}  # fmt: skip
ITEM_FIELDS = {
    "sku", "productName", "variantName", "quantity", "contractLength", "unitPrice", "listPrice",
    "listPriceSource", "acquisitionCost", "acquisitionCostSource", "setupFee", "rentalIds",
    "rentalStatus",
}  # fmt: skip


@pytest.fixture(autouse=True)
async def catalog(api: Api) -> None:
    await create_catalog(api)


async def test_create_answers_the_seed_envelope_and_order_object(api: Api) -> None:
    body = order_body(
        "Ada@Example.com",
        customer={
            "email": "Ada@Example.com", "firstName": "Ada", "lastName": "Lovelace",
            "company": "Analytical Engines", "phone": "+44 20 7946 0000",
            "customerType": "business",
        },
        shippingAddress={**ADDRESS, "city": "Washington"},
        customFields={"siebelId": "12345"},
        notes="Deliver before noon",
    )  # fmt: skip
    response = await api.post("/v1/orders", body)
    assert response.status_code == 201, response.text
    answer = exact(response)
    assert answer["success"] is True
    assert answer["message"] == "Order created successfully"
    order = answer["order"]
    assert answer["orderId"] == order["orderId"]
    assert order["orderId"].startswith("ord_")
    assert set(order) >= ORDER_FIELDS
    assert order["tenantId"] == api.headers["Tenant-ID"]
    assert (order["status"], order["orderType"], order["channel"]) == (
        "pending", "standard", "online",
    )  # fmt: skip
    assert order["customer"] == {
        "email": "ada@example.com", "firstName": "Ada", "lastName": "Lovelace",
        "company": "Analytical Engines", "phone": "+44 20 7946 0000", "customerType": "business",
    }  # fmt: skip
    assert order["customerId"].startswith("cust_")
    assert order["billingAddress"] == ADDRESS
    assert order["shippingAddress"]["city"] == "Washington"
    assert order["customFields"] == {"siebelId": "12345"}
    assert order["notes"] == "Deliver before noon"
    [item] = order["items"]
    assert set(item) == ITEM_FIELDS
    assert item == {
        "sku": LAPTOP, "productName": "Laptop Pro 16", "variantName": "Space grey, grade A",
        "quantity": 2, "contractLength": 12, "unitPrice": Decimal("59.99"),
        "listPrice": Decimal("1999.00"), "listPriceSource": "variant",
        "acquisitionCost": Decimal("1200.50"), "acquisitionCostSource": "variant",
        "setupFee": Decimal("25.00"), "rentalIds": [], "rentalStatus": "pending",
    }  # fmt: skip
    assert order["totals"] == {
        "subtotal": Decimal("119.98"), "taxAmount": Decimal("0.00"),
        "total": Decimal("119.98"), "currency": "EUR", "totalDevices": 2,
    }  # fmt: skip
    assert order["payment"] == {
        "status": "pending", "method": "manual", "transactionId": None,
        "paidAmount": Decimal("0.00"), "manuallyMarked": False,
    }  # fmt: skip
    assert order["rentalProgress"] == {"totalDevices": 2, "rentedDevices": 0}
    assert order["rentalIds"] == []
    assert (order["billingGroupId"], order["trackingNumber"], order["shippedAt"]) == (
        None, None, None,
    )  # fmt: skip
    assert (order["extensionDetails"], order["upgradeDetails"]) == (None, None)
    assert order["createdAt"].endswith("Z")
    assert order["createdAt"] == order["updatedAt"]


async def test_get_returns_the_bare_order(api: Api) -> None:
    order = await place(api)
    response = await api.get(f"/v1/orders/{order['orderId']}")
    assert response.status_code == 200
    assert exact(response) == order


async def test_items_are_priced_per_contract_length_and_variant(api: Api) -> None:
    order = await place(
        api,
        order_body(
            items=[
                {"sku": LAPTOP, "quantity": 1},  # the shortest offered length: 6 months
                {"sku": LAPTOP, "quantity": 3, "contractLength": 24},  # 10 % off 49.99
                {"sku": PHONE, "quantity": 1, "contractLength": 12},
            ]
        ),
    )
    shortest, discounted, phone = order["items"]
    assert (shortest["contractLength"], shortest["unitPrice"]) == (6, Decimal("79.99"))
    assert shortest["setupFee"] == Decimal("0.00")
    assert (discounted["contractLength"], discounted["unitPrice"]) == (24, Decimal("44.99"))
    assert (phone["listPrice"], phone["listPriceSource"]) == (None, "unknown")
    assert (phone["acquisitionCost"], phone["acquisitionCostSource"]) == (None, "unknown")
    # 79.99 + 3 × 44.99 + 19.99: the monthly amount of the order.
    assert order["totals"]["subtotal"] == Decimal("234.95")
    assert order["totals"]["totalDevices"] == 5


async def test_the_list_price_stands_in_for_an_unknown_acquisition_cost(api: Api) -> None:
    body = {
        "productSku": "TAB", "name": "Tablet", "specification": "10-inch", "category": "Tablets",
        "brand": "Acme",
        "variants": [{
            "variantSku": "TAB-A", "variantName": "Tablet A", "grade": "A", "listPrice": 499,
            "pricing": [{"contractLength": 12, "monthlyPrice": 15}],
        }],
    }  # fmt: skip
    assert (await api.post("/v1/products", body)).status_code == 201
    order = await place(api, order_body(items=[{"sku": "TAB-A", "quantity": 1}]))
    [item] = order["items"]
    assert (item["acquisitionCost"], item["acquisitionCostSource"]) == (
        Decimal("499.00"), "list_price",
    )  # fmt: skip


async def test_an_unknown_email_creates_the_customer(api: Api) -> None:
    order = await place(api, order_body("New@Example.com", shippingAddress=ADDRESS))
    customer = (await api.get(f"/v1/customers/{order['customerId']}")).json()
    assert customer["email"] == "new@example.com"
    assert (customer["firstName"], customer["lastName"]) == ("Ada", "Lovelace")
    assert customer["totalOrders"] == 1
    assert customer["orderIds"] == [order["orderId"]]
    assert customer["lastBillingAddress"] == ADDRESS
    assert customer["lastShippingAddress"] == ADDRESS


async def test_a_known_email_matches_the_customer_and_moves_its_counters(api: Api) -> None:
    existing = await api.create_customer(email="grace@example.com", firstName="Grace")
    first = await place(api, order_body("GRACE@example.com"))
    second = await place(
        api,
        order_body(
            "grace@example.com",
            items=[{"sku": PHONE, "quantity": 1}],
            billingAddress={**ADDRESS, "city": "Boston"},
        ),
    )
    assert first["customerId"] == second["customerId"] == existing["customerId"]
    customer = (await api.get(f"/v1/customers/{existing['customerId']}")).json()
    assert customer["firstName"] == "Grace"  # the order does not rename the customer
    assert customer["totalOrders"] == 2
    assert customer["orderIds"] == [first["orderId"], second["orderId"]]
    assert customer["lastBillingAddress"]["city"] == "Boston"
    customers = (await api.get("/v1/customers")).json()
    assert customers["count"] == 1


@pytest.mark.parametrize(
    ("vat", "subtotal", "tax", "total"),
    [
        # 2 × 59.99 = 119.98; 19 % of it is 22.7962 → 22.80.
        ({"enabled": True, "rate": 19, "mode": "exclusive"}, "119.98", "22.80", "142.78"),
        # 119.98 − 119.98 × 100 / 119 = 19.1563… → 19.16.
        ({"enabled": True, "rate": 19, "mode": "inclusive"}, "119.98", "19.16", "119.98"),
        ({"enabled": False, "rate": 19, "mode": "exclusive"}, "119.98", "0.00", "119.98"),
        ({"enabled": True, "rate": 7.7, "mode": "exclusive"}, "119.98", "9.24", "129.22"),
    ],
)
async def test_vat_follows_the_settings(
    api: Api, vat: dict[str, Any], subtotal: str, tax: str, total: str
) -> None:
    settings = await api.request("PATCH", "/v1/settings", json={"vat": vat})
    assert settings.status_code == 200, settings.text
    totals = (await place(api))["totals"]
    assert (totals["subtotal"], totals["taxAmount"], totals["total"]) == (
        Decimal(subtotal), Decimal(tax), Decimal(total),
    )  # fmt: skip


async def test_order_ids_take_the_business_units_prefix(api: Api) -> None:
    settings = await api.request("PATCH", "/v1/settings", json={"idPrefixes": {"order": "FX"}})
    assert settings.status_code == 200, settings.text
    assert (await place(api))["orderId"].startswith("FX_")


async def test_extension_and_upgrade_orders_keep_their_details(api: Api) -> None:
    original = await place(api)
    extension = {
        "originalOrderId": original["orderId"], "extensionMonths": 6,
        "previousEndDate": "2026-01-31", "newEndDate": "2026-07-31", "reason": "Project runs on",
    }  # fmt: skip
    extended = await place(
        api, order_body(orderType="extension", extensionDetails=extension, channel="in_store")
    )
    assert (extended["orderType"], extended["channel"]) == ("extension", "in_store")
    assert extended["extensionDetails"] == extension
    upgrade = {
        "previousDevice": "Laptop 14", "previousSerialNumber": "SN-OLD",
        "previousMonthlyAmount": Decimal("39.50"), "previousRentalId": "sub_old",
        "upgradeReason": "More memory",
    }  # fmt: skip
    sent = {**upgrade, "previousMonthlyAmount": 39.5}
    upgraded = await place(
        api,
        order_body(orderType="upgrade", upgradeDetails=sent, items=[{"sku": PHONE, "quantity": 1}]),
    )
    assert upgraded["upgradeDetails"] == upgrade


def _paths(response: Any) -> list[str]:
    return [detail["path"] for detail in response.json()["error"]["details"]]


@pytest.mark.parametrize(
    ("items", "status", "code", "path"),
    [
        ([{"sku": PHONE, "quantity": 1}, {"sku": "NOPE", "quantity": 1}], 404,
         "VARIANT_NOT_FOUND", "items.1.sku"),
        ([{"sku": "NOPE", "quantity": 1, "contractLength": 12}], 404, "VARIANT_NOT_FOUND",
         "items.0.sku"),
        ([{"sku": LAPTOP, "quantity": 1, "contractLength": 36}], 400, "INVALID_CONTRACT_LENGTH",
         "items.0.contractLength"),
    ],
)  # fmt: skip
async def test_catalog_refusals_name_the_item(
    api: Api, items: list[dict[str, Any]], status: int, code: str, path: str
) -> None:
    response = await api.post("/v1/orders", order_body(items=items))
    assert response.status_code == status
    assert error_code(response) == code
    assert _paths(response) == [path]
    # Nothing of the refused order stays: no order, no customer.
    assert (await api.get("/v1/orders")).json()["count"] == 0
    assert (await api.get("/v1/customers")).json()["count"] == 0


async def test_an_inactive_variant_is_refused(api: Api) -> None:
    products = (await api.get("/v1/products")).json()["products"]
    assert (await api.delete(f"/v1/products/{products[0]['productId']}")).status_code == 200
    response = await api.post("/v1/orders", order_body())
    assert response.status_code == 422
    assert error_code(response) == "VARIANT_INACTIVE"
    assert _paths(response) == ["items.0.sku"]


@pytest.mark.parametrize(
    ("overrides", "path", "code"),
    [
        ({"items": []}, "items", "too_small"),
        ({"items": [{"sku": LAPTOP, "quantity": 0}]}, "items.0.quantity", "too_small"),
        ({"items": [{"sku": LAPTOP}]}, "items.0.quantity", "invalid_type"),
        ({"items": [{"sku": LAPTOP, "quantity": 1, "contractLength": 0}]},
         "items.0.contractLength", "too_small"),
        ({"billingAddress": {**ADDRESS, "city": ""}}, "billingAddress.city", "too_small"),
        ({"billingAddress": None}, "billingAddress", "invalid_type"),
        ({"customer": {"email": "not-an-email", "firstName": "A", "lastName": "B"}},
         "customer.email", "invalid_string"),
        ({"orderType": "rental"}, "orderType", "invalid_enum_value"),
        ({"channel": "phone"}, "channel", "invalid_enum_value"),
        ({"notes": "x" * 5001}, "notes", "too_big"),
        ({"orderType": "extension"}, "extensionDetails", "invalid_type"),
        ({"orderType": "upgrade"}, "upgradeDetails", "invalid_type"),
        ({"upgradeDetails": {
            "previousDevice": "X", "previousSerialNumber": "S", "previousMonthlyAmount": 1,
            "previousRentalId": "sub_1",
        }}, "upgradeDetails", "unrecognized_keys"),
        ({"orderType": "upgrade", "upgradeDetails": {
            "previousDevice": "X", "previousSerialNumber": "S", "previousMonthlyAmount": 1.005,
            "previousRentalId": "sub_1",
        }}, "upgradeDetails.previousMonthlyAmount", "not_multiple_of"),
        ({"orderType": "extension", "extensionDetails": {
            "originalOrderId": "ord_x", "extensionMonths": 6, "previousEndDate": "2026-07-31",
            "newEndDate": "2026-01-31",
        }}, "extensionDetails.newEndDate", "too_small"),
    ],
)  # fmt: skip
async def test_validation_errors_name_the_field(
    api: Api, overrides: dict[str, Any], path: str, code: str
) -> None:
    response = await api.post("/v1/orders", order_body(**overrides))
    assert response.status_code == 400, response.text
    assert error_code(response) == "VALIDATION_ERROR"
    details = response.json()["error"]["details"]
    assert (details[0]["path"], details[0]["code"]) == (path, code)


async def test_an_extension_of_an_unknown_order_is_not_found(api: Api) -> None:
    extension = {
        "originalOrderId": "ord_missing", "extensionMonths": 6,
        "previousEndDate": "2026-01-31", "newEndDate": "2026-07-31",
    }  # fmt: skip
    response = await api.post(
        "/v1/orders", order_body(orderType="extension", extensionDetails=extension)
    )
    assert response.status_code == 404
    assert error_code(response) == "ORDER_NOT_FOUND"
    assert _paths(response) == ["extensionDetails.originalOrderId"]


async def test_another_tenants_order_is_not_found(
    api: Api, database: Database, tenant: Tenant
) -> None:
    order = await place(api)
    other = await new_tenant(database)
    stranger = Api(api.client, key=other.live_key, tenant_id=other.id)
    response = await stranger.get(f"/v1/orders/{order['orderId']}")
    assert response.status_code == 404
    assert error_code(response) == "ORDER_NOT_FOUND"
    assert (await stranger.get("/v1/orders")).json()["count"] == 0
    cancel = await stranger.post(f"/v1/orders/{order['orderId']}/cancel", {})
    assert cancel.status_code == 404
    assert (await api.get(f"/v1/orders/{order['orderId']}")).json()["status"] == "pending"


async def test_test_keys_neither_see_live_orders_nor_price_from_the_live_catalog(
    api: Api, tenant: Tenant
) -> None:
    order = await place(api)
    test_api = api.with_key(tenant.test_key)
    assert (await test_api.get(f"/v1/orders/{order['orderId']}")).status_code == 404
    assert (await test_api.get("/v1/orders")).json()["count"] == 0
    response = await test_api.post("/v1/orders", order_body())
    assert error_code(response) == "VARIANT_NOT_FOUND"


async def test_orders_permissions(api: Api, database: Database, tenant: Tenant) -> None:
    order = await place(api)
    reader = api.with_key(await issue_key(database, tenant, permissions=["orders:read"]))
    assert (await reader.get(f"/v1/orders/{order['orderId']}")).status_code == 200
    refused = await reader.post("/v1/orders", order_body("other@example.com"))
    assert refused.status_code == 403
    assert error_code(refused) == "INSUFFICIENT_PERMISSIONS"
    outsider = api.with_key(await issue_key(database, tenant, permissions=["customers:read"]))
    assert (await outsider.get("/v1/orders")).status_code == 403


async def test_placing_an_order_records_order_created(
    api: Api, database: Database, tenant: Tenant
) -> None:
    order = await place(api)
    ctx: TenantContext = await tenant_context(database, tenant)
    async with database.transaction() as session:
        events = (
            await session.scalars(select(Event).where(Event.tenant_id == ctx.tenant_id))
        ).all()
    [event] = events
    body = payload(event)
    assert set(body) == {"event", "timestamp", "data"}
    assert body["event"] == "order.created"
    assert body["timestamp"].endswith("Z")
    data = body["data"]
    assert (data["orderId"], data["customerId"], data["status"]) == (
        order["orderId"], order["customerId"], "pending",
    )  # fmt: skip
    assert data["totals"] == order["totals"]
    assert data["items"] == [
        {"sku": LAPTOP, "quantity": 2, "contractLength": 12, "unitPrice": Decimal("59.99")}
    ]
    # A duplicate answered from the window records nothing more.
    assert (await api.post("/v1/orders", order_body())).status_code == 200
    async with database.transaction() as session:
        count = len((await session.scalars(select(Event.id))).all())
    assert count == 1


async def test_an_order_too_large_to_store_is_refused(api: Api) -> None:
    body = {
        "productSku": "VAULT", "name": "Vault", "specification": "Big", "category": "Safes",
        "brand": "Acme",
        "variants": [{
            "variantSku": "VAULT-A", "variantName": "Vault A", "grade": "A",
            "pricing": [{"contractLength": 12, "monthlyPrice": 9_000_000_000_000}],
        }],
    }  # fmt: skip
    assert (await api.post("/v1/products", body)).status_code == 201
    one = await api.post("/v1/orders", order_body(items=[{"sku": "VAULT-A", "quantity": 1}]))
    assert one.status_code == 201
    many = [{"sku": "VAULT-A", "quantity": 10_000}] * 100
    response = await api.post("/v1/orders", order_body(items=many))
    assert response.status_code == 400
    assert _paths(response) == ["items"]
