"""Billing groups on the /v1 face, as a FlexPortal client uses them: create, read, list,
replace members, delete; and the pure next billing date."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import httpx
import pytest
from sqlalchemy import event, update

from flexbill.billing.groups import next_billing_date
from flexbill.core import clock
from flexbill.core.db import Database
from flexbill.subscriptions.models import Subscription
from tests.orders.support import LAPTOP
from tests.subscriptions.support import confirmed_order, exact, register, subscribe
from tests.support import Api, Tenant, error_code, issue_key

GROUP_FIELDS = {
    "billingGroupId", "tenantId", "customerId", "groupName", "billingDay", "rentalIds",
    "status", "notes", "totalMonthlyAmount", "currency", "subscriptionCount",
    "activeRentalCount", "nextBillingDate", "createdBy", "createdAt", "updatedAt",
}  # fmt: skip
MONTHLY = Decimal("59.99")  # the laptop for 12 months


async def rentals_of(
    api: Api, count: int, *, email: str = "ada@example.com", catalog: bool = True
) -> list[dict[str, Any]]:
    """``count`` active subscriptions of one customer, oldest first."""
    items = [{"sku": LAPTOP, "quantity": count, "contractLength": 12}]
    order = await confirmed_order(api, catalog=catalog, email=email, items=items)
    rentals = []
    for number in range(count):
        serial = f"SN-{email.split('@')[0]}-{number}"
        await register(api, serial)
        rentals.append(await subscribe(api, order, serial))
    return rentals


async def create(api: Api, rentals: list[dict[str, Any]], **fields: Any) -> httpx.Response:
    body = {
        "customerId": rentals[0]["customerId"],
        "groupName": "Head office",
        "billingDay": 15,
        "rentalIds": [rental["rentalId"] for rental in rentals],
        **fields,
    }
    return await api.post("/v1/billing-groups", body)


async def created(api: Api, rentals: list[dict[str, Any]], **fields: Any) -> dict[str, Any]:
    response = await create(api, rentals, **fields)
    assert response.status_code == 201, response.text
    group: dict[str, Any] = exact(response)["billingGroup"]
    return group


async def rental(api: Api, rental_id: str) -> dict[str, Any]:
    response = await api.get(f"/v1/subscriptions/{rental_id}")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def end(database: Database, rental_id: str) -> None:
    """End a subscription behind the API's back (the cancel operation is not ours)."""
    async with database.transaction() as session:
        await session.execute(
            update(Subscription).where(Subscription.id == rental_id).values(status="cancelled")
        )


def detail(response: httpx.Response) -> dict[str, str]:
    details: list[dict[str, str]] = response.json()["error"]["details"]
    assert len(details) == 1, details
    return details[0]


@pytest.mark.parametrize(
    ("today", "billing_day", "expected"),
    [
        (date(2025, 3, 10), 15, date(2025, 3, 15)),
        (date(2025, 3, 15), 15, date(2025, 3, 15)),  # today is the billing day
        (date(2025, 3, 16), 15, date(2025, 4, 15)),
        (date(2025, 12, 20), 1, date(2026, 1, 1)),  # into the next year
        (date(2025, 1, 31), 28, date(2025, 2, 28)),
        (date(2025, 2, 1), 28, date(2025, 2, 28)),
    ],
)
def test_next_billing_date(today: date, billing_day: int, expected: date) -> None:
    assert next_billing_date(today, billing_day) == expected


async def test_create_answers_the_group_with_its_members(api: Api) -> None:
    first, second = await rentals_of(api, 2)
    with clock.frozen(datetime(2025, 6, 20, 9, 30, tzinfo=UTC)):
        response = await create(api, [first, second], notes="Consolidated invoice")
    assert response.status_code == 201, response.text
    answer = exact(response)
    assert (answer["success"], answer["message"]) == (True, "Billing group created successfully")
    group = answer["billingGroup"]
    assert set(group) == GROUP_FIELDS
    assert group["billingGroupId"].startswith("bg_")
    assert group["tenantId"] == api.headers["Tenant-ID"]
    assert group["customerId"] == first["customerId"]
    assert (group["groupName"], group["billingDay"], group["status"], group["notes"]) == (
        "Head office", 15, "active", "Consolidated invoice",
    )  # fmt: skip
    assert group["rentalIds"] == [first["rentalId"], second["rentalId"]]
    assert (group["subscriptionCount"], group["activeRentalCount"]) == (2, 2)
    assert group["totalMonthlyAmount"] == Decimal("119.98")
    assert group["currency"] == "EUR"
    assert group["nextBillingDate"] == "2025-07-15"  # the 15th of June has passed
    assert group["createdBy"] == first["createdBy"]  # the same API key
    assert group["createdBy"].startswith("api_key:key_")
    assert group["createdAt"] == group["updatedAt"] == "2025-06-20T09:30:00Z"


