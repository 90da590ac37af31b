"""Every asset operation of the /v1 face, as a FlexPortal client would call it."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from flexbill.core import clock
from flexbill.core.db import Database
from tests.assets.support import give_back, rent_out, stock
from tests.support import Api, Tenant, error_code, issue_key, new_tenant

ASSET_FIELDS = {
    "serialNumber", "tenantId", "sku", "productName", "status", "acquisitionCost",
    "acquisitionDate", "customerId", "rentalId", "location", "condition", "notes", "currency",
    "deletedAt", "createdAt", "updatedAt",
}  # fmt: skip


@pytest.fixture(autouse=True)
async def _catalog(api: Api) -> None:
    await stock(api)


COMPLETE_EXAMPLE = {
    "serialNumber": "C02ZX1Y2MD6T",
    "sku": "MACBOOK-PRO-16-M3-18GB-SILVER",
    "acquisitionCost": 1750.00,
    "acquisitionDate": "2025-01-15",
    "location": "Amsterdam Warehouse",
    "condition": "New in box",
    "notes": "Batch order #2025-001",
}


async def _register(api: Api, serial: str, **fields: Any) -> dict[str, Any]:
    response = await api.post("/v1/assets", {"serialNumber": serial, "sku": "LAPTOP-16", **fields})
    assert response.status_code == 201, response.text
    asset: dict[str, Any] = response.json()["asset"]
    return asset


async def _put(api: Api, serial: str, **fields: Any) -> httpx.Response:
    return await api.put(f"/v1/assets/{serial}", {"sku": "LAPTOP-16", **fields})


async def _get(api: Api, serial: str) -> dict[str, Any]:
    response = await api.get(f"/v1/assets/{serial}")
    assert response.status_code == 200, response.text
    asset: dict[str, Any] = response.json()
    return asset


# --- create -------------------------------------------------------------------------------


async def test_create_with_the_documented_complete_example(api: Api) -> None:
    response = await api.post("/v1/assets", COMPLETE_EXAMPLE)
    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["success"], body["serialNumber"]) == (True, "C02ZX1Y2MD6T")
    assert isinstance(body["message"], str)
    asset = body["asset"]
    assert set(asset) == ASSET_FIELDS
    assert asset["tenantId"] == api.headers["Tenant-ID"]
    assert asset["status"] == "available"
    assert (asset["currency"], asset["acquisitionCost"]) == ("EUR", 1750)
    assert asset["acquisitionDate"] == "2025-01-15"
    assert (asset["location"], asset["condition"], asset["notes"]) == (
        "Amsterdam Warehouse",
        "New in box",
        "Batch order #2025-001",
    )
    assert asset["customerId"] is asset["rentalId"] is asset["deletedAt"] is None
    assert asset["createdAt"].endswith("Z")
    assert asset["createdAt"] == asset["updatedAt"]


async def test_minimal_create_defaults_to_available_acquired_today(api: Api) -> None:
    with clock.frozen(datetime(2025, 3, 1, 23, 59, tzinfo=UTC)):
        response = await api.post("/v1/assets", {"serialNumber": "SN123456789", "sku": "X-1"})
    assert response.status_code == 201, response.text
    asset = response.json()["asset"]
    assert (asset["status"], asset["acquisitionDate"]) == ("available", "2025-03-01")
    assert asset["productName"] == "Test devices"  # the catalog's product name
    assert asset["acquisitionCost"] is asset["location"] is None
    assert asset["createdAt"] == "2025-03-01T23:59:00Z"


async def test_create_as_unavailable(api: Api) -> None:
    asset = await _register(api, "SN-1", status="unavailable", productName='MacBook Pro 16"')
    assert (asset["status"], asset["productName"]) == ("unavailable", 'MacBook Pro 16"')


async def test_money_is_written_digit_for_digit(api: Api) -> None:
    response = await api.post(
        "/v1/assets", {"serialNumber": "SN-1", "sku": "X", "acquisitionCost": 499.99}
    )
    assert '"acquisitionCost":499.99,' in response.text
    fetched = await api.get("/v1/assets/SN-1")
    assert '"acquisitionCost":499.99,' in fetched.text
    listed = await api.get("/v1/assets")
    assert '"acquisitionCost":499.99,' in listed.text


@pytest.mark.parametrize(
    ("currency", "accepted", "refused"),
    [("EUR", 19.99, 19.999), ("JPY", 1500, 1500.5), ("KWD", 1.234, 1.2345)],
)
async def test_acquisition_cost_has_the_currency_decimals(
    client: httpx.AsyncClient,
    database: Database,
    currency: str,
    accepted: float,
    refused: float,
) -> None:
    unit = await new_tenant(database, currency=currency)
    api = Api(client, key=unit.live_key, tenant_id=unit.id)
    await stock(api)
    asset = await _register(api, "SN-OK", acquisitionCost=accepted)
    assert (asset["acquisitionCost"], asset["currency"]) == (accepted, currency)
    response = await api.post(
        "/v1/assets", {"serialNumber": "SN-BAD", "sku": "X", "acquisitionCost": refused}
    )
    assert response.status_code == 400
    assert error_code(response) == "VALIDATION_ERROR"
    assert [(d["path"], d["code"]) for d in response.json()["error"]["details"]] == [
        ("acquisitionCost", "not_multiple_of")
    ]
    assert (await api.get("/v1/assets/SN-BAD")).status_code == 404


@pytest.mark.parametrize(
    ("body", "path", "code"),
    [
        ({"sku": "X"}, "serialNumber", "invalid_type"),
        ({"serialNumber": "SN-1"}, "sku", "invalid_type"),
        ({"serialNumber": "", "sku": "X"}, "serialNumber", "too_small"),
        ({"serialNumber": "S" * 101, "sku": "X"}, "serialNumber", "too_big"),
        ({"serialNumber": "SN/1", "sku": "X"}, "serialNumber", "invalid_string"),
        ({"serialNumber": " SN-1", "sku": "X"}, "serialNumber", "invalid_string"),
        ({"serialNumber": "SN-1", "sku": ""}, "sku", "too_small"),
        ({"serialNumber": "SN-1", "sku": "X", "status": "lost"}, "status", "invalid_enum_value"),
        ({"serialNumber": "SN-1", "sku": "X", "status": "rented_out"}, "status", "invalid_enum_value"),
        ({"serialNumber": "SN-1", "sku": "X", "status": "sold"}, "status", "invalid_enum_value"),
        ({"serialNumber": "SN-1", "sku": "X", "acquisitionCost": -1}, "acquisitionCost", "too_small"),
        ({"serialNumber": "SN-1", "sku": "X", "acquisitionCost": "a lot"}, "acquisitionCost", "invalid_type"),
        ({"serialNumber": "SN-1", "sku": "X", "acquisitionDate": "15/01/2025"}, "acquisitionDate", "invalid_date"),
        ({"serialNumber": "SN-1", "sku": "X", "notes": "n" * 5001}, "notes", "too_big"),
        ({"serialNumber": "SN-1", "sku": "X", "location": "l" * 201}, "location", "too_big"),
    ],
)  # fmt: skip
async def test_create_validation_names_the_field(
    api: Api, body: dict[str, Any], path: str, code: str
) -> None:
    response = await api.post("/v1/assets", body)
    assert response.status_code == 400, response.text
    assert error_code(response) == "VALIDATION_ERROR"
    details = [(d["path"], d["code"]) for d in response.json()["error"]["details"]]
    assert (path, code) in details
    assert (await api.get("/v1/assets")).json()["assets"] == []


async def test_a_serial_number_is_registered_once(api: Api) -> None:
    first = await _register(api, "SN-1", location="A")
    response = await api.post("/v1/assets", {"serialNumber": "SN-1", "sku": "OTHER"})
    assert response.status_code == 409
    assert error_code(response) == "ASSET_EXISTS"
    assert "SN-1" in response.json()["error"]["message"]
    assert (await _get(api, "SN-1"))["location"] == first["location"] == "A"


async def test_a_deleted_serial_number_still_exists(api: Api) -> None:
    await _register(api, "SN-1")
    assert (await api.delete("/v1/assets/SN-1")).status_code == 200
    response = await api.post("/v1/assets", {"serialNumber": "SN-1", "sku": "LAPTOP-16"})
    assert response.status_code == 409
    assert error_code(response) == "ASSET_EXISTS"


async def test_concurrent_registrations_of_one_serial_number(api: Api) -> None:
    responses = await asyncio.gather(
        *(api.post("/v1/assets", {"serialNumber": "SN-RACE", "sku": f"SKU-{i}"}) for i in range(2))
    )
    assert sorted(r.status_code for r in responses) == [201, 409]
    loser = next(r for r in responses if r.status_code == 409)
    assert error_code(loser) == "ASSET_EXISTS"
    listed = (await api.get("/v1/assets")).json()["assets"]
    assert [a["serialNumber"] for a in listed] == ["SN-RACE"]
    assert len((await _get(api, "SN-RACE"))["history"]) == 1


# --- get ------------------------------------------------------------------------------------


async def test_get_returns_the_bare_asset_with_its_history(
    api: Api, database: Database, tenant: Tenant
) -> None:
    created = await _register(api, "SN-1")
    assert (await _put(api, "SN-1", location="Shelf 12")).status_code == 200
    assert (await _put(api, "SN-1", status="unavailable", condition="Scratched")).status_code == 200
    assert (await _put(api, "SN-1", status="available")).status_code == 200
    await rent_out(database, tenant, "SN-1", rental_id="sub_9", customer_id="cust_7")
    await give_back(database, tenant, "SN-1", "returned")
    assert (await api.delete("/v1/assets/SN-1")).status_code == 200

    asset = await _get(api, "SN-1")
    assert set(asset) == ASSET_FIELDS | {"history"}
    assert asset["createdAt"] == created["createdAt"]
    steps = [
        (e["kind"], e["fromStatus"], e["toStatus"], e["rentalId"], e["customerId"])
        for e in asset["history"]
    ]
    assert steps == [
        ("registered", None, "available", None, None),
        ("updated", None, None, None, None),
        ("updated", None, None, None, None),
        ("status_changed", "available", "unavailable", None, None),
        ("status_changed", "unavailable", "available", None, None),
        ("assigned", "available", "rented_out", "sub_9", "cust_7"),
        ("returned", "rented_out", "returned", "sub_9", "cust_7"),
        ("deleted", "returned", "unavailable", None, None),
    ]
    assert [e["note"] for e in asset["history"][1:3]] == ["Changed location", "Changed condition"]
    times = [e["at"] for e in asset["history"]]
    assert times == sorted(times)
    assert asset["updatedAt"] == times[-1]
    key_actor = asset["history"][0]["actor"]
    assert key_actor.startswith("api_key:key_")
    assert {e["actor"] for e in asset["history"]} == {key_actor}


async def test_get_unknown_asset_is_not_found(api: Api) -> None:
    response = await api.get("/v1/assets/NOPE")
    assert response.status_code == 404
    assert error_code(response) == "NOT_FOUND"


async def test_serial_numbers_with_url_characters(api: Api) -> None:
    await _register(api, "APPLE C02#1?")
    fetched = await api.get("/v1/assets/APPLE%20C02%231%3F")
    assert fetched.status_code == 200
    assert fetched.json()["serialNumber"] == "APPLE C02#1?"


# --- list -----------------------------------------------------------------------------------


async def test_list_envelope_and_filters(api: Api, database: Database, tenant: Tenant) -> None:
    await _register(api, "SN-A", sku="LAPTOP-PRO-16")
    await _register(api, "SN-B", sku="LAPTOP-PRO-16")
    await _register(api, "SN-C", sku="PHONE-15", status="unavailable")
    await rent_out(database, tenant, "SN-B", rental_id="sub_1", customer_id="cust_1")

    async def serials(**params: Any) -> list[str]:
        response = await api.get("/v1/assets", **params)
        assert response.status_code == 200, response.text
        body = response.json()
        assert set(body) == {"assets", "count", "limit", "hasMore", "nextCursor"}
        assert body["count"] == len(body["assets"])
        return sorted(a["serialNumber"] for a in body["assets"])

    assert await serials() == ["SN-A", "SN-B", "SN-C"]
    assert await serials(status="available", sku="LAPTOP-PRO-16") == ["SN-A"]
    assert await serials(status="rented_out") == ["SN-B"]
    assert await serials(sku="PHONE-15") == ["SN-C"]
    assert await serials(customerId="cust_1") == ["SN-B"]
    assert await serials(rentalId="sub_1") == ["SN-B"]
    assert await serials(status="rented_out", customerId="cust_1") == ["SN-B"]
    assert await serials(rentalId="sub_other") == []
    assert await serials(status="sold") == []
    rented = (await api.get("/v1/assets", rentalId="sub_1")).json()["assets"][0]
    assert (rented["customerId"], rented["rentalId"]) == ("cust_1", "sub_1")
    assert "history" not in rented


@pytest.mark.parametrize(
    ("params", "path"),
    [
        ({"status": "lost"}, "status"),
        ({"sortBy": "location"}, "sortBy"),
        ({"sortDir": "up"}, "sortDir"),
        ({"limit": "101"}, "limit"),
        ({"startAfter": "NOT-A-SERIAL"}, "startAfter"),
    ],
)
async def test_list_rejects_bad_parameters(api: Api, params: dict[str, str], path: str) -> None:
    response = await api.get("/v1/assets", **params)
    assert response.status_code == 400, response.text
    assert error_code(response) == "VALIDATION_ERROR"
    assert path in [d["path"] for d in response.json()["error"]["details"]]


@pytest.mark.parametrize("sort_by", ["createdAt", "updatedAt", "serialNumber", "status", "sku"])
async def test_list_sorts(api: Api, sort_by: str) -> None:
    for serial, sku, status in [
        ("SN-2", "B-SKU", "unavailable"),
        ("SN-3", "A-SKU", "available"),
        ("SN-1", "C-SKU", "available"),
        ("SN-4", "A-SKU", "unavailable"),
    ]:
        await _register(api, serial, sku=sku, status=status)
    await _put(api, "SN-2", sku="B-SKU", location="touched")  # updatedAt order ≠ createdAt order
    for direction in ("asc", "desc"):
        body = (await api.get("/v1/assets", sortBy=sort_by, sortDir=direction)).json()
        keys = [(a[sort_by], a["serialNumber"]) for a in body["assets"]]
        assert len(keys) == 4
        assert keys == sorted(keys, reverse=direction == "desc")


@pytest.mark.parametrize("sort_by", ["createdAt", "sku", "serialNumber"])
async def test_pages_return_every_asset_once(api: Api, sort_by: str) -> None:
    serials = {f"SN-{i:02d}" for i in range(7)}
    for i, serial in enumerate(sorted(serials)):
        await _register(api, serial, sku=f"SKU-{i % 2}")
    for use_bare_serial in (False, True):
        seen: list[str] = []
        cursor = None
        while True:
            params: dict[str, Any] = {"limit": 3, "sortBy": sort_by, "sortDir": "asc"}
            if cursor:
                params["startAfter"] = cursor
            body = (await api.get("/v1/assets", **params)).json()
            seen.extend(a["serialNumber"] for a in body["assets"])
            assert body["hasMore"] == (body["nextCursor"] is not None)
            if not body["hasMore"]:
                break
            # FlexPortal documents startAfter as "the last ID": for assets, a serial number.
            cursor = body["assets"][-1]["serialNumber"] if use_bare_serial else body["nextCursor"]
        assert sorted(seen) == sorted(serials)
        assert len(seen) == len(serials)


# --- update ---------------------------------------------------------------------------------


async def test_update_with_the_object_read_back(api: Api) -> None:
    await _register(api, "SN-1", acquisitionCost=100, location="A", notes="first")
    asset = await _get(api, "SN-1")
    asset.update(location="Rotterdam Warehouse", acquisitionCost=1200.5, productName="Phone")
    response = await api.put("/v1/assets/SN-1", asset)
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["success"], body["serialNumber"]) == (True, "SN-1")
    updated = body["asset"]
    assert set(updated) == ASSET_FIELDS
    assert (updated["location"], updated["acquisitionCost"], updated["productName"]) == (
        "Rotterdam Warehouse",
        1200.5,
        "Phone",
    )
    assert '"acquisitionCost":1200.50,' in response.text
    assert updated["notes"] == "first"
    assert updated["updatedAt"] > asset["updatedAt"]


async def test_update_keeps_fields_left_out_and_clears_fields_sent_as_null(api: Api) -> None:
    await _register(
        api, "SN-1", location="A", condition="New", notes="n", acquisitionCost=5, productName="P"
    )
    response = await _put(api, "SN-1", location=None, notes="changed")
    assert response.status_code == 200, response.text
    asset = response.json()["asset"]
    assert (asset["location"], asset["notes"]) == (None, "changed")
    assert (asset["condition"], asset["acquisitionCost"], asset["productName"]) == ("New", 5, "P")
    assert asset["status"] == "available"


async def test_an_update_that_changes_nothing_writes_no_history(api: Api) -> None:
    await _register(api, "SN-1", location="A")
    response = await _put(api, "SN-1", location="A", status="available", serialNumber="SN-1")
    assert response.status_code == 200
    assert len((await _get(api, "SN-1"))["history"]) == 1


async def test_update_status_between_warehouse_states(api: Api) -> None:
    await _register(api, "SN-1")
    for status in ("unavailable", "available", "unavailable"):
        response = await _put(api, "SN-1", status=status)
        assert response.status_code == 200, response.text
        assert response.json()["asset"]["status"] == status


@pytest.mark.parametrize("target", ["available", "unavailable"])
async def test_a_returned_unit_is_inspected_into_stock_or_out(
    api: Api, database: Database, tenant: Tenant, target: str
) -> None:
    await _register(api, "SN-1")
    await rent_out(database, tenant, "SN-1")
    await give_back(database, tenant, "SN-1", "returned")
    assert (await _get(api, "SN-1"))["status"] == "returned"
    response = await _put(api, "SN-1", status=target, condition="Grade B")
    assert response.status_code == 200, response.text
    assert response.json()["asset"]["status"] == target


@pytest.mark.parametrize(
    ("start", "target"),
    [
        ("available", "rented_out"),
        ("available", "sold"),
        ("available", "returned"),
        ("unavailable", "rented_out"),
        ("rented_out", "available"),
        ("rented_out", "unavailable"),
        ("rented_out", "returned"),
        ("sold", "available"),
        ("sold", "unavailable"),
        ("returned", "rented_out"),
    ],
)
async def test_refused_status_transitions(
    api: Api, database: Database, tenant: Tenant, start: str, target: str
) -> None:
    await _register(api, "SN-1", status="unavailable" if start == "unavailable" else "available")
    if start in ("rented_out", "sold", "returned"):
        await rent_out(database, tenant, "SN-1")
    if start in ("sold", "returned"):
        await give_back(database, tenant, "SN-1", start)  # type: ignore[arg-type]
    before = await _get(api, "SN-1")
    assert before["status"] == start
    response = await _put(api, "SN-1", status=target, location="moved")
    assert response.status_code == 422, response.text
    assert error_code(response) == "INVALID_STATUS_TRANSITION"
    assert await _get(api, "SN-1") == before


async def test_a_rented_out_unit_keeps_its_sku(
    api: Api, database: Database, tenant: Tenant
) -> None:
    await _register(api, "SN-1")
    await rent_out(database, tenant, "SN-1", rental_id="sub_1", customer_id="cust_1")
    response = await _put(api, "SN-1", sku="OTHER-SKU")
    assert response.status_code == 409
    assert error_code(response) == "ASSET_IN_USE"
    # the GET-modify-PUT round trip of a rented unit works: its status is sent back unchanged
    asset = await _get(api, "SN-1")
    response = await api.put("/v1/assets/SN-1", {**asset, "location": "With customer"})
    assert response.status_code == 200, response.text
    updated = response.json()["asset"]
    assert (updated["sku"], updated["status"], updated["location"]) == (
        "LAPTOP-16",
        "rented_out",
        "With customer",
    )
    assert (updated["rentalId"], updated["customerId"]) == ("sub_1", "cust_1")


async def test_update_ignores_read_only_fields(api: Api) -> None:
    await _register(api, "SN-1")
    response = await _put(
        api, "SN-1", tenantId="bu_other", customerId="cust_x", rentalId="sub_x", currency="USD"
    )
    assert response.status_code == 200
    asset = response.json()["asset"]
    assert asset["tenantId"] == api.headers["Tenant-ID"]
    assert (asset["customerId"], asset["rentalId"], asset["currency"]) == (None, None, "EUR")


@pytest.mark.parametrize(
    ("body", "path", "code"),
    [
        ({"sku": ""}, "sku", "too_small"),
        ({"sku": "X", "serialNumber": "SN-2"}, "serialNumber", "invalid_string"),
        ({"sku": "X", "status": "lost"}, "status", "invalid_enum_value"),
        ({"sku": "X", "acquisitionCost": 1.001}, "acquisitionCost", "not_multiple_of"),
        ({"sku": "X", "condition": "c" * 201}, "condition", "too_big"),
    ],
)
async def test_update_validation_names_the_field(
    api: Api, body: dict[str, Any], path: str, code: str
) -> None:
    created = await _register(api, "SN-1")
    response = await api.put("/v1/assets/SN-1", body)
    assert response.status_code == 400, response.text
    assert error_code(response) == "VALIDATION_ERROR"
    assert (path, code) in [(d["path"], d["code"]) for d in response.json()["error"]["details"]]
    unchanged = await _get(api, "SN-1")
    assert unchanged["updatedAt"] == created["updatedAt"]
    assert len(unchanged["history"]) == 1


async def test_update_without_a_sku_keeps_it(api: Api) -> None:
    """FlexPortal's own PUT examples send no sku."""
    await _register(api, "SN-1")
    response = await api.put("/v1/assets/SN-1", {"location": "Shelf 9"})
    assert response.status_code == 200, response.text
    asset = response.json()["asset"]
    assert (asset["sku"], asset["location"]) == ("LAPTOP-16", "Shelf 9")


