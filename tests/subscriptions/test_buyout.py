"""Buying out a rented device (``POST /v1/subscriptions/{id}/buyout``) and quoting it
(``POST /v1/subscriptions/calculate-buyout``), as a FlexPortal client does: the price under
each buyout setting, what a buyout moves (asset, customer, events) and what it leaves
alone (the order), and every refusal."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from flexbill.core import clock
from flexbill.core.db import Database
from tests.subscriptions.support import (
    PHONE,
    confirmed_order,
    event_counts,
    events_of,
    exact,
    read,
    register,
    subscribe,
    two_laptops,
)
from tests.support import Api, Tenant, error_code, issue_key

START = datetime(2025, 1, 15, 10, 0, tzinfo=UTC)
# Two months and five days in: the month from 15 March is paid, nine are left to bill.
MID_MARCH = datetime(2025, 3, 20, 10, 0, tzinfo=UTC)

QUOTE_FIELDS = {
    "success", "buyoutPrice", "remainingPayments", "depreciatedValue", "currency", "calculationMethod",
    "calculationBreakdown",
}  # fmt: skip
ANSWER_FIELDS = {
    "success", "message", "rentalId", "assetSerialNumber", "buyoutPrice", "currency",
    "effectiveDate", "rental",
}  # fmt: skip


@pytest.fixture(autouse=True)
def _frozen_clock() -> Iterator[None]:
    with clock.frozen(START):
        yield


async def _phone(api: Api, **asset: Any) -> dict[str, Any]:
    """A rental of a phone whose list price is unknown (19.99 a month for 12 months)."""
    order = await confirmed_order(api, items=[{"sku": PHONE, "quantity": 1, "contractLength": 12}])
    await register(api, "PH-1", PHONE, **asset)
    return await subscribe(api, order, "PH-1")


async def _settings(api: Api, buyout: dict[str, Any]) -> None:
    response = await api.patch("/v1/settings", {"buyout": buyout})
    assert response.status_code == 200, response.text


async def _quote(api: Api, rental_id: str) -> Any:
    return await api.post("/v1/subscriptions/calculate-buyout", {"rentalId": rental_id})


async def _buy_out(api: Api, rental_id: str, **fields: Any) -> Any:
    body = {"rentalId": rental_id, "reason": "customer_request", **fields}
    return await api.post(f"/v1/subscriptions/{rental_id}/buyout", body)


async def test_a_buyout_sells_the_device_at_the_quoted_price(api: Api, database: Database) -> None:
    order, rental, other = await two_laptops(api)
    customer_id = order["customerId"]
    customer = await read(api, f"/v1/customers/{customer_id}")
    assert (customer["totalDevicesRented"], customer["totalMonthlyRevenue"]) == (
        2, Decimal("119.98"),
    )  # fmt: skip

    with clock.frozen(MID_MARCH):
        response = await _buy_out(
            api, rental["rentalId"], reason="end_of_contract", notes="Keeps it for the kids"
        )

    assert response.status_code == 200, response.text
    answer = exact(response)
    assert set(answer) == ANSWER_FIELDS
    assert answer["success"] is True
    assert answer["rentalId"] == rental["rentalId"]
    assert answer["assetSerialNumber"] == "SN-1"
    assert answer["buyoutPrice"] == Decimal("539.91")  # 9 × 59.99
    assert answer["currency"] == "EUR"
    assert answer["effectiveDate"] == "2025-03-20"
    bought = answer["rental"]
    assert bought["status"] == "ended_buyout"
    assert bought["endedAt"] == "2025-03-20T10:00:00Z"
    assert bought["nextBillingDate"] is None
    assert bought["buyoutDetails"] == {
        "buyoutPrice": Decimal("539.91"),
        "calculationMethod": "auto_calculated",
        "calculationBreakdown": {
            "remainingMonths": 9, "remainingMonthsPayment": Decimal("539.91"),
            "listPricePercentage": None, "listPriceAmount": Decimal("0"),
            "flatFee": Decimal("0"),
        },
        "reason": "end_of_contract",
        "notes": "Keeps it for the kids",
        "processedBy": bought["createdBy"],
        "buyoutDate": "2025-03-20",
    }  # fmt: skip
    assert bought["earlyReturnDetails"] is None
    assert bought["cancellationDetails"] is None
    last = bought["history"][-1]
    assert (last["action"], last["fromStatus"], last["toStatus"], last["reason"]) == (
        "bought_out", "active", "ended_buyout", "end_of_contract",
    )  # fmt: skip
    assert await read(api, f"/v1/subscriptions/{rental['rentalId']}") == bought

    asset = await read(api, "/v1/assets/SN-1")
    assert (asset["status"], asset["rentalId"], asset["customerId"]) == ("sold", None, None)
    untouched = await read(api, "/v1/assets/SN-2")
    assert (untouched["status"], untouched["rentalId"]) == ("rented_out", other["rentalId"])

    customer = await read(api, f"/v1/customers/{customer_id}")
    assert (customer["totalDevicesRented"], customer["totalMonthlyRevenue"]) == (
        1, Decimal("59.99"),
    )  # fmt: skip
    assert customer["rentalIds"] == [rental["rentalId"], other["rentalId"]]
    assert await read(api, f"/v1/orders/{order['orderId']}") == order

    [ended] = await events_of(database, "subscription.ended")
    assert ended.data["rentalId"] == rental["rentalId"]
    assert (ended.data["status"], ended.data["previousStatus"]) == ("ended_buyout", "active")
    assert (await event_counts(database))["asset.returned"] == 0  # sold, not returned


def _breakdown(
    method: str,
    *,
    percentage: str | None = None,
    list_amount: str = "0",
    flat_fee: str = "0",
    list_price: str | None = None,
) -> dict[str, Any]:
    """The quote's breakdown for the laptop in mid-March (9 months of 59.99 left)."""
    return {
        "remainingMonths": 9, "remainingMonthsPayment": Decimal("539.91"),
        "listPricePercentage": None if percentage is None else Decimal(percentage),
        "listPriceAmount": Decimal(list_amount), "flatFee": Decimal(flat_fee),
        "method": method, "listPrice": None if list_price is None else Decimal(list_price),
        "listPriceEstimated": False, "listPriceBasis": None if list_price is None else "list_price",
    }  # fmt: skip