async def test_members_name_the_group_and_record_joining_it(api: Api) -> None:
    first, second = await rentals_of(api, 2)
    group = await created(api, [first])
    joined = await rental(api, first["rentalId"])
    assert joined["billingGroupId"] == group["billingGroupId"]
    assert joined["history"][-1]["action"] == "billing_group_joined"
    assert joined["history"][-1]["billingGroupId"] == group["billingGroupId"]
    untouched = await rental(api, second["rentalId"])
    assert untouched["billingGroupId"] is None
    assert [entry["action"] for entry in untouched["history"]] == ["created"]


async def test_a_subscription_started_into_a_group_is_a_member(api: Api) -> None:
    order = await confirmed_order(api)
    await register(api, "SN-1")
    await register(api, "SN-2")
    first = await subscribe(api, order, "SN-1")
    group = await created(api, [first])
    second = await subscribe(api, order, "SN-2", billingGroupId=group["billingGroupId"])
    response = await api.get(f"/v1/billing-groups/{group['billingGroupId']}")
    assert response.status_code == 200, response.text
    answer = exact(response)
    assert answer["success"] is True
    assert answer["billingGroup"]["rentalIds"] == [first["rentalId"], second["rentalId"]]
    assert answer["billingGroup"]["totalMonthlyAmount"] == MONTHLY * 2


@pytest.mark.parametrize(("billing_day", "code"), [(0, "too_small"), (29, "too_big")])
async def test_billing_day_outside_1_to_28_is_refused(
    api: Api, billing_day: int, code: str
) -> None:
    rentals = await rentals_of(api, 1)
    response = await create(api, rentals, billingDay=billing_day)
    assert response.status_code == 400, response.text
    assert error_code(response) == "INVALID_BILLING_DAY"
    assert detail(response)["path"] == "billingDay"
    assert detail(response)["code"] == code


async def test_unknown_customer_is_refused(api: Api) -> None:
    rentals = await rentals_of(api, 1)
    response = await create(api, rentals, customerId="cust_missing")
    assert response.status_code == 404, response.text
    assert error_code(response) == "CUSTOMER_NOT_FOUND"


@pytest.mark.parametrize(
    ("rental_ids", "path"), [([], "rentalIds"), (["FIRST", "FIRST"], "rentalIds.1")]
)
async def test_rental_ids_must_be_given_each_once(
    api: Api, rental_ids: list[str], path: str
) -> None:
    (first,) = await rentals_of(api, 1)
    ids = [first["rentalId"] if rental_id == "FIRST" else rental_id for rental_id in rental_ids]
    response = await create(api, [first], rentalIds=ids)
    assert response.status_code == 400, response.text
    assert error_code(response) == "VALIDATION_ERROR"
    assert detail(response)["path"] == path


async def test_unknown_rental_is_named_and_nothing_is_written(api: Api) -> None:
    (first,) = await rentals_of(api, 1)
    response = await create(api, [first], rentalIds=[first["rentalId"], "sub_missing"])
    assert response.status_code == 404, response.text
    assert error_code(response) == "SUBSCRIPTION_NOT_FOUND"
    assert "sub_missing" in response.json()["error"]["message"]
    assert detail(response)["path"] == "rentalIds.1"
    assert (await rental(api, first["rentalId"]))["billingGroupId"] is None
    listed = (await api.get("/v1/billing-groups")).json()
    assert listed["billingGroups"] == []


async def test_rental_of_another_customer_is_refused(api: Api) -> None:
    (ada,) = await rentals_of(api, 1)
    (bob,) = await rentals_of(api, 1, email="bob@example.com", catalog=False)
    response = await create(api, [ada], rentalIds=[ada["rentalId"], bob["rentalId"]])
    assert response.status_code == 400, response.text
    assert error_code(response) == "SUBSCRIPTION_DIFFERENT_CUSTOMER"
    assert bob["rentalId"] in response.json()["error"]["message"]
    assert detail(response)["path"] == "rentalIds.1"


async def test_ended_rental_is_refused(api: Api, database: Database) -> None:
    first, second = await rentals_of(api, 2)
    await end(database, second["rentalId"])
    response = await create(api, [first, second])
    assert response.status_code == 422, response.text
    assert error_code(response) == "SUBSCRIPTION_NOT_ACTIVE"
    assert second["rentalId"] in response.json()["error"]["message"]
    assert detail(response)["path"] == "rentalIds.1"


