"""Starting subscriptions (``POST /v1/subscriptions``) as a FlexPortal client does, and what
a start moves: the asset, the order, the customer and the event log."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from flexbill.core import clock
from flexbill.core.db import Database
from tests.subscriptions.support import (
    LAPTOP,
    PHONE,
    confirmed_order,
    event_counts,
    events_of,
    exact,
    register,
    start,
    subscribe,
)
from tests.support import Api, error_code, issue_key, new_tenant

NOW = datetime(2025, 3, 10, 9, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _frozen_clock() -> Any:
    with clock.frozen(NOW):
        yield


async def _customer(api: Api, customer_id: str) -> dict[str, Any]:
    response = await api.get(f"/v1/customers/{customer_id}")
    assert response.status_code == 200, response.text
    customer: dict[str, Any] = exact(response)
    return customer


async def _order(api: Api, order_id: str) -> dict[str, Any]:
    response = await api.get(f"/v1/orders/{order_id}")
    assert response.status_code == 200, response.text
    order: dict[str, Any] = exact(response)
    return order


async def _asset(api: Api, serial: str) -> dict[str, Any]:
    response = await api.get(f"/v1/assets/{serial}")
    assert response.status_code == 200, response.text
    asset: dict[str, Any] = response.json()
    return asset


async def test_a_subscription_rents_the_unit_of_a_confirmed_order(
    api: Api, database: Database
) -> None:
    order = await confirmed_order(api)
    await register(api, "SN-1")

    response = await start(api, order, "SN-1", notes="Handed over in store")

    assert response.status_code == 201, response.text
    body = exact(response)
    assert body["success"] is True
    rental = body["rental"]
    assert rental["rentalId"].startswith("sub_")
    assert body["rentalId"] == rental["subscriptionId"] == rental["rentalId"]
    assert rental["status"] == "active"
    assert rental["customerId"] == order["customerId"]
    assert (rental["customerEmail"], rental["customerName"]) == ("ada@example.com", "Ada Lovelace")
    assert rental["orderId"] == order["orderId"]
    assert rental["sku"] == LAPTOP
    assert rental["productName"] == "Laptop Pro 16"
    assert rental["serialNumber"] == rental["assetSerialNumber"] == "SN-1"
    assert rental["monthlyAmount"] == Decimal("59.99")  # the 12-month price of the item
    assert rental["currency"] == "EUR"
    assert rental["contractLength"] == rental["originalContractLength"] == 12
    assert rental["startDate"] == "2025-03-10"
    assert rental["endDate"] == "2026-03-10"
    assert rental["nextBillingDate"] == "2025-03-10"  # full first month, due at the start
    assert rental["listPrice"] == Decimal("1999.00")
    assert rental["listPriceSource"] == "variant"
    assert rental["acquisitionCost"] == Decimal("1200.50")
    assert rental["acquisitionCostSource"] == "variant"
    assert rental["totalCollected"] == Decimal("0.00")
    assert rental["costRecoveryPercent"] == Decimal("0.00")
    assert rental["breakevenMonths"] == Decimal("20.01")
    assert rental["recoveryStatus"] == "recovering"
    assert rental["notes"] == "Handed over in store"
    assert [entry["action"] for entry in rental["history"]] == ["created"]
    assert rental["history"][0]["at"] == "2025-03-10T09:00:00Z"

    fetched = exact(await api.get(f"/v1/subscriptions/{rental['rentalId']}"))
    assert fetched == rental

    asset = await _asset(api, "SN-1")
    assert (asset["status"], asset["rentalId"], asset["customerId"]) == (
        "rented_out", rental["rentalId"], order["customerId"],
    )  # fmt: skip

    placed = await _order(api, order["orderId"])
    assert placed["status"] == "partial"
    assert placed["rentalProgress"] == {"totalDevices": 2, "rentedDevices": 1}
    assert placed["items"][0]["rentalIds"] == [rental["rentalId"]]
    assert placed["items"][0]["rentalStatus"] == "partial"

    customer = await _customer(api, order["customerId"])
    assert customer["totalDevicesRented"] == 1
    assert customer["totalMonthlyRevenue"] == Decimal("59.99")
    assert customer["rentalIds"] == [rental["rentalId"]]
    assert customer["totalAcquisitionCost"] == Decimal("1200.50")
    assert customer["subscriptionsTracked"] == 1

    assert await event_counts(database) == {
        "order.created": 1, "subscription.created": 1, "asset.assigned": 1,
    }  # fmt: skip
    (created,) = await events_of(database, "subscription.created")
    assert created.data["subscriptionId"] == rental["rentalId"]
    assert created.data["customerId"] == order["customerId"]
    assert created.data["orderId"] == order["orderId"]
    assert created.data["monthlyAmount"] == Decimal("59.99")
    (assigned,) = await events_of(database, "asset.assigned")
    assert assigned.data["assetSerialNumber"] == "SN-1"
    assert assigned.data["rentalId"] == rental["rentalId"]


async def test_the_last_device_fulfils_the_order(api: Api, database: Database) -> None:
    order = await confirmed_order(api)
    await register(api, "SN-1")
    await register(api, "SN-2")
    first = await subscribe(api, order, "SN-1")
    second = await subscribe(api, order, "SN-2")

    placed = await _order(api, order["orderId"])
    assert placed["status"] == "fulfilled"
    assert placed["items"][0]["rentalStatus"] == "completed"
    assert placed["rentalIds"] == [first["rentalId"], second["rentalId"]]
    customer = await _customer(api, order["customerId"])
    assert customer["totalDevicesRented"] == 2
    assert customer["totalMonthlyRevenue"] == Decimal("119.98")
    counts = await event_counts(database)
    assert counts["order.fulfilled"] == 1
    assert counts["subscription.created"] == counts["asset.assigned"] == 2


async def test_start_date_and_contract_length_may_be_given(api: Api) -> None:
    order = await confirmed_order(api)
    await register(api, "SN-1")
    rental = await subscribe(api, order, "SN-1", startDate="2025-01-31", contractLength=1)
    assert rental["startDate"] == "2025-01-31"
    assert rental["endDate"] == "2025-02-28"
    assert rental["contractLength"] == rental["originalContractLength"] == 1
    assert rental["monthlyAmount"] == Decimal("59.99")  # the order's price stands


async def test_the_units_own_acquisition_cost_is_tracked(api: Api) -> None:
    order = await confirmed_order(api)
    await register(api, "SN-1", acquisitionCost=900)
    rental = await subscribe(api, order, "SN-1")
    assert rental["acquisitionCost"] == Decimal("900.00")
    assert rental["acquisitionCostSource"] == "manual"


async def test_the_business_units_id_prefix_names_subscriptions(api: Api) -> None:
    response = await api.patch("/v1/settings", {"idPrefixes": {"subscription": "RENT"}})
    assert response.status_code == 200, response.text
    order = await confirmed_order(api)
    await register(api, "SN-1")
    rental = await subscribe(api, order, "SN-1")
    assert rental["rentalId"].startswith("RENT_")


async def _nothing_moved(api: Api, database: Database, order: dict[str, Any]) -> None:
    assert (await _asset(api, "SN-1"))["status"] == "available"
    customer = await _customer(api, order["customerId"])
    assert (customer["totalDevicesRented"], customer["rentalIds"]) == (0, [])
    assert (await _order(api, order["orderId"]))["rentalProgress"]["rentedDevices"] == 0
    assert set(await event_counts(database)) == {"order.created"}
    listed = (await api.get("/v1/subscriptions")).json()
    assert listed["rentals"] == []


async def test_unknown_order(api: Api, database: Database) -> None:
    order = await confirmed_order(api)
    await register(api, "SN-1")
    response = await start(api, {**order, "orderId": "ord_missing"}, "SN-1")
    assert (response.status_code, error_code(response)) == (404, "ORDER_NOT_FOUND")
    await _nothing_moved(api, database, order)


@pytest.mark.parametrize("cancel", [False, True])
async def test_pending_or_cancelled_order(api: Api, database: Database, cancel: bool) -> None:
    from tests.orders.support import create_catalog, place

    await create_catalog(api)
    order = await place(api)
    if cancel:
        assert (await api.post(f"/v1/orders/{order['orderId']}/cancel", {})).status_code == 200
    await register(api, "SN-1")
    response = await start(api, order, "SN-1")
    assert (response.status_code, error_code(response)) == (422, "ORDER_NOT_CONFIRMED")
    await _nothing_moved(api, database, order)


async def test_unknown_customer(api: Api, database: Database) -> None:
    order = await confirmed_order(api)
    await register(api, "SN-1")
    response = await start(api, {**order, "customerId": "cust_missing"}, "SN-1")
    assert (response.status_code, error_code(response)) == (404, "CUSTOMER_NOT_FOUND")
    await _nothing_moved(api, database, order)


async def test_another_customer_than_the_orders(api: Api, database: Database) -> None:
    order = await confirmed_order(api)
    other = await api.create_customer()
    await register(api, "SN-1")
    response = await start(api, {**order, "customerId": other["customerId"]}, "SN-1")
    assert (response.status_code, error_code(response)) == (400, "VALIDATION_ERROR")
    assert response.json()["error"]["details"][0]["path"] == "customerId"
    await _nothing_moved(api, database, order)


async def test_unknown_asset(api: Api, database: Database) -> None:
    order = await confirmed_order(api)
    await register(api, "SN-1")
    response = await start(api, order, "SN-404")
    assert (response.status_code, error_code(response)) == (404, "ASSET_NOT_FOUND")
    await _nothing_moved(api, database, order)


async def test_unavailable_asset(api: Api, database: Database) -> None:
    order = await confirmed_order(api)
    await register(api, "SN-1", status="unavailable")
    response = await start(api, order, "SN-1")
    assert (response.status_code, error_code(response)) == (422, "ASSET_NOT_AVAILABLE")


async def test_a_rented_unit_is_not_available(api: Api) -> None:
    order = await confirmed_order(api)
    await register(api, "SN-1")
    first = await subscribe(api, order, "SN-1")
    response = await start(api, order, "SN-1")
    assert (response.status_code, error_code(response)) == (422, "ASSET_NOT_AVAILABLE")
    assert (await _asset(api, "SN-1"))["rentalId"] == first["rentalId"]


async def test_a_unit_of_a_sku_the_order_lacks(api: Api, database: Database) -> None:
    order = await confirmed_order(api)
    await register(api, "SN-1")
    await register(api, "PHONE-1", sku=PHONE)
    response = await start(api, order, "PHONE-1")
    assert (response.status_code, error_code(response)) == (409, "SKU_MISMATCH")
    assert (await _asset(api, "PHONE-1"))["status"] == "available"
    await _nothing_moved(api, database, order)


async def test_no_more_units_than_ordered(api: Api) -> None:
    order = await confirmed_order(api)
    for serial in ("SN-1", "SN-2", "SN-3"):
        await register(api, serial)
    await subscribe(api, order, "SN-1")
    await subscribe(api, order, "SN-2")
    response = await start(api, order, "SN-3")
    assert (response.status_code, error_code(response)) == (409, "ITEM_FULLY_FULFILLED")
    assert (await _asset(api, "SN-3"))["status"] == "available"
    assert (await _customer(api, order["customerId"]))["totalDevicesRented"] == 2


async def test_unknown_billing_group(api: Api, database: Database) -> None:
    order = await confirmed_order(api)
    await register(api, "SN-1")
    response = await start(api, order, "SN-1", billingGroupId="bg_missing")
    assert (response.status_code, error_code(response)) == (404, "BILLING_GROUP_NOT_FOUND")
    await _nothing_moved(api, database, order)


@pytest.mark.parametrize(
    ("change", "path"),
    [
        ({"orderId": None}, "orderId"),
        ({"assetSerialNumber": ""}, "assetSerialNumber"),
        ({"contractLength": 0}, "contractLength"),
        ({"contractLength": 121}, "contractLength"),
        ({"startDate": "31/01/2025"}, "startDate"),
        ({"startDate": "1999-12-31"}, "startDate"),
        ({"startDate": "2100-01-01"}, "startDate"),
        ({"startDate": "9999-06-01"}, "startDate"),  # it would end past the calendar
        ({"startDate": "9999-12-31T23:00:00-05:00"}, "startDate"),
        ({"notes": "x" * 5001}, "notes"),
    ],
)
async def test_invalid_bodies(api: Api, change: dict[str, Any], path: str) -> None:
    order = await confirmed_order(api)
    await register(api, "SN-1")
    body = {
        "orderId": order["orderId"], "assetSerialNumber": "SN-1",
        "customerId": order["customerId"], **change,
    }  # fmt: skip
    response = await api.post("/v1/subscriptions", body)
    assert (response.status_code, error_code(response)) == (400, "VALIDATION_ERROR")
    assert path in [detail["path"] for detail in response.json()["error"]["details"]]


@pytest.mark.parametrize(
    ("start_date", "day"),
    [
        ("2025-03-12T10:30:00.000Z", "2025-03-12"),  # JavaScript's toISOString()
        ("2025-03-12T23:30:00-05:00", "2025-03-13"),  # the day in UTC
        ("2025-03-12t00:00:00+01:00", "2025-03-11"),
        ("2099-12-31", "2099-12-31"),
        ("2000-01-01", "2000-01-01"),
    ],
)
async def test_the_start_date_may_be_a_date_time(api: Api, start_date: str, day: str) -> None:
    order = await confirmed_order(api)
    await register(api, "SN-1")
    response = await start(api, order, "SN-1", startDate=start_date)
    assert response.status_code == 201, response.text
    assert exact(response)["rental"]["startDate"] == day


async def test_a_far_future_start_date_is_a_validation_error(api: Api, database: Database) -> None:
    order = await confirmed_order(api)
    await register(api, "SN-1")
    response = await start(api, order, "SN-1", startDate="9999-06-01")
    assert (response.status_code, error_code(response)) == (400, "VALIDATION_ERROR")
    [detail] = response.json()["error"]["details"]
    assert (detail["path"], detail["code"]) == ("startDate", "too_big")
    assert "2099-12-31" in detail["message"]
    await _nothing_moved(api, database, order)


async def test_non_finite_numbers_are_malformed_json(api: Api, database: Database) -> None:
    order = await confirmed_order(api)
    await register(api, "SN-1")
    for number in ("NaN", "Infinity", "-Infinity"):
        body = (
            f'{{"orderId": "{order["orderId"]}", "assetSerialNumber": "SN-1", '
            f'"customerId": "{order["customerId"]}", "customFields": {{"costCentre": {number}}}}}'
        )
        response = await api.client.post("/v1/subscriptions", content=body, headers=api.headers)
        assert (response.status_code, error_code(response)) == (400, "VALIDATION_ERROR"), number
        [detail] = response.json()["error"]["details"]
        assert detail["code"] == "invalid_json"
    await _nothing_moved(api, database, order)
    # The words inside text are not numbers: such a body is fine.
    rental = await subscribe(api, order, "SN-1", customFields={"costCentre": "NaN Infinity"})
    listed = await api.get("/v1/subscriptions", customField_costCentre="NaN Infinity")
    assert listed.status_code == 200, listed.text
    assert [r["rentalId"] for r in listed.json()["rentals"]] == [rental["rentalId"]]


async def test_text_holding_a_nul_character_is_refused_and_nothing_is_written(
    api: Api, database: Database
) -> None:
    order = await confirmed_order(api)
    await register(api, "SN-1")
    response = await start(api, order, "SN-1", notes="broken\x00screen")
    assert (response.status_code, error_code(response)) == (400, "VALIDATION_ERROR")
    assert "NUL" in response.json()["error"]["message"]
    await _nothing_moved(api, database, order)

    rental = await subscribe(api, order, "SN-1", notes="fine")
    events_before = await event_counts(database)
    patched = await api.patch(
        f"/v1/subscriptions/{rental['rentalId']}/notes", {"notes": "broken\x00screen"}
    )
    assert (patched.status_code, error_code(patched)) == (400, "VALIDATION_ERROR")
    after = exact(await api.get(f"/v1/subscriptions/{rental['rentalId']}"))
    assert (after["notes"], after["history"]) == ("fine", rental["history"])
    assert await event_counts(database) == events_before


async def test_another_tenants_order_is_not_found(
    api: Api, database: Database, client: Any
) -> None:
    order = await confirmed_order(api)
    other = await new_tenant(database)
    other_api = Api(client, key=await issue_key(database, other), tenant_id=other.id)
    response = await start(other_api, order, "SN-1")
    assert (response.status_code, error_code(response)) == (404, "ORDER_NOT_FOUND")
    missing = await other_api.get("/v1/subscriptions/sub_whatever")
    assert (missing.status_code, error_code(missing)) == (404, "NOT_FOUND")


async def test_one_unit_two_simultaneous_starts(api: Api, database: Database) -> None:
    """Two clients rent the same unit at the same moment for two orders: one wins, the
    other hears ASSET_NOT_AVAILABLE, and the unit is rented exactly once."""
    from tests.orders.support import order_body

    first = await confirmed_order(api)
    second = await confirmed_order(api, catalog=False, **order_body("bob@example.com"))
    await register(api, "SN-1")
    responses = await asyncio.gather(start(api, first, "SN-1"), start(api, second, "SN-1"))
    statuses = sorted(response.status_code for response in responses)
    assert statuses == [201, 422]
    loser = next(response for response in responses if response.status_code == 422)
    assert error_code(loser) == "ASSET_NOT_AVAILABLE"
    listed = (await api.get("/v1/subscriptions")).json()["rentals"]
    assert len(listed) == 1
    assert (await _asset(api, "SN-1"))["rentalId"] == listed[0]["rentalId"]
    assert (await event_counts(database))["asset.assigned"] == 1


async def test_reading_needs_the_permission(api: Api, database: Database, tenant: Any) -> None:
    key = await issue_key(database, tenant, permissions=["orders:read"])
    response = await api.with_key(key).get("/v1/subscriptions")
    assert (response.status_code, error_code(response)) == (403, "INSUFFICIENT_PERMISSIONS")


async def test_a_renting_customer_cannot_be_deleted(api: Api) -> None:
    order = await confirmed_order(api, items=[{"sku": LAPTOP, "quantity": 1}])
    await register(api, "SN-1")
    await subscribe(api, order, "SN-1")
    response = await api.delete(f"/v1/customers/{order['customerId']}")
    assert (response.status_code, error_code(response)) == (
        409, "CUSTOMER_HAS_ACTIVE_SUBSCRIPTIONS",
    )  # fmt: skip
    renting = (await api.get("/v1/customers", hasActiveRentals="true")).json()["customers"]
    assert [customer["customerId"] for customer in renting] == [order["customerId"]]


async def test_a_subscription_can_start_in_its_customers_billing_group(api: Api) -> None:
    from tests.orders.support import order_body

    order = await confirmed_order(api)
    for serial in ("SN-1", "SN-2", "SN-3"):
        await register(api, serial)
    first = await subscribe(api, order, "SN-1")
    created = await api.post(
        "/v1/billing-groups",
        {"customerId": order["customerId"], "groupName": "HQ", "billingDay": 1,
         "rentalIds": [first["rentalId"]]},
    )  # fmt: skip
    assert created.status_code == 201, created.text
    group_id = created.json()["billingGroup"]["billingGroupId"]

    second = await subscribe(api, order, "SN-2", billingGroupId=group_id)
    assert second["billingGroupId"] == group_id
    assert [entry["action"] for entry in second["history"]] == ["created", "billing_group_joined"]
    members = (await api.get(f"/v1/billing-groups/{group_id}")).json()["billingGroup"]
    assert members["rentalIds"] == [first["rentalId"], second["rentalId"]]

    bob = await confirmed_order(
        api, catalog=False, **order_body("bob@example.com", items=[{"sku": LAPTOP, "quantity": 1}])
    )
    response = await start(api, bob, "SN-3", billingGroupId=group_id)
    assert (response.status_code, error_code(response)) == (400, "SUBSCRIPTION_DIFFERENT_CUSTOMER")
    assert (await _asset(api, "SN-3"))["status"] == "available"