@pytest.mark.parametrize(
    ("rules", "price", "depreciated", "breakdown"),
    [
        pytest.param({}, "539.91", "0", _breakdown("remaining_months"), id="default"),
        pytest.param(
            {"method": "flat_fee", "flatFee": 99}, "99", "0",
            _breakdown("flat_fee", flat_fee="99"), id="flat fee",
        ),
        pytest.param(
            {"method": "rrp_percentage", "rrpPercentage": 25}, "499.75", "499.75",
            _breakdown("rrp_percentage", percentage="25", list_amount="499.75", list_price="1999"),
            id="list-price percentage",
        ),
        pytest.param(
            {"method": "remaining_months_plus_rrp", "rrpPercentage": 25}, "1039.66", "499.75",
            _breakdown(
                "remaining_months_plus_rrp", percentage="25", list_amount="499.75",
                list_price="1999",
            ),
            id="remaining months plus list-price percentage",
        ),
        pytest.param(
            {"method": "rrp_percentage", "rrpPercentage": 33.33}, "666.27", "666.27",
            _breakdown(
                "rrp_percentage", percentage="33.33", list_amount="666.27", list_price="1999"
            ),
            id="666.2667 rounded half up",
        ),
    ],
)  # fmt: skip
async def test_the_quote_under_each_method(
    api: Api,
    rules: dict[str, Any],
    price: str,
    depreciated: str,
    breakdown: dict[str, Any],
) -> None:
    _order, rental, _other = await two_laptops(api)
    if rules:
        await _settings(api, rules)

    with clock.frozen(MID_MARCH):
        response = await _quote(api, rental["rentalId"])

    assert response.status_code == 200, response.text
    quote = exact(response)
    assert set(quote) == QUOTE_FIELDS
    assert quote["success"] is True
    assert quote["buyoutPrice"] == Decimal(price)
    assert quote["remainingPayments"] == Decimal("539.91")
    assert quote["depreciatedValue"] == Decimal(depreciated)
    assert (quote["currency"], quote["calculationMethod"]) == ("EUR", "auto_calculated")
    assert quote["calculationBreakdown"] == breakdown


