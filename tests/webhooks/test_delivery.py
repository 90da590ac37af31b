"""Webhooks delivered by the worker to a real receiver on loopback that verifies every
request with the ``standardwebhooks`` package: normal delivery of events caused through
the API, event filtering, tenants, and what the fan-out writes."""

from __future__ import annotations

import contextlib
import json
from decimal import Decimal
from typing import Any

from sqlalchemy import event as sqlalchemy_event
from sqlalchemy import func, select

from flexbill.core.db import Database
from flexbill.events import service
from flexbill.events.models import EventType
from flexbill.webhooks.fanout import DELIVER, delivery_id
from flexbill.webhooks.models import WebhookDelivery
from tests.orders.support import create_catalog, exact, place, tenant_context
from tests.support import Api, Tenant, new_tenant
from tests.webhooks.support import (
    Receiver,
    deliver,
    deliveries,
    delivery,
    jobs_of_kind,
    listen,
)


async def test_an_order_placed_through_the_api_reaches_the_receiver_signed(
    api: Api, database: Database, receiver: Receiver
) -> None:
    endpoint_id = await listen(api, receiver)
    await create_catalog(api)
    order = await place(api)

    # Nothing is sent from the request: the worker sends.
    assert receiver.received == []
    await deliver(database)

    [request] = receiver.received
    assert request.verified
    assert request.answered == 200
    assert request.headers["content-type"] == "application/json"
    assert request.headers["user-agent"].startswith("flexbill-webhooks/")
    body = json.loads(request.body, parse_float=Decimal)
    assert set(body) == {"event", "timestamp", "data"}
    assert body["event"] == "order.created"
    assert body["data"]["orderId"] == order["orderId"]
    assert body["data"]["totals"]["total"] == order["totals"]["total"]  # exact, as Decimal

    [event] = exact(await api.get("/v1/events", type="order.created"))["events"]
    assert body == {"event": event["event"], "timestamp": event["timestamp"], "data": event["data"]}

    [sent] = await deliveries(api, endpoint_id)
    assert request.webhook_id == sent["deliveryId"] == delivery_id(event["eventId"], endpoint_id)
    assert (sent["status"], sent["attemptCount"], sent["eventId"]) == (
        "succeeded",
        1,
        event["eventId"],
    )
    assert sent["event"] == "order.created"
    details = await delivery(api, endpoint_id, sent["deliveryId"])
    assert details["payload"]["data"]["orderId"] == order["orderId"]
    [attempt] = details["attempts"]
    assert (attempt["succeeded"], attempt["statusCode"], attempt["error"]) == (True, 200, None)
    assert attempt["url"] == receiver.url()
    assert json.loads(attempt["responseBody"]) == {"received": sent["deliveryId"]}
    assert attempt["latencyMs"] >= 0

    # Delivered once: running the worker again sends nothing more.
    await deliver(database)
    assert len(receiver.received) == 1


async def test_each_endpoint_gets_the_types_it_wants_and_only_its_tenants(
    api: Api, database: Database, tenant: Tenant, receiver: Receiver
) -> None:
    everything = await listen(api, receiver, "all")
    orders_only = await listen(api, receiver, "orders", events=["order.created"])
    failures_only = await listen(api, receiver, "failures", events=["payment.failed"])
    switched_off = await listen(api, receiver, "off", enabled=False)
    other = await new_tenant(database)
    theirs = Api(api.client, key=other.live_key, tenant_id=other.id)
    await listen(theirs, receiver, "theirs")
    sandbox = Api(api.client, key=tenant.test_key, tenant_id=tenant.id)
    await listen(sandbox, receiver, "sandbox")

    ctx = await tenant_context(database, tenant)
    async with database.transaction() as session:
        await service.emit(session, ctx, EventType.ORDER_CREATED, {"orderId": "ord_1"})
        await service.emit(session, ctx, EventType.ASSET_ASSIGNED, {"serialNumber": "SN1"})
    await deliver(database)

    def events_at(path: str) -> list[str]:
        return [r.payload["event"] for r in receiver.delivered(path)]

    assert events_at("all") == ["order.created", "asset.assigned"]
    assert events_at("orders") == ["order.created"]
    for path in ("failures", "off", "theirs", "sandbox"):
        assert events_at(path) == []
    assert all(r.verified for r in receiver.received)
    assert len(await deliveries(api, everything)) == 2
    assert len(await deliveries(api, orders_only)) == 1
    assert await deliveries(api, failures_only) == []
    assert await deliveries(api, switched_off) == []


