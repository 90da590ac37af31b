"""Turning events into deliveries, in the transaction that records the events.

``events.service.emit`` notes each event on its session (``note_events``); when that
transaction commits, one ``INSERT … SELECT`` per tenant, run just before the commit in the
same transaction, writes a delivery for every enabled endpoint of the tenant that wants
each event's type, without reading endpoints into Python. A transaction therefore pays
one statement for its webhooks however many events it records (a billing run records
thousands), and a tenant without endpoints pays nothing more. Because the deliveries
commit or roll back with their events, no delivery announces a change that was rolled
back and no committed event is missed (scanning the event log by id would miss events of
transactions that commit late). A transaction that wrote deliveries also queues one job
that wakes the worker.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final, cast

from sqlalchemy import (
    ColumnElement,
    Insert,
    String,
    Table,
    and_,
    bindparam,
    event,
    insert,
    literal,
    or_,
    select,
)
from sqlalchemy.engine import CursorResult
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session
from sqlalchemy.sql.functions import func

from flexbill.core import clock
from flexbill.core.ids import new_id
from flexbill.core.jobs import DEFAULT_MAX_ATTEMPTS, Job, JobStatus, enqueue
from flexbill.events.models import Event
from flexbill.webhooks.models import (
    ALL_EVENTS,
    DeliveryStatus,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEndpointEvent,
)

DELIVER: Final = "webhooks.deliver"
"""The job kind that sends due deliveries (``webhooks.delivery``)."""

DELIVERY_PREFIX: Final = "msg"
ENDPOINT_PREFIX: Final = "we"
EVENT_PREFIX: Final = "evt"

_CHUNK = 500  # event ids per statement: far below every database's parameter limit
_PENDING = "flexbill.webhooks.pending_events"


def delivery_id(event_id: str, endpoint_id: str) -> str:
    """The delivery of ``event_id`` to ``endpoint_id`` (the same text the fan-out builds
    in SQL): the event's time-ordered part first, so an endpoint's deliveries sort in the
    order of their events."""
    event_part = event_id[len(EVENT_PREFIX) + 1 :]
    return f"{DELIVERY_PREFIX}_{event_part}{endpoint_id[len(ENDPOINT_PREFIX) + 1 :]}"


def _delivery_id_sql() -> ColumnElement[str]:
    return (
        literal(f"{DELIVERY_PREFIX}_", String)
        + func.substr(Event.id, len(EVENT_PREFIX) + 2)
        + func.substr(WebhookEndpoint.id, len(ENDPOINT_PREFIX) + 2)
    )


def _fan_out_statement() -> Insert:
    """``INSERT INTO webhook_deliveries SELECT …`` for the events ``:event_ids`` of the
    tenant ``:tenant_id``: built once, so each call only binds its values."""
    wanted = WebhookEndpointEvent
    source = (
        select(
            Event.tenant_id,
            _delivery_id_sql(),
            WebhookEndpoint.id,
            Event.id,
            Event.type,
            literal(DeliveryStatus.PENDING.value, String),
            literal(0),
            literal(0),
            Event.occurred_at,
            Event.occurred_at,
            Event.occurred_at,
        )
        .select_from(Event)
        .join(
            wanted,
            and_(
                wanted.tenant_id == Event.tenant_id,
                or_(wanted.event_type == Event.type, wanted.event_type == ALL_EVENTS),
            ),
        )
        .join(
            WebhookEndpoint,
            and_(
                WebhookEndpoint.tenant_id == wanted.tenant_id,
                WebhookEndpoint.id == wanted.endpoint_id,
            ),
        )
        .where(
            Event.tenant_id == bindparam("tenant_id"),
            Event.id.in_(bindparam("event_ids", expanding=True)),
            WebhookEndpoint.enabled.is_(True),
        )
    )
    table = cast(Table, WebhookDelivery.__table__)
    columns = table.c
    return insert(table).from_select(
        [
            columns.tenant_id, columns.id, columns.endpoint_id, columns.event_id,
            columns.event_type, columns.status, columns.attempt_count, columns.failures,
            columns.next_attempt_at, columns.created_at, columns.updated_at,
        ],
        source,
    )  # fmt: skip


_FAN_OUT = _fan_out_statement()


def note_events(session: AsyncSession, tenant_id: str, event_ids: Sequence[str]) -> None:
    """Have the tenant's (flushed) events ``event_ids`` fanned out when the session's
    transaction commits."""
    pending: dict[str, list[str]] = session.info.setdefault(_PENDING, {})
    pending.setdefault(tenant_id, []).extend(event_ids)


def _wake_job(tenant_id: str) -> Job:
    now = clock.now()
    return Job(
        id=new_id("job"), tenant_id=tenant_id, kind=DELIVER, payload={},
        status=JobStatus.PENDING, run_at=now, attempts=0, max_attempts=DEFAULT_MAX_ATTEMPTS,
        dedup_key=None, created_at=now, updated_at=now,
    )  # fmt: skip


@event.listens_for(Session, "before_commit")
def _fan_out_before_commit(session: Session) -> None:
    # A synchronous hook run inside the commit (in the async session's greenlet, so that
    # statements can still be executed); what it adds is flushed by the same commit.
    pending: dict[str, list[str]] | None = session.info.pop(_PENDING, None)
    for tenant_id, event_ids in (pending or {}).items():
        written = 0
        for start in range(0, len(event_ids), _CHUNK):
            chunk = event_ids[start : start + _CHUNK]
            result = session.execute(_FAN_OUT, {"tenant_id": tenant_id, "event_ids": chunk})
            written += max(cast(CursorResult[Any], result).rowcount or 0, 0)
        if written:
            session.add(_wake_job(tenant_id))


@event.listens_for(Session, "after_rollback")
def _forget_after_rollback(session: Session) -> None:
    # Rolled-back events are gone; ids noted in a rolled-back savepoint would only find no
    # rows, but there is no reason to keep them.
    session.info.pop(_PENDING, None)


async def wake_worker(session: AsyncSession, tenant_id: str | None = None) -> None:
    """Queue a delivery round to run as soon as this transaction commits."""
    await enqueue(session, DELIVER, tenant_id=tenant_id)
