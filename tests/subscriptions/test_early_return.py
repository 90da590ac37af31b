"""Returning a device before the contract's end (``POST /v1/subscriptions/{id}/early-return``)
and quoting the fee (``POST /v1/subscriptions/calculate-early-return-fee``), as a FlexPortal
client does: the fee under each early-return setting, what a return moves (asset,
customer, events) and what it leaves alone (the order), and every refusal."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from flexbill.core import clock
from flexbill.core.db import Database
from tests.subscriptions.support import (
    event_counts,
    events_of,
    exact,
    read,
    two_laptops,
)
from tests.support import Api, error_code

START = datetime(2025, 1, 15, 10, 0, tzinfo=UTC)
# In the third contract month (from 15 March): ten months left counting it, nine without.
MID_MARCH = datetime(2025, 3, 20, 10, 0, tzinfo=UTC)

QUOTE_FIELDS = {
    "success", "earlyReturnFee", "remainingMonths", "penaltyPercentage", "remainingValue", "currency",
    "calculationMethod", "calculationBreakdown",
}  # fmt: skip
ANSWER_FIELDS = {
    "success", "message", "rentalId", "assetSerialNumber", "earlyReturnFee", "feeWaived",
    "returnCondition", "returnDate", "actualMonthsRented", "returnedAt", "currency", "rental",
}  # fmt: skip


@pytest.fixture(autouse=True)
def _frozen_clock() -> Iterator[None]:
    with clock.frozen(START):
        yield


async def _settings(api: Api, early_return: dict[str, Any]) -> None:
    response = await api.patch("/v1/settings", {"earlyReturn": early_return})
    assert response.status_code == 200, response.text


async def _quote(api: Api, rental_id: str) -> Any:
    return await api.post("/v1/subscriptions/calculate-early-return-fee", {"rentalId": rental_id})


async def _return(api: Api, rental_id: str, **fields: Any) -> Any:
    body = {
        "rentalId": rental_id, "returnCondition": "good", "reason": "Moving abroad", **fields,
    }  # fmt: skip
    return await api.post(f"/v1/subscriptions/{rental_id}/early-return", body)


async def test_an_early_return_ends_the_rental_for_the_quoted_fee(
    api: Api, database: Database
) -> None:
    order, rental, other = await two_laptops(api)
    customer_id = order["customerId"]

    with clock.frozen(MID_MARCH):
        response = await _return(
            api, rental["rentalId"], returnCondition="fair", damageAssessment="Scratched lid",
            notes="Box missing",
        )  # fmt: skip

    assert response.status_code == 200, response.text
    answer = exact(response)
    assert set(answer) == ANSWER_FIELDS
    assert answer["success"] is True
    assert answer["rentalId"] == rental["rentalId"]
    assert answer["assetSerialNumber"] == "SN-1"  # the device to collect
    assert answer["returnDate"] == "2025-03-20"
    assert answer["actualMonthsRented"] == 3  # from 15 January, 15 February, 15 March
    assert answer["earlyReturnFee"] == Decimal("599.90")  # 10 × 59.99 × 100 %
    assert answer["feeWaived"] is False
    assert answer["returnCondition"] == "fair"
    assert answer["returnedAt"] == "2025-03-20T10:00:00Z"
    assert answer["currency"] == "EUR"
    returned = answer["rental"]
    assert returned["status"] == "ended_early_return"
    assert returned["endedAt"] == "2025-03-20T10:00:00Z"
    assert returned["earlyReturnDetails"] == {
        "fee": Decimal("599.90"), "feeWaived": False, "calculationMethod": "auto_calculated",
        "calculationBreakdown": {
            "method": "remaining_months", "remainingMonths": 10,
            "remainingValue": Decimal("599.90"), "penaltyPercentage": Decimal(100),
            "gracePeriodApplied": False, "daysFromStart": 64,
        },
        "returnCondition": "fair", "reason": "Moving abroad",
        "damageAssessment": "Scratched lid", "notes": "Box missing",
        "processedBy": returned["createdBy"], "returnedAt": "2025-03-20T10:00:00Z",
    }  # fmt: skip
    assert returned["buyoutDetails"] is None
    last = returned["history"][-1]
    assert (last["action"], last["fromStatus"], last["toStatus"]) == (
        "returned_early", "active", "ended_early_return",
    )  # fmt: skip
    assert await read(api, f"/v1/subscriptions/{rental['rentalId']}") == returned

    asset = await read(api, "/v1/assets/SN-1")
    assert (asset["status"], asset["rentalId"], asset["customerId"]) == ("returned", None, None)
    assert (await read(api, "/v1/assets/SN-2"))["rentalId"] == other["rentalId"]
    customer = await read(api, f"/v1/customers/{customer_id}")
    assert (customer["totalDevicesRented"], customer["totalMonthlyRevenue"]) == (
        1, Decimal("59.99"),
    )  # fmt: skip
    assert await read(api, f"/v1/orders/{order['orderId']}") == order

    [ended] = await events_of(database, "subscription.ended")
    assert ended.data["rentalId"] == rental["rentalId"]
    assert (ended.data["status"], ended.data["previousStatus"]) == (
        "ended_early_return", "active",
    )  # fmt: skip
    [back] = await events_of(database, "asset.returned")
    assert (back.data["serialNumber"], back.data["status"], back.data["rentalId"]) == (
        "SN-1", "returned", rental["rentalId"],
    )  # fmt: skip


async def test_a_damaged_device_comes_back_unavailable(api: Api, database: Database) -> None:
    _order, rental, _other = await two_laptops(api)
    with clock.frozen(MID_MARCH):
        response = await _return(api, rental["rentalId"], returnCondition="damaged")
    assert response.status_code == 200, response.text
    asset = await read(api, "/v1/assets/SN-1")
    assert (asset["status"], asset["rentalId"], asset["customerId"]) == (
        "unavailable", None, None,
    )  # fmt: skip
    [back] = await events_of(database, "asset.returned")
    assert back.data["status"] == "unavailable"


async def test_a_waived_fee_is_zero(api: Api) -> None:
    _order, rental, _other = await two_laptops(api)
    with clock.frozen(MID_MARCH):
        response = await _return(api, rental["rentalId"], waiveFee=True)
    assert response.status_code == 200, response.text
    answer = exact(response)
    assert (answer["earlyReturnFee"], answer["feeWaived"]) == (Decimal("0"), True)
    details = answer["rental"]["earlyReturnDetails"]
    assert (details["fee"], details["feeWaived"], details["calculationMethod"]) == (
        Decimal("0"), True, "auto_calculated",
    )  # fmt: skip
    # What would have been charged stays on record.
    assert details["calculationBreakdown"]["remainingValue"] == Decimal("599.90")


async def test_a_fee_set_by_hand(api: Api) -> None:
    _order, rental, _other = await two_laptops(api)
    with clock.frozen(MID_MARCH):
        response = await _return(api, rental["rentalId"], earlyReturnFee=150.25)
    assert response.status_code == 200, response.text
    answer = exact(response)
    assert answer["earlyReturnFee"] == Decimal("150.25")
    details = answer["rental"]["earlyReturnDetails"]
    assert (details["fee"], details["calculationMethod"]) == (
        Decimal("150.25"), "manual_override",
    )  # fmt: skip
    assert details["calculationBreakdown"]["method"] == "manual"


def _breakdown(
    method: str, months: int, value: str, percentage: str | None, *, grace: bool, days: int
) -> dict[str, Any]:
    return {
        "method": method, "remainingMonths": months, "remainingValue": Decimal(value),
        "penaltyPercentage": None if percentage is None else Decimal(percentage),
        "gracePeriodApplied": grace, "daysFromStart": days,
    }  # fmt: skip


JAN_20 = datetime(2025, 1, 20, 10, tzinfo=UTC)
JAN_29 = datetime(2025, 1, 29, 23, tzinfo=UTC)
JAN_30 = datetime(2025, 1, 30, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("rules", "moment", "fee", "breakdown"),
    [
        pytest.param(
            {}, MID_MARCH, "599.90",
            _breakdown("remaining_months", 10, "599.90", "100", grace=False, days=64),
            id="default: the current month is charged",
        ),
        pytest.param(
            {}, JAN_20, "0",
            _breakdown("remaining_months", 12, "719.88", "100", grace=True, days=5),
            id="within the 14 grace days",
        ),
        pytest.param(
            {}, JAN_29, "0",
            _breakdown("remaining_months", 12, "719.88", "100", grace=True, days=14),
            id="last grace day",
        ),
        pytest.param(
            {}, JAN_30, "719.88",
            _breakdown("remaining_months", 12, "719.88", "100", grace=False, days=15),
            id="first day after the grace period",
        ),
        pytest.param(
            {"feePercentage": 50}, MID_MARCH, "299.95",
            _breakdown("remaining_months", 10, "599.90", "50", grace=False, days=64),
            id="half the remaining value",
        ),
        pytest.param(
            {"feePercentage": 33.33}, MID_MARCH, "199.95",
            _breakdown("remaining_months", 10, "599.90", "33.33", grace=False, days=64),
            id="199.9467 rounded half up to 199.95",
        ),
        pytest.param(
            {"chargeCurrentMonth": False, "partialMonthRounding": "down"}, MID_MARCH, "539.91",
            _breakdown("remaining_months", 9, "539.91", "100", grace=False, days=64),
            id="partial month rounded down",
        ),
        pytest.param(
            {"chargeCurrentMonth": False, "partialMonthRounding": "up"}, MID_MARCH, "599.90",
            _breakdown("remaining_months", 10, "599.90", "100", grace=False, days=64),
            id="partial month rounded up",
        ),
        pytest.param(
            {"method": "flat_fee", "flatFee": 49.99}, MID_MARCH, "49.99",
            _breakdown("flat_fee", 10, "599.90", None, grace=False, days=64),
            id="flat fee",
        ),
        pytest.param(
            {"method": "flat_fee", "flatFee": 49.99}, JAN_20, "0",
            _breakdown("flat_fee", 12, "719.88", None, grace=True, days=5),
            id="flat fee within the grace period",
        ),
        pytest.param(
            {"method": "no_fee"}, MID_MARCH, "0",
            _breakdown("no_fee", 10, "599.90", None, grace=False, days=64),
            id="no fee",
        ),
        pytest.param(
            {"gracePeriodDays": 0}, datetime(2025, 1, 16, 9, tzinfo=UTC), "719.88",
            _breakdown("remaining_months", 12, "719.88", "100", grace=False, days=1),
            id="no grace days",
        ),
    ],
)  # fmt: skip
async def test_the_quote_under_each_setting(
    api: Api, rules: dict[str, Any], moment: datetime, fee: str, breakdown: dict[str, Any]
) -> None:
    _order, rental, _other = await two_laptops(api)
    if rules:
        await _settings(api, rules)

    with clock.frozen(moment):
        response = await _quote(api, rental["rentalId"])

    assert response.status_code == 200, response.text
    quote = exact(response)
    assert set(quote) == QUOTE_FIELDS
    assert quote["success"] is True
    assert quote["earlyReturnFee"] == Decimal(fee)
    assert quote["remainingMonths"] == breakdown["remainingMonths"]
    assert quote["remainingValue"] == breakdown["remainingValue"]
    assert quote["penaltyPercentage"] == breakdown["penaltyPercentage"]
    assert (quote["currency"], quote["calculationMethod"]) == ("EUR", "auto_calculated")
    assert quote["calculationBreakdown"] == breakdown

    # The return itself charges what was quoted.
    with clock.frozen(moment):
        returned = await _return(api, rental["rentalId"])
    assert returned.status_code == 200, returned.text
    assert exact(returned)["earlyReturnFee"] == Decimal(fee)
    stored = exact(returned)["rental"]["earlyReturnDetails"]["calculationBreakdown"]
    assert stored == breakdown


async def test_a_return_dated_back_is_charged_and_ended_on_that_day(api: Api) -> None:
    _order, rental, _other = await two_laptops(api)

    with clock.frozen(MID_MARCH):
        response = await _return(api, rental["rentalId"], effectiveDate="2025-02-15")

    assert response.status_code == 200, response.text
    answer = exact(response)
    assert answer["returnDate"] == "2025-02-15"
    assert answer["actualMonthsRented"] == 1  # the month from 15 February had not begun
    assert answer["earlyReturnFee"] == Decimal("659.89")  # 11 months left from 15 February
    assert answer["returnedAt"] == "2025-02-15T10:00:00Z"
    returned = answer["rental"]
    assert returned["endedAt"] == "2025-02-15T10:00:00Z"
    details = returned["earlyReturnDetails"]
    assert details["returnedAt"] == "2025-02-15T10:00:00Z"
    assert details["calculationBreakdown"]["daysFromStart"] == 31
    last = returned["history"][-1]
    assert (last["at"], last["action"], last["effectiveDate"]) == (
        "2025-03-20T10:00:00Z", "returned_early", "2025-02-15",
    )  # fmt: skip


async def test_a_return_on_the_start_day_rented_no_month(api: Api) -> None:
    _order, rental, _other = await two_laptops(api)
    response = await _return(api, rental["rentalId"])
    assert response.status_code == 200, response.text
    answer = exact(response)
    assert (answer["returnDate"], answer["actualMonthsRented"]) == ("2025-01-15", 0)
    assert answer["earlyReturnFee"] == Decimal("0")  # within the grace period


async def test_the_body_may_leave_the_rental_id_to_the_path(api: Api) -> None:
    _order, rental, _other = await two_laptops(api)
    response = await api.post(
        f"/v1/subscriptions/{rental['rentalId']}/early-return",
        {"returnCondition": "good", "reason": "Moving abroad"},
    )
    assert response.status_code == 200, response.text
    assert exact(response)["rental"]["status"] == "ended_early_return"


async def test_a_quote_takes_the_subscription_id_of_the_quote_page(api: Api) -> None:
    _order, rental, _other = await two_laptops(api)
    with clock.frozen(MID_MARCH):
        by_rental_id = await _quote(api, rental["rentalId"])
        by_subscription_id = await api.post(
            "/v1/subscriptions/calculate-early-return-fee", {"subscriptionId": rental["rentalId"]}
        )
    assert by_subscription_id.status_code == 200, by_subscription_id.text
    assert exact(by_subscription_id) == exact(by_rental_id)
    assert exact(by_subscription_id)["earlyReturnFee"] == Decimal("599.90")


async def test_the_quote_changes_nothing(api: Api, database: Database) -> None:
    _order, rental, _other = await two_laptops(api)
    before = await read(api, f"/v1/subscriptions/{rental['rentalId']}")
    events_before = await event_counts(database)
    assert (await _quote(api, rental["rentalId"])).status_code == 200
    assert await read(api, f"/v1/subscriptions/{rental['rentalId']}") == before
    assert await event_counts(database) == events_before


@pytest.mark.parametrize(
    ("fee", "detail_code"),
    [(-5, "too_small"), (-0.01, "too_small"), (12.345, "not_multiple_of"),
     (1e14, "too_big")],
)  # fmt: skip
async def test_an_impossible_fee_is_invalid_fee(
    api: Api, database: Database, fee: float, detail_code: str
) -> None:
    _order, rental, _other = await two_laptops(api)
    response = await _return(api, rental["rentalId"], earlyReturnFee=fee)
    assert (response.status_code, error_code(response)) == (400, "INVALID_FEE")
    [detail] = response.json()["error"]["details"]
    assert (detail["path"], detail["code"]) == ("earlyReturnFee", detail_code)
    assert (await read(api, f"/v1/subscriptions/{rental['rentalId']}"))["status"] == "active"
    assert (await read(api, "/v1/assets/SN-1"))["status"] == "rented_out"
    assert (await event_counts(database))["subscription.ended"] == 0


async def test_fees_set_by_hand_can_be_turned_off(api: Api) -> None:
    _order, rental, _other = await two_laptops(api)
    await _settings(api, {"allowManualOverride": False})

    refused = await _return(api, rental["rentalId"], earlyReturnFee=10)

    assert (refused.status_code, error_code(refused)) == (400, "INVALID_FEE")
    assert "turned off" in refused.json()["error"]["message"]
    # Waiving stays possible: it is not a fee of one's own.
    with clock.frozen(MID_MARCH):
        waived = await _return(api, rental["rentalId"], waiveFee=True)
    assert waived.status_code == 200, waived.text
    assert exact(waived)["earlyReturnFee"] == Decimal("0")


async def test_an_ended_subscription_cannot_be_returned_early(api: Api) -> None:
    _order, rental, _other = await two_laptops(api)
    cancel = {"rentalId": rental["rentalId"], "reason": "fraud"}
    cancelled = await api.post(f"/v1/subscriptions/{rental['rentalId']}/cancel", cancel)
    assert cancelled.status_code == 200, cancelled.text

    again = await _return(api, rental["rentalId"])
    quote = await _quote(api, rental["rentalId"])

    assert (again.status_code, error_code(again)) == (422, "SUBSCRIPTION_NOT_ACTIVE")
    assert "'cancelled'" in again.json()["error"]["message"]
    assert (quote.status_code, error_code(quote)) == (422, "SUBSCRIPTION_NOT_ACTIVE")


async def test_unknown_subscription(api: Api) -> None:
    quote = await _quote(api, "sub_missing")
    returned = await _return(api, "sub_missing")
    assert (quote.status_code, error_code(quote)) == (404, "NOT_FOUND")
    assert (returned.status_code, error_code(returned)) == (404, "NOT_FOUND")


@pytest.mark.parametrize(
    ("change", "path"),
    [
        ({"rentalId": "sub_other"}, "rentalId"),
        ({"rentalId": ""}, "rentalId"),
        ({"returnCondition": None}, "returnCondition"),
        ({"returnCondition": "like new"}, "returnCondition"),
        ({"reason": None}, "reason"),
        ({"reason": ""}, "reason"),
        ({"reason": "x" * 1001}, "reason"),
        ({"earlyReturnFee": "some"}, "earlyReturnFee"),
        ({"damageAssessment": "x" * 5001}, "damageAssessment"),
        ({"effectiveDate": "2025-01-16"}, "effectiveDate"),  # tomorrow
        ({"effectiveDate": "2025-01-14"}, "effectiveDate"),  # before the start
        ({"effectiveDate": "9999-06-01"}, "effectiveDate"),
    ],
)
async def test_invalid_bodies(api: Api, change: dict[str, Any], path: str) -> None:
    _order, rental, _other = await two_laptops(api)
    rental_id = rental["rentalId"]
    body = {"rentalId": rental_id, "returnCondition": "good", "reason": "Moving", **change}
    body = {key: value for key, value in body.items() if value is not None}
    response = await api.post(f"/v1/subscriptions/{rental_id}/early-return", body)
    assert (response.status_code, error_code(response)) == (400, "VALIDATION_ERROR")
    assert [d["path"] for d in response.json()["error"]["details"]] == [path]
    assert (await read(api, f"/v1/subscriptions/{rental_id}"))["status"] == "active"
