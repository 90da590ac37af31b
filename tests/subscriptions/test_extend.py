"""Extending a subscription (``POST /v1/subscriptions/{id}/extend``) as a FlexPortal client
does: the new dates and amount, the tracking order, the customer, the events, and every
refusal, with the extension settings changed through ``PATCH /v1/settings``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select

from flexbill.core import clock
from flexbill.core.db import Database
from flexbill.events.models import Event
from tests.orders.support import ADDRESS
from tests.subscriptions.support import LAPTOP, confirmed_order, exact, register, subscribe
from tests.support import Api, error_code

NOW = datetime(2025, 3, 10, 9, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _frozen_clock() -> Any:
    with clock.frozen(NOW):
        yield


async def _events(database: Database, event_type: str) -> list[dict[str, Any]]:
    async with database.transaction() as session:
        statement = select(Event).where(Event.type == event_type).order_by(Event.id)
        return [event.data for event in await session.scalars(statement)]


async def _get(api: Api, path: str, **params: Any) -> Any:
    response = await api.get(path, **params)
    assert response.status_code == 200, response.text
    return exact(response)


async def _settings(api: Api, **extensions: Any) -> None:
    response = await api.patch("/v1/settings", {"extensions": extensions})
    assert response.status_code == 200, response.text


async def _rental(api: Api, **fields: Any) -> dict[str, Any]:
    """An active 12-month laptop subscription at 59.99 started today (10 March 2025)."""
    order = await confirmed_order(api)
    await register(api, "SN-1")
    return await subscribe(api, order, "SN-1", **fields)


async def _extend(api: Api, rental_id: str, **fields: Any) -> Any:
    body = {"rentalId": rental_id, "extensionMonths": 6, "reason": "Customer asked", **fields}
    return await api.post(f"/v1/subscriptions/{rental_id}/extend", body)


async def _extended(api: Api, rental_id: str, **fields: Any) -> Any:
    response = await _extend(api, rental_id, **fields)
    assert response.status_code == 200, response.text
    return exact(response)


async def test_an_extension_moves_the_end_and_the_amount_and_is_tracked(
    api: Api, database: Database
) -> None:
    rental = await _rental(api)
    rental_id = rental["rentalId"]

    response = await _extend(
        api, rental_id, extensionMonths=12, newMonthlyAmount=49.5, notes="Loyal customer"
    )

    assert response.status_code == 200, response.text
    answer = exact(response)
    tracking_id = answer["trackingOrderId"]
    assert tracking_id.startswith("ord_")
    assert {key: value for key, value in answer.items() if key != "rental"} == {
        "success": True, "message": "Subscription extended successfully",
        "rentalId": rental_id, "assetSerialNumber": "SN-1", "oldEndDate": "2026-03-10",
        "newEndDate": "2027-03-10", "extensionMonths": 12, "oldContractLength": 12,
        "newContractLength": 24, "trackingOrderId": tracking_id,
    }  # fmt: skip
    extended = answer["rental"]
    assert extended["status"] == "active"
    assert (extended["originalContractLength"], extended["contractLength"]) == (12, 24)
    assert (extended["startDate"], extended["endDate"]) == ("2025-03-10", "2027-03-10")
    assert extended["monthlyAmount"] == Decimal("49.50")
    assert extended["serialNumber"] == "SN-1"
    assert extended["orderId"] == rental["orderId"]  # the contract's own order stays
    assert extended["extensionHistory"] == [
        {
            "extendedAt": "2025-03-10T09:00:00Z", "extensionMonths": 12,
            "oldEndDate": "2026-03-10", "newEndDate": "2027-03-10", "oldContractLength": 12,
            "newContractLength": 24, "oldMonthlyAmount": Decimal("59.99"),
            "newMonthlyAmount": Decimal("49.50"), "reason": "Customer asked",
            "notes": "Loyal customer", "processedBy": extended["createdBy"],
            "trackingOrderId": tracking_id,
        }
    ]  # fmt: skip
    assert [entry["action"] for entry in extended["history"]] == ["created", "extended"]
    assert extended["history"][1] == {
        "at": "2025-03-10T09:00:00Z", "action": "extended", "fromStatus": "active",
        "toStatus": "active", "processedBy": extended["createdBy"], "extensionMonths": 12,
        "oldEndDate": "2026-03-10", "newEndDate": "2027-03-10", "trackingOrderId": tracking_id,
    }  # fmt: skip
    assert await _get(api, f"/v1/subscriptions/{rental_id}") == extended

    customer = await _get(api, f"/v1/customers/{rental['customerId']}")
    assert customer["totalMonthlyRevenue"] == Decimal("49.50")
    assert customer["totalDevicesRented"] == 1
    assert customer["totalOrders"] == 2
    assert customer["orderIds"] == [rental["orderId"], tracking_id]

    (extended_event,) = await _events(database, "subscription.extended")
    assert extended_event == {
        "subscriptionId": rental_id, "rentalId": rental_id,
        "customerId": rental["customerId"], "orderId": rental["orderId"], "status": "active",
        "sku": LAPTOP, "productName": "Laptop Pro 16", "serialNumber": "SN-1",
        "monthlyAmount": Decimal("49.50"), "currency": "EUR", "contractLength": 24,
        "startDate": "2025-03-10", "endDate": "2027-03-10", "extensionMonths": 12,
        "oldEndDate": "2026-03-10", "newEndDate": "2027-03-10", "oldContractLength": 12,
        "newContractLength": 24,
    }  # fmt: skip


async def test_the_tracking_order_is_listed_as_an_extension_order(
    api: Api, database: Database
) -> None:
    rental = await _rental(api)
    original = await _get(api, f"/v1/orders/{rental['orderId']}")
    answer = await _extended(api, rental["rentalId"], notes="Desk 4")
    tracking_id = answer["trackingOrderId"]

    listed = await _get(api, "/v1/orders", orderType="extension")
    assert [order["orderId"] for order in listed["orders"]] == [tracking_id]
    order = listed["orders"][0]
    assert await _get(api, f"/v1/orders/{tracking_id}") == order
    assert (order["status"], order["orderType"], order["channel"]) == (
        "fulfilled", "extension", "online",
    )  # fmt: skip
    assert order["customerId"] == rental["customerId"]
    assert order["customer"] == original["customer"]
    assert order["billingAddress"] == ADDRESS
    assert order["shippingAddress"] is None
    assert order["extensionDetails"] == {
        "originalOrderId": rental["orderId"], "extensionMonths": 6,
        "previousEndDate": "2026-03-10", "newEndDate": "2026-09-10", "reason": "Customer asked",
    }  # fmt: skip
    assert order["upgradeDetails"] is None
    (item,) = order["items"]
    assert item == {
        "sku": LAPTOP, "productName": "Laptop Pro 16", "variantName": "Space grey, grade A",
        "quantity": 1, "contractLength": 6, "unitPrice": Decimal("59.99"),
        "listPrice": Decimal("1999.00"), "listPriceSource": "variant",
        "acquisitionCost": Decimal("1200.50"), "acquisitionCostSource": "variant",
        "setupFee": Decimal("0.00"), "rentalIds": [rental["rentalId"]],
        "rentalStatus": "completed",
    }  # fmt: skip
    assert order["totals"] == {
        "subtotal": Decimal("59.99"), "taxAmount": Decimal("0.00"), "total": Decimal("59.99"),
        "currency": "EUR", "totalDevices": 1,
    }  # fmt: skip
    assert order["rentalProgress"] == {"totalDevices": 1, "rentedDevices": 1}
    assert order["rentalIds"] == [rental["rentalId"]]
    assert order["notes"] == "Desk 4"
    assert order["confirmedAt"] == order["createdAt"] == "2025-03-10T09:00:00Z"
    # The original order is not touched.
    assert await _get(api, f"/v1/orders/{rental['orderId']}") == original

    created = await _events(database, "order.created")
    assert [data["orderId"] for data in created] == [rental["orderId"], tracking_id]
    assert created[1]["orderType"] == "extension"
    assert created[1]["status"] == "fulfilled"


async def test_the_tracking_order_carries_the_business_units_vat(api: Api) -> None:
    response = await api.patch("/v1/settings", {"vat": {"enabled": True, "rate": 19}})
    assert response.status_code == 200, response.text
    rental = await _rental(api)
    answer = await _extended(api, rental["rentalId"], newMonthlyAmount=50)
    order = await _get(api, f"/v1/orders/{answer['trackingOrderId']}")
    assert order["totals"] == {
        "subtotal": Decimal("50.00"), "taxAmount": Decimal("9.50"), "total": Decimal("59.50"),
        "currency": "EUR", "totalDevices": 1,
    }  # fmt: skip


async def test_the_same_extension_twice_makes_two_tracking_orders(api: Api) -> None:
    """A tracking order claims no de-duplication key: identical extensions within the
    order window are two extensions, and a later identical placed order is not one of
    them."""
    await _settings(api, maxExtensions=5)
    rental = await _rental(api)
    first = await _extended(api, rental["rentalId"])
    second = await _extended(api, rental["rentalId"])
    assert first["trackingOrderId"] != second["trackingOrderId"]
    assert second["newEndDate"] == "2027-03-10"
    listed = await _get(api, "/v1/orders", orderType="extension")
    assert listed["count"] == 2


async def test_without_a_new_amount_the_amount_stays(api: Api) -> None:
    rental = await _rental(api)
    answer = await _extended(api, rental["rentalId"])
    extended = answer["rental"]
    assert extended["monthlyAmount"] == Decimal("59.99")
    entry = extended["extensionHistory"][0]
    assert entry["oldMonthlyAmount"] == entry["newMonthlyAmount"] == Decimal("59.99")
    assert entry["notes"] is None
    customer = await _get(api, f"/v1/customers/{rental['customerId']}")
    assert customer["totalMonthlyRevenue"] == Decimal("59.99")


async def test_a_zero_amount_is_an_amount(api: Api) -> None:
    rental = await _rental(api)
    answer = await _extended(api, rental["rentalId"], newMonthlyAmount=0)
    assert answer["rental"]["monthlyAmount"] == Decimal("0.00")
    customer = await _get(api, f"/v1/customers/{rental['customerId']}")
    assert customer["totalMonthlyRevenue"] == Decimal("0.00")


async def test_no_tracking_order_when_the_settings_say_so(api: Api, database: Database) -> None:
    await _settings(api, createTrackingOrder=False)
    rental = await _rental(api)

    answer = await _extended(api, rental["rentalId"])

    assert answer["trackingOrderId"] is None
    assert answer["rental"]["extensionHistory"][0]["trackingOrderId"] is None
    assert answer["newEndDate"] == "2026-09-10"
    assert (await _get(api, "/v1/orders", orderType="extension"))["orders"] == []
    customer = await _get(api, f"/v1/customers/{rental['customerId']}")
    assert customer["totalOrders"] == 1
    assert len(await _events(database, "order.created")) == 1
    assert len(await _events(database, "subscription.extended")) == 1


@pytest.mark.parametrize(
    ("start", "months", "extensions", "end_dates"),
    [
        # 31 January + 1 month is the last day of February; + 2 months is 31 March again,
        # because every end is counted from the start, not from the previous end.
        ("2025-01-31", 1, [1, 1, 1], ["2025-02-28", "2025-03-31", "2025-04-30", "2025-05-31"]),
        ("2024-01-31", 1, [1, 12], ["2024-02-29", "2024-03-31", "2025-03-31"]),
        ("2024-02-29", 12, [1, 11], ["2025-02-28", "2025-03-29", "2026-02-28"]),
        ("2025-08-31", 6, [6, 1], ["2026-02-28", "2026-08-31", "2026-09-30"]),
    ],
)
async def test_end_dates_keep_the_start_day_at_month_ends(
    api: Api, start: str, months: int, extensions: list[int], end_dates: list[str]
) -> None:
    await _settings(api, availableLengths=[1, 6, 11, 12], maxExtensions=10)
    with clock.frozen(datetime.fromisoformat(start).replace(hour=12, tzinfo=UTC)):
        rental = await _rental(api, startDate=start, contractLength=months)
        assert rental["endDate"] == end_dates[0]
        length = months
        for extension, old_end, new_end in zip(
            extensions, end_dates[:-1], end_dates[1:], strict=True
        ):
            answer = await _extended(api, rental["rentalId"], extensionMonths=extension)
            length += extension
            assert (answer["oldEndDate"], answer["newEndDate"]) == (old_end, new_end)
            assert answer["newContractLength"] == length
            assert answer["rental"]["endDate"] == new_end
            assert answer["rental"]["startDate"] == start


# ---- refusals --------------------------------------------------------------------------


async def _refused(api: Api, rental_id: str, status: int, code: str, **fields: Any) -> Any:
    response = await _extend(api, rental_id, **fields)
    assert response.status_code == status, response.text
    assert error_code(response) == code
    return response.json()["error"]


@pytest.mark.parametrize("months", [7, 0, -1, 121, 24])
async def test_months_not_offered_are_invalid_extension_months(
    api: Api, database: Database, months: int
) -> None:
    rental = await _rental(api)
    error = await _refused(
        api, rental["rentalId"], 400, "INVALID_EXTENSION_MONTHS", extensionMonths=months
    )
    assert error["details"] == [
        {
            "path": "extensionMonths",
            "message": "must be one of: 6, 12",
            "code": "invalid_enum_value",
        }
    ]
    unchanged = await _get(api, f"/v1/subscriptions/{rental['rentalId']}")
    assert (unchanged["contractLength"], unchanged["endDate"]) == (12, "2026-03-10")
    assert unchanged["extensionHistory"] == []
    assert await _events(database, "subscription.extended") == []


async def test_lengths_come_from_the_settings(api: Api) -> None:
    await _settings(api, availableLengths=[3, 24])
    rental = await _rental(api)
    await _refused(api, rental["rentalId"], 400, "INVALID_EXTENSION_MONTHS", extensionMonths=6)
    answer = await _extended(api, rental["rentalId"], extensionMonths=24)
    assert answer["newEndDate"] == "2028-03-10"


async def test_max_extensions_reached(api: Api) -> None:
    await _settings(api, maxExtensions=2)
    rental = await _rental(api)
    for _ in range(2):
        assert (await _extend(api, rental["rentalId"])).status_code == 200
    await _refused(api, rental["rentalId"], 422, "MAX_EXTENSIONS_REACHED")
    after = await _get(api, f"/v1/subscriptions/{rental['rentalId']}")
    assert (after["contractLength"], len(after["extensionHistory"])) == (24, 2)

    await _settings(api, maxExtensions=0)
    await register(api, "SN-2")
    order = await _get(api, f"/v1/orders/{rental['orderId']}")
    never_extended = await subscribe(api, order, "SN-2")
    await _refused(api, never_extended["rentalId"], 422, "MAX_EXTENSIONS_REACHED")


async def test_extension_too_late(api: Api) -> None:
    await _settings(api, minDaysBeforeEnd=30)
    rental = await _rental(api)  # ends 2026-03-10
    with clock.frozen(datetime(2026, 2, 9, 8, tzinfo=UTC)):  # 29 days before the end
        error = await _refused(api, rental["rentalId"], 422, "EXTENSION_TOO_LATE")
        assert "2026-03-10" in error["message"]
    with clock.frozen(datetime(2026, 2, 8, 23, tzinfo=UTC)):  # 30 days before the end
        answer = await _extended(api, rental["rentalId"])
        assert answer["newEndDate"] == "2026-09-10"


async def test_a_contract_past_its_end_date_is_too_late(api: Api) -> None:
    rental = await _rental(api)
    with clock.frozen(NOW + timedelta(days=366)):
        await _refused(api, rental["rentalId"], 422, "EXTENSION_TOO_LATE")


async def test_an_ended_subscription_is_not_active(api: Api) -> None:
    rental = await _rental(api)
    await register(api, "SN-2")
    upgrade = {
        "rentalId": rental["rentalId"], "newSku": LAPTOP, "newSerialNumber": "SN-2",
        "contractLength": 12, "newMonthlyAmount": 39.99, "reason": "New model",
    }  # fmt: skip
    response = await api.post(f"/v1/subscriptions/{rental['rentalId']}/upgrade", upgrade)
    assert response.status_code == 200, response.text
    error = await _refused(api, rental["rentalId"], 422, "SUBSCRIPTION_NOT_ACTIVE")
    assert "ended_upgrade" in error["message"]


async def test_the_body_must_name_the_path_subscription(api: Api) -> None:
    rental = await _rental(api)
    response = await api.post(
        f"/v1/subscriptions/{rental['rentalId']}/extend",
        {"rentalId": "sub_other", "extensionMonths": 6, "reason": "x"},
    )
    assert response.status_code == 400, response.text
    assert error_code(response) == "VALIDATION_ERROR"
    assert [detail["path"] for detail in response.json()["error"]["details"]] == ["rentalId"]


async def test_the_documented_basic_extension_needs_only_the_months(api: Api) -> None:
    rental = await _rental(api)

    response = await api.post(
        f"/v1/subscriptions/{rental['rentalId']}/extend", {"extensionMonths": 6}
    )

    assert response.status_code == 200, response.text
    answer = exact(response)
    assert (answer["rentalId"], answer["newEndDate"]) == (rental["rentalId"], "2026-09-10")
    assert answer["rental"]["extensionHistory"][0]["reason"] is None
    order = await _get(api, f"/v1/orders/{answer['trackingOrderId']}")
    assert order["extensionDetails"]["reason"] is None


async def test_an_unknown_subscription_is_not_found(api: Api) -> None:
    await _refused(api, "sub_missing", 404, "NOT_FOUND")


@pytest.mark.parametrize(
    ("fields", "path", "code"),
    [
        ({"newMonthlyAmount": 49.999}, "newMonthlyAmount", "not_multiple_of"),
        ({"newMonthlyAmount": -1}, "newMonthlyAmount", "too_small"),
        ({"reason": ""}, "reason", "too_small"),
        ({"reason": "x" * 1001}, "reason", "too_big"),
        ({"reason": 7}, "reason", "invalid_type"),
        ({"extensionMonths": None}, "extensionMonths", "invalid_type"),
    ],
)
async def test_invalid_bodies(api: Api, fields: dict[str, Any], path: str, code: str) -> None:
    rental = await _rental(api)
    error = await _refused(api, rental["rentalId"], 400, "VALIDATION_ERROR", **fields)
    assert [(detail["path"], detail["code"]) for detail in error["details"]] == [(path, code)]
