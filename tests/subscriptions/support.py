"""Helpers for subscription tests: a confirmed order with units in stock, and starting
subscriptions through the API as a FlexPortal client does."""

from __future__ import annotations

from collections import Counter
from typing import Any

from sqlalchemy import select

from flexbill.core.db import Database
from flexbill.events.models import Event
from tests.orders.support import LAPTOP, PHONE, create_catalog, exact, order_body, place
from tests.support import Api

__all__ = [
    "LAPTOP", "PHONE", "confirmed_order", "event_counts", "events_of", "exact", "read",
    "register", "start", "subscribe", "two_laptops",
]  # fmt: skip


async def register(api: Api, serial: str, sku: str = LAPTOP, **fields: Any) -> dict[str, Any]:
    response = await api.post("/v1/assets", {"serialNumber": serial, "sku": sku, **fields})
    assert response.status_code == 201, response.text
    asset: dict[str, Any] = response.json()["asset"]
    return asset


async def confirmed_order(
    api: Api, *, catalog: bool = True, **order_overrides: Any
) -> dict[str, Any]:
    """A placed and confirmed order (by default: two laptops for 12 months)."""
    if catalog:
        await create_catalog(api)
    order = await place(api, order_body(**order_overrides))
    response = await api.post(f"/v1/orders/{order['orderId']}/confirm", None)
    assert response.status_code == 200, response.text
    confirmed: dict[str, Any] = exact(response)["order"]
    return confirmed


async def start(api: Api, order: dict[str, Any], serial: str, **fields: Any) -> Any:
    """``POST /v1/subscriptions`` for ``serial`` against ``order``; the raw response."""
    body = {
        "orderId": order["orderId"],
        "assetSerialNumber": serial,
        "customerId": order["customerId"],
        **fields,
    }
    return await api.post("/v1/subscriptions", body)


async def subscribe(api: Api, order: dict[str, Any], serial: str, **fields: Any) -> dict[str, Any]:
    """Start a subscription that must succeed; the rental object, amounts as ``Decimal``."""
    response = await start(api, order, serial, **fields)
    assert response.status_code == 201, response.text
    rental: dict[str, Any] = exact(response)["rental"]
    return rental


async def events_of(database: Database, event_type: str | None = None) -> list[Event]:
    """The event rows written so far (each test has its own database), of one type or all."""
    async with database.transaction() as session:
        statement = select(Event).order_by(Event.occurred_at, Event.id)
        if event_type is not None:
            statement = statement.where(Event.type == event_type)
        return list((await session.scalars(statement)).all())


async def event_counts(database: Database) -> Counter[str]:
    return Counter(event.type for event in await events_of(database))


async def read(api: Api, path: str, **params: Any) -> dict[str, Any]:
    """``GET path`` that must succeed; the body with amounts as ``Decimal``."""
    response = await api.get(path, **params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = exact(response)
    return body


async def two_laptops(api: Api) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """A confirmed order of two laptops rented out as SN-1 and SN-2 (59.99 a month each for
    12 months, from today): the order as it stands after, and the two rentals."""
    order = await confirmed_order(api)
    await register(api, "SN-1")
    await register(api, "SN-2")
    first = await subscribe(api, order, "SN-1")
    second = await subscribe(api, order, "SN-2")
    return await read(api, f"/v1/orders/{order['orderId']}"), first, second
