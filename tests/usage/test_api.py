"""Recording, reading and listing usage records on the /v1 face, as a client would."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select

from flexbill.core import clock
from flexbill.core.db import Database
from flexbill.plan_subscriptions.models import PlanSubscriptionStatus
from flexbill.usage.models import UsageRecord
from tests.support import Api, Tenant, error_code, issue_key, new_tenant
from tests.usage.support import (
    FLAT_IN_ARREARS,
    PER_UNIT_IN_ADVANCE,
    bill_through,
    customer_of,
    end_item,
    exact,
    metered,
    raw_post,
    record,
)

RECORD_FIELDS = {
    "id", "clientId", "customerId", "subscriptionId", "itemId", "name", "description",
    "quantity", "startDate", "endDate", "status", "invoiceId", "createdAt",
}  # fmt: skip
T0 = datetime(2026, 1, 10, 9, 30, tzinfo=UTC)


async def stored_count(database: Database) -> int:
    async with database.transaction(write=False) as session:
        return int(await session.scalar(select(func.count()).select_from(UsageRecord)) or 0)


async def test_a_record_is_stored_and_answered_whole(
    api: Api, database: Database, tenant: Tenant
) -> None:
    subscribed = await metered(api, database, tenant)
    body = record(
        subscribed, quantity="12.5", startDate="2026-01-05", endDate="2026-01-06",
        id="meter-7:2026-01-05", name="API calls", description="Gateway A",
    )  # fmt: skip
    with clock.frozen(T0):
        response = await api.post("/v1/usage", body)
    assert response.status_code == 201, response.text
    answer = exact(response)
    assert answer["success"] is True
    assert answer["message"] == "Usage recorded"
    assert answer["duplicate"] is False
    usage = answer["usageRecord"]
    assert set(usage) == RECORD_FIELDS
    assert usage["id"].startswith("usage_")
    customer_id = await customer_of(database, subscribed)
    assert usage == {
        "id": usage["id"], "clientId": "meter-7:2026-01-05", "customerId": customer_id,
        "subscriptionId": subscribed.subscription_id, "itemId": subscribed.item_ids[0],
        "name": "API calls", "description": "Gateway A", "quantity": Decimal("12.5"),
        "startDate": "2026-01-05", "endDate": "2026-01-06", "status": "pending",
        "invoiceId": None, "createdAt": "2026-01-10T09:30:00Z",
    }  # fmt: skip
    read = await api.get(f"/v1/usage/{usage['id']}")
    assert read.status_code == 200
    assert exact(read) == {"success": True, "usageRecord": usage}


async def test_without_an_id_the_record_is_its_own_client_id(
    api: Api, database: Database, tenant: Tenant
) -> None:
    subscribed = await metered(api, database, tenant)
    first = (await api.post("/v1/usage", record(subscribed))).json()["usageRecord"]
    second = (await api.post("/v1/usage", record(subscribed))).json()["usageRecord"]
    assert first["clientId"] == first["id"]
    assert second["id"] != first["id"]
    assert await stored_count(database) == 2


async def test_a_retry_answers_the_stored_record_and_a_changed_one_conflicts(
    api: Api, database: Database, tenant: Tenant
) -> None:
    subscribed = await metered(api, database, tenant)
    body = record(subscribed, id="evt-1", quantity="2.5")
    created = await api.post("/v1/usage", body)
    assert created.status_code == 201
    # The same quantity written differently is the same content.
    retried = await api.post("/v1/usage", {**body, "quantity": "2.500"})
    assert retried.status_code == 200, retried.text
    answer = exact(retried)
    assert answer["duplicate"] is True
    assert answer["message"] == "Usage already recorded"
    assert answer["usageRecord"] == exact(created)["usageRecord"]
    changed = await api.post("/v1/usage", {**body, "quantity": "2.6"})
    assert changed.status_code == 409
    assert error_code(changed) == "USAGE_ID_CONFLICT"
    assert changed.json()["error"]["details"][0]["path"] == "id"
    assert await stored_count(database) == 1


async def test_a_retry_is_answered_even_after_its_period_was_invoiced(
    api: Api, database: Database, tenant: Tenant
) -> None:
    subscribed = await metered(api, database, tenant)
    body = record(subscribed, id="late-retry")
    assert (await api.post("/v1/usage", body)).status_code == 201
    await bill_through(database, subscribed.item_ids[0], date(2026, 2, 1))
    assert (await api.post("/v1/usage", body)).status_code == 200
    fresh = await api.post("/v1/usage", {**body, "id": "too-late"})
    assert fresh.status_code == 409
    assert error_code(fresh) == "USAGE_PERIOD_CLOSED"


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("0", "0"),
        ("0.000001", "0.000001"),
        ("999999999.999999", "999999999.999999"),
        ("1e3", "1000"),
        ("42", "42"),
        ('"7.250"', "7.25"),
        ("12345678.123456", "12345678.123456"),
    ],
)
async def test_quantities_are_stored_exactly_as_sent(
    api: Api, database: Database, tenant: Tenant, typed: str, stored: str
) -> None:
    subscribed = await metered(api, database, tenant)
    text = (
        f'{{"subscriptionId": "{subscribed.subscription_id}", '
        f'"itemId": "{subscribed.item_ids[0]}", "quantity": {typed}, '
        '"startDate": "2026-01-02", "endDate": "2026-01-02"}'
    )
    response = await raw_post(api, "/v1/usage", text)
    assert response.status_code == 201, response.text
    usage_id = response.json()["usageRecord"]["id"]
    assert response.text.count(f'"quantity":{stored},') == 1
    read = await api.get(f"/v1/usage/{usage_id}")
    assert exact(read)["usageRecord"]["quantity"] == Decimal(stored)
    assert read.text.count(f'"quantity":{stored},') == 1


@pytest.mark.parametrize(
    ("typed", "code"),
    [
        ("-1", "too_small"),
        ("1000000000", "too_big"),
        ("0.0000001", "not_multiple_of"),
        # Seventeen digits a float would round to 1: refused, never stored as 1.
        ("1.0000000000000001", "not_multiple_of"),
        ('"many"', "invalid_type"),
        ("true", "invalid_type"),
        ("null", "invalid_type"),
    ],
)
async def test_a_quantity_that_cannot_be_stored_exactly_is_refused(
    api: Api, database: Database, tenant: Tenant, typed: str, code: str
) -> None:
    subscribed = await metered(api, database, tenant)
    text = (
        f'{{"subscriptionId": "{subscribed.subscription_id}", '
        f'"itemId": "{subscribed.item_ids[0]}", "quantity": {typed}, '
        '"startDate": "2026-01-02", "endDate": "2026-01-02"}'
    )
    response = await raw_post(api, "/v1/usage", text)
    assert response.status_code == 400, response.text
    assert error_code(response) == "VALIDATION_ERROR"
    [detail] = response.json()["error"]["details"]
    assert (detail["path"], detail["code"]) == ("quantity", code)
    assert await stored_count(database) == 0


@pytest.mark.parametrize(
    ("fields", "path", "code"),
    [
        ({"endDate": "2026-01-01", "startDate": "2026-01-02"}, "endDate", "too_small"),
        ({"startDate": "2026-13-01"}, "startDate", "invalid_date"),
        ({"subscriptionId": None}, "subscriptionId", "invalid_type"),
        ({"id": ""}, "id", "too_small"),
        ({"id": "x" * 101}, "id", "too_big"),
        ({"name": "n" * 201}, "name", "too_big"),
    ],
)
async def test_malformed_records_are_refused_field_by_field(
    api: Api, database: Database, tenant: Tenant, fields: dict[str, Any], path: str, code: str
) -> None:
    subscribed = await metered(api, database, tenant)
    response = await api.post("/v1/usage", record(subscribed, **fields))
    assert response.status_code == 400, response.text
    [detail] = response.json()["error"]["details"]
    assert (detail["path"], detail["code"]) == (path, code)


async def test_a_missing_field_and_a_broken_body_are_validation_errors(
    api: Api, database: Database, tenant: Tenant
) -> None:
    subscribed = await metered(api, database, tenant)
    body = record(subscribed)
    del body["quantity"]
    missing = await api.post("/v1/usage", body)
    assert missing.status_code == 400
    assert missing.json()["error"]["details"] == [
        {"path": "quantity", "message": "Required", "code": "invalid_type"}
    ]
    for text in ("{", "[1, 2]", '{"quantity": NaN}'):
        broken = await raw_post(api, "/v1/usage", text)
        assert broken.status_code == 400, text
        assert error_code(broken) == "VALIDATION_ERROR"


async def test_records_for_unknown_or_foreign_subscriptions_and_items_are_not_found(
    api: Api, database: Database, tenant: Tenant
) -> None:
    subscribed = await metered(api, database, tenant)
    other = await metered(api, database, tenant)
    cases = [
        (record(subscribed, subscriptionId="psub_unknown"), "SUBSCRIPTION_NOT_FOUND"),
        (record(subscribed, itemId="si_unknown"), "SUBSCRIPTION_ITEM_NOT_FOUND"),
        (record(subscribed, itemId=other.item_ids[0]), "SUBSCRIPTION_ITEM_NOT_FOUND"),
    ]
    for body, code in cases:
        response = await api.post("/v1/usage", body)
        assert response.status_code == 404, body
        assert error_code(response) == code
    stranger = await new_tenant(database)
    foreign = Api(api.client, key=stranger.live_key, tenant_id=stranger.id)
    response = await foreign.post("/v1/usage", record(subscribed))
    assert response.status_code == 404
    assert error_code(response) == "SUBSCRIPTION_NOT_FOUND"
    # The test environment of the same business unit is another tenant too.
    test_mode = Api(api.client, key=tenant.test_key, tenant_id=tenant.id)
    assert error_code(await test_mode.post("/v1/usage", record(subscribed))) == (
        "SUBSCRIPTION_NOT_FOUND"
    )
    assert await stored_count(database) == 0


async def test_only_usage_priced_items_of_billed_subscriptions_take_usage(
    api: Api, database: Database, tenant: Tenant
) -> None:
    flat = await metered(api, database, tenant, FLAT_IN_ARREARS, PER_UNIT_IN_ADVANCE)
    for item in (0, 1):
        response = await api.post("/v1/usage", record(flat, item))
        assert response.status_code == 422
        assert error_code(response) == "USAGE_NOT_METERED"
    for status in ("draft", "cancelled", "expired"):
        subscribed = await metered(api, database, tenant, status=PlanSubscriptionStatus(status))
        response = await api.post("/v1/usage", record(subscribed))
        assert response.status_code == 422, status
        assert error_code(response) == "SUBSCRIPTION_NOT_BILLABLE"
        assert status in response.json()["error"]["message"]
    for status in ("trial", "active", "suspended"):
        subscribed = await metered(api, database, tenant, status=PlanSubscriptionStatus(status))
        assert (await api.post("/v1/usage", record(subscribed))).status_code == 201, status


async def test_start_dates_outside_the_item_or_in_an_invoiced_period_are_refused(
    api: Api, database: Database, tenant: Tenant
) -> None:
    subscribed = await metered(api, database, tenant)
    item = subscribed.item_ids[0]
    before = await api.post("/v1/usage", record(subscribed, startDate="2025-12-31"))
    assert before.status_code == 400
    assert before.json()["error"]["details"][0]["path"] == "startDate"
    await bill_through(database, item, date(2026, 2, 1))
    closed = await api.post(
        "/v1/usage", record(subscribed, startDate="2026-01-31", endDate="2026-02-03")
    )
    assert closed.status_code == 409
    assert error_code(closed) == "USAGE_PERIOD_CLOSED"
    assert "2026-02-01" in closed.json()["error"]["message"]
    opened = await api.post("/v1/usage", record(subscribed, startDate="2026-02-01",
                                                endDate="2026-02-01"))  # fmt: skip
    assert opened.status_code == 201
    await end_item(database, item, date(2026, 3, 1))
    assert (
        await api.post("/v1/usage", record(subscribed, startDate="2026-02-28",
                                           endDate="2026-03-02"))
    ).status_code == 201  # fmt: skip
    after = await api.post(
        "/v1/usage", record(subscribed, startDate="2026-03-01", endDate="2026-03-01")
    )
    assert after.status_code == 400
    assert after.json()["error"]["details"][0]["code"] == "too_big"
    assert await stored_count(database) == 2


async def test_writing_and_reading_need_their_permissions(
    api: Api, database: Database, tenant: Tenant
) -> None:
    subscribed = await metered(api, database, tenant)
    reader = api.with_key(await issue_key(database, tenant, permissions=["usage:read"]))
    refused = await reader.post("/v1/usage", record(subscribed))
    assert refused.status_code == 403
    assert error_code(refused) == "INSUFFICIENT_PERMISSIONS"
    assert (await reader.get("/v1/usage")).status_code == 200
    writer_only = api.with_key(await issue_key(database, tenant, permissions=["customers:read"]))
    assert (await writer_only.get("/v1/usage")).status_code == 403


async def test_an_unknown_record_is_not_found(api: Api) -> None:
    response = await api.get("/v1/usage/usage_unknown")
    assert response.status_code == 404
    assert error_code(response) == "USAGE_NOT_FOUND"


async def test_the_list_filters_and_pages_newest_first(
    api: Api, database: Database, tenant: Tenant
) -> None:
    first = await metered(api, database, tenant)
    second = await metered(api, database, tenant)
    ids: list[str] = []
    with clock.frozen(T0):
        for number in range(5):
            subscribed, item = (first, number % 2) if number < 4 else (second, 0)
            response = await api.post("/v1/usage", record(subscribed, item, quantity=number))
            ids.append(response.json()["usageRecord"]["id"])
            clock.advance(timedelta(minutes=1))
    everything = (await api.get("/v1/usage")).json()
    assert [u["id"] for u in everything["usageRecords"]] == ids[::-1]
    assert (everything["count"], everything["limit"], everything["hasMore"]) == (5, 50, False)
    assert everything["nextCursor"] is None

    def listed(answer: dict[str, Any]) -> list[str]:
        return [u["id"] for u in answer["usageRecords"]]

    by_subscription = (await api.get("/v1/usage", subscriptionId=first.subscription_id)).json()
    assert listed(by_subscription) == ids[3::-1]
    by_item = (await api.get("/v1/usage", itemId=first.item_ids[1], sortDir="asc")).json()
    assert listed(by_item) == [ids[1], ids[3]]
    customer_id = everything["usageRecords"][0]["customerId"]
    assert listed((await api.get("/v1/usage", customerId=customer_id)).json()) == [ids[4]]
    assert listed((await api.get("/v1/usage", status="processed")).json()) == []
    assert len(listed((await api.get("/v1/usage", status="pending")).json())) == 5
    bad = await api.get("/v1/usage", status="done")
    assert bad.status_code == 400
    assert bad.json()["error"]["details"][0]["path"] == "status"

    page_one = (await api.get("/v1/usage", limit=2)).json()
    assert listed(page_one) == [ids[4], ids[3]]
    assert page_one["hasMore"] is True
    page_two = (await api.get("/v1/usage", limit=2, startAfter=page_one["nextCursor"])).json()
    assert listed(page_two) == [ids[2], ids[1]]
    page_three = (await api.get("/v1/usage", limit=2, startAfter=page_two["nextCursor"])).json()
    assert listed(page_three) == [ids[0]]
    assert page_three["hasMore"] is False
    assert (await api.get("/v1/usage", sortBy="quantity")).status_code == 400


async def test_an_idempotency_key_replays_the_first_answer(
    api: Api, database: Database, tenant: Tenant
) -> None:
    subscribed = await metered(api, database, tenant)
    headers = {"Idempotency-Key": "usage-once"}
    first = await api.post("/v1/usage", record(subscribed), headers=headers)
    again = await api.post("/v1/usage", record(subscribed), headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert await stored_count(database) == 1