async def test_update_unknown_asset_is_not_found(api: Api) -> None:
    response = await _put(api, "NOPE", location="A")
    assert response.status_code == 404
    assert error_code(response) == "NOT_FOUND"


# --- delete ---------------------------------------------------------------------------------


async def test_delete_is_soft(api: Api) -> None:
    await _register(api, "SN-1", location="A")
    response = await api.delete("/v1/assets/SN-1")
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["success"], body["serialNumber"]) == (True, "SN-1")
    assert body["asset"]["status"] == "unavailable"
    assert body["asset"]["deletedAt"] is not None
    fetched = await _get(api, "SN-1")
    assert (fetched["status"], fetched["location"]) == ("unavailable", "A")
    assert fetched["deletedAt"] == body["asset"]["deletedAt"]
    listed = (await api.get("/v1/assets", status="unavailable")).json()["assets"]
    assert [a["serialNumber"] for a in listed] == ["SN-1"]

    again = await api.delete("/v1/assets/SN-1")
    assert again.status_code == 200
    assert again.json()["asset"]["deletedAt"] == fetched["deletedAt"]
    kinds = [e["kind"] for e in (await _get(api, "SN-1"))["history"]]
    assert kinds == ["registered", "deleted"]


async def test_a_deleted_asset_is_restored_by_making_it_available(api: Api) -> None:
    await _register(api, "SN-1")
    await api.delete("/v1/assets/SN-1")
    response = await _put(api, "SN-1", status="available", notes="Reactivated after repair")
    assert response.status_code == 200, response.text
    asset = response.json()["asset"]
    assert (asset["status"], asset["deletedAt"]) == ("available", None)
    assert (await _get(api, "SN-1"))["history"][-1]["note"] == "Restored after deletion"


