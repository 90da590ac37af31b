"""Failing receivers: down for a (test-clock) day and back, timing out, hanging while the
API keeps serving, refusing one event; events stay in order per endpoint, nothing is lost,
and several workers deliver each event once and in order."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from flexbill.core import clock
from flexbill.core.db import Database
from flexbill.events import service
from flexbill.events.models import EventType
from flexbill.tenancy.context import TenantContext
from flexbill.webhooks import delivery as rounds
from flexbill.webhooks.retry_schedule import DELAYS
from tests.orders.support import tenant_context
from tests.support import Api, Tenant
from tests.webhooks.support import (
    Received,
    Receiver,
    deliver,
    deliveries,
    delivery,
    listen,
    worker,
)

T0 = datetime(2025, 3, 10, 9, 0, tzinfo=UTC)


async def _emit(database: Database, ctx: TenantContext, count: int, first: int = 1) -> None:
    """``count`` order.created events, each in its own transaction, numbered from ``first``."""
    for number in range(first, first + count):
        async with database.transaction() as session:
            await service.emit(session, ctx, EventType.ORDER_CREATED, {"orderId": f"ord_{number}"})


def _orders(received: list[Received]) -> list[str]:
    return [r.payload["data"]["orderId"] for r in received]


async def test_a_receiver_down_for_a_day_loses_nothing(
    api: Api, database: Database, tenant: Tenant
) -> None:
    down = Receiver()  # nothing listens on its port yet: connections are refused
    ctx = await tenant_context(database, tenant)
    with clock.frozen(T0):
        endpoint_id = await listen(api, down)
        await _emit(database, ctx, 3)
        await deliver(database)
        first, second, third = await deliveries(api, endpoint_id)
        [attempt] = (await delivery(api, endpoint_id, first["deliveryId"]))["attempts"]
        assert attempt["statusCode"] is None
        assert attempt["error"].startswith("Could not connect")
        assert first["nextAttemptAt"] == "2025-03-10T09:00:05Z"
        # The later events wait behind the first: not even tried.
        assert (second["attemptCount"], third["attemptCount"]) == (0, 0)

        # A day of retries, each at its time, all refused.
        for wait in DELAYS[:6]:
            clock.advance(wait)
            await deliver(database)
        assert clock.now() - T0 == timedelta(hours=17, minutes=35, seconds=5)
        clock.advance(timedelta(hours=6, minutes=25))  # a whole day down
        await deliver(database)
        first, second, third = await deliveries(api, endpoint_id)
        assert (first["status"], first["attemptCount"]) == ("pending", 7)
        assert first["nextAttemptAt"] == "2025-03-11T12:35:05Z"
        assert (second["attemptCount"], third["attemptCount"]) == (0, 0)
        endpoint = (await api.get(f"/v1/webhook-endpoints/{endpoint_id}")).json()
        assert endpoint["webhookEndpoint"]["enabled"] is True
        assert endpoint["webhookEndpoint"]["failingSince"] == "2025-03-10T09:00:00Z"

        # Back up; at the next retry everything arrives, once and in order.
        await down.start()
        try:
            await _emit(database, ctx, 1, first=4)
            await deliver(database)
            assert down.received == []  # the newest waits for the first's retry as well
            clock.advance(DELAYS[6])
            await deliver(database)
        finally:
            await down.stop()
    assert _orders(down.delivered()) == ["ord_1", "ord_2", "ord_3", "ord_4"]
    assert all(r.verified for r in down.received)
    statuses = [(d["status"], d["attemptCount"]) for d in await deliveries(api, endpoint_id)]
    assert statuses == [("succeeded", 8), ("succeeded", 1), ("succeeded", 1), ("succeeded", 1)]
    endpoint = (await api.get(f"/v1/webhook-endpoints/{endpoint_id}")).json()
    assert endpoint["webhookEndpoint"]["failingSince"] is None


async def test_a_receiver_that_does_not_answer_in_time_is_tried_again(
    api: Api,
    database: Database,
    tenant: Tenant,
    receiver: Receiver,
    webhook_timeout: Callable[[float], None],
) -> None:
    webhook_timeout(0.2)
    receiver.hold = asyncio.Event()
    ctx = await tenant_context(database, tenant)
    with clock.frozen(T0):
        endpoint_id = await listen(api, receiver)
        await _emit(database, ctx, 1)
        await deliver(database)
        [pending] = await deliveries(api, endpoint_id)
        [attempt] = (await delivery(api, endpoint_id, pending["deliveryId"]))["attempts"]
        assert (attempt["succeeded"], attempt["statusCode"]) == (False, None)
        assert attempt["error"] == "No answer within 0.2 s"
        assert pending["status"] == "pending"

        receiver.hold.set()  # it answers quickly again
        clock.advance(DELAYS[0])
        await deliver(database)
    [sent] = await deliveries(api, endpoint_id)
    assert (sent["status"], sent["attemptCount"]) == ("succeeded", 2)
    assert receiver.delivered_ids()[-1] == sent["deliveryId"]


async def test_a_hanging_receiver_does_not_hold_up_the_api(
    api: Api, database: Database, tenant: Tenant, receiver: Receiver
) -> None:
    receiver.hold = asyncio.Event()
    endpoint_id = await listen(api, receiver)
    ctx = await tenant_context(database, tenant)
    await _emit(database, ctx, 1)
    round_running = asyncio.create_task(deliver(database))
    for _ in range(500):  # until the worker's POST hangs at the receiver
        if receiver.waiting:
            break
        await asyncio.sleep(0.01)
    assert receiver.waiting == 1
    # Writes and reads are served while the delivery hangs (no transaction is held open
    # across it: on SQLite that would be the one writer lock every write needs).
    customer = await api.create_customer()
    fetched = await api.get(f"/v1/customers/{customer['customerId']}")
    assert fetched.status_code == 200
    await _emit(database, ctx, 1, first=2)
    assert receiver.waiting == 1
    assert not round_running.done()
    receiver.hold.set()
    await round_running
    assert _orders(receiver.delivered()) == ["ord_1", "ord_2"]
    assert [d["status"] for d in await deliveries(api, endpoint_id)] == ["succeeded"] * 2


async def test_one_failing_event_holds_back_later_ones_of_its_endpoint_only(
    api: Api, database: Database, tenant: Tenant, receiver: Receiver
) -> None:
    refused_once: set[str] = set()

    def refuse_ord_2_once(request: Received) -> int | None:
        is_second = request.payload["data"]["orderId"] == "ord_2"
        if request.path == "picky" and is_second and request.webhook_id not in refused_once:
            refused_once.add(request.webhook_id)
            return 503
        return None

    receiver.answer = refuse_ord_2_once
    picky = await listen(api, receiver, "picky")
    await listen(api, receiver, "easy")
    ctx = await tenant_context(database, tenant)
    with clock.frozen(T0):
        await _emit(database, ctx, 5)
        await deliver(database)
        assert _orders(receiver.delivered("picky")) == ["ord_1"]
        assert _orders(receiver.delivered("easy")) == ["ord_1", "ord_2", "ord_3", "ord_4", "ord_5"]
        second = (await deliveries(api, picky))[1]
        [refusal] = (await delivery(api, picky, second["deliveryId"]))["attempts"]
        assert (refusal["statusCode"], refusal["error"]) == (503, "The receiver answered HTTP 503")
        clock.advance(DELAYS[0])
        await deliver(database)
    assert _orders(receiver.delivered("picky")) == ["ord_1", "ord_2", "ord_3", "ord_4", "ord_5"]
    picky_requests = [r for r in receiver.received if r.path == "picky"]
    assert [r.answered for r in picky_requests] == [200, 503, 200, 200, 200, 200]
    assert len(receiver.received) == 11


async def test_several_workers_deliver_each_event_once_in_order(
    api: Api, database: Database, tenant: Tenant, receiver: Receiver
) -> None:
    paths = ["a", "b", "c"]
    for path in paths:
        await listen(api, receiver, path)
    ctx = await tenant_context(database, tenant)
    await _emit(database, ctx, 12)
    workers = [worker(database) for _ in range(3)]
    await asyncio.gather(*(w.run_until_idle() for w in workers))
    expected = [f"ord_{n}" for n in range(1, 13)]
    for path in paths:
        assert _orders(receiver.delivered(path)) == expected
    assert len(receiver.received) == 36


async def test_a_round_whose_worker_died_is_taken_over_after_its_lease(
    api: Api, database: Database, tenant: Tenant, receiver: Receiver
) -> None:
    ctx = await tenant_context(database, tenant)
    with clock.frozen(T0):
        endpoint_id = await listen(api, receiver)
        await _emit(database, ctx, 2)
        async with database.transaction() as session:  # claimed, then the worker died
            targets = await rounds.claim(session, "dead-worker", clock.now(), timedelta(minutes=2))
        assert [len(t.messages) for t in targets] == [2]
        await deliver(database, with_schedule=True)
        assert receiver.received == []  # still leased
        clock.advance(timedelta(minutes=2, seconds=1))
        await deliver(database, with_schedule=True)  # the periodic round takes it over
    assert _orders(receiver.delivered()) == ["ord_1", "ord_2"]
    assert [d["status"] for d in await deliveries(api, endpoint_id)] == ["succeeded"] * 2
