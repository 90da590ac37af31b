"""``GET /v1/orders``: the envelope, every filter, every sort order and the cursor walk."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from tests.orders.support import LAPTOP, PHONE, create_catalog, exact, order_body, place
from tests.support import Api, error_code


@pytest.fixture
async def orders(api: Api) -> list[dict[str, Any]]:
    """Five orders, oldest first, with distinct totals, statuses, channels and fields."""
    await create_catalog(api)
    specs = [
        ("a@example.com", PHONE, 1, "online", {"siebelId": "111"}),  # 19.99
        ("b@example.com", LAPTOP, 3, "in_store", {"siebelId": "222"}),  # 179.97
        ("a@example.com", LAPTOP, 1, "online", {"siebelId": "111", "vip": True}),  # 59.99
        ("c@example.com", PHONE, 4, "in_store", {}),  # 79.96
        ("b@example.com", LAPTOP, 2, "online", {"siebelId": "333"}),  # 119.98
    ]
    placed = []
    for email, sku, quantity, channel, fields in specs:
        body = order_body(
            email,
            items=[{"sku": sku, "quantity": quantity, "contractLength": 12}],
            channel=channel,
            customFields=fields,
        )
        placed.append(await place(api, body))
    confirm = await api.post(f"/v1/orders/{placed[1]['orderId']}/confirm", None)
    assert confirm.status_code == 200
    cancel = await api.post(f"/v1/orders/{placed[3]['orderId']}/cancel", {})
    assert cancel.status_code == 200
    return [exact(await api.get(f"/v1/orders/{order['orderId']}")) for order in placed]


async def _ids(api: Api, **params: Any) -> list[str]:
    response = await api.get("/v1/orders", **params)
    assert response.status_code == 200, response.text
    return [order["orderId"] for order in response.json()["orders"]]


async def test_the_envelope_and_the_default_order(api: Api, orders: list[dict[str, Any]]) -> None:
    response = await api.get("/v1/orders")
    body = exact(response)
    assert set(body) == {"orders", "count", "limit", "hasMore", "nextCursor"}
    assert (body["count"], body["limit"], body["hasMore"], body["nextCursor"]) == (
        5, 50, False, None,
    )  # fmt: skip
    assert body["orders"] == list(reversed(orders))  # newest first


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"status": "pending"}, [4, 2, 0]),
        ({"status": "confirmed"}, [1]),
        ({"status": "cancelled"}, [3]),
        ({"channel": "in_store"}, [3, 1]),
        ({"orderType": "standard"}, [4, 3, 2, 1, 0]),
        ({"customField_siebelId": "111"}, [2, 0]),
        ({"customField_vip": "true"}, [2]),
        ({"customField_siebelId": "111", "status": "pending", "channel": "online"}, [2, 0]),
        ({"customField_unknown": "x"}, []),
    ],
)
async def test_filters(
    api: Api, orders: list[dict[str, Any]], params: dict[str, str], expected: list[int]
) -> None:
    assert await _ids(api, **params) == [orders[i]["orderId"] for i in expected]


async def test_filter_by_customer(api: Api, orders: list[dict[str, Any]]) -> None:
    customer_id = orders[1]["customerId"]
    assert customer_id == orders[4]["customerId"]
    assert await _ids(api, customerId=customer_id) == [orders[4]["orderId"], orders[1]["orderId"]]


@pytest.mark.parametrize(
    ("sort_by", "key"),
    [
        ("totals.total", lambda o: (o["totals"]["total"], o["orderId"])),
        ("orderId", lambda o: o["orderId"]),
        ("status", lambda o: (o["status"], o["orderId"])),
        ("createdAt", lambda o: (o["createdAt"], o["orderId"])),
        ("updatedAt", lambda o: (o["updatedAt"], o["orderId"])),
    ],
)
@pytest.mark.parametrize("sort_dir", ["asc", "desc"])
async def test_every_sort_order_walks_every_order_once(
    api: Api, orders: list[dict[str, Any]], sort_by: str, key: Any, sort_dir: str
) -> None:
    expected = [o["orderId"] for o in sorted(orders, key=key, reverse=sort_dir == "desc")]
    walked: list[str] = []
    cursor = None
    while True:
        params = {"sortBy": sort_by, "sortDir": sort_dir, "limit": 2}
        if cursor:
            params["startAfter"] = cursor
        page = (await api.get("/v1/orders", **params)).json()
        walked += [order["orderId"] for order in page["orders"]]
        cursor = page["nextCursor"]
        assert page["hasMore"] is (cursor is not None)
        if cursor is None:
            break
    assert walked == expected


async def test_sorting_by_total_compares_amounts_not_text(
    api: Api, orders: list[dict[str, Any]]
) -> None:
    response = await api.get("/v1/orders", sortBy="totals.total", sortDir="asc")
    totals = [order["totals"]["total"] for order in exact(response)["orders"]]
    assert totals == [
        Decimal("19.99"), Decimal("59.99"), Decimal("79.96"), Decimal("119.98"),
        Decimal("179.97"),
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("params", "path"),
    [
        ({"status": "shipped"}, "status"),
        ({"channel": "phone"}, "channel"),
        ({"sortBy": "total"}, "sortBy"),
        ({"startAfter": "not-a-cursor"}, "startAfter"),
    ],
)
async def test_invalid_parameters_are_refused(
    api: Api, orders: list[dict[str, Any]], params: dict[str, str], path: str
) -> None:
    response = await api.get("/v1/orders", **params)
    assert response.status_code == 400
    assert error_code(response) == "VALIDATION_ERROR"
    assert response.json()["error"]["details"][0]["path"] == path