async def test_rental_in_another_group_is_refused(api: Api) -> None:
    first, second = await rentals_of(api, 2)
    group = await created(api, [first])
    response = await create(api, [second, first], groupName="Branch")
    assert response.status_code == 409, response.text
    assert error_code(response) == "SUBSCRIPTION_IN_ANOTHER_GROUP"
    message = response.json()["error"]["message"]
    assert first["rentalId"] in message
    assert group["billingGroupId"] in message
    assert detail(response)["path"] == "rentalIds.1"
    assert (await rental(api, second["rentalId"]))["billingGroupId"] is None


async def test_unknown_group_is_not_found(api: Api) -> None:
    for response in (
        await api.get("/v1/billing-groups/bg_missing"),
        await api.patch("/v1/billing-groups/bg_missing", {"groupName": "X"}),
        await api.delete("/v1/billing-groups/bg_missing"),
    ):
        assert response.status_code == 404, response.text
        assert error_code(response) == "BILLING_GROUP_NOT_FOUND"


async def test_total_counts_only_active_members(api: Api, database: Database) -> None:
    first, second = await rentals_of(api, 2)
    group = await created(api, [first, second])
    await end(database, first["rentalId"])
    shown = exact(await api.get(f"/v1/billing-groups/{group['billingGroupId']}"))
    assert shown["billingGroup"]["rentalIds"] == [first["rentalId"], second["rentalId"]]
    assert shown["billingGroup"]["subscriptionCount"] == 2
    assert shown["billingGroup"]["activeRentalCount"] == 1
    assert shown["billingGroup"]["totalMonthlyAmount"] == MONTHLY


async def test_a_cancelled_member_stays_listed_but_is_no_longer_active(api: Api) -> None:
    first, second = await rentals_of(api, 2)
    group = await created(api, [first, second])
    cancelled = await api.post(
        f"/v1/subscriptions/{first['rentalId']}/cancel", {"reason": "customer_request"}
    )
    assert cancelled.status_code == 200, cancelled.text
    shown = exact(await api.get(f"/v1/billing-groups/{group['billingGroupId']}"))
    body = shown["billingGroup"]
    assert (body["subscriptionCount"], body["activeRentalCount"]) == (2, 1)
    assert body["totalMonthlyAmount"] == MONTHLY


async def test_patch_replaces_the_members(api: Api) -> None:
    first, second, third = await rentals_of(api, 3)
    group = await created(api, [first, second])
    path = f"/v1/billing-groups/{group['billingGroupId']}"
    response = await api.patch(path, {"rentalIds": [third["rentalId"], second["rentalId"]]})
    assert response.status_code == 200, response.text
    answer = exact(response)
    assert (answer["success"], answer["message"]) == (True, "Billing group updated successfully")
    updated = answer["billingGroup"]
    assert updated["rentalIds"] == [second["rentalId"], third["rentalId"]]  # oldest first
    assert updated["totalMonthlyAmount"] == MONTHLY * 2
    assert (updated["groupName"], updated["billingDay"]) == ("Head office", 15)
    left = await rental(api, first["rentalId"])
    assert left["billingGroupId"] is None
    assert left["history"][-1]["action"] == "billing_group_left"
    assert left["history"][-1]["billingGroupId"] == group["billingGroupId"]
    joined = await rental(api, third["rentalId"])
    assert joined["billingGroupId"] == group["billingGroupId"]
    assert joined["history"][-1]["action"] == "billing_group_joined"
    stayed = await rental(api, second["rentalId"])
    assert [entry["action"] for entry in stayed["history"]] == ["created", "billing_group_joined"]


async def test_patch_may_take_out_the_last_member(api: Api) -> None:
    """The "Remove Subscription" recipe filters the removed id out of ``rentalIds``; for
    the last member that leaves an empty list, and an empty group that may fill again."""
    (first,) = await rentals_of(api, 1)
    group = await created(api, [first])
    path = f"/v1/billing-groups/{group['billingGroupId']}"

    response = await api.patch(path, {"rentalIds": []})

    assert response.status_code == 200, response.text
    emptied = exact(response)["billingGroup"]
    assert (emptied["rentalIds"], emptied["subscriptionCount"], emptied["activeRentalCount"]) == (
        [], 0, 0,
    )  # fmt: skip
    assert emptied["totalMonthlyAmount"] == Decimal(0)
    left = await rental(api, first["rentalId"])
    assert left["billingGroupId"] is None
    assert left["history"][-1]["action"] == "billing_group_left"
    refilled = exact(await api.patch(path, {"rentalIds": [first["rentalId"]]}))["billingGroup"]
    assert refilled["rentalIds"] == [first["rentalId"]]