async def test_delete_is_refused_while_rented_out(
    api: Api, database: Database, tenant: Tenant
) -> None:
    await _register(api, "SN-1")
    await rent_out(database, tenant, "SN-1")
    before = await _get(api, "SN-1")
    response = await api.delete("/v1/assets/SN-1")
    assert response.status_code == 409
    assert error_code(response) == "ASSET_IN_USE"
    assert await _get(api, "SN-1") == before


async def test_delete_unknown_asset_is_not_found(api: Api) -> None:
    response = await api.delete("/v1/assets/NOPE")
    assert response.status_code == 404
    assert error_code(response) == "NOT_FOUND"


# --- tenancy and permissions ----------------------------------------------------------------


async def test_another_business_unit_sees_nothing(
    api: Api, client: httpx.AsyncClient, database: Database
) -> None:
    await _register(api, "SN-1", location="mine")
    other_unit = await new_tenant(database)
    other = Api(client, key=other_unit.live_key, tenant_id=other_unit.id)
    await stock(other)
    for response in (
        await other.get("/v1/assets/SN-1"),
        await _put(other, "SN-1", location="theirs"),
        await other.delete("/v1/assets/SN-1"),
    ):
        assert response.status_code == 404
        assert error_code(response) == "NOT_FOUND"
    assert (await other.get("/v1/assets")).json()["assets"] == []
    assert error_code(await other.get("/v1/assets", startAfter="SN-1")) == "VALIDATION_ERROR"
    # the same serial number is free in another business unit
    theirs = await _register(other, "SN-1", location="theirs")
    assert theirs["tenantId"] == other_unit.id
    assert (await _get(api, "SN-1"))["location"] == "mine"


