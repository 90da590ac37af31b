"""`flexbill webhooks …`: a business unit's webhook endpoints and their deliveries, in
its live or test environment. Each command is one transaction; the worker sends."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import typer
from sqlalchemy.ext.asyncio import AsyncSession

from flexbill.commands.support import (
    JsonFlag,
    Mode,
    ModeOption,
    TenantOption,
    in_transaction,
    print_data,
    print_rows,
)
from flexbill.core.pagination import PageRequest
from flexbill.tenancy import service as tenancy
from flexbill.tenancy.context import TenantContext
from flexbill.webhooks import deliveries, endpoints
from flexbill.webhooks.endpoints import EndpointView, NewEndpoint
from flexbill.webhooks.models import ALL_EVENTS, WebhookDelivery

app = typer.Typer(
    help="Webhook endpoints of a business unit and their deliveries.", no_args_is_help=True
)


EndpointArgument = Annotated[str, typer.Argument(help="The webhook endpoint's id (we_…).")]


def _time(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def _endpoint_data(view: EndpointView) -> dict[str, Any]:
    endpoint = view.endpoint
    return {
        "webhookEndpointId": endpoint.id,
        "url": endpoint.url,
        "description": endpoint.description,
        "events": view.events,
        "enabled": endpoint.enabled,
        "disabledReason": endpoint.disabled_reason,
        "failingSince": _time(endpoint.failing_since),
        "createdAt": _time(endpoint.created_at),
    }


def _delivery_data(delivery: WebhookDelivery) -> dict[str, Any]:
    return {
        "deliveryId": delivery.id,
        "eventId": delivery.event_id,
        "event": delivery.event_type,
        "status": delivery.status,
        "attemptCount": delivery.attempt_count,
        "nextAttemptAt": _time(delivery.next_attempt_at),
        "lastAttemptAt": _time(delivery.last_attempt_at),
        "deliveredAt": _time(delivery.delivered_at),
        "createdAt": _time(delivery.created_at),
    }


async def _context(session: AsyncSession, tenant: str, mode: Mode) -> TenantContext:
    return await tenancy.environment_context(session, tenant, mode.value)


@app.command("list")
def list_endpoints(
    tenant: TenantOption, mode: ModeOption = Mode.LIVE, as_json: JsonFlag = False
) -> None:
    """List the environment's webhook endpoints (secrets are never shown again)."""

    async def work(session: AsyncSession) -> list[dict[str, Any]]:
        ctx = await _context(session, tenant, mode)
        page = await endpoints.list_endpoints(session, ctx, PageRequest(limit=100))
        return [_endpoint_data(view) for view in page.items]

    def line(row: dict[str, Any]) -> str:
        state = "enabled" if row["enabled"] else f"disabled ({row['disabledReason']})"
        return f"{row['webhookEndpointId']}  {row['url']}  {','.join(row['events'])}  {state}"

    print_rows("webhookEndpoints", in_transaction(work), as_json, line)


@app.command("add")
def add_endpoint(
    url: Annotated[str, typer.Argument(help="Where events are POSTed (http:// or https://).")],
    tenant: TenantOption,
    mode: ModeOption = Mode.LIVE,
    event: Annotated[
        list[str] | None,
        typer.Option(help="An event type to send (repeat for several); default: all."),
    ] = None,
    description: Annotated[str, typer.Option(help="A note for people.")] = "",
    as_json: JsonFlag = False,
) -> None:
    """Add a webhook endpoint. Its signing secret is printed once."""

    async def work(session: AsyncSession) -> EndpointView:
        ctx = await _context(session, tenant, mode)
        new = NewEndpoint(url=url, events=event or [ALL_EVENTS], description=description)
        return await endpoints.create_endpoint(session, ctx, new)

    view = in_transaction(work)
    print_data({**_endpoint_data(view), "secret": view.endpoint.secret}, as_json)


@app.command("remove")
def remove_endpoint(
    endpoint_id: EndpointArgument,
    tenant: TenantOption,
    mode: ModeOption = Mode.LIVE,
    as_json: JsonFlag = False,
) -> None:
    """Delete a webhook endpoint with its deliveries."""

    async def work(session: AsyncSession) -> EndpointView:
        ctx = await _context(session, tenant, mode)
        return await endpoints.delete_endpoint(session, ctx, endpoint_id)

    print_data(_endpoint_data(in_transaction(work)), as_json)


@app.command("rotate-secret")
def rotate_secret(
    endpoint_id: EndpointArgument,
    tenant: TenantOption,
    mode: ModeOption = Mode.LIVE,
    as_json: JsonFlag = False,
) -> None:
    """Give an endpoint a new signing secret (printed once); the old one stops at once."""

    async def work(session: AsyncSession) -> EndpointView:
        ctx = await _context(session, tenant, mode)
        return await endpoints.rotate_secret(session, ctx, endpoint_id)

    view = in_transaction(work)
    print_data({"webhookEndpointId": view.endpoint.id, "secret": view.endpoint.secret}, as_json)


@app.command("deliveries")
def list_deliveries(
    endpoint_id: EndpointArgument,
    tenant: TenantOption,
    mode: ModeOption = Mode.LIVE,
    status: Annotated[
        str | None, typer.Option(help="Only pending, succeeded or failed deliveries.")
    ] = None,
    limit: Annotated[int, typer.Option(min=1, max=100, help="How many, newest first.")] = 20,
    as_json: JsonFlag = False,
) -> None:
    """List an endpoint's newest deliveries."""

    async def work(session: AsyncSession) -> list[dict[str, Any]]:
        ctx = await _context(session, tenant, mode)
        filters = {"status": status} if status else {}
        page = await deliveries.list_deliveries(
            session, ctx, endpoint_id, filters, PageRequest(limit=limit)
        )
        return [_delivery_data(delivery) for delivery in page.items]

    def line(row: dict[str, Any]) -> str:
        return (
            f"{row['deliveryId']}  {row['event']}  {row['status']}  "
            f"attempts={row['attemptCount']}  next={row['nextAttemptAt'] or '-'}"
        )

    print_rows("deliveries", in_transaction(work), as_json, line)


@app.command("retry")
def retry_delivery(
    endpoint_id: EndpointArgument,
    delivery_id: Annotated[str, typer.Argument(help="The delivery's id (msg_…).")],
    tenant: TenantOption,
    mode: ModeOption = Mode.LIVE,
    as_json: JsonFlag = False,
) -> None:
    """Queue a delivery to be sent again (same webhook-id); the worker sends it."""

    async def work(session: AsyncSession) -> dict[str, Any]:
        ctx = await _context(session, tenant, mode)
        details = await deliveries.retry_delivery(session, ctx, endpoint_id, delivery_id)
        return _delivery_data(details.delivery)

    print_data(in_transaction(work), as_json)
