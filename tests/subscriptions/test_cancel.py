"""Cancelling a subscription (``POST /v1/subscriptions/{id}/cancel``) as a FlexPortal client
does: what a cancellation moves (asset, customer, events), what it leaves alone (the
order), and the refusals of subscriptions that are already over."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import update

from flexbill.core import clock
from flexbill.core.db import Database
from flexbill.subscriptions.models import Subscription
from tests.subscriptions.support import (
    event_counts,
    events_of,
    exact,
    read,
    register,
    two_laptops,
)
from tests.support import Api, error_code

START = datetime(2025, 1, 15, 10, 0, tzinfo=UTC)
LATER = datetime(2025, 2, 3, 16, 45, 30, tzinfo=UTC)

ANSWER_FIELDS = {
    "success", "message", "rentalId", "assetSerialNumber", "previousStatus", "cancelledAt",
    "rental",
}  # fmt: skip


@pytest.fixture(autouse=True)
def _frozen_clock() -> Iterator[None]:
    with clock.frozen(START):
        yield


async def _cancel(api: Api, rental_id: str, **fields: Any) -> Any:
    body = {"rentalId": rental_id, "reason": "customer_request", **fields}
    return await api.post(f"/v1/subscriptions/{rental_id}/cancel", body)


async def test_a_cancellation_ends_the_rental_and_takes_the_device_back(
    api: Api, database: Database
) -> None:
    order, rental, other = await two_laptops(api)
    customer_id = order["customerId"]

    with clock.frozen(LATER):
        response = await _cancel(
            api, rental["rentalId"], reason="payment_failure", notes="Card declined twice"
        )

    assert response.status_code == 200, response.text
    answer = exact(response)
    assert set(answer) == ANSWER_FIELDS
    assert answer["success"] is True
    assert answer["rentalId"] == rental["rentalId"]
    assert answer["assetSerialNumber"] == "SN-1"  # the device to collect
    assert answer["previousStatus"] == "active"
    assert answer["cancelledAt"] == "2025-02-03T16:45:30Z"
    cancelled = answer["rental"]
    assert cancelled["status"] == "cancelled"
    assert cancelled["endedAt"] == "2025-02-03T16:45:30Z"
    assert cancelled["nextBillingDate"] is None
    assert cancelled["cancellationDetails"] == {
        "reason": "payment_failure", "notes": "Card declined twice",
        "processedBy": cancelled["createdBy"], "cancelledAt": "2025-02-03T16:45:30Z",
    }  # fmt: skip
    assert cancelled["buyoutDetails"] is None
    assert cancelled["earlyReturnDetails"] is None
    last = cancelled["history"][-1]
    assert (last["action"], last["fromStatus"], last["toStatus"], last["reason"]) == (
        "cancelled", "active", "cancelled", "payment_failure",
    )  # fmt: skip
    assert await read(api, f"/v1/subscriptions/{rental['rentalId']}") == cancelled

    asset = await read(api, "/v1/assets/SN-1")
    assert (asset["status"], asset["rentalId"], asset["customerId"]) == ("returned", None, None)
    still = await read(api, "/v1/assets/SN-2")
    assert (still["status"], still["rentalId"], still["customerId"]) == (
        "rented_out", other["rentalId"], customer_id,
    )  # fmt: skip
    customer = await read(api, f"/v1/customers/{customer_id}")
    assert (customer["totalDevicesRented"], customer["totalMonthlyRevenue"]) == (
        1, Decimal("59.99"),
    )  # fmt: skip
    assert await read(api, f"/v1/orders/{order['orderId']}") == order

    [ended] = await events_of(database, "subscription.ended")
    assert ended.data["rentalId"] == rental["rentalId"]
    assert (ended.data["status"], ended.data["previousStatus"]) == ("cancelled", "active")
    [back] = await events_of(database, "asset.returned")
    assert (back.data["serialNumber"], back.data["status"]) == ("SN-1", "returned")


async def test_cancelling_both_rentals_empties_the_customers_counters(api: Api) -> None:
    order, rental, other = await two_laptops(api)
    for rental_id in (rental["rentalId"], other["rentalId"]):
        response = await _cancel(api, rental_id, reason="admin_decision")
        assert response.status_code == 200, response.text
    customer = await read(api, f"/v1/customers/{order['customerId']}")
    assert (customer["totalDevicesRented"], customer["totalMonthlyRevenue"]) == (0, Decimal(0))


async def test_a_subscription_suspended_for_non_payment_can_be_cancelled(
    api: Api, database: Database
) -> None:
    order, rental, _other = await two_laptops(api)
    async with database.transaction() as session:  # what dunning's suspension does
        await session.execute(
            update(Subscription)
            .where(Subscription.id == rental["rentalId"])
            .values(status="suspended")
        )

    with clock.frozen(LATER):
        response = await _cancel(api, rental["rentalId"], reason="payment_failure")

    assert response.status_code == 200, response.text
    answer = exact(response)
    assert (answer["previousStatus"], answer["rental"]["status"]) == ("suspended", "cancelled")
    assert answer["rental"]["history"][-1]["fromStatus"] == "suspended"
    assert (await read(api, "/v1/assets/SN-1"))["status"] == "returned"
    customer = await read(api, f"/v1/customers/{order['customerId']}")
    assert (customer["totalDevicesRented"], customer["totalMonthlyRevenue"]) == (
        1, Decimal("59.99"),
    )  # fmt: skip
    [ended] = await events_of(database, "subscription.ended")
    assert (ended.data["status"], ended.data["previousStatus"]) == ("cancelled", "suspended")


@pytest.mark.parametrize(
    ("operation", "body"),
    [
        ("buyout", {"reason": "other"}),
        ("early-return", {"returnCondition": "good", "reason": "Moving"}),
        ("extend", {"extensionMonths": 6}),
        ("replace", {"newSerialNumber": "SN-3", "replacementReason": "lost"}),
    ],
)
async def test_a_suspended_subscription_can_only_be_cancelled(
    api: Api, database: Database, operation: str, body: dict[str, Any]
) -> None:
    _order, rental, _other = await two_laptops(api)
    await register(api, "SN-3")
    async with database.transaction() as session:
        await session.execute(
            update(Subscription)
            .where(Subscription.id == rental["rentalId"])
            .values(status="suspended")
        )

    response = await api.post(f"/v1/subscriptions/{rental['rentalId']}/{operation}", body)

    assert (response.status_code, error_code(response)) == (422, "SUBSCRIPTION_NOT_ACTIVE")
    assert "'suspended'" in response.json()["error"]["message"]
    assert (await read(api, "/v1/assets/SN-1"))["status"] == "rented_out"
    assert (await event_counts(database))["subscription.ended"] == 0


async def test_the_body_may_leave_the_rental_id_to_the_path(api: Api) -> None:
    _order, rental, _other = await two_laptops(api)
    response = await api.post(
        f"/v1/subscriptions/{rental['rentalId']}/cancel", {"reason": "customer_request"}
    )
    assert response.status_code == 200, response.text
    assert exact(response)["rental"]["status"] == "cancelled"


async def test_a_cancelled_subscription_is_already_cancelled(api: Api, database: Database) -> None:
    order, rental, _other = await two_laptops(api)
    assert (await _cancel(api, rental["rentalId"])).status_code == 200
    events_before = await event_counts(database)

    again = await _cancel(api, rental["rentalId"], reason="fraud")

    assert (again.status_code, error_code(again)) == (409, "ALREADY_CANCELLED")
    assert await event_counts(database) == events_before
    customer = await read(api, f"/v1/customers/{order['customerId']}")
    assert customer["totalDevicesRented"] == 1  # not counted down twice
    details = (await read(api, f"/v1/subscriptions/{rental['rentalId']}"))["cancellationDetails"]
    assert details["reason"] == "customer_request"


@pytest.mark.parametrize(
    ("operation", "body", "status"),
    [
        ("buyout", {"reason": "other"}, "ended_buyout"),
        ("early-return", {"returnCondition": "good", "reason": "Moving"}, "ended_early_return"),
    ],
)
async def test_an_ended_subscription_is_already_ended(
    api: Api, database: Database, operation: str, body: dict[str, Any], status: str
) -> None:
    _order, rental, _other = await two_laptops(api)
    rental_id = rental["rentalId"]
    ended = await api.post(
        f"/v1/subscriptions/{rental_id}/{operation}", {"rentalId": rental_id, **body}
    )
    assert ended.status_code == 200, ended.text
    asset_before = await read(api, "/v1/assets/SN-1")

    response = await _cancel(api, rental_id)

    assert (response.status_code, error_code(response)) == (409, "ALREADY_ENDED")
    assert status in response.json()["error"]["message"]
    assert (await read(api, f"/v1/subscriptions/{rental_id}"))["status"] == status
    assert await read(api, "/v1/assets/SN-1") == asset_before
    assert (await event_counts(database))["subscription.ended"] == 1


async def test_unknown_subscription(api: Api) -> None:
    response = await _cancel(api, "sub_missing")
    assert (response.status_code, error_code(response)) == (404, "NOT_FOUND")


@pytest.mark.parametrize(
    ("change", "path"),
    [
        ({"rentalId": "sub_other"}, "rentalId"),
        ({"rentalId": ""}, "rentalId"),
        ({"reason": None}, "reason"),
        ({"reason": "changed_mind"}, "reason"),
        ({"notes": "x" * 1001}, "notes"),
    ],
)
async def test_invalid_bodies(api: Api, change: dict[str, Any], path: str) -> None:
    _order, rental, _other = await two_laptops(api)
    rental_id = rental["rentalId"]
    body = {"rentalId": rental_id, "reason": "other", **change}
    body = {key: value for key, value in body.items() if value is not None}
    response = await api.post(f"/v1/subscriptions/{rental_id}/cancel", body)
    assert (response.status_code, error_code(response)) == (400, "VALIDATION_ERROR")
    assert [d["path"] for d in response.json()["error"]["details"]] == [path]
    assert (await read(api, f"/v1/subscriptions/{rental_id}"))["status"] == "active"


async def test_notes_of_1000_characters_are_kept(api: Api) -> None:
    _order, rental, _other = await two_laptops(api)
    response = await _cancel(api, rental["rentalId"], notes="x" * 1000)
    assert response.status_code == 200, response.text
    assert exact(response)["rental"]["cancellationDetails"]["notes"] == "x" * 1000