async def test_a_buyout_dated_back_is_priced_and_ended_on_that_day(api: Api) -> None:
    _order, rental, _other = await two_laptops(api)

    with clock.frozen(MID_MARCH):
        response = await _buy_out(api, rental["rentalId"], effectiveDate="2025-02-15")

    assert response.status_code == 200, response.text
    answer = exact(response)
    assert answer["effectiveDate"] == "2025-02-15"
    assert answer["buyoutPrice"] == Decimal("659.89")  # 11 × 59.99: the months from 15 February
    bought = answer["rental"]
    assert bought["buyoutDetails"]["buyoutDate"] == "2025-02-15"
    assert bought["buyoutDetails"]["calculationBreakdown"]["remainingMonths"] == 11
    assert bought["endedAt"] == "2025-02-15T10:00:00Z"  # that day, at the time of the request
    last = bought["history"][-1]
    assert (last["at"], last["action"], last["effectiveDate"]) == (
        "2025-03-20T10:00:00Z", "bought_out", "2025-02-15",
    )  # fmt: skip


async def test_an_effective_date_time_names_its_day_in_utc(api: Api) -> None:
    _order, rental, _other = await two_laptops(api)

    with clock.frozen(MID_MARCH):
        response = await _buy_out(
            api, rental["rentalId"], effectiveDate="2025-02-15T23:30:00.000-02:00"
        )

    assert response.status_code == 200, response.text
    answer = exact(response)
    assert answer["effectiveDate"] == "2025-02-16"  # 01:30 UTC on the 16th
    assert answer["buyoutPrice"] == Decimal("599.90")  # 10 months begin after 15 February


@pytest.mark.parametrize(
    ("effective_date", "code"),
    [
        ("2025-03-21", "too_big"),  # tomorrow: a buyout is recorded, never scheduled
        ("2025-04-30", "too_big"),
        ("2025-01-14", "too_small"),  # the day before the contract started
        ("1999-12-31", "too_small"),
        ("9999-01-01", "too_big"),
        ("20.02.2025", "invalid_date"),
    ],
)
async def test_an_effective_date_after_today_or_before_the_start_is_refused(
    api: Api, database: Database, effective_date: str, code: str
) -> None:
    _order, rental, _other = await two_laptops(api)

    with clock.frozen(MID_MARCH):
        response = await _buy_out(api, rental["rentalId"], effectiveDate=effective_date)

    assert (response.status_code, error_code(response)) == (400, "VALIDATION_ERROR")
    [detail] = response.json()["error"]["details"]
    assert (detail["path"], detail["code"]) == ("effectiveDate", code)
    assert (await read(api, f"/v1/subscriptions/{rental['rentalId']}"))["status"] == "active"
    assert (await read(api, "/v1/assets/SN-1"))["status"] == "rented_out"
    assert (await event_counts(database))["subscription.ended"] == 0


async def test_the_body_may_leave_the_rental_id_to_the_path(api: Api) -> None:
    rental = await _phone(api)
    response = await api.post(
        f"/v1/subscriptions/{rental['rentalId']}/buyout", {"reason": "customer_request"}
    )
    assert response.status_code == 200, response.text
    assert exact(response)["rental"]["status"] == "ended_buyout"


async def test_the_quote_follows_the_clock(api: Api) -> None:
    _order, rental, _other = await two_laptops(api)
    moments = {
        START: "719.88",  # the first month is due on the start day: 12 months
        datetime(2025, 4, 15, 9, tzinfo=UTC): "539.91",  # a billing day: 9 months
        datetime(2025, 4, 16, 9, tzinfo=UTC): "479.92",  # 8 months
        datetime(2026, 1, 14, 9, tzinfo=UTC): "0",  # the last month is paid
    }
    for moment, price in moments.items():
        with clock.frozen(moment):
            response = await _quote(api, rental["rentalId"])
        assert response.status_code == 200, response.text
        assert exact(response)["buyoutPrice"] == Decimal(price), moment


async def test_the_quote_changes_nothing(api: Api, database: Database) -> None:
    _order, rental, _other = await two_laptops(api)
    before = await read(api, f"/v1/subscriptions/{rental['rentalId']}")
    events_before = await event_counts(database)
    assert (await _quote(api, rental["rentalId"])).status_code == 200
    assert await read(api, f"/v1/subscriptions/{rental['rentalId']}") == before
    assert await event_counts(database) == events_before


