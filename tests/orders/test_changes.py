"""Notes, confirm and cancel through the /v1 face."""

from __future__ import annotations

from typing import Any

import pytest

from flexbill.core.db import Database
from flexbill.orders.fulfilment import record_rental
from tests.orders.support import LAPTOP, create_catalog, order_body, place, tenant_context
from tests.support import Api, Tenant, error_code


@pytest.fixture
async def order(api: Api) -> dict[str, Any]:
    await create_catalog(api)
    return await place(api, order_body(notes="Call first"))


def _url(order: dict[str, Any], action: str) -> str:
    return f"/v1/orders/{order['orderId']}/{action}"


async def _patch_notes(api: Api, order: dict[str, Any], body: Any) -> Any:
    return await api.request("PATCH", _url(order, "notes"), json=body)


async def test_notes_are_replaced(api: Api, order: dict[str, Any]) -> None:
    response = await _patch_notes(api, order, {"notes": "Leave at reception"})
    assert response.status_code == 200
    body = response.json()
    assert (body["success"], body["message"]) == (True, "Order notes updated")
    assert body["order"]["notes"] == "Leave at reception"
    assert body["order"]["updatedAt"] > order["updatedAt"]
    fetched = (await api.get(f"/v1/orders/{order['orderId']}")).json()
    assert fetched["notes"] == "Leave at reception"


@pytest.mark.parametrize(
    ("body", "code"), [({}, "invalid_type"), ({"notes": "x" * 5001}, "too_big")]
)
async def test_notes_are_required_and_bounded(
    api: Api, order: dict[str, Any], body: dict[str, Any], code: str
) -> None:
    response = await _patch_notes(api, order, body)
    assert response.status_code == 400
    detail = response.json()["error"]["details"][0]
    assert (detail["path"], detail["code"]) == ("notes", code)


async def test_a_pending_order_is_cancelled_with_its_reason(
    api: Api, order: dict[str, Any]
) -> None:
    response = await api.post(_url(order, "cancel"), {"reason": "Customer changed their mind"})
    assert response.status_code == 200
    body = response.json()
    assert (body["success"], body["message"]) == (True, "Order cancelled")
    cancelled = body["order"]
    assert cancelled["status"] == "cancelled"
    assert cancelled["cancellationReason"] == "Customer changed their mind"
    assert cancelled["cancelledAt"].endswith("Z")
    again = await api.post(_url(order, "cancel"), {})
    assert again.status_code == 400
    assert error_code(again) == "ORDER_NOT_CANCELLABLE"


async def test_cancel_takes_no_body(api: Api, order: dict[str, Any]) -> None:
    response = await api.request("POST", _url(order, "cancel"))
    assert response.status_code == 200, response.text
    assert response.json()["order"]["cancellationReason"] is None


async def test_a_reason_is_at_most_1000_characters(api: Api, order: dict[str, Any]) -> None:
    response = await api.post(_url(order, "cancel"), {"reason": "x" * 1001})
    assert response.status_code == 400
    assert response.json()["error"]["details"][0]["path"] == "reason"


async def test_confirm_then_cancel(api: Api, order: dict[str, Any]) -> None:
    response = await api.post(_url(order, "confirm"), None)
    assert response.status_code == 200
    confirmed = response.json()["order"]
    assert confirmed["status"] == "confirmed"
    assert confirmed["confirmedAt"].endswith("Z")
    again = await api.post(_url(order, "confirm"), None)
    assert again.status_code == 422
    assert error_code(again) == "INVALID_ORDER_STATUS"
    cancelled = await api.post(_url(order, "cancel"), {})
    assert cancelled.json()["order"]["status"] == "cancelled"
    refused = await api.post(_url(order, "confirm"), None)
    assert refused.status_code == 422
    assert error_code(refused) == "INVALID_ORDER_STATUS"


async def test_an_order_with_a_subscription_cannot_be_cancelled(
    api: Api, database: Database, tenant: Tenant, order: dict[str, Any]
) -> None:
    assert (await api.post(_url(order, "confirm"), None)).status_code == 200
    ctx = await tenant_context(database, tenant)
    async with database.transaction() as session:
        await record_rental(session, ctx, order["orderId"], LAPTOP, "sub_1")
    response = await api.post(_url(order, "cancel"), {"reason": "Too late"})
    assert response.status_code == 400
    assert error_code(response) == "ORDER_NOT_CANCELLABLE"
    fetched = (await api.get(f"/v1/orders/{order['orderId']}")).json()
    assert fetched["status"] == "partial"
    assert fetched["rentalProgress"] == {"totalDevices": 2, "rentedDevices": 1}


@pytest.mark.parametrize(
    ("method", "action", "body"),
    [("PATCH", "notes", {"notes": "x"}), ("POST", "confirm", None), ("POST", "cancel", {})],
)
async def test_an_unknown_order_is_not_found(
    api: Api, order: dict[str, Any], method: str, action: str, body: Any
) -> None:
    response = await api.request(method, f"/v1/orders/ord_missing/{action}", json=body)
    assert response.status_code == 404
    assert error_code(response) == "ORDER_NOT_FOUND"
