"""Webhook endpoints of a tenant: create, read, list, change, delete, rotate the secret.

The signing secret follows Standard Webhooks (``whsec_`` and the base64 of 32 random
bytes). It is kept as it is, since every delivery is signed with it, and only the
answers of ``create_endpoint`` and ``rotate_secret`` show it.
"""

from __future__ import annotations

import base64
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from flexbill.core import clock
from flexbill.core.errors import ErrorDetail, FlexbillError, ValidationFailed
from flexbill.core.ids import new_id
from flexbill.core.pagination import Page, PageRequest, SortOrders, paginate
from flexbill.core.repository import TenantRepository
from flexbill.events.models import EventType
from flexbill.tenancy.context import TenantContext
from flexbill.webhooks import addresses
from flexbill.webhooks.fanout import ENDPOINT_PREFIX, wake_worker
from flexbill.webhooks.models import (
    ALL_EVENTS,
    MAX_DESCRIPTION_LENGTH,
    MAX_URL_LENGTH,
    DeliveryStatus,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEndpointEvent,
)

SECRET_PREFIX = "whsec_"  # noqa: S105  # the format's prefix, not a secret
SECRET_BYTES = 32
DISABLED_BY_REQUEST = "Disabled by request"

SORT_ORDERS = SortOrders(
    columns={"createdAt": WebhookEndpoint.created_at}, id_column=WebhookEndpoint.id
)


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def endpoint_not_found(endpoint_id: str) -> FlexbillError:
    return FlexbillError(
        "WEBHOOK_ENDPOINT_NOT_FOUND", f"Webhook endpoint '{endpoint_id}' not found"
    )


class Endpoints(TenantRepository[WebhookEndpoint]):
    model = WebhookEndpoint
    noun = "Webhook endpoint"

    async def get(self, row_id: str, *, for_update: bool = False) -> WebhookEndpoint:
        """The endpoint, or ``WEBHOOK_ENDPOINT_NOT_FOUND``; with ``for_update`` locked and
        re-read. The lock lets deliveries be added meanwhile (``FOR NO KEY UPDATE``)."""
        endpoint = await self.session.get(
            WebhookEndpoint,
            (self.tenant_id, row_id),
            with_for_update={"key_share": True} if for_update else None,
            populate_existing=for_update,
        )
        if endpoint is None:
            raise endpoint_not_found(row_id)
        return endpoint


@dataclass(frozen=True)
class EndpointView:
    endpoint: WebhookEndpoint
    events: list[str]  # ["*"] or event types in the order of ``EventType``


@dataclass(frozen=True)
class NewEndpoint:
    url: str
    events: Sequence[str] = (ALL_EVENTS,)
    description: str = ""
    enabled: bool = True


@dataclass(frozen=True)
class EndpointChanges:
    """``None`` leaves a field as it is."""

    url: str | None = None
    events: Sequence[str] | None = None
    description: str | None = None
    enabled: bool | None = None


def valid_url(url: str, path: str = "url") -> str:
    """``url`` when it is an absolute http(s) URL with a host, else ``VALIDATION_ERROR``."""
    problem = None
    if len(url) > MAX_URL_LENGTH:
        problem = f"At most {MAX_URL_LENGTH} characters"
    elif any(char.isspace() for char in url):
        problem = "A URL has no spaces"
    else:
        try:
            parts = urlsplit(url)
            port_ok = parts.port is None or parts.port > 0
        except ValueError:
            parts, port_ok = None, False
        if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
            problem = "Must be an http:// or https:// URL with a host"
        elif not port_ok:
            problem = "The port must be between 1 and 65535"
    if problem is not None:
        raise ValidationFailed.field(path, problem, "invalid_string")
    return url


def event_types(requested: Iterable[str], path: str = "events") -> list[str]:
    """The requested event types in a canonical form: ``["*"]`` for all, else the known
    types without repeats, in the order of ``EventType``."""
    wanted = list(requested)
    if not wanted:
        raise ValidationFailed.field(path, "Name at least one event type, or '*'", "too_small")
    known = {t.value for t in EventType}
    problems = [
        ErrorDetail(
            path=f"{path}.{index}", message=f"Unknown event type '{name}'",
            code="invalid_enum_value",
        )
        for index, name in enumerate(wanted)
        if name != ALL_EVENTS and name not in known
    ]  # fmt: skip
    if problems:
        raise ValidationFailed("Invalid request", problems)
    if ALL_EVENTS in wanted:
        return [ALL_EVENTS]
    return [t.value for t in EventType if t.value in wanted]


def _description(text: str) -> str:
    if len(text) > MAX_DESCRIPTION_LENGTH:
        raise ValidationFailed.field(
            "description", f"At most {MAX_DESCRIPTION_LENGTH} characters", "too_big"
        )
    return text


async def _types_of(
    session: AsyncSession, tenant_id: str, endpoint_ids: list[str]
) -> dict[str, list[str]]:
    order = {t.value: index for index, t in enumerate(EventType)}
    rows = await session.execute(
        select(WebhookEndpointEvent.endpoint_id, WebhookEndpointEvent.event_type).where(
            WebhookEndpointEvent.tenant_id == tenant_id,
            WebhookEndpointEvent.endpoint_id.in_(endpoint_ids),
        )
    )
    found: dict[str, list[str]] = {endpoint_id: [] for endpoint_id in endpoint_ids}
    for endpoint_id, event_type in rows:
        found[endpoint_id].append(event_type)
    return {key: sorted(types, key=lambda t: order.get(t, -1)) for key, types in found.items()}