async def test_an_unknown_list_price_is_refused_unless_estimated(api: Api) -> None:
    rental = await _phone(api)
    await _settings(api, {"method": "remaining_months_plus_rrp", "rrpPercentage": 25})

    with clock.frozen(MID_MARCH):
        refused_quote = await _quote(api, rental["rentalId"])
        refused = await _buy_out(api, rental["rentalId"])
    assert (refused_quote.status_code, error_code(refused_quote)) == (422, "LIST_PRICE_UNKNOWN")
    assert (refused.status_code, error_code(refused)) == (422, "LIST_PRICE_UNKNOWN")

    await _settings(api, {"allowRrpEstimation": True})
    with clock.frozen(MID_MARCH):
        response = await _quote(api, rental["rentalId"])
    assert response.status_code == 200, response.text
    quote = exact(response)
    # No cost either: 19.99 × 12 months = 239.88, of which 25 % is 59.97.
    assert quote["depreciatedValue"] == Decimal("59.97")
    assert quote["remainingPayments"] == Decimal("179.91")  # 9 × 19.99
    assert quote["buyoutPrice"] == Decimal("239.88")
    breakdown = quote["calculationBreakdown"]
    assert breakdown["listPrice"] == Decimal("239.88")
    assert (breakdown["listPriceEstimated"], breakdown["listPriceBasis"]) == (
        True, "contract_value",
    )  # fmt: skip


async def test_the_estimate_prefers_the_acquisition_cost(api: Api) -> None:
    rental = await _phone(api, acquisitionCost=150)
    await _settings(
        api, {"method": "rrp_percentage", "rrpPercentage": 25, "allowRrpEstimation": True}
    )
    with clock.frozen(MID_MARCH):
        response = await _buy_out(api, rental["rentalId"])
    assert response.status_code == 200, response.text
    answer = exact(response)
    assert answer["buyoutPrice"] == Decimal("37.5")
    assert answer["rental"]["buyoutDetails"]["calculationBreakdown"]["listPriceAmount"] == (
        Decimal("37.5")
    )


async def test_a_price_set_by_hand(api: Api) -> None:
    rental = await _phone(api)
    # The method needs the unknown list price, but a price set by hand does not.
    await _settings(api, {"method": "rrp_percentage", "rrpPercentage": 25})

    with clock.frozen(MID_MARCH):
        response = await _buy_out(api, rental["rentalId"], buyoutPrice=120.5, reason="other")

    assert response.status_code == 200, response.text
    answer = exact(response)
    assert answer["buyoutPrice"] == Decimal("120.5")
    details = answer["rental"]["buyoutDetails"]
    assert (details["buyoutPrice"], details["calculationMethod"], details["reason"]) == (
        Decimal("120.5"), "manual_override", "other",
    )  # fmt: skip
    assert details["calculationBreakdown"] == {
        "remainingMonths": 9, "remainingMonthsPayment": Decimal("179.91"),
        "listPricePercentage": Decimal(25), "listPriceAmount": Decimal("0"),
        "flatFee": Decimal("0"),
    }  # fmt: skip
    assert (await read(api, "/v1/assets/PH-1"))["status"] == "sold"


async def test_a_free_buyout_is_a_price_too(api: Api) -> None:
    rental = await _phone(api)
    response = await _buy_out(api, rental["rentalId"], buyoutPrice=0)
    assert response.status_code == 200, response.text
    assert exact(response)["buyoutPrice"] == Decimal("0")


@pytest.mark.parametrize(
    ("price", "detail_code"),
    [(-1, "too_small"), (-0.01, "too_small"), (10.001, "not_multiple_of"),
     (1e13, "too_big")],
)  # fmt: skip
async def test_an_impossible_price_is_invalid_buyout_price(
    api: Api, database: Database, price: float, detail_code: str
) -> None:
    rental = await _phone(api)
    response = await _buy_out(api, rental["rentalId"], buyoutPrice=price)
    assert (response.status_code, error_code(response)) == (400, "INVALID_BUYOUT_PRICE")
    [detail] = response.json()["error"]["details"]
    assert (detail["path"], detail["code"]) == ("buyoutPrice", detail_code)
    assert (await read(api, f"/v1/subscriptions/{rental['rentalId']}"))["status"] == "active"
    assert (await read(api, "/v1/assets/PH-1"))["status"] == "rented_out"
    assert (await event_counts(database))["subscription.ended"] == 0


async def test_prices_set_by_hand_can_be_turned_off(api: Api) -> None:
    rental = await _phone(api)
    await _settings(api, {"allowManualOverride": False})

    response = await _buy_out(api, rental["rentalId"], buyoutPrice=100)

    assert (response.status_code, error_code(response)) == (400, "INVALID_BUYOUT_PRICE")
    assert "turned off" in response.json()["error"]["message"]
    assert (await read(api, f"/v1/subscriptions/{rental['rentalId']}"))["status"] == "active"
    # Without a price of its own the buyout goes through at the quoted one.
    with clock.frozen(MID_MARCH):
        allowed = await _buy_out(api, rental["rentalId"])
    assert allowed.status_code == 200, allowed.text
    assert exact(allowed)["buyoutPrice"] == Decimal("179.91")


