"""``POST /v1/usage/batch``: one result per record, the valid ones stored whatever the
others do, retries and concurrent batches stored once."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import func, select

from flexbill.api.v1.usage.schemas import (
    UsageBatchAnswer,
    UsageRecordBody,
    batch_answer,
    record_json,
)
from flexbill.core.db import Database
from flexbill.core.errors import ValidationFailed
from flexbill.tenancy.service import environment_context
from flexbill.usage import service
from flexbill.usage.models import UsageRecord
from flexbill.usage.rules import NewUsage
from flexbill.usage.service import Outcome, Recorded
from flexbill.usage.views import UsageView
from tests.support import Api, Tenant, error_code
from tests.usage.support import (
    FLAT_IN_ARREARS,
    START,
    TIERED,
    D,
    exact,
    metered,
    raw_post,
    record,
)


async def stored(database: Database) -> dict[str, Decimal]:
    """client id → quantity of every stored record."""
    async with database.transaction(write=False) as session:
        rows = await session.execute(select(UsageRecord.client_id, UsageRecord.quantity))
        return {client_id: Decimal(quantity) for client_id, quantity in rows}


async def test_each_record_gets_its_own_outcome_in_order(
    api: Api, database: Database, tenant: Tenant
) -> None:
    subscribed = await metered(api, database, tenant, TIERED, FLAT_IN_ARREARS)
    earlier = await api.post("/v1/usage", record(subscribed, id="old", quantity=5))
    assert earlier.status_code == 201
    without_start = record(subscribed, id="no-start")
    del without_start["startDate"]
    records: list[Any] = [
        record(subscribed, id="a", quantity="1.25"),
        record(subscribed, id="negative", quantity=-1),
        record(subscribed, id="lost", subscriptionId="psub_unknown"),
        record(subscribed, id="a", quantity="1.250"),
        record(subscribed, id="a", quantity=2),
        record(subscribed, id="old", quantity=5),
        record(subscribed, id="old", quantity=6),
        42,
        without_start,
        record(subscribed, quantity=7),
        record(subscribed, 1, id="flat"),
    ]
    response = await api.post("/v1/usage/batch", {"records": records})
    assert response.status_code == 200, response.text
    answer = exact(response)
    assert (answer["success"], answer["created"], answer["duplicates"], answer["failed"]) == (
        True, 2, 2, 7,
    )  # fmt: skip
    results = answer["results"]
    assert [r["index"] for r in results] == list(range(len(records)))
    assert [r["status"] for r in results] == [
        "created", "error", "error", "duplicate", "error", "duplicate", "error", "error",
        "error", "created", "error",
    ]  # fmt: skip

    def problem(index: int) -> tuple[str, str, str]:
        error = results[index]["error"]
        assert results[index]["usageRecord"] is None
        [detail] = error["details"]
        return error["code"], detail["path"], detail["code"]

    assert problem(1) == ("VALIDATION_ERROR", "records.1.quantity", "too_small")
    assert problem(2) == ("SUBSCRIPTION_NOT_FOUND", "records.2.subscriptionId", "not_found")
    assert problem(4) == ("USAGE_ID_CONFLICT", "records.4.id", "conflict")
    assert problem(6) == ("USAGE_ID_CONFLICT", "records.6.id", "conflict")
    assert problem(7) == ("VALIDATION_ERROR", "records.7", "invalid_type")
    assert problem(8) == ("VALIDATION_ERROR", "records.8.startDate", "invalid_type")
    assert problem(10) == ("USAGE_NOT_METERED", "records.10.itemId", "not_metered")
    created = results[0]["usageRecord"]
    assert (created["clientId"], created["quantity"]) == ("a", Decimal("1.25"))
    assert results[3]["usageRecord"] == created
    assert results[5]["usageRecord"] == exact(earlier)["usageRecord"]
    assert results[9]["usageRecord"]["clientId"] == results[9]["usageRecord"]["id"]
    assert all(r["error"] is None for r in results if r["status"] != "error")
    assert await stored(database) == {
        "old": Decimal(5),
        "a": Decimal("1.25"),
        results[9]["usageRecord"]["id"]: Decimal(7),
    }
    listed = (await api.get("/v1/usage", sortDir="asc")).json()["usageRecords"]
    assert [u["clientId"] for u in listed] == ["old", "a", results[9]["usageRecord"]["id"]]


async def test_a_full_batch_is_stored_once_and_its_retry_changes_nothing(
    api: Api, database: Database, tenant: Tenant
) -> None:
    subscribed = await metered(api, database, tenant)
    records = [
        record(subscribed, number % 2, id=f"r{number:04d}", quantity=f"{number}.000001")
        for number in range(1000)
    ]
    first = await api.post("/v1/usage/batch", {"records": records})
    assert first.status_code == 200
    assert (first.json()["created"], first.json()["duplicates"]) == (1000, 0)
    rows = await stored(database)
    assert len(rows) == 1000
    assert rows["r0999"] == Decimal("999.000001")
    again = await api.post("/v1/usage/batch", {"records": records})
    assert (again.json()["created"], again.json()["duplicates"], again.json()["failed"]) == (
        0, 1000, 0,
    )  # fmt: skip
    assert [r["usageRecord"]["id"] for r in again.json()["results"]] == [
        r["usageRecord"]["id"] for r in first.json()["results"]
    ]
    assert len(await stored(database)) == 1000


async def test_quantities_in_a_batch_are_read_exactly(
    api: Api, database: Database, tenant: Tenant
) -> None:
    subscribed = await metered(api, database, tenant)
    head = f'"subscriptionId": "{subscribed.subscription_id}", "itemId": "{subscribed.item_ids[0]}"'
    dates = '"startDate": "2026-01-03", "endDate": "2026-01-03"'
    text = (
        f'{{"records": [{{{head}, {dates}, "id": "x", "quantity": 999999999.999999}}, '
        f'{{{head}, {dates}, "id": "y", "quantity": 0.1000000000000000055511151231257827}}]}}'
    )
    response = await raw_post(api, "/v1/usage/batch", text)
    assert response.status_code == 200
    results = exact(response)["results"]
    assert results[0]["usageRecord"]["quantity"] == Decimal("999999999.999999")
    assert results[1]["error"]["details"][0]["path"] == "records.1.quantity"
    assert await stored(database) == {"x": Decimal("999999999.999999")}


async def test_more_than_a_thousand_records_or_no_list_is_refused_whole(
    api: Api, database: Database, tenant: Tenant
) -> None:
    subscribed = await metered(api, database, tenant)
    too_many = await api.post(
        "/v1/usage/batch", {"records": [record(subscribed) for _ in range(1001)]}
    )
    assert too_many.status_code == 400
    assert error_code(too_many) == "VALIDATION_ERROR"
    assert too_many.json()["error"]["details"][0]["path"] == "records"
    assert too_many.json()["error"]["details"][0]["code"] == "too_big"
    for body in ({}, {"records": {"a": 1}}, [record(subscribed)]):
        response = await api.post("/v1/usage/batch", body)
        assert response.status_code == 400, body
        assert response.json()["error"]["details"][0]["path"] == "records"
    empty = await api.post("/v1/usage/batch", {"records": []})
    assert empty.status_code == 200
    assert empty.json() == {
        "success": True, "created": 0, "duplicates": 0, "failed": 0, "results": []
    }  # fmt: skip
    assert await stored(database) == {}


async def test_a_batch_of_refused_records_stores_nothing(
    api: Api, database: Database, tenant: Tenant
) -> None:
    subscribed = await metered(api, database, tenant)
    records = [record(subscribed, startDate="2025-12-01"), record(subscribed, itemId="si_x")]
    answer = (await api.post("/v1/usage/batch", {"records": records})).json()
    assert (answer["created"], answer["failed"]) == (0, 2)
    assert [r["error"]["code"] for r in answer["results"]] == [
        "VALIDATION_ERROR", "SUBSCRIPTION_ITEM_NOT_FOUND",
    ]  # fmt: skip
    assert await stored(database) == {}


async def test_concurrent_batches_with_shared_ids_store_each_record_once(
    app: FastAPI, api: Api, database: Database, tenant: Tenant
) -> None:
    subscribed = await metered(api, database, tenant)
    # Overlapping ids 100–199, sent in opposite orders: the two transactions meet on
    # them from both ends.
    left = [record(subscribed, id=f"c{n:03d}", quantity=n) for n in range(200)]
    right = [record(subscribed, id=f"c{n:03d}", quantity=n) for n in range(299, 99, -1)]
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 40001))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as other:
        second = Api(other, key=tenant.live_key, tenant_id=tenant.id)
        answers = await asyncio.gather(
            api.post("/v1/usage/batch", {"records": left}),
            second.post("/v1/usage/batch", {"records": right}),
        )
    assert [a.status_code for a in answers] == [200, 200], [a.text for a in answers]
    bodies = [a.json() for a in answers]
    assert sum(b["created"] for b in bodies) == 300
    assert sum(b["duplicates"] for b in bodies) == 100
    assert sum(b["failed"] for b in bodies) == 0
    rows = await stored(database)
    assert rows == {f"c{n:03d}": Decimal(n) for n in range(300)}
    by_client: dict[str, str] = {}
    for body in bodies:
        for result in body["results"]:
            usage = result["usageRecord"]
            assert by_client.setdefault(usage["clientId"], usage["id"]) == usage["id"]
    async with database.transaction(write=False) as session:
        count = await session.scalar(select(func.count(func.distinct(UsageRecord.id))))
    assert count == 300


async def test_a_batch_waiting_on_another_tells_its_repeats_from_its_conflicts(
    api: Api, database: Database, tenant: Tenant
) -> None:
    """The second transaction looks its client ids up before the first commits
    (PostgreSQL; SQLite's second writer waits for the first before it reads anything),
    so it learns of the first one's records only from its own insert."""
    subscribed = await metered(api, database, tenant)
    item = subscribed.item_ids[0]
    shared = NewUsage(subscribed.subscription_id, item, D(4), START, START, client_id="s1")
    changed = replace(shared, client_id="s2", quantity=D(5))
    own = replace(shared, client_id="s3")
    async with database.transaction() as first:
        ctx = await environment_context(first, tenant.id, "live")
        earlier = await service.record_batch(first, ctx, [shared, replace(changed, quantity=D(9))])
        assert [r.outcome for r in earlier] == [Outcome.CREATED, Outcome.CREATED]

        async def second_batch() -> list[service.Recorded]:
            async with database.transaction() as second:
                return await service.record_batch(second, ctx, [own, changed, shared])

        waiting = asyncio.create_task(second_batch())
        await asyncio.sleep(0.3)
        assert not waiting.done()
    later = await waiting
    assert [r.outcome for r in later] == [Outcome.CREATED, Outcome.FAILED, Outcome.DUPLICATE]
    assert later[1].error is not None
    assert later[1].error.code == "USAGE_ID_CONFLICT"
    assert later[2].usage == earlier[0].usage
    assert await stored(database) == {"s1": D(4), "s2": D(9), "s3": D(4)}


def test_the_hand_built_answer_has_the_documented_shape() -> None:
    view = UsageView(
        id="usage_1", client_id="c", customer_id="cust_1", subscription_id="psub_1",
        item_id="si_1", name=None, description="d", quantity=D("2.5"), start_date=START,
        end_date=START, status="pending", invoice_id=None,
        created_at=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
    )  # fmt: skip
    assert record_json(view) == UsageRecordBody.of(view).model_dump(by_alias=True)
    refused = ValidationFailed.field("records.1.quantity", "bad", "too_small")
    closed = Recorded(Outcome.FAILED, error=ValidationFailed.field("startDate", "x", "too_big"))
    answer = batch_answer([Recorded(Outcome.CREATED, usage=view), refused, closed])
    documented = UsageBatchAnswer.model_validate(answer)
    assert documented.model_dump(by_alias=True) == answer
    assert [r["error"]["details"][0]["path"] for r in answer["results"][1:]] == [
        "records.1.quantity", "records.2.startDate",
    ]  # fmt: skip