async def test_a_non_finite_number_is_malformed_json_after_authentication(api: Api) -> None:
    (first,) = await rentals_of(api, 1)
    group = await created(api, [first])
    path = f"/v1/billing-groups/{group['billingGroupId']}"
    headers = {**api.headers}

    response = await api.client.patch(path, content='{"billingDay": Infinity}', headers=headers)

    assert (response.status_code, error_code(response)) == (400, "VALIDATION_ERROR")
    assert detail(response)["code"] == "invalid_json"
    anonymous = {key: value for key, value in headers.items() if key != "Authorization"}
    response = await api.client.patch(path, content='{"billingDay": NaN}', headers=anonymous)
    assert (response.status_code, error_code(response)) == (401, "AUTH_REQUIRED")
    assert exact(await api.get(path))["billingGroup"]["billingDay"] == 15


async def test_a_nul_character_in_any_text_is_refused(api: Api) -> None:
    (first,) = await rentals_of(api, 1)
    response = await create(api, [first], groupName="Head\x00office")
    assert (response.status_code, error_code(response)) == (400, "VALIDATION_ERROR")
    assert response.json()["error"]["message"] == (
        "Text may not contain the NUL character (U+0000)"
    )
    assert (await api.get("/v1/billing-groups")).json()["billingGroups"] == []
    assert (await rental(api, first["rentalId"]))["billingGroupId"] is None


async def test_patch_changes_fields_and_leaves_the_rest(api: Api) -> None:
    (first,) = await rentals_of(api, 1)
    group = await created(api, [first], notes="Invoice to finance")
    path = f"/v1/billing-groups/{group['billingGroupId']}"
    with clock.frozen(datetime(2030, 1, 10, tzinfo=UTC)):
        response = await api.patch(path, {"groupName": "HQ", "billingDay": 5, "status": "inactive"})
    assert response.status_code == 200, response.text
    changed = exact(response)["billingGroup"]
    assert (changed["groupName"], changed["billingDay"], changed["status"]) == (
        "HQ", 5, "inactive",
    )  # fmt: skip
    assert changed["notes"] == "Invoice to finance"
    assert changed["rentalIds"] == [first["rentalId"]]
    assert changed["updatedAt"] == "2030-01-10T00:00:00Z"
    assert changed["nextBillingDate"] == "2030-02-05"
    cleared = exact(await api.patch(path, {"notes": None}))["billingGroup"]
    assert (cleared["notes"], cleared["groupName"]) == (None, "HQ")


async def test_patch_refuses_a_bad_billing_day_and_foreign_members(api: Api) -> None:
    first, second = await rentals_of(api, 2)
    (bob,) = await rentals_of(api, 1, email="bob@example.com", catalog=False)
    group = await created(api, [first])
    path = f"/v1/billing-groups/{group['billingGroupId']}"
    response = await api.patch(path, {"billingDay": 31})
    assert (response.status_code, error_code(response)) == (400, "INVALID_BILLING_DAY")
    response = await api.patch(path, {"rentalIds": [second["rentalId"], bob["rentalId"]]})
    assert (response.status_code, error_code(response)) == (
        400, "SUBSCRIPTION_DIFFERENT_CUSTOMER",
    )  # fmt: skip
    assert detail(response)["path"] == "rentalIds.1"
    unchanged = exact(await api.get(path))["billingGroup"]
    assert (unchanged["rentalIds"], unchanged["billingDay"]) == ([first["rentalId"]], 15)


async def test_patch_keeps_an_ended_member_but_refuses_an_ended_newcomer(
    api: Api, database: Database
) -> None:
    first, second, third = await rentals_of(api, 3)
    group = await created(api, [first, second])
    await end(database, first["rentalId"])
    await end(database, third["rentalId"])
    path = f"/v1/billing-groups/{group['billingGroupId']}"
    response = await api.patch(path, {"rentalIds": [first["rentalId"], third["rentalId"]]})
    assert (response.status_code, error_code(response)) == (422, "SUBSCRIPTION_NOT_ACTIVE")
    assert detail(response)["path"] == "rentalIds.1"
    response = await api.patch(path, {"rentalIds": [first["rentalId"]]})
    assert response.status_code == 200, response.text
    kept = exact(response)["billingGroup"]
    assert (kept["rentalIds"], kept["totalMonthlyAmount"]) == ([first["rentalId"]], Decimal(0))