async def test_an_ended_subscription_cannot_be_bought_out(api: Api) -> None:
    rental = await _phone(api)
    assert (await _buy_out(api, rental["rentalId"])).status_code == 200

    again = await _buy_out(api, rental["rentalId"])
    quote = await _quote(api, rental["rentalId"])

    assert (again.status_code, error_code(again)) == (422, "SUBSCRIPTION_NOT_ACTIVE")
    assert "ended_buyout" in again.json()["error"]["message"]
    assert (quote.status_code, error_code(quote)) == (422, "SUBSCRIPTION_NOT_ACTIVE")


async def test_unknown_subscription(api: Api) -> None:
    quote = await _quote(api, "sub_missing")
    buyout = await _buy_out(api, "sub_missing")
    assert (quote.status_code, error_code(quote)) == (404, "NOT_FOUND")
    assert (buyout.status_code, error_code(buyout)) == (404, "NOT_FOUND")


@pytest.mark.parametrize(
    ("body", "path"),
    [
        ({"rentalId": "sub_other", "reason": "other"}, "rentalId"),
        ({"rentalId": "SELF"}, "reason"),
        ({"rentalId": "SELF", "reason": "bored"}, "reason"),
        ({"rentalId": "SELF", "reason": "other", "buyoutPrice": "lots"}, "buyoutPrice"),
        ({"rentalId": "SELF", "reason": "other", "notes": "x" * 5001}, "notes"),
    ],
)
async def test_invalid_bodies(api: Api, body: dict[str, Any], path: str) -> None:
    rental = await _phone(api)
    rental_id = rental["rentalId"]
    if body.get("rentalId") == "SELF":
        body = {**body, "rentalId": rental_id}
    response = await api.post(f"/v1/subscriptions/{rental_id}/buyout", body)
    assert (response.status_code, error_code(response)) == (400, "VALIDATION_ERROR")
    assert [d["path"] for d in response.json()["error"]["details"]] == [path]
    assert (await read(api, f"/v1/subscriptions/{rental_id}"))["status"] == "active"


async def test_a_quote_needs_a_rental_id(api: Api) -> None:
    response = await api.post("/v1/subscriptions/calculate-buyout", {})
    assert (response.status_code, error_code(response)) == (400, "VALIDATION_ERROR")
    assert response.json()["error"]["details"][0]["path"] == "rentalId"


async def test_a_quote_takes_the_subscription_id_of_the_quote_page(api: Api) -> None:
    rental = await _phone(api)
    with clock.frozen(MID_MARCH):
        by_rental_id = await _quote(api, rental["rentalId"])
        by_subscription_id = await api.post(
            "/v1/subscriptions/calculate-buyout", {"subscriptionId": rental["rentalId"]}
        )
        both = await api.post(
            "/v1/subscriptions/calculate-buyout",
            {"subscriptionId": rental["rentalId"], "rentalId": rental["rentalId"]},
        )
    assert by_subscription_id.status_code == 200, by_subscription_id.text
    assert exact(by_subscription_id) == exact(by_rental_id) == exact(both)
    assert exact(by_subscription_id)["buyoutPrice"] == Decimal("179.91")


async def test_a_quote_naming_two_subscriptions_is_refused(api: Api) -> None:
    rental = await _phone(api)
    response = await api.post(
        "/v1/subscriptions/calculate-buyout",
        {"subscriptionId": rental["rentalId"], "rentalId": "sub_other"},
    )
    assert (response.status_code, error_code(response)) == (400, "VALIDATION_ERROR")
    [detail] = response.json()["error"]["details"]
    assert (detail["path"], detail["code"]) == ("subscriptionId", "mismatch")


async def test_reading_may_quote_but_not_buy_out(
    api: Api, database: Database, tenant: Tenant
) -> None:
    rental = await _phone(api)
    reader = api.with_key(await issue_key(database, tenant, permissions=["subscriptions:read"]))
    assert (await _quote(reader, rental["rentalId"])).status_code == 200
    refused = await _buy_out(reader, rental["rentalId"])
    assert (refused.status_code, error_code(refused)) == (403, "INSUFFICIENT_PERMISSIONS")
