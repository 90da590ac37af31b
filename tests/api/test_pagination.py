"""Cursor pagination: walking the pages while rows come and go returns every row that
existed throughout exactly once."""

from __future__ import annotations

import random
from typing import Any

import pytest
from sqlalchemy import delete, update

from flexbill.core.db import Database
from flexbill.customers.models import Customer
from tests.support import Api, error_code


async def _walk(api: Api, during_each_page: Any = None, **params: Any) -> list[str]:
    """The seed's 'Iterating Through Pages' loop."""
    seen: list[str] = []
    cursor = None
    while True:
        query = {"limit": 7, **params}
        if cursor:
            query["startAfter"] = cursor
        response = await api.get("/v1/customers", **query)
        assert response.status_code == 200, response.text
        data = response.json()
        seen.extend(c["customerId"] for c in data["customers"])
        cursor = data["nextCursor"]
        assert data["hasMore"] == (cursor is not None)
        if during_each_page is not None:
            await during_each_page()
        if not cursor:
            return seen


@pytest.mark.parametrize(
    "order",
    [
        {},
        {"sortDir": "asc"},
        {"sortBy": "lastName", "sortDir": "asc"},
        {"sortBy": "email", "sortDir": "desc"},
        {"sortBy": "totalMonthlyRevenue"},
        {"sortBy": "totalMonthlyRevenue", "sortDir": "asc"},
    ],
)
async def test_walk_under_concurrent_inserts_and_deletes(
    api: Api, database: Database, order: dict[str, str]
) -> None:
    rng = random.Random(7)
    names = ["Ames", "Baker", "Baker", "Chen", "Diaz", "Diaz", "Evans"]
    initial = [
        (await api.create_customer(lastName=rng.choice(names), email=f"c{i:03d}@example.com"))[
            "customerId"
        ]
        for i in range(40)
    ]
    doomed = set(rng.sample(initial, 12))
    survivors = [c for c in initial if c not in doomed]
    pending_deletes = list(doomed)
    added: list[str] = []

    async def churn() -> None:
        for _ in range(2):
            added.append((await api.create_customer(lastName=rng.choice(names)))["customerId"])
        if pending_deletes:
            victim = pending_deletes.pop()
            async with database.transaction() as session:
                await session.execute(delete(Customer).where(Customer.id == victim))

    seen = await _walk(api, churn, **order)
    assert len(seen) == len(set(seen)), "a row was returned twice"
    assert set(survivors) <= set(seen), "a row that existed throughout was skipped"
    assert set(seen) <= set(initial) | set(added)


async def test_start_after_accepts_a_bare_id(api: Api) -> None:
    ids = [(await api.create_customer())["customerId"] for _ in range(5)]
    newest_first = list(reversed(ids))
    response = await api.get("/v1/customers", startAfter=newest_first[1])
    assert [c["customerId"] for c in response.json()["customers"]] == newest_first[2:]


async def test_cursor_must_match_the_sort(api: Api) -> None:
    for _ in range(3):
        await api.create_customer()
    cursor = (await api.get("/v1/customers", limit=1)).json()["nextCursor"]
    response = await api.get("/v1/customers", startAfter=cursor, sortBy="email")
    assert response.status_code == 400
    assert error_code(response) == "VALIDATION_ERROR"


async def test_empty_list(api: Api) -> None:
    body = (await api.get("/v1/customers")).json()
    assert body == {"customers": [], "count": 0, "limit": 50, "hasMore": False, "nextCursor": None}


async def test_pages_follow_the_sort_values(api: Api, database: Database) -> None:
    ids = [(await api.create_customer())["customerId"] for _ in range(9)]
    revenue = dict(zip(ids, [300, 100, 200, 100, 300, 0, 200, 100, 0], strict=True))
    async with database.transaction() as session:
        for customer_id, amount in revenue.items():
            await session.execute(
                update(Customer)
                .where(Customer.id == customer_id)
                .values(total_monthly_revenue=amount)
            )
    walked = await _walk_with_limit(api, 2, sortBy="totalMonthlyRevenue", sortDir="asc")
    assert [revenue[i] for i in walked] == sorted(revenue.values())
    assert sorted(walked) == sorted(ids)


async def _walk_with_limit(api: Api, limit: int, **params: Any) -> list[str]:
    seen: list[str] = []
    cursor = None
    while True:
        query = {"limit": limit, **params, **({"startAfter": cursor} if cursor else {})}
        data = (await api.get("/v1/customers", **query)).json()
        seen.extend(c["customerId"] for c in data["customers"])
        cursor = data["nextCursor"]
        if not cursor:
            return seen
