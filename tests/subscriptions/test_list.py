"""``GET /v1/subscriptions``: the list under ``rentals``, its filters, sorts and pages."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event, update

from flexbill.core import clock
from flexbill.core.db import Database
from flexbill.subscriptions.models import Subscription
from tests.orders.support import order_body
from tests.subscriptions.support import LAPTOP, PHONE, confirmed_order, register, subscribe
from tests.support import Api, error_code

NOW = datetime(2025, 3, 10, 9, 0, tzinfo=UTC)


@pytest.fixture
async def rentals(api: Api) -> list[dict[str, Any]]:
    """Four subscriptions: three laptops of Ada (two orders) and a phone of Bob."""
    with clock.frozen(NOW):
        ada = await confirmed_order(api)
        more = await confirmed_order(api, catalog=False, **order_body(items=[
            {"sku": LAPTOP, "quantity": 1, "contractLength": 24},
        ]))  # fmt: skip
        bob = await confirmed_order(
            api, catalog=False,
            **order_body("bob@example.com", items=[{"sku": PHONE, "quantity": 1}]),
        )  # fmt: skip
        for serial in ("L-1", "L-2", "L-3"):
            await register(api, serial)
        await register(api, "P-1", sku=PHONE)
        made = []
        starts: list[tuple[dict[str, Any], str, dict[str, Any]]] = [
            (ada, "L-1", {"startDate": "2025-01-01"}),
            (ada, "L-2", {"startDate": "2025-02-01", "contractLength": 6}),
            (more, "L-3", {"customFields": {"branch": "north"}}),
            (bob, "P-1", {}),
        ]
        for minutes, (order, serial, fields) in enumerate(starts):
            clock.advance(timedelta(minutes=minutes + 1))
            made.append(await subscribe(api, order, serial, **fields))
        return made


async def _ids(api: Api, **params: Any) -> list[str]:
    response = await api.get("/v1/subscriptions", **params)
    assert response.status_code == 200, response.text
    return [rental["rentalId"] for rental in response.json()["rentals"]]


async def test_newest_first_under_rentals(api: Api, rentals: list[dict[str, Any]]) -> None:
    response = await api.get("/v1/subscriptions")
    body = response.json()
    assert set(body) == {"rentals", "count", "limit", "hasMore", "nextCursor"}
    assert [r["rentalId"] for r in body["rentals"]] == [r["rentalId"] for r in rentals][::-1]
    assert (body["count"], body["limit"], body["hasMore"], body["nextCursor"]) == (
        4,
        50,
        False,
        None,
    )


async def test_each_rental_names_its_customer_and_a_page_reads_customers_once(
    api: Api, database: Database, rentals: list[dict[str, Any]]
) -> None:
    statements: list[str] = []

    def remember(*args: Any) -> None:
        statements.append(args[2])

    event.listen(database.read_engine.sync_engine, "before_cursor_execute", remember)
    try:
        response = await api.get("/v1/subscriptions")
    finally:
        event.remove(database.read_engine.sync_engine, "before_cursor_execute", remember)

    assert response.status_code == 200, response.text
    names = [(r["customerEmail"], r["customerName"]) for r in response.json()["rentals"]]
    assert (
        names == [("bob@example.com", "Ada Lovelace")] + [("ada@example.com", "Ada Lovelace")] * 3
    )
    # Four rentals of two customers: the customers come from one query.
    assert len([sql for sql in statements if "FROM customers" in sql]) == 1


async def test_a_nul_character_in_a_filter_is_refused(api: Api) -> None:
    response = await api.get("/v1/subscriptions", customerId="cust\x00x")
    assert (response.status_code, error_code(response)) == (400, "VALIDATION_ERROR")
    assert "U+0000" in response.json()["error"]["message"]


async def test_filters(api: Api, rentals: list[dict[str, Any]]) -> None:
    l1, l2, l3, p1 = (rental["rentalId"] for rental in rentals)
    ada = rentals[0]["customerId"]
    assert await _ids(api, customerId=ada, sortDir="asc") == [l1, l2, l3]
    assert await _ids(api, orderId=rentals[0]["orderId"], sortDir="asc") == [l1, l2]
    assert await _ids(api, serialNumber="P-1") == [p1]
    assert await _ids(api, sku=PHONE) == [p1]
    # L-1 ends 2026-01-01, L-2 2025-08-01, L-3 2027-03-10, P-1 2026-03-10.
    assert await _ids(api, endDateFrom="2026-01-01", sortBy="endDate", sortDir="asc") == [
        l1, p1, l3,
    ]  # fmt: skip
    assert await _ids(api, endDateTo="2026-01-01", sortBy="endDate") == [l1, l2]
    assert await _ids(api, endDateFrom="2025-08-01", endDateTo="2025-08-01") == [l2]
    assert await _ids(api, customField_branch="north") == [l3]
    assert await _ids(api, status="active", customerId=ada, sortDir="asc") == [l1, l2, l3]


async def test_status_filter_speaks_flexportal(
    api: Api, database: Database, rentals: list[dict[str, Any]]
) -> None:
    l1, l2, _, _ = (rental["rentalId"] for rental in rentals)
    async with database.transaction() as session:
        await session.execute(
            update(Subscription)
            .where(Subscription.id == l1)
            .values(status="ended", end_reason="buyout")
        )
        await session.execute(
            update(Subscription).where(Subscription.id == l2).values(status="cancelled")
        )
    assert await _ids(api, status="ended_buyout") == [l1]
    assert await _ids(api, status="cancelled") == [l2]
    assert await _ids(api, status="ended_upgrade") == []
    assert len(await _ids(api, status="active")) == 2
    shown = (await api.get(f"/v1/subscriptions/{l1}")).json()
    assert shown["status"] == "ended_buyout"


@pytest.mark.parametrize(
    ("params", "path"),
    [
        ({"status": "ended"}, "status"),
        ({"status": "paused"}, "status"),
        ({"endDateFrom": "yesterday"}, "endDateFrom"),
        ({"endDateTo": "2025-13-01"}, "endDateTo"),
        ({"sortBy": "customerId"}, "sortBy"),
        ({"limit": 101}, "limit"),
    ],
)
async def test_invalid_parameters(api: Api, params: dict[str, Any], path: str) -> None:
    response = await api.get("/v1/subscriptions", **params)
    assert (response.status_code, error_code(response)) == (400, "VALIDATION_ERROR")
    assert path in [detail["path"] for detail in response.json()["error"]["details"]]


@pytest.mark.parametrize(
    ("sort_by", "key"),
    [
        ("startDate", "startDate"),
        ("endDate", "endDate"),
        ("monthlyAmount", "monthlyAmount"),
        ("createdAt", "createdAt"),
        ("updatedAt", "updatedAt"),
    ],
)
async def test_pages_follow_each_sort(
    api: Api, rentals: list[dict[str, Any]], sort_by: str, key: str
) -> None:
    """Walking two at a time with ``nextCursor`` returns every subscription once, in order."""
    for direction in ("asc", "desc"):
        seen: list[dict[str, Any]] = []
        cursor = None
        while True:
            params: dict[str, Any] = {"limit": 2, "sortBy": sort_by, "sortDir": direction}
            if cursor:
                params["startAfter"] = cursor
            body = (await api.get("/v1/subscriptions", **params)).json()
            seen.extend(body["rentals"])
            cursor = body["nextCursor"]
            if not body["hasMore"]:
                break
        assert sorted(r["rentalId"] for r in seen) == sorted(r["rentalId"] for r in rentals)
        values = [(r[key], r["rentalId"]) for r in seen]
        assert values == sorted(values, reverse=direction == "desc")


async def test_a_bare_rental_id_is_a_cursor(api: Api, rentals: list[dict[str, Any]]) -> None:
    ids = [rental["rentalId"] for rental in rentals][::-1]
    assert await _ids(api, startAfter=ids[1]) == ids[2:]