async def test_live_and_test_environments_are_separate(
    api: Api, client: httpx.AsyncClient, tenant: Tenant
) -> None:
    test_api = Api(client, key=tenant.test_key, tenant_id=tenant.id)
    await stock(test_api)
    await _register(api, "SN-1", location="live")
    assert (await test_api.get("/v1/assets/SN-1")).status_code == 404
    await _register(test_api, "SN-1", location="test")
    assert (await _get(api, "SN-1"))["location"] == "live"
    assert (await _get(test_api, "SN-1"))["location"] == "test"
    assert (await test_api.delete("/v1/assets/SN-1")).status_code == 200
    assert (await _get(api, "SN-1"))["status"] == "available"


async def test_reading_needs_assets_read_and_writing_assets_write(
    api: Api, database: Database, tenant: Tenant
) -> None:
    await _register(api, "SN-1")
    reader = api.with_key(await issue_key(database, tenant, permissions=["assets:read"]))
    assert (await reader.get("/v1/assets/SN-1")).status_code == 200
    assert (await reader.get("/v1/assets")).status_code == 200
    for response in (
        await reader.post("/v1/assets", {"serialNumber": "SN-2", "sku": "X"}),
        await _put(reader, "SN-1", location="B"),
        await reader.delete("/v1/assets/SN-1"),
    ):
        assert response.status_code == 403
        assert error_code(response) == "INSUFFICIENT_PERMISSIONS"
    outsider = api.with_key(await issue_key(database, tenant, permissions=["customers:read"]))
    assert error_code(await outsider.get("/v1/assets")) == "INSUFFICIENT_PERMISSIONS"