async def test_delete_sends_members_back_to_individual_billing(api: Api) -> None:
    first, second = await rentals_of(api, 2)
    group = await created(api, [first, second])
    path = f"/v1/billing-groups/{group['billingGroupId']}"
    response = await api.delete(path)
    assert response.status_code == 200, response.text
    assert response.json() == {
        "success": True,
        "message": "Billing group deleted successfully",
        "billingGroupId": group["billingGroupId"],
    }
    for member in (first, second):
        released = await rental(api, member["rentalId"])
        assert released["billingGroupId"] is None
        assert released["history"][-1]["action"] == "billing_group_left"
    for gone in (await api.get(path), await api.patch(path, {}), await api.delete(path)):
        assert (gone.status_code, error_code(gone)) == (404, "BILLING_GROUP_NOT_FOUND")
    assert (await api.get("/v1/billing-groups")).json()["billingGroups"] == []
    again = await created(api, [first, second], groupName="New group")
    assert again["rentalIds"] == [first["rentalId"], second["rentalId"]]


async def test_list_filters_and_pages(api: Api) -> None:
    ada_rentals = await rentals_of(api, 3)
    (bob_rental,) = await rentals_of(api, 1, email="bob@example.com", catalog=False)
    oldest = await created(api, ada_rentals[:1], groupName="A1")
    middle = await created(api, ada_rentals[1:], groupName="A2")
    bobs = await created(api, [bob_rental], groupName="B1")
    await api.patch(f"/v1/billing-groups/{middle['billingGroupId']}", {"status": "inactive"})

    listed = exact(await api.get("/v1/billing-groups"))
    assert (listed["success"], listed["count"], listed["limit"]) == (True, 3, 50)
    assert (listed["hasMore"], listed["nextCursor"]) == (False, None)
    assert [g["groupName"] for g in listed["billingGroups"]] == ["B1", "A2", "A1"]
    assert listed["billingGroups"][1]["rentalIds"] == [r["rentalId"] for r in ada_rentals[1:]]
    assert listed["billingGroups"][1]["totalMonthlyAmount"] == MONTHLY * 2

    of_ada = exact(await api.get("/v1/billing-groups", customerId=oldest["customerId"]))
    assert [g["groupName"] for g in of_ada["billingGroups"]] == ["A2", "A1"]
    inactive = exact(await api.get("/v1/billing-groups", status="inactive"))
    assert [g["groupName"] for g in inactive["billingGroups"]] == ["A2"]
    bad = await api.get("/v1/billing-groups", status="paused")
    assert (bad.status_code, error_code(bad)) == (400, "VALIDATION_ERROR")

    first_page = exact(await api.get("/v1/billing-groups", limit=2, sortDir="asc"))
    assert [g["groupName"] for g in first_page["billingGroups"]] == ["A1", "A2"]
    assert first_page["hasMore"] is True
    rest = exact(
        await api.get(
            "/v1/billing-groups", limit=2, sortDir="asc", startAfter=first_page["nextCursor"]
        )
    )
    assert [g["billingGroupId"] for g in rest["billingGroups"]] == [bobs["billingGroupId"]]
    assert rest["hasMore"] is False


@contextmanager
def subscription_queries(database: Database) -> Iterator[list[str]]:
    """The statements that read subscriptions while the block runs."""
    seen: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if "FROM subscriptions" in statement:
            seen.append(statement)

    engines = [database.read_engine.sync_engine, database.write_engine.sync_engine]
    for engine in engines:
        event.listen(engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        for engine in engines:
            event.remove(engine, "before_cursor_execute", count)


async def test_list_loads_the_members_of_a_page_in_one_query(api: Api, database: Database) -> None:
    rentals = await rentals_of(api, 4)
    for index, member in enumerate(rentals):
        await created(api, [member], groupName=f"G{index}")
    with subscription_queries(database) as seen:
        listed = exact(await api.get("/v1/billing-groups"))
    assert listed["count"] == 4
    assert [g["rentalIds"] for g in listed["billingGroups"]] == [
        [r["rentalId"]] for r in reversed(rentals)
    ]
    assert len(seen) == 1, seen


async def test_permissions(api: Api, database: Database, tenant: Tenant) -> None:
    rentals = await rentals_of(api, 1)
    reader = api.with_key(await issue_key(database, tenant, permissions=["billing-groups:read"]))
    response = await create(reader, rentals)
    assert (response.status_code, error_code(response)) == (403, "INSUFFICIENT_PERMISSIONS")
    assert (await reader.get("/v1/billing-groups")).status_code == 200
    outsider = api.with_key(await issue_key(database, tenant, permissions=["orders:read"]))
    response = await outsider.get("/v1/billing-groups")
    assert (response.status_code, error_code(response)) == (403, "INSUFFICIENT_PERMISSIONS")