async def test_the_fan_out_writes_deliveries_with_its_events_or_not_at_all(
    api: Api, database: Database, tenant: Tenant, receiver: Receiver
) -> None:
    first = await listen(api, receiver, "a")
    second = await listen(api, receiver, "b")
    ctx = await tenant_context(database, tenant)
    statements: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements.append(statement)

    sqlalchemy_event.listen(database.write_engine.sync_engine, "before_cursor_execute", record)
    try:
        async with database.transaction() as session:
            written = [
                await service.emit(
                    session, ctx, EventType.PAYMENT_SCHEDULED, {"paymentId": f"pay_{n}"}
                )
                for n in range(3)
            ]
    finally:
        sqlalchemy_event.remove(database.write_engine.sync_engine, "before_cursor_execute", record)
    # One statement for all of the transaction's events, however many there are.
    fan_outs = [s for s in statements if s.startswith("INSERT INTO webhook_deliveries")]
    assert len(fan_outs) == 1
    async with database.transaction() as session:
        rows = (await session.scalars(select(WebhookDelivery))).all()
    expected = {delivery_id(e.id, ep) for e in written for ep in (first, second)}
    assert {row.id for row in rows} == expected
    assert {(row.status, row.attempt_count, row.event_type) for row in rows} == {
        ("pending", 0, "payment.scheduled")
    }
    assert len(await jobs_of_kind(database, DELIVER)) == 1  # one wake-up per transaction

    async def emit_then_fail() -> None:
        async with database.transaction() as session:
            await service.emit(session, ctx, EventType.PAYMENT_FAILED, {"paymentId": "pay_8"})
            raise RuntimeError("the change that caused the event failed")

    with contextlib.suppress(RuntimeError):
        await emit_then_fail()
    async with database.transaction() as session:
        with contextlib.suppress(RuntimeError):
            async with session.begin_nested():
                await service.emit(session, ctx, EventType.PAYMENT_FAILED, {"paymentId": "pay_9"})
                raise RuntimeError("rolled back to the savepoint")
        batch = [(EventType.ASSET_ASSIGNED, {"serialNumber": f"SN{n}"}) for n in range(2)]
        await service.emit_many(session, ctx, batch)
    async with database.transaction() as session:
        rows = (await session.scalars(select(WebhookDelivery))).all()
    assert (
        sorted(row.event_type for row in rows) == ["asset.assigned"] * 4 + ["payment.scheduled"] * 6
    )
    assert len(await jobs_of_kind(database, DELIVER)) == 2

    await deliver(database)
    for path in ("a", "b"):
        sent = [r.payload["data"] for r in receiver.delivered(path)]
        assert sent == [
            {"paymentId": "pay_0"}, {"paymentId": "pay_1"}, {"paymentId": "pay_2"},
            {"serialNumber": "SN0"}, {"serialNumber": "SN1"},
        ]  # fmt: skip


async def test_deleting_an_endpoint_deletes_its_deliveries_not_the_events(
    api: Api, database: Database, tenant: Tenant, receiver: Receiver
) -> None:
    endpoint_id = await listen(api, receiver)
    ctx = await tenant_context(database, tenant)
    async with database.transaction() as session:
        await service.emit(session, ctx, EventType.ORDER_CREATED, {"orderId": "ord_1"})
    await deliver(database)
    assert len(receiver.delivered()) == 1
    assert (await api.delete(f"/v1/webhook-endpoints/{endpoint_id}")).status_code == 200
    async with database.transaction() as session:
        count = await session.scalar(select(func.count()).select_from(WebhookDelivery))
    assert count == 0
    assert len((await api.get("/v1/events")).json()["events"]) == 1