async def test_a_unit_must_be_of_a_catalog_variant(api: Api) -> None:
    response = await api.post("/v1/assets", {"serialNumber": "SN-1", "sku": "NOT-IN-CATALOG"})
    assert response.status_code == 404
    assert error_code(response) == "VARIANT_NOT_FOUND"
    assert (await api.get("/v1/assets")).json()["assets"] == []
    await _register(api, "SN-2")
    moved = await api.put("/v1/assets/SN-2", {"sku": "NOT-IN-CATALOG"})
    assert error_code(moved) == "VARIANT_NOT_FOUND"
    assert (await _get(api, "SN-2"))["sku"] == "LAPTOP-16"


async def test_product_name_and_cost_default_to_the_catalog(api: Api) -> None:
    body = {
        "productSku": "PHONES",
        "name": "Pocket phone",
        "specification": "6.1-inch",
        "category": "Phones",
        "brand": "Acme",
        "variants": [
            {
                "variantSku": "PHONE-BLUE",
                "variantName": "Blue",
                "grade": "A",
                "acquisitionCost": 321.5,
                "pricing": [{"contractLength": 12, "monthlyPrice": 19.99}],
            }
        ],
    }
    assert (await api.post("/v1/products", body)).status_code == 201
    asset = await _register(api, "SN-P", sku="PHONE-BLUE")
    assert (asset["productName"], asset["acquisitionCost"]) == ("Pocket phone", 321.5)
    named = await _register(api, "SN-Q", sku="PHONE-BLUE", productName="Refurb", acquisitionCost=99)
    assert (named["productName"], named["acquisitionCost"]) == ("Refurb", 99)
