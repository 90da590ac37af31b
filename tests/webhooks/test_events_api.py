"""``/v1/events``: the event log, filtered by type and time, paginated, per tenant."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from flexbill.core import clock
from flexbill.core.db import Database
from flexbill.events import service
from flexbill.events.models import EventType
from tests.orders.support import exact, tenant_context
from tests.support import Api, Tenant, error_code, issue_key, new_tenant

T0 = datetime(2025, 1, 15, 10, 30, tzinfo=UTC)


async def _record(database: Database, tenant: Tenant) -> list[str]:
    """Three events on three days; their ids, oldest first."""
    ctx = await tenant_context(database, tenant)
    happenings: list[tuple[datetime, EventType, dict[str, object]]] = [
        (T0, EventType.ORDER_CREATED, {"orderId": "ord_1", "total": Decimal("119.98")}),
        (T0 + timedelta(days=1), EventType.PAYMENT_FAILED, {"paymentId": "pay_1"}),
        (T0 + timedelta(days=2), EventType.ORDER_CREATED, {"orderId": "ord_2"}),
    ]
    ids = []
    for moment, event_type, data in happenings:
        with clock.frozen(moment):
            async with database.transaction() as session:
                ids.append((await service.emit(session, ctx, event_type, data)).id)
    return ids


async def _listed(api: Api, **params: str | int) -> list[str]:
    response = await api.get("/v1/events", **params)
    assert response.status_code == 200, response.text
    return [event["eventId"] for event in response.json()["events"]]


async def test_list_filter_and_read_events(api: Api, database: Database, tenant: Tenant) -> None:
    first, second, third = await _record(database, tenant)

    page = exact(await api.get("/v1/events"))
    assert [e["eventId"] for e in page["events"]] == [third, second, first]  # newest first
    assert (page["count"], page["hasMore"], page["nextCursor"]) == (3, False, None)
    assert page["events"][2] == {
        "eventId": first,
        "event": "order.created",
        "timestamp": "2025-01-15T10:30:00Z",
        "data": {"orderId": "ord_1", "total": Decimal("119.98")},
    }
    assert await _listed(api, sortDir="asc") == [first, second, third]

    assert await _listed(api, type="order.created") == [third, first]
    assert await _listed(api, type="payment.failed,order.created") == [third, second, first]
    assert await _listed(api, type="payment.succeeded") == []
    assert await _listed(api, createdFrom="2025-01-16") == [third, second]
    assert await _listed(api, createdTo="2025-01-16") == [second, first]  # the whole day
    assert await _listed(api, createdFrom="2025-01-16T10:30:00Z") == [third, second]
    assert await _listed(api, createdFrom="2025-01-16T10:30:00.001Z") == [third]
    assert await _listed(api, createdTo="2025-01-16T12:30:00+02:00") == [second, first]
    assert await _listed(api, createdTo="2025-01-16T12:29:59+02:00") == [first]
    both = {"createdFrom": "2025-01-16", "createdTo": "2025-01-17", "type": "order.created"}
    assert await _listed(api, **both) == [third]

    one = await api.get("/v1/events", limit=2)
    assert [e["eventId"] for e in one.json()["events"]] == [third, second]
    cursor = one.json()["nextCursor"]
    assert await _listed(api, limit=2, startAfter=cursor) == [first]

    got = await api.get(f"/v1/events/{second}")
    assert got.status_code == 200
    assert got.json()["event"] == {
        "eventId": second,
        "event": "payment.failed",
        "timestamp": "2025-01-16T10:30:00Z",
        "data": {"paymentId": "pay_1"},
    }
    missing = await api.get("/v1/events/evt_nope")
    assert (missing.status_code, error_code(missing)) == (404, "EVENT_NOT_FOUND")


BAD_FILTERS: list[tuple[dict[str, str], str]] = [
    ({"type": "order.exploded"}, "type"),
    ({"type": ","}, "type"),
    ({"createdFrom": "yesterday"}, "createdFrom"),
    ({"createdTo": "2025-13-01"}, "createdTo"),
    ({"sortBy": "type"}, "sortBy"),
]


async def test_bad_filters_are_refused(api: Api) -> None:
    for params, path in BAD_FILTERS:
        response = await api.get("/v1/events", **params)
        assert (response.status_code, error_code(response)) == (400, "VALIDATION_ERROR"), params
        assert [d["path"] for d in response.json()["error"]["details"]] == [path]


async def test_events_belong_to_their_tenant(api: Api, database: Database, tenant: Tenant) -> None:
    mine = await _record(database, tenant)
    other = await new_tenant(database)
    theirs = Api(api.client, key=other.live_key, tenant_id=other.id)
    assert await _listed(theirs) == []
    response = await theirs.get(f"/v1/events/{mine[0]}")
    assert (response.status_code, error_code(response)) == (404, "EVENT_NOT_FOUND")
    sandbox = Api(api.client, key=tenant.test_key, tenant_id=tenant.id)
    assert await _listed(sandbox) == []

    reader = api.with_key(await issue_key(database, tenant, permissions=["events:read"]))
    assert len(await _listed(reader)) == 3
    no_events = api.with_key(await issue_key(database, tenant, permissions=["webhooks:write"]))
    refused = await no_events.get("/v1/events")
    assert (refused.status_code, error_code(refused)) == (403, "INSUFFICIENT_PERMISSIONS")
