"""One order per customer e-mail + items within the tenant's window (seed 000, DESIGN
rule 8), through ``POST /v1/orders``: retried, raced, and after the window."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from flexbill.core import clock
from tests.orders.support import LAPTOP, PHONE, create_catalog, order_body
from tests.support import Api

TWO_LINES = [
    {"sku": LAPTOP, "quantity": 2, "contractLength": 12},
    {"sku": PHONE, "quantity": 1, "contractLength": 12},
]
T0 = datetime(2025, 1, 15, 10, 30, tzinfo=UTC)


@pytest.fixture(autouse=True)
async def catalog(api: Api) -> None:
    await create_catalog(api)


async def _order_count(api: Api) -> int:
    count: int = (await api.get("/v1/orders")).json()["count"]
    return count


async def test_a_retried_order_answers_the_existing_one(api: Api) -> None:
    first = await api.post("/v1/orders", order_body(items=TWO_LINES))
    assert first.status_code == 201
    again = await api.post(
        "/v1/orders", order_body("ADA@example.com", items=list(reversed(TWO_LINES)))
    )
    assert again.status_code == 200
    body = again.json()
    assert body["success"] is True
    assert "identical order" in body["message"]
    assert body["orderId"] == first.json()["orderId"]
    assert body["order"] == first.json()["order"]
    assert await _order_count(api) == 1
    customer_id = body["order"]["customerId"]
    customer = (await api.get(f"/v1/customers/{customer_id}")).json()
    assert customer["totalOrders"] == 1


@pytest.mark.parametrize(
    "changed",
    [
        {"customer": {"email": "bob@example.com", "firstName": "Bob", "lastName": "B"}},
        {"items": [{"sku": LAPTOP, "quantity": 3, "contractLength": 12}]},
        {"items": [{"sku": LAPTOP, "quantity": 2, "contractLength": 24}]},
        {"items": [{"sku": LAPTOP, "quantity": 2}]},  # the contract length left out
        {"items": [{"sku": LAPTOP, "quantity": 2, "contractLength": 12}] * 2},
    ],
)
async def test_a_different_email_or_items_is_another_order(
    api: Api, changed: dict[str, Any]
) -> None:
    first = await api.post("/v1/orders", order_body())
    other = await api.post("/v1/orders", order_body(**changed))
    assert (first.status_code, other.status_code) == (201, 201)
    assert other.json()["orderId"] != first.json()["orderId"]


async def test_the_same_items_for_another_upgrade_are_another_order(api: Api) -> None:
    def upgrade(rental_id: str) -> dict[str, Any]:
        details = {
            "previousDevice": "Laptop 14", "previousSerialNumber": f"SN-{rental_id}",
            "previousMonthlyAmount": 39.5, "previousRentalId": rental_id,
        }  # fmt: skip
        return order_body(orderType="upgrade", upgradeDetails=details)

    standard = await api.post("/v1/orders", order_body())
    first = await api.post("/v1/orders", upgrade("sub_1"))
    second = await api.post("/v1/orders", upgrade("sub_2"))
    retried = await api.post("/v1/orders", upgrade("sub_2"))
    assert [r.status_code for r in (standard, first, second, retried)] == [201, 201, 201, 200]
    assert retried.json()["orderId"] == second.json()["orderId"]
    assert await _order_count(api) == 3


async def test_identical_orders_sent_at_once_make_one_order(api: Api) -> None:
    responses = await asyncio.gather(
        *(api.post("/v1/orders", order_body(items=TWO_LINES)) for _ in range(4))
    )
    assert sorted(r.status_code for r in responses) == [200, 200, 200, 201]
    assert len({r.json()["orderId"] for r in responses}) == 1
    assert await _order_count(api) == 1
    assert (await api.get("/v1/customers")).json()["count"] == 1


async def test_orders_of_one_new_customer_sent_at_once_share_the_customer(api: Api) -> None:
    bodies = [order_body(items=[{"sku": LAPTOP, "quantity": quantity}]) for quantity in (1, 2, 3)]
    responses = await asyncio.gather(*(api.post("/v1/orders", body) for body in bodies))
    assert [r.status_code for r in responses] == [201, 201, 201]
    customer_ids = {r.json()["order"]["customerId"] for r in responses}
    assert len(customer_ids) == 1
    customer = (await api.get(f"/v1/customers/{customer_ids.pop()}")).json()
    assert customer["totalOrders"] == 3
    assert sorted(customer["orderIds"]) == sorted(r.json()["orderId"] for r in responses)


async def test_after_the_window_the_same_order_is_placed_again(api: Api) -> None:
    with clock.frozen(T0):
        first = await api.post("/v1/orders", order_body())
    with clock.frozen(T0 + timedelta(minutes=9, seconds=59)):
        within = await api.post("/v1/orders", order_body())
    with clock.frozen(T0 + timedelta(minutes=10)):
        after = await api.post("/v1/orders", order_body())
    with clock.frozen(T0 + timedelta(minutes=11)):
        retried_after = await api.post("/v1/orders", order_body())
    assert [r.status_code for r in (first, within, after, retried_after)] == [201, 200, 201, 200]
    assert within.json()["orderId"] == first.json()["orderId"]
    assert after.json()["orderId"] != first.json()["orderId"]
    assert retried_after.json()["orderId"] == after.json()["orderId"]
    assert await _order_count(api) == 2


async def test_the_window_is_a_setting(api: Api) -> None:
    patch = {"orders": {"idempotencyWindowMinutes": 1}}
    assert (await api.request("PATCH", "/v1/settings", json=patch)).status_code == 200
    with clock.frozen(T0):
        first = await api.post("/v1/orders", order_body())
    with clock.frozen(T0 + timedelta(seconds=59)):
        within = await api.post("/v1/orders", order_body())
    with clock.frozen(T0 + timedelta(seconds=61)):
        after = await api.post("/v1/orders", order_body())
    assert [r.status_code for r in (first, within, after)] == [201, 200, 201]
    assert "within the last minute;" in within.json()["message"]


async def test_a_cancelled_order_can_be_placed_again_at_once(api: Api) -> None:
    first = (await api.post("/v1/orders", order_body())).json()
    cancelled = await api.post(f"/v1/orders/{first['orderId']}/cancel", {"reason": "Typo"})
    assert cancelled.status_code == 200
    again = await api.post("/v1/orders", order_body())
    assert again.status_code == 201
    assert again.json()["orderId"] != first["orderId"]