async def _view(session: AsyncSession, endpoint: WebhookEndpoint) -> EndpointView:
    types = await _types_of(session, endpoint.tenant_id, [endpoint.id])
    return EndpointView(endpoint, types[endpoint.id])


async def _set_types(session: AsyncSession, endpoint: WebhookEndpoint, types: list[str]) -> None:
    await session.execute(
        delete(WebhookEndpointEvent).where(
            WebhookEndpointEvent.tenant_id == endpoint.tenant_id,
            WebhookEndpointEvent.endpoint_id == endpoint.id,
        )
    )
    session.add_all(
        WebhookEndpointEvent(tenant_id=endpoint.tenant_id, endpoint_id=endpoint.id, event_type=t)
        for t in types
    )


async def _allowed(url: str, path: str = "url") -> str:
    reason = await addresses.refusal(url)
    if reason is not None:
        raise ValidationFailed.field(path, f"Refused: {reason}", "not_public_address")
    return url


async def create_endpoint(
    session: AsyncSession, ctx: TenantContext, new: NewEndpoint
) -> EndpointView:
    """A new endpoint; it receives the events that happen from now on."""
    url = await _allowed(valid_url(new.url))
    types = event_types(new.events)
    now = clock.now()
    endpoint = Endpoints(session, ctx.tenant_id).add(
        WebhookEndpoint(
            id=new_id(ENDPOINT_PREFIX), url=url, description=_description(new.description),
            enabled=new.enabled, secret=new_secret(),
            disabled_reason=None if new.enabled else DISABLED_BY_REQUEST,
            disabled_at=None if new.enabled else now, created_at=now, updated_at=now,
        )
    )  # fmt: skip
    await session.flush()
    await _set_types(session, endpoint, types)
    await session.flush()
    return EndpointView(endpoint, types)


async def get_endpoint(session: AsyncSession, ctx: TenantContext, endpoint_id: str) -> EndpointView:
    endpoint = await Endpoints(session, ctx.tenant_id).get(endpoint_id)
    return await _view(session, endpoint)


async def list_endpoints(
    session: AsyncSession, ctx: TenantContext, page: PageRequest
) -> Page[EndpointView]:
    """One page of the tenant's endpoints, with their event types (one more query)."""
    found = await paginate(session, Endpoints(session, ctx.tenant_id).select(), SORT_ORDERS, page)
    types = await _types_of(session, ctx.tenant_id, [e.id for e in found.items])
    views = [EndpointView(endpoint, types[endpoint.id]) for endpoint in found.items]
    return Page(
        items=views, limit=found.limit, has_more=found.has_more, next_cursor=found.next_cursor
    )


async def _has_pending(session: AsyncSession, endpoint: WebhookEndpoint) -> bool:
    pending = (
        select(WebhookDelivery.id)
        .where(
            WebhookDelivery.tenant_id == endpoint.tenant_id,
            WebhookDelivery.endpoint_id == endpoint.id,
            WebhookDelivery.status == DeliveryStatus.PENDING,
        )
        .exists()
    )
    return bool(await session.scalar(select(pending)))


async def update_endpoint(
    session: AsyncSession, ctx: TenantContext, endpoint_id: str, changes: EndpointChanges
) -> EndpointView:
    """Change an endpoint. Enabling a disabled one resumes its pending deliveries (in
    order, from the oldest) at once; disabling one keeps them for later."""
    url = None if changes.url is None else await _allowed(valid_url(changes.url))
    types = None if changes.events is None else event_types(changes.events)
    description = None if changes.description is None else _description(changes.description)
    endpoint = await Endpoints(session, ctx.tenant_id).get(endpoint_id, for_update=True)
    now = clock.now()
    if url is not None:
        endpoint.url = url
    if description is not None:
        endpoint.description = description
    if types is not None:
        await _set_types(session, endpoint, types)
    if changes.enabled is True and not endpoint.enabled:
        endpoint.enabled = True
        endpoint.disabled_reason = endpoint.disabled_at = None
        endpoint.failing_since = endpoint.retry_at = None
        if await _has_pending(session, endpoint):
            await wake_worker(session, ctx.tenant_id)
    elif changes.enabled is False and endpoint.enabled:
        endpoint.enabled = False
        endpoint.disabled_reason = DISABLED_BY_REQUEST
        endpoint.disabled_at = now
    endpoint.updated_at = now
    await session.flush()
    return await _view(session, endpoint)


async def delete_endpoint(
    session: AsyncSession, ctx: TenantContext, endpoint_id: str
) -> EndpointView:
    """Delete an endpoint with its deliveries and their attempts; the endpoint as it was."""
    # Locked first (endpoint before its deliveries, like a delivery round): a round that
    # is sending to it finds it gone and records nothing.
    endpoint = await session.get(
        WebhookEndpoint, (ctx.tenant_id, endpoint_id), with_for_update=True, populate_existing=True
    )
    if endpoint is None:
        raise endpoint_not_found(endpoint_id)
    view = await _view(session, endpoint)
    await session.delete(endpoint)
    await session.flush()
    return view


async def rotate_secret(
    session: AsyncSession, ctx: TenantContext, endpoint_id: str
) -> EndpointView:
    """Give the endpoint a new signing secret; the old one stops signing at once."""
    endpoint = await Endpoints(session, ctx.tenant_id).get(endpoint_id, for_update=True)
    endpoint.secret = new_secret()
    endpoint.updated_at = clock.now()
    await session.flush()
    return await _view(session, endpoint)
