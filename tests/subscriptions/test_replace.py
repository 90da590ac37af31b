"""Replacing a subscription's device (``POST /v1/subscriptions/{id}/replace``) as a
FlexPortal client does: the contract goes on with another unit of the same SKU, the old
unit is taken out of service, and the event log shows both units moving."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select

from flexbill.core import clock
from flexbill.core.db import Database
from flexbill.events.models import Event
from tests.subscriptions.support import LAPTOP, PHONE, confirmed_order, exact, register, subscribe
from tests.support import Api, error_code

NOW = datetime(2025, 3, 10, 9, 0, tzinfo=UTC)
LATER = datetime(2025, 5, 2, 14, 30, tzinfo=UTC)


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
    """An active laptop subscription on SN-1; in stock: laptops SN-2 and SN-3, phone PH-1."""
    order = await confirmed_order(api)
    for serial in ("SN-1", "SN-2", "SN-3"):
        await register(api, serial)
    await register(api, "PH-1", PHONE)
    return await subscribe(api, order, "SN-1")


async def _replace(api: Api, rental_id: str, **fields: Any) -> Any:
    body = {
        "rentalId": rental_id, "newSerialNumber": "SN-2", "replacementReason": "damaged",
        **fields,
    }  # fmt: skip
    return await api.post(f"/v1/subscriptions/{rental_id}/replace", body)


async def _replaced(api: Api, rental_id: str, **fields: Any) -> Any:
    response = await _replace(api, rental_id, **fields)
    assert response.status_code == 200, response.text
    return exact(response)


async def test_the_contract_goes_on_with_the_new_unit(api: Api, rental: dict[str, Any]) -> None:
    rental_id = rental["rentalId"]
    claim = {"claimNumber": "CLM-7", "insurer": "Acme Insurance", "amount": 350.5}
    with clock.frozen(LATER):
        answer = await _replaced(
            api, rental_id, newSku=LAPTOP, damageAssessment="Cracked screen",
            insuranceClaim=claim, notes="Dropped on the floor",
        )  # fmt: skip

    assert {key: value for key, value in answer.items() if key != "rental"} == {
        "success": True, "message": "Device replaced successfully", "rentalId": rental_id,
        "oldSerialNumber": "SN-1", "newSerialNumber": "SN-2", "reason": "damaged",
        "replacementReason": "damaged",
    }  # fmt: skip
    replaced = answer["rental"]
    assert replaced["rentalId"] == rental_id
    assert replaced["status"] == "active"
    assert replaced["serialNumber"] == replaced["assetSerialNumber"] == "SN-2"
    unchanged = ("sku", "monthlyAmount", "contractLength", "startDate", "endDate", "orderId")
    assert {key: replaced[key] for key in unchanged} == {key: rental[key] for key in unchanged}
    assert replaced["replacementHistory"] == [
        {
            "replacedAt": "2025-05-02T14:30:00Z", "oldSerialNumber": "SN-1",
            "newSerialNumber": "SN-2", "oldSku": LAPTOP, "newSku": LAPTOP,
            "replacementReason": "damaged", "damageAssessment": "Cracked screen",
            "insuranceClaim": {"claimNumber": "CLM-7", "insurer": "Acme Insurance",
                               "amount": Decimal("350.5")},
            "notes": "Dropped on the floor", "processedBy": rental["createdBy"],
        }
    ]  # fmt: skip
    assert replaced["history"][-1] == {
        "at": "2025-05-02T14:30:00Z", "action": "replaced", "fromStatus": "active",
        "toStatus": "active", "processedBy": rental["createdBy"], "oldSerialNumber": "SN-1",
        "newSerialNumber": "SN-2", "replacementReason": "damaged",
    }  # fmt: skip
    assert replaced["updatedAt"] == "2025-05-02T14:30:00Z"
    assert await _get(api, f"/v1/subscriptions/{rental_id}") == replaced
    found = await _get(api, "/v1/subscriptions", serialNumber="SN-2")
    assert [r["rentalId"] for r in found["rentals"]] == [rental_id]
    assert (await _get(api, "/v1/subscriptions", serialNumber="SN-1"))["rentals"] == []


async def test_the_old_unit_is_out_of_service_and_the_new_one_rented(
    api: Api, rental: dict[str, Any]
) -> None:
    await _replaced(api, rental["rentalId"], replacementReason="defective")

    old_unit = await _get(api, "/v1/assets/SN-1")
    assert (old_unit["status"], old_unit["rentalId"], old_unit["customerId"]) == (
        "unavailable", None, None,
    )  # fmt: skip
    assert [(e["kind"], e["fromStatus"], e["toStatus"]) for e in old_unit["history"]] == [
        ("registered", None, "available"),
        ("assigned", "available", "rented_out"),
        ("returned", "rented_out", "unavailable"),
    ]
    assert old_unit["history"][-1]["rentalId"] == rental["rentalId"]

    new_unit = await _get(api, "/v1/assets/SN-2")
    assert (new_unit["status"], new_unit["rentalId"], new_unit["customerId"]) == (
        "rented_out", rental["rentalId"], rental["customerId"],
    )  # fmt: skip
    assert [(e["kind"], e["toStatus"], e["rentalId"]) for e in new_unit["history"]] == [
        ("registered", "available", None),
        ("assigned", "rented_out", rental["rentalId"]),
    ]


async def test_the_customer_and_the_orders_do_not_move(api: Api, rental: dict[str, Any]) -> None:
    customer_path = f"/v1/customers/{rental['customerId']}"
    before = await _get(api, customer_path)
    orders_before = await _get(api, "/v1/orders")

    await _replaced(api, rental["rentalId"], replacementReason="lost")

    after = await _get(api, customer_path)
    counters = ("totalDevicesRented", "totalMonthlyRevenue", "totalOrders", "rentalIds")
    assert {key: after[key] for key in counters} == {
        "totalDevicesRented": 1, "totalMonthlyRevenue": Decimal("59.99"), "totalOrders": 1,
        "rentalIds": [rental["rentalId"]],
    }  # fmt: skip
    assert {key: after[key] for key in counters} == {key: before[key] for key in counters}
    assert await _get(api, "/v1/orders") == orders_before


async def test_the_events_show_both_units(
    api: Api, database: Database, rental: dict[str, Any]
) -> None:
    before = len(await _events(database))
    await _replaced(api, rental["rentalId"], replacementReason="stolen")

    written = (await _events(database))[before:]

    assert written == [
        (
            "asset.returned",
            {
                "assetSerialNumber": "SN-1", "serialNumber": "SN-1", "sku": LAPTOP,
                "status": "unavailable", "subscriptionId": rental["rentalId"],
                "rentalId": rental["rentalId"], "customerId": rental["customerId"],
                "orderId": rental["orderId"],
            },
        ),
        (
            "asset.assigned",
            {
                "assetSerialNumber": "SN-2", "serialNumber": "SN-2", "sku": LAPTOP,
                "status": "rented_out", "subscriptionId": rental["rentalId"],
                "rentalId": rental["rentalId"], "customerId": rental["customerId"],
                "orderId": rental["orderId"],
            },
        ),
    ]  # fmt: skip


async def test_a_text_claim_and_a_second_replacement(api: Api, rental: dict[str, Any]) -> None:
    await _replaced(api, rental["rentalId"], insuranceClaim="Claim filed by phone")
    answer = await _replaced(
        api, rental["rentalId"], newSerialNumber="SN-3", replacementReason="lost"
    )
    history = answer["rental"]["replacementHistory"]
    assert [(e["oldSerialNumber"], e["newSerialNumber"]) for e in history] == [
        ("SN-1", "SN-2"),
        ("SN-2", "SN-3"),
    ]
    assert history[0]["insuranceClaim"] == "Claim filed by phone"
    assert history[1]["insuranceClaim"] is None
    assert history[1]["damageAssessment"] is None
    assert (await _get(api, "/v1/assets/SN-2"))["status"] == "unavailable"
    assert (await _get(api, "/v1/assets/SN-3"))["status"] == "rented_out"


@pytest.mark.parametrize("claim", [True, False])
async def test_an_insurance_claim_may_be_the_documented_boolean(
    api: Api, rental: dict[str, Any], claim: bool
) -> None:
    answer = await _replaced(api, rental["rentalId"], insuranceClaim=claim)
    [entry] = answer["rental"]["replacementHistory"]
    assert entry["insuranceClaim"] is claim
    assert (await _get(api, f"/v1/subscriptions/{rental['rentalId']}")) == answer["rental"]


async def test_the_body_may_leave_the_rental_id_to_the_path(
    api: Api, rental: dict[str, Any]
) -> None:
    response = await api.post(
        f"/v1/subscriptions/{rental['rentalId']}/replace",
        {"newSerialNumber": "SN-2", "replacementReason": "lost"},
    )
    assert response.status_code == 200, response.text
    assert exact(response)["rental"]["serialNumber"] == "SN-2"


async def test_a_repaired_unit_can_serve_again(api: Api, rental: dict[str, Any]) -> None:
    await _replaced(api, rental["rentalId"])
    repaired = await api.put("/v1/assets/SN-1", {"status": "available"})
    assert repaired.status_code == 200, repaired.text

    answer = await _replaced(api, rental["rentalId"], newSerialNumber="SN-1")

    assert answer["rental"]["serialNumber"] == "SN-1"
    assert (await _get(api, "/v1/assets/SN-1"))["rentalId"] == rental["rentalId"]


# ---- refusals --------------------------------------------------------------------------


async def _refused(
    api: Api, database: Database, rental: dict[str, Any], status: int, code: str, **fields: Any
) -> Any:
    """The replacement is refused with ``code`` and leaves everything as it was."""
    before = len(await _events(database))
    response = await _replace(api, rental["rentalId"], **fields)
    assert response.status_code == status, response.text
    assert error_code(response) == code
    unchanged = await _get(api, f"/v1/subscriptions/{rental['rentalId']}")
    assert unchanged["serialNumber"] == rental["serialNumber"]
    assert unchanged["replacementHistory"] == rental["replacementHistory"]
    old_unit = await _get(api, f"/v1/assets/{rental['serialNumber']}")
    assert (old_unit["status"], old_unit["rentalId"]) == ("rented_out", rental["rentalId"])
    assert len(await _events(database)) == before
    return response.json()["error"]


async def test_another_sku_named_in_the_body_is_a_mismatch(
    api: Api, database: Database, rental: dict[str, Any]
) -> None:
    error = await _refused(api, database, rental, 409, "SKU_MISMATCH", newSku=PHONE)
    assert PHONE in error["message"]
    assert (await _get(api, "/v1/assets/SN-2"))["status"] == "available"


async def test_a_unit_of_another_sku_is_a_mismatch(
    api: Api, database: Database, rental: dict[str, Any]
) -> None:
    await _refused(api, database, rental, 409, "SKU_MISMATCH", newSerialNumber="PH-1")
    unit = await _get(api, "/v1/assets/PH-1")
    assert (unit["status"], unit["rentalId"]) == ("available", None)
    assert [entry["kind"] for entry in unit["history"]] == ["registered"]


async def test_an_unknown_unit_is_asset_not_found(
    api: Api, database: Database, rental: dict[str, Any]
) -> None:
    await _refused(api, database, rental, 404, "ASSET_NOT_FOUND", newSerialNumber="NOPE")


async def test_a_rented_unit_is_not_available(
    api: Api, database: Database, rental: dict[str, Any]
) -> None:
    await _refused(api, database, rental, 422, "ASSET_NOT_AVAILABLE", newSerialNumber="SN-1")
    order = await _get(api, f"/v1/orders/{rental['orderId']}")
    other = await subscribe(api, order, "SN-3")
    await _refused(api, database, rental, 422, "ASSET_NOT_AVAILABLE", newSerialNumber="SN-3")
    assert (await _get(api, "/v1/assets/SN-3"))["rentalId"] == other["rentalId"]


async def test_an_unavailable_unit_is_not_available(
    api: Api, database: Database, rental: dict[str, Any]
) -> None:
    response = await api.put("/v1/assets/SN-2", {"status": "unavailable"})
    assert response.status_code == 200, response.text
    await _refused(api, database, rental, 422, "ASSET_NOT_AVAILABLE")


async def test_an_ended_subscription_is_not_active(api: Api, rental: dict[str, Any]) -> None:
    upgrade = {
        "rentalId": rental["rentalId"], "newSku": LAPTOP, "newSerialNumber": "SN-3",
        "contractLength": 12, "newMonthlyAmount": 49.99, "reason": "Newer model",
    }  # fmt: skip
    upgraded = await api.post(f"/v1/subscriptions/{rental['rentalId']}/upgrade", upgrade)
    assert upgraded.status_code == 200, upgraded.text

    response = await _replace(api, rental["rentalId"])

    assert response.status_code == 422, response.text
    assert error_code(response) == "SUBSCRIPTION_NOT_ACTIVE"
    assert (await _get(api, "/v1/assets/SN-2"))["status"] == "available"


async def test_the_body_must_name_the_path_subscription(
    api: Api, database: Database, rental: dict[str, Any]
) -> None:
    error = await _refused(api, database, rental, 400, "VALIDATION_ERROR", rentalId="sub_x")
    assert [detail["path"] for detail in error["details"]] == ["rentalId"]


async def test_an_unknown_subscription_is_not_found(api: Api, rental: dict[str, Any]) -> None:
    response = await _replace(api, "sub_missing")
    assert response.status_code == 404, response.text
    assert error_code(response) == "NOT_FOUND"


@pytest.mark.parametrize(
    ("fields", "path", "code"),
    [
        ({"replacementReason": "upgrade"}, "replacementReason", "invalid_enum_value"),
        ({"replacementReason": None}, "replacementReason", "invalid_enum_value"),
        ({"newSerialNumber": ""}, "newSerialNumber", "too_small"),
        ({"newSerialNumber": None}, "newSerialNumber", "invalid_type"),
        ({"damageAssessment": "x" * 5001}, "damageAssessment", "too_big"),
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


@pytest.mark.parametrize(
    ("claim", "code"), [([1], "invalid_type"), (42, "invalid_type"), ("x" * 5001, "too_big")]
)
async def test_an_insurance_claim_is_a_boolean_an_object_or_text(
    api: Api, database: Database, rental: dict[str, Any], claim: Any, code: str
) -> None:
    error = await _refused(api, database, rental, 400, "VALIDATION_ERROR", insuranceClaim=claim)
    assert [(detail["path"], detail["code"]) for detail in error["details"]] == [
        ("insuranceClaim", code)
    ]
