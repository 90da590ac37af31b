"""An endpoint's deliveries as people look at them: list, read with every attempt, and
send again by hand (the worker sends; a request only queues)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from flexbill.core import clock
from flexbill.core.errors import FlexbillError
from flexbill.core.filtering import FilterSet, one_of
from flexbill.core.pagination import Page, PageRequest, SortOrders, paginate
from flexbill.events.models import Event
from flexbill.tenancy.context import TenantContext
from flexbill.webhooks.endpoints import Endpoints
from flexbill.webhooks.fanout import wake_worker
from flexbill.webhooks.models import DeliveryStatus, WebhookAttempt, WebhookDelivery

SORT_ORDERS = SortOrders(
    columns={"createdAt": WebhookDelivery.created_at}, id_column=WebhookDelivery.id
)
FILTERS = FilterSet(one_of("status", WebhookDelivery.status, tuple(DeliveryStatus)))


@dataclass(frozen=True)
class DeliveryDetails:
    delivery: WebhookDelivery
    event: Event
    attempts: list[WebhookAttempt]  # oldest first


def delivery_not_found(delivery_id: str) -> FlexbillError:
    return FlexbillError(
        "WEBHOOK_DELIVERY_NOT_FOUND", f"Webhook delivery '{delivery_id}' not found"
    )


async def list_deliveries(
    session: AsyncSession,
    ctx: TenantContext,
    endpoint_id: str,
    filters: Mapping[str, str],
    page: PageRequest,
) -> Page[WebhookDelivery]:
    """The endpoint's deliveries, filtered by ``status``."""
    endpoint = await Endpoints(session, ctx.tenant_id).get(endpoint_id)
    statement = select(WebhookDelivery).where(
        WebhookDelivery.tenant_id == ctx.tenant_id, WebhookDelivery.endpoint_id == endpoint.id
    )
    return await paginate(session, FILTERS.apply(statement, filters), SORT_ORDERS, page)


async def _delivery(
    session: AsyncSession,
    ctx: TenantContext,
    endpoint_id: str,
    delivery_id: str,
    *,
    for_update: bool = False,
) -> WebhookDelivery:
    delivery = await session.get(
        WebhookDelivery,
        (ctx.tenant_id, delivery_id),
        with_for_update=for_update or None,
        populate_existing=for_update,
    )
    if delivery is None or delivery.endpoint_id != endpoint_id:
        raise delivery_not_found(delivery_id)
    return delivery


async def get_delivery(
    session: AsyncSession, ctx: TenantContext, endpoint_id: str, delivery_id: str
) -> DeliveryDetails:
    """A delivery of the endpoint with its event and attempts; ``WEBHOOK_ENDPOINT_NOT_FOUND``
    or ``WEBHOOK_DELIVERY_NOT_FOUND``."""
    await Endpoints(session, ctx.tenant_id).get(endpoint_id)
    delivery = await _delivery(session, ctx, endpoint_id, delivery_id)
    event = await session.get(Event, (ctx.tenant_id, delivery.event_id))
    assert event is not None, "a delivery without its event"
    attempts = await session.scalars(
        select(WebhookAttempt)
        .where(WebhookAttempt.tenant_id == ctx.tenant_id, WebhookAttempt.delivery_id == delivery.id)
        .order_by(WebhookAttempt.id)
    )
    return DeliveryDetails(delivery, event, list(attempts.all()))


async def retry_delivery(
    session: AsyncSession, ctx: TenantContext, endpoint_id: str, delivery_id: str
) -> DeliveryDetails:
    """Queue the delivery for another attempt now, with the same id (a receiver that has
    it already sees a duplicate it can drop), whatever its status.

    It is sent in its place in the endpoint's order: at once when no older delivery is
    waiting, and on a disabled endpoint once the endpoint is enabled again. A failed
    delivery starts the retry schedule over."""
    # The endpoint before its deliveries, as a delivery round locks them.
    endpoint = await Endpoints(session, ctx.tenant_id).get(endpoint_id, for_update=True)
    delivery = await _delivery(session, ctx, endpoint_id, delivery_id, for_update=True)
    now = clock.now()
    delivery.status = DeliveryStatus.PENDING
    delivery.failures = 0
    delivery.next_attempt_at = now
    delivery.updated_at = now
    older_pending = await session.scalar(
        select(
            select(WebhookDelivery.id)
            .where(
                WebhookDelivery.tenant_id == ctx.tenant_id,
                WebhookDelivery.endpoint_id == endpoint.id,
                WebhookDelivery.status == DeliveryStatus.PENDING,
                WebhookDelivery.id < delivery.id,
            )
            .exists()
        )
    )
    if not older_pending:
        endpoint.retry_at = None  # it is the oldest: no waiting for an earlier failure
    await session.flush()
    if endpoint.enabled:
        await wake_worker(session, ctx.tenant_id)
    return await get_delivery(session, ctx, endpoint_id, delivery_id)
