"""Delivering events to webhook endpoints from the worker (ADR 0007).

A round (one ``webhooks.deliver`` job) works in three steps:

1. claim: lease up to ``ENDPOINTS_PER_ROUND`` endpoints whose oldest pending delivery is
   due and which no other round is serving, and read their next deliveries in order;
   commit.
2. send, outside any transaction: a receiver that hangs must not hold a database lock
   (on SQLite the one writer lock every request needs). Endpoints are served at the same
   time; each endpoint's messages one after the other, stopping at the first failure.
3. record every attempt, mark deliveries delivered or schedule their retry (the endpoint
   waits for it: nothing newer overtakes a failed delivery), give up after the last
   retry by disabling the endpoint and telling its owner; release the leases; commit.
   Then, if anything is due now, queue the next round.

Rounds are queued by the events' transactions (``fanout``), by a failed
attempt (at its retry time), and every minute by the schedule, which also picks up the
endpoints of a round whose worker died (its lease runs out).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Final

from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from flexbill.config import get_settings
from flexbill.core import clock
from flexbill.core.errors import FlexbillError
from flexbill.core.ids import new_id
from flexbill.core.jobs import Job, enqueue
from flexbill.events import service as events
from flexbill.events.models import Event
from flexbill.mail import outbox
from flexbill.settings import service as settings_service
from flexbill.tenancy import service as tenancy
from flexbill.webhooks import retry_schedule
from flexbill.webhooks.fanout import DELIVER
from flexbill.webhooks.models import (
    DeliveryStatus,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
)
from flexbill.webhooks.sending import Message, Outcome, Target, send_all
from flexbill.worker.registry import handles
from flexbill.worker.schedule import Periodic

ENDPOINTS_PER_ROUND: Final = 8
"""How many receivers one worker serves at the same time."""
MESSAGES_PER_ENDPOINT: Final = 100
ROUND_SECONDS: Final = 10.0
"""After this long a round starts no new POST to an endpoint; the rest waits in order."""
DISABLED_TEMPLATE: Final = "webhook_endpoint_disabled"

PERIODIC: Final[tuple[Periodic, ...]] = (Periodic(DELIVER, timedelta(minutes=1)),)

log = logging.getLogger(__name__)


def _lease(timeout: float) -> timedelta:
    # Longer than a round can take: its last POST starts before ROUND_SECONDS and ends
    # within the timeout.
    return timedelta(seconds=ROUND_SECONDS + timeout + 60)


def _due(now: datetime, owner: str | None = None) -> list[ColumnElement[bool]]:
    """An endpoint a round may serve now: enabled, not waiting for a retry, not served by
    another round, with a pending delivery."""
    free = [WebhookEndpoint.lease_owner.is_(None), WebhookEndpoint.lease_until < now]
    if owner is not None:
        free.append(WebhookEndpoint.lease_owner == owner)  # a retried job takes its own back
    pending = (
        select(WebhookDelivery.id)
        .where(
            WebhookDelivery.tenant_id == WebhookEndpoint.tenant_id,
            WebhookDelivery.endpoint_id == WebhookEndpoint.id,
            WebhookDelivery.status == DeliveryStatus.PENDING,
        )
        .exists()
    )
    return [
        WebhookEndpoint.enabled.is_(True),
        or_(WebhookEndpoint.retry_at.is_(None), WebhookEndpoint.retry_at <= now),
        or_(*free),
        pending,
    ]


def _is_postgresql(session: AsyncSession) -> bool:
    return session.bind is not None and session.bind.dialect.name == "postgresql"


async def _next_messages(session: AsyncSession, endpoint: WebhookEndpoint) -> list[Message]:
    rows = await session.execute(
        select(WebhookDelivery.id, Event)
        .join(
            Event,
            and_(
                Event.tenant_id == WebhookDelivery.tenant_id, Event.id == WebhookDelivery.event_id
            ),
        )
        .where(
            WebhookDelivery.tenant_id == endpoint.tenant_id,
            WebhookDelivery.endpoint_id == endpoint.id,
            WebhookDelivery.status == DeliveryStatus.PENDING,
        )
        .order_by(WebhookDelivery.id)
        .limit(MESSAGES_PER_ENDPOINT)
    )
    return [Message(delivery_id, events.body(event)) for delivery_id, event in rows]


async def claim(session: AsyncSession, owner: str, now: datetime, lease: timedelta) -> list[Target]:
    """Lease the endpoints this round serves and read what to send them."""
    candidates = (
        select(WebhookEndpoint)
        .where(*_due(now, owner))
        .order_by(WebhookEndpoint.lease_until.asc().nulls_first(), WebhookEndpoint.id)
        .limit(ENDPOINTS_PER_ROUND)
    )
    if _is_postgresql(session):
        # NO KEY UPDATE: requests adding deliveries (which only share-lock the endpoint's
        # key) never wait for a round, nor a round for them.
        candidates = candidates.with_for_update(key_share=True, skip_locked=True)
    endpoints = list((await session.scalars(candidates)).all())
    targets = []
    for endpoint in endpoints:
        endpoint.lease_owner = owner
        endpoint.lease_until = now + lease
        messages = await _next_messages(session, endpoint)
        if not messages:  # settled since the candidates were read
            endpoint.lease_owner = None
            continue
        targets.append(
            Target(endpoint.tenant_id, endpoint.id, endpoint.url, endpoint.secret, messages)
        )
    await session.flush()
    return targets


def _attempt(tenant_id: str, outcome: Outcome) -> WebhookAttempt:
    return WebhookAttempt(
        tenant_id=tenant_id, id=new_id("att"), delivery_id=outcome.delivery_id,
        attempted_at=outcome.attempted_at, url=outcome.url, succeeded=outcome.succeeded,
        status_code=outcome.status_code, latency_ms=outcome.latency_ms,
        response_body=outcome.response_body, error=outcome.error,
    )  # fmt: skip


async def _tell_owner(session: AsyncSession, endpoint: WebhookEndpoint) -> None:
    ctx = await tenancy.system_context(session, endpoint.tenant_id)
    owner_email = (await settings_service.get_settings(session, ctx)).company.email
    if not owner_email:
        return
    data = {
        "endpoint_id": endpoint.id, "endpoint_url": endpoint.url,
        "reason": endpoint.disabled_reason or "",
        "failing_since": endpoint.failing_since or endpoint.disabled_at or clock.now(),
    }  # fmt: skip
    try:
        async with session.begin_nested():
            await outbox.send(
                session, endpoint.tenant_id, template=DISABLED_TEMPLATE, to=owner_email, data=data
            )
    except FlexbillError as refused:
        # An address the mail outbox refuses must not keep the endpoint from being
        # disabled (the round would fail and retry forever).
        log.warning(
            "cannot tell %s that endpoint %s is disabled: %s", owner_email, endpoint.id, refused
        )


async def _give_up(
    session: AsyncSession, endpoint: WebhookEndpoint, delivery: WebhookDelivery, outcome: Outcome
) -> None:
    delivery.status = DeliveryStatus.FAILED
    delivery.next_attempt_at = None
    endpoint.enabled = False
    endpoint.retry_at = None
    endpoint.disabled_at = outcome.attempted_at
    since = events.rfc3339(endpoint.failing_since or outcome.attempted_at)
    endpoint.disabled_reason = (
        f"Delivery {delivery.id} failed {delivery.failures} attempts in a row since {since}; "
        f"the last: {outcome.error}"
    )[:500]
    await session.flush()
    await _tell_owner(session, endpoint)


async def _apply(
    session: AsyncSession, endpoint: WebhookEndpoint, delivery: WebhookDelivery, outcome: Outcome
) -> None:
    delivery.attempt_count += 1
    delivery.last_attempt_at = outcome.attempted_at
    delivery.updated_at = clock.now()
    if delivery.status != DeliveryStatus.PENDING:
        return  # settled meanwhile (a round that took over an expired lease)
    if outcome.succeeded:
        delivery.status = DeliveryStatus.SUCCEEDED
        delivery.delivered_at = outcome.attempted_at
        delivery.next_attempt_at = None
        delivery.failures = 0
        endpoint.failing_since = endpoint.retry_at = None
        return
    delivery.failures += 1
    endpoint.failing_since = endpoint.failing_since or outcome.attempted_at
    wait = retry_schedule.delay_after(delivery.failures)
    if wait is None:
        await _give_up(session, endpoint, delivery, outcome)
        return
    delivery.next_attempt_at = endpoint.retry_at = outcome.attempted_at + wait
    await enqueue(
        session, DELIVER, tenant_id=endpoint.tenant_id, run_at=delivery.next_attempt_at,
        dedup_key=f"webhooks:retry:{delivery.id}:{delivery.attempt_count}",
    )  # fmt: skip


async def record(
    session: AsyncSession, owner: str, target: Target, outcomes: list[Outcome]
) -> None:
    """Store what one endpoint's sending came to, and release its lease."""
    endpoint = await session.get(
        WebhookEndpoint,
        (target.tenant_id, target.endpoint_id),
        with_for_update={"key_share": True},
        populate_existing=True,
    )
    if endpoint is None:
        return  # deleted while we sent: its deliveries went with it
    ids = [outcome.delivery_id for outcome in outcomes]
    found = await session.scalars(
        select(WebhookDelivery)
        .where(WebhookDelivery.tenant_id == target.tenant_id, WebhookDelivery.id.in_(ids))
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    deliveries = {delivery.id: delivery for delivery in found.all()}
    for outcome in outcomes:
        delivery = deliveries.get(outcome.delivery_id)
        if delivery is None:
            continue
        session.add(_attempt(target.tenant_id, outcome))
        await _apply(session, endpoint, delivery, outcome)
    if endpoint.lease_owner == owner:
        endpoint.lease_owner = None
        endpoint.lease_until = clock.now()
    await session.flush()


async def anything_due(session: AsyncSession, now: datetime) -> bool:
    return bool(await session.scalar(select(select(WebhookEndpoint.id).where(*_due(now)).exists())))


@handles(DELIVER)
async def deliver(session: AsyncSession, job: Job) -> None:
    """One delivery round (see the module's description)."""
    timeout = get_settings().webhook_timeout_seconds
    targets = await claim(session, job.id, clock.now(), _lease(timeout))
    if not targets:
        return
    # The round commits its claim before sending and its results after: a transaction
    # is never held open across network I/O. A worker that dies in between leaves the
    # leases to run out; the deliveries are then sent again (at least once).
    await session.commit()
    results = await send_all(targets, timeout, ROUND_SECONDS)
    for target, outcomes in zip(targets, results, strict=True):
        await record(session, job.id, target, outcomes)
    await session.commit()
    # Checked after the leases are released and committed: a round that found an
    # endpoint leased by us left its deliveries to us, and we see them here.
    if await anything_due(session, clock.now()):
        await enqueue(session, DELIVER)
