"""Upgrading a subscription (``POST /v1/subscriptions/{id}/upgrade``) as a FlexPortal client
does: the old contract ends, a new one starts on the new unit, an upgrade order records
it; the assets, the customer's counters and the event log follow."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select

from flexbill.core import clock
from flexbill.core.db import Database
from flexbill.events.models import Event
from tests.orders.support import ADDRESS
from tests.subscriptions.support import LAPTOP, PHONE, confirmed_order, exact, register, subscribe
from tests.support import Api, error_code

NOW = datetime(2025, 3, 10, 9, 0, tzinfo=UTC)
NEW_SKU = "LAPTOP-18-A"  # list price 2499, acquisition cost 1500
TABLET = "TABLET-A"  # its product is discontinued before each test

NEW_MODELS = [
    {
        "productSku": "LAPTOP-18",
        "name": "Laptop Pro 18",
        "specification": "18-inch, 64 GB",
        "category": "Laptops",
        "brand": "Acme",
        "variants": [
            {
                "variantSku": NEW_SKU,
                "variantName": "Silver, grade A",
                "grade": "A",
                "listPrice": 2499,
                "acquisitionCost": 1500,
                "pricing": [{"contractLength": 24, "monthlyPrice": 89.99}],
            }
        ],
    },
    {
        "productSku": "TABLET",
        "name": "Tablet",
        "specification": "11-inch",
        "category": "Tablets",
        "brand": "Acme",
        "variants": [
            {
                "variantSku": TABLET,
                "variantName": "Tablet, grade A",
                "grade": "A",
                "pricing": [{"contractLength": 12, "monthlyPrice": 29.99}],
            }
        ],
    },
]


@pytest.fixture(autouse=True)
def _frozen_clock() -> Any:
    with clock.frozen(NOW):
        yield


async def _events(database: Database) -> list[tuple[str, dict[str, Any]]]:
    async with database.transaction() as session:
        statement = select(Event).order_by(Event.id)
        return [(event.type, event.data) for event in await session.scalars(statement)]


async def _get(api: Api, path: str, **params: Any) -> Any:
    response = await api.get(path, **params)
    assert response.status_code == 200, response.text
    return exact(response)


@pytest.fixture
async def rental(api: Api) -> dict[str, Any]:
    """An active 12-month laptop subscription (SN-1, 59.99) with custom fields; units in
    stock: NEW-1 of the new model, SN-2 of the old one, TAB-1 of a discontinued tablet."""
    order = await confirmed_order(api)
    for product in NEW_MODELS:
        response = await api.post("/v1/products", product)
        assert response.status_code == 201, response.text
        if product["productSku"] == "TABLET":
            await register(api, "TAB-1", TABLET)
            deleted = await api.delete(f"/v1/products/{response.json()['productId']}")
            assert deleted.status_code == 200, deleted.text
    await register(api, "SN-1")
    await register(api, "SN-2")
    await register(api, "NEW-1", NEW_SKU)
    return await subscribe(api, order, "SN-1", customFields={"desk": "4B"})


def _body(rental_id: str, **fields: Any) -> dict[str, Any]:
    return {
        "rentalId": rental_id, "newSku": NEW_SKU, "newSerialNumber": "NEW-1",
        "contractLength": 24, "newMonthlyAmount": 79.9, "reason": "Needs a bigger screen",
        **fields,
    }  # fmt: skip


async def _upgrade(api: Api, rental_id: str, **fields: Any) -> Any:
    return await api.post(f"/v1/subscriptions/{rental_id}/upgrade", _body(rental_id, **fields))


async def _upgraded(api: Api, rental_id: str, **fields: Any) -> Any:
    response = await _upgrade(api, rental_id, **fields)
    assert response.status_code == 200, response.text
    return exact(response)


async def test_an_upgrade_ends_the_old_contract_and_starts_a_new_one(
    api: Api, rental: dict[str, Any]
) -> None:
    old_id = rental["rentalId"]

    response = await _upgrade(api, old_id, notes="Swapped at the counter")

    assert response.status_code == 200, response.text
    answer = exact(response)
    new = answer["rental"]
    new_id = new["rentalId"]
    assert new_id.startswith("sub_")
    assert new_id != old_id
    assert {key: value for key, value in answer.items() if key != "rental"} == {
        "success": True, "message": "Subscription upgraded successfully",
        "oldRentalId": old_id, "newRentalId": new_id,
        "oldDevice": "Laptop Pro 16 (SN-1)", "newDevice": "Laptop Pro 18 (NEW-1)",
        "oldDeviceDetails": {
            "sku": LAPTOP, "serialNumber": "SN-1", "productName": "Laptop Pro 16",
        },
        "newDeviceDetails": {
            "sku": NEW_SKU, "serialNumber": "NEW-1", "productName": "Laptop Pro 18",
        },
        "newMonthlyAmount": Decimal("79.90"), "currency": "EUR",
    }  # fmt: skip

    assert new["status"] == "active"
    assert new["customerId"] == rental["customerId"]
    assert (new["sku"], new["productName"], new["variantName"]) == (
        NEW_SKU, "Laptop Pro 18", "Silver, grade A",
    )  # fmt: skip
    assert new["serialNumber"] == "NEW-1"
    assert new["monthlyAmount"] == Decimal("79.90")
    assert (new["originalContractLength"], new["contractLength"]) == (24, 24)
    assert (new["startDate"], new["endDate"]) == ("2025-03-10", "2027-03-10")
    assert new["upgradeFromRentalId"] == old_id
    assert new["upgradedToRentalId"] is None
    assert new["customFields"] == {"desk": "4B"}
    assert new["billingGroupId"] is None
    assert (new["listPrice"], new["listPriceSource"]) == (Decimal("2499.00"), "variant")
    assert (new["acquisitionCost"], new["acquisitionCostSource"]) == (
        Decimal("1500.00"), "variant",
    )  # fmt: skip
    assert [entry["action"] for entry in new["history"]] == ["created"]
    assert await _get(api, f"/v1/subscriptions/{new_id}") == new

    old = await _get(api, f"/v1/subscriptions/{old_id}")
    assert old["status"] == "ended_upgrade"
    assert old["upgradedToRentalId"] == new_id
    assert old["endedAt"] == "2025-03-10T09:00:00Z"
    assert old["nextBillingDate"] is None
    assert old["serialNumber"] == "SN-1"  # the contract keeps the device it rented
    assert old["monthlyAmount"] == Decimal("59.99")
    assert old["history"][-1] == {
        "at": "2025-03-10T09:00:00Z", "action": "upgraded", "fromStatus": "active",
        "toStatus": "ended_upgrade", "processedBy": old["createdBy"],
        "upgradedToRentalId": new_id, "newSku": NEW_SKU, "newSerialNumber": "NEW-1",
        "reason": "Needs a bigger screen",
    }  # fmt: skip


async def test_the_units_change_hands(api: Api, rental: dict[str, Any]) -> None:
    answer = await _upgraded(api, rental["rentalId"])
    new_id = answer["newRentalId"]

    old_unit = await _get(api, "/v1/assets/SN-1")
    assert (old_unit["status"], old_unit["rentalId"], old_unit["customerId"]) == (
        "returned", None, None,
    )  # fmt: skip
    assert [(e["kind"], e["fromStatus"], e["toStatus"]) for e in old_unit["history"]] == [
        ("registered", None, "available"),
        ("assigned", "available", "rented_out"),
        ("returned", "rented_out", "returned"),
    ]
    assert old_unit["history"][-1]["rentalId"] == rental["rentalId"]
    assert old_unit["history"][-1]["customerId"] == rental["customerId"]

    new_unit = await _get(api, "/v1/assets/NEW-1")
    assert (new_unit["status"], new_unit["rentalId"], new_unit["customerId"]) == (
        "rented_out", new_id, rental["customerId"],
    )  # fmt: skip
    assert [(e["kind"], e["toStatus"], e["rentalId"]) for e in new_unit["history"]] == [
        ("registered", "available", None),
        ("assigned", "rented_out", new_id),
    ]


async def test_the_customer_keeps_the_device_count_and_revenue_moves_by_the_difference(
    api: Api, rental: dict[str, Any]
) -> None:
    # A second device on the same order, untouched by the upgrade.
    order = await _get(api, f"/v1/orders/{rental['orderId']}")
    await subscribe(api, order, "SN-2")
    before = await _get(api, f"/v1/customers/{rental['customerId']}")
    assert before["totalDevicesRented"] == 2
    assert before["totalMonthlyRevenue"] == Decimal("119.98")

    answer = await _upgraded(api, rental["rentalId"])

    after = await _get(api, f"/v1/customers/{rental['customerId']}")
    assert after["totalDevicesRented"] == 2
    assert after["totalMonthlyRevenue"] == Decimal("139.89")  # 119.98 − 59.99 + 79.90
    assert after["rentalIds"] == [*before["rentalIds"], answer["newRentalId"]]
    assert after["totalOrders"] == before["totalOrders"] + 1 == 2
    assert after["orderIds"] == [rental["orderId"], answer["rental"]["orderId"]]
    assert after["totalAcquisitionCost"] == Decimal("3901.00")  # 2 × 1200.50 + 1500
    assert after["subscriptionsTracked"] == 3


async def test_a_cheaper_device_lowers_the_revenue(api: Api, rental: dict[str, Any]) -> None:
    cheaper = {"newSku": LAPTOP, "newSerialNumber": "SN-2", "newMonthlyAmount": 19.99}
    response = await _upgrade(api, rental["rentalId"], contractLength=6, **cheaper)
    assert response.status_code == 200, response.text
    customer = await _get(api, f"/v1/customers/{rental['customerId']}")
    assert (customer["totalDevicesRented"], customer["totalMonthlyRevenue"]) == (
        1, Decimal("19.99"),
    )  # fmt: skip


async def test_the_upgrade_order_is_listed(api: Api, rental: dict[str, Any]) -> None:
    original = await _get(api, f"/v1/orders/{rental['orderId']}")
    answer = await _upgraded(api, rental["rentalId"], notes="Counter 2")
    new_id = answer["newRentalId"]

    listed = await _get(api, "/v1/orders", orderType="upgrade")
    (order,) = listed["orders"]
    assert order["orderId"] == answer["rental"]["orderId"]
    assert (order["status"], order["orderType"]) == ("fulfilled", "upgrade")
    assert order["customerId"] == rental["customerId"]
    assert order["customer"] == original["customer"]
    assert order["billingAddress"] == ADDRESS
    assert order["upgradeDetails"] == {
        "previousDevice": "Laptop Pro 16", "previousSerialNumber": "SN-1",
        "previousMonthlyAmount": Decimal("59.99"), "previousRentalId": rental["rentalId"],
        "upgradeReason": "Needs a bigger screen",
    }  # fmt: skip
    assert order["extensionDetails"] is None
    assert order["items"] == [
        {
            "sku": NEW_SKU, "productName": "Laptop Pro 18", "variantName": "Silver, grade A",
            "quantity": 1, "contractLength": 24, "unitPrice": Decimal("79.90"),
            "listPrice": Decimal("2499.00"), "listPriceSource": "variant",
            "acquisitionCost": Decimal("1500.00"), "acquisitionCostSource": "variant",
            "setupFee": Decimal("0.00"), "rentalIds": [new_id], "rentalStatus": "completed",
        }
    ]  # fmt: skip
    assert order["totals"] == {
        "subtotal": Decimal("79.90"), "taxAmount": Decimal("0.00"), "total": Decimal("79.90"),
        "currency": "EUR", "totalDevices": 1,
    }  # fmt: skip
    assert order["rentalProgress"] == {"totalDevices": 1, "rentedDevices": 1}
    assert order["rentalIds"] == [new_id]
    assert order["notes"] == "Counter 2"
    # The original order keeps its own progress.
    assert await _get(api, f"/v1/orders/{rental['orderId']}") == original
    # The new subscription is found by its order.
    by_order = await _get(api, "/v1/subscriptions", orderId=order["orderId"])
    assert [r["rentalId"] for r in by_order["rentals"]] == [new_id]


async def test_the_events(api: Api, database: Database, rental: dict[str, Any]) -> None:
    before = len(await _events(database))
    answer = await _upgraded(api, rental["rentalId"])
    new_id, order_id = answer["newRentalId"], answer["rental"]["orderId"]

    written = (await _events(database))[before:]

    assert [event_type for event_type, _ in written] == [
        "asset.returned", "order.created", "subscription.created", "asset.assigned",
        "subscription.upgraded",
    ]  # fmt: skip
    returned, created_order, created, assigned, upgraded = (data for _, data in written)
    assert (returned["serialNumber"], returned["status"], returned["rentalId"]) == (
        "SN-1", "returned", rental["rentalId"],
    )  # fmt: skip
    assert (created_order["orderId"], created_order["orderType"]) == (order_id, "upgrade")
    assert (created["rentalId"], created["serialNumber"], created["orderId"]) == (
        new_id, "NEW-1", order_id,
    )  # fmt: skip
    assert (assigned["serialNumber"], assigned["status"], assigned["rentalId"]) == (
        "NEW-1", "rented_out", new_id,
    )  # fmt: skip
    assert upgraded == {
        "oldRentalId": rental["rentalId"], "newRentalId": new_id,
        "oldDevice": {"sku": LAPTOP, "serialNumber": "SN-1", "productName": "Laptop Pro 16"},
        "newDevice": {"sku": NEW_SKU, "serialNumber": "NEW-1", "productName": "Laptop Pro 18"},
        "newMonthlyAmount": Decimal("79.90"), "currency": "EUR",
        "customerId": rental["customerId"], "subscriptionId": new_id, "orderId": order_id,
    }  # fmt: skip


async def test_the_prose_name_new_contract_length_is_accepted(
    api: Api, rental: dict[str, Any]
) -> None:
    body = _body(rental["rentalId"], newContractLength=36)
    del body["contractLength"]
    response = await api.post(f"/v1/subscriptions/{rental['rentalId']}/upgrade", body)
    assert response.status_code == 200, response.text
    assert exact(response)["rental"]["contractLength"] == 36


async def test_an_upgraded_subscription_can_be_upgraded_again(
    api: Api, rental: dict[str, Any]
) -> None:
    first = await _upgraded(api, rental["rentalId"])
    second = await _upgraded(api, first["newRentalId"], newSku=LAPTOP, newSerialNumber="SN-2")
    assert second["oldDevice"] == "Laptop Pro 18 (NEW-1)"
    assert second["oldDeviceDetails"]["serialNumber"] == "NEW-1"
    assert second["rental"]["upgradeFromRentalId"] == first["newRentalId"]
    assert (await _get(api, "/v1/assets/NEW-1"))["status"] == "returned"
    assert (await _get(api, "/v1/orders", orderType="upgrade"))["count"] == 2


async def test_the_new_subscription_stays_in_the_billing_group(
    api: Api, rental: dict[str, Any]
) -> None:
    group = await api.post(
        "/v1/billing-groups",
        {
            "customerId": rental["customerId"], "groupName": "Head office", "billingDay": 1,
            "rentalIds": [rental["rentalId"]],
        },
    )  # fmt: skip
    assert group.status_code == 201, group.text
    group_id = group.json()["billingGroup"]["billingGroupId"]

    answer = await _upgraded(api, rental["rentalId"])

    new = answer["rental"]
    assert new["billingGroupId"] == group_id
    # It joined the group as any new member does, and says so.
    assert [entry["action"] for entry in new["history"]] == ["created", "billing_group_joined"]
    assert new["history"][1]["billingGroupId"] == group_id
    members = (await _get(api, f"/v1/billing-groups/{group_id}"))["billingGroup"]
    assert members["rentalIds"] == [rental["rentalId"], new["rentalId"]]
    assert members["activeRentalCount"] == 1


async def test_the_body_may_leave_the_rental_id_to_the_path(
    api: Api, rental: dict[str, Any]
) -> None:
    body = _body(rental["rentalId"])
    del body["rentalId"]
    response = await api.post(f"/v1/subscriptions/{rental['rentalId']}/upgrade", body)
    assert response.status_code == 200, response.text
    assert exact(response)["oldRentalId"] == rental["rentalId"]


# ---- refusals --------------------------------------------------------------------------


async def _refused(
    api: Api, database: Database, rental: dict[str, Any], status: int, code: str, **fields: Any
) -> Any:
    """The upgrade is refused with ``code`` and leaves everything as it was."""
    before = len(await _events(database))
    response = await _upgrade(api, rental["rentalId"], **fields)
    assert response.status_code == status, response.text
    assert error_code(response) == code
    unchanged = await _get(api, f"/v1/subscriptions/{rental['rentalId']}")
    assert (unchanged["status"], unchanged["upgradedToRentalId"]) == (
        rental["status"], rental["upgradedToRentalId"],
    )  # fmt: skip
    assert len(await _events(database)) == before
    return response.json()["error"]


async def test_an_unknown_sku_is_variant_not_found(
    api: Api, database: Database, rental: dict[str, Any]
) -> None:
    await _refused(api, database, rental, 404, "VARIANT_NOT_FOUND", newSku="NOPE")


async def test_a_discontinued_model_is_variant_inactive(
    api: Api, database: Database, rental: dict[str, Any]
) -> None:
    await _refused(
        api, database, rental, 422, "VARIANT_INACTIVE", newSku=TABLET, newSerialNumber="TAB-1"
    )
    assert (await _get(api, "/v1/assets/TAB-1"))["status"] == "available"


async def test_an_unknown_unit_is_asset_not_found(
    api: Api, database: Database, rental: dict[str, Any]
) -> None:
    await _refused(api, database, rental, 404, "ASSET_NOT_FOUND", newSerialNumber="NOPE-1")


async def test_a_rented_unit_is_not_available(
    api: Api, database: Database, rental: dict[str, Any]
) -> None:
    await _refused(
        api, database, rental, 422, "ASSET_NOT_AVAILABLE", newSku=LAPTOP, newSerialNumber="SN-1"
    )


async def test_an_unavailable_unit_is_not_available(
    api: Api, database: Database, rental: dict[str, Any]
) -> None:
    response = await api.put("/v1/assets/NEW-1", {"status": "unavailable"})
    assert response.status_code == 200, response.text
    await _refused(api, database, rental, 422, "ASSET_NOT_AVAILABLE")


async def test_a_unit_of_another_sku_is_a_mismatch(
    api: Api, database: Database, rental: dict[str, Any]
) -> None:
    error = await _refused(api, database, rental, 409, "SKU_MISMATCH", newSerialNumber="SN-2")
    assert LAPTOP in error["message"]
    assert NEW_SKU in error["message"]
    # The unit the refused upgrade had picked is back in stock, untouched.
    unit = await _get(api, "/v1/assets/SN-2")
    assert (unit["status"], unit["rentalId"]) == ("available", None)
    assert [entry["kind"] for entry in unit["history"]] == ["registered"]


async def test_an_ended_subscription_is_not_active(
    api: Api, database: Database, rental: dict[str, Any]
) -> None:
    assert (await _upgrade(api, rental["rentalId"])).status_code == 200
    response = await _upgrade(api, rental["rentalId"], newSku=LAPTOP, newSerialNumber="SN-2")
    assert response.status_code == 422, response.text
    assert error_code(response) == "SUBSCRIPTION_NOT_ACTIVE"
    assert (await _get(api, "/v1/assets/SN-2"))["status"] == "available"


async def test_the_body_must_name_the_path_subscription(
    api: Api, database: Database, rental: dict[str, Any]
) -> None:
    error = await _refused(api, database, rental, 400, "VALIDATION_ERROR", rentalId="sub_x")
    assert [detail["path"] for detail in error["details"]] == ["rentalId"]


async def test_an_unknown_subscription_is_not_found(api: Api, rental: dict[str, Any]) -> None:
    response = await api.post("/v1/subscriptions/sub_missing/upgrade", _body("sub_missing"))
    assert response.status_code == 404, response.text
    assert error_code(response) == "NOT_FOUND"


@pytest.mark.parametrize(
    ("fields", "path", "code"),
    [
        ({"contractLength": 0}, "contractLength", "too_small"),
        ({"contractLength": 121}, "contractLength", "too_big"),
        ({"contractLength": None}, "contractLength", "invalid_type"),
        ({"newMonthlyAmount": 79.999}, "newMonthlyAmount", "not_multiple_of"),
        ({"newMonthlyAmount": -5}, "newMonthlyAmount", "too_small"),
        ({"newMonthlyAmount": None}, "newMonthlyAmount", "invalid_type"),
        ({"newSku": ""}, "newSku", "too_small"),
        ({"newSerialNumber": None}, "newSerialNumber", "invalid_type"),
        ({"reason": "x" * 1001}, "reason", "too_big"),
    ],
)
async def test_invalid_bodies(
    api: Api,
    database: Database,
    rental: dict[str, Any],
    fields: dict[str, Any],
    path: str,
    code: str,
) -> None:
    error = await _refused(api, database, rental, 400, "VALIDATION_ERROR", **fields)
    assert [(detail["path"], detail["code"]) for detail in error["details"]] == [(path, code)]


async def test_a_missing_contract_length_is_named(
    api: Api, database: Database, rental: dict[str, Any]
) -> None:
    body = _body(rental["rentalId"])
    del body["contractLength"]
    response = await api.post(f"/v1/subscriptions/{rental['rentalId']}/upgrade", body)
    assert response.status_code == 400, response.text
    details = response.json()["error"]["details"]
    assert [(detail["path"], detail["code"]) for detail in details] == [
        ("contractLength", "invalid_type")
    ]


async def test_a_unit_without_catalog_costs(api: Api, rental: dict[str, Any]) -> None:
    await register(api, "PH-1", PHONE)
    phone = {"newSku": PHONE, "newSerialNumber": "PH-1", "newMonthlyAmount": 19.99}
    response = await _upgrade(api, rental["rentalId"], contractLength=12, **phone)
    assert response.status_code == 200, response.text
    answer = exact(response)
    new = answer["rental"]
    assert (new["listPrice"], new["listPriceSource"]) == (None, "unknown")
    assert (new["acquisitionCost"], new["acquisitionCostSource"]) == (None, "unknown")
    assert new["recoveryStatus"] == "no_data"
