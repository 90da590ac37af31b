"""``/v1/webhook-endpoints`` and their deliveries (flexbill's addition: FlexPortal
configures webhooks in its dashboard)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from starlette.requests import Request

from flexbill.api.v1.guard import Call, keep_out_of_replays, require
from flexbill.api.v1.pagination import ListQuery, filter_docs, list_query, page_fields
from flexbill.api.v1.responses import V1JSONResponse, respond
from flexbill.api.v1.webhook_endpoints.schemas import (
    DeliveryAnswer,
    DeliveryBody,
    DeliveryDetailsBody,
    DeliveryList,
    DeliveryResult,
    EndpointAnswer,
    EndpointBody,
    EndpointCreateBody,
    EndpointList,
    EndpointResult,
    EndpointUpdateBody,
    EndpointWithSecret,
)
from flexbill.webhooks import deliveries, endpoints

router = APIRouter(prefix="/webhook-endpoints", tags=["Webhooks"])

Reader = Annotated[Call, Depends(require("webhooks:read"))]
Writer = Annotated[Call, Depends(require("webhooks:write"))]

_DELIVERY_FILTERS = filter_docs({"status": "`pending`, `succeeded` or `failed`"})


@router.post("", response_model=EndpointWithSecret, status_code=201)
async def create_endpoint(
    call: Writer, body: EndpointCreateBody, request: Request
) -> V1JSONResponse:
    """Register a URL to receive this environment's events as they happen.

    Each event is POSTed as JSON, `{"event", "timestamp", "data"}` like FlexPortal's
    webhooks, signed as the Standard Webhooks specification says: the headers
    `webhook-id` (the delivery's id, the same on every retry: use it to drop
    duplicates), `webhook-timestamp` and `webhook-signature`. Verify them with a
    `standardwebhooks` library and the `secret` returned here, which is shown only now
    (`POST …/rotate-secret` issues a new one).

    `events` chooses the event types (default `["*"]`: all). A receiver must answer 2xx
    within the timeout (`FLEXBILL_WEBHOOK_TIMEOUT_SECONDS`); otherwise the delivery is
    retried after 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h, 12 h, 12 h and 20 h, and
    newer events wait behind it, so that each endpoint receives events in the order they
    happened. After the last retry (about three days) the endpoint is disabled and the
    business's company e-mail is told. An invalid `url` or an unknown event type is
    `400 VALIDATION_ERROR`.
    """
    view = await endpoints.create_endpoint(call.session, call.ctx, body.to_domain())
    keep_out_of_replays(request, "secret")
    return respond(
        EndpointWithSecret(
            message="Webhook endpoint created; store the secret now, it will not be shown again",
            secret=view.endpoint.secret,
            webhook_endpoint=EndpointBody.of(view),
        ),
        status_code=201,
    )


@router.get("", response_model=EndpointList)
async def list_endpoints(
    call: Reader, query: Annotated[ListQuery, Depends(list_query)]
) -> V1JSONResponse:
    """List this environment's webhook endpoints under the key `webhookEndpoints`, newest
    first by default. Secrets are never shown again.

    Sort with `sortBy` = `createdAt`. Pass `nextCursor` as `startAfter` to get the next
    page; `nextCursor` is `null` on the last page.
    """
    page = await endpoints.list_endpoints(call.session, call.ctx, query.page)
    return respond(
        EndpointList(
            webhook_endpoints=[EndpointBody.of(view) for view in page.items], **page_fields(page)
        )
    )


@router.get("/{endpointId}", response_model=EndpointAnswer)
async def get_endpoint(endpointId: str, call: Reader) -> V1JSONResponse:  # noqa: N803
    """Retrieve one webhook endpoint. An unknown one is `404 WEBHOOK_ENDPOINT_NOT_FOUND`."""
    view = await endpoints.get_endpoint(call.session, call.ctx, endpointId)
    return respond(EndpointAnswer(webhook_endpoint=EndpointBody.of(view)))


@router.patch("/{endpointId}", response_model=EndpointResult)
async def update_endpoint(
    endpointId: str,  # noqa: N803
    body: EndpointUpdateBody,
    call: Writer,
) -> V1JSONResponse:
    """Change an endpoint's `url`, `events`, `description` or `enabled`; fields left out
    keep their value.

    `enabled: false` stops deliveries to it; events that happen meanwhile are not sent
    to it. `enabled: true` resumes the deliveries that were waiting, oldest first (also
    after it was disabled for failing). An unknown endpoint is
    `404 WEBHOOK_ENDPOINT_NOT_FOUND`.
    """
    view = await endpoints.update_endpoint(call.session, call.ctx, endpointId, body.to_domain())
    return respond(
        EndpointResult(message="Webhook endpoint updated", webhook_endpoint=EndpointBody.of(view))
    )


@router.delete("/{endpointId}", response_model=EndpointResult)
async def delete_endpoint(endpointId: str, call: Writer) -> V1JSONResponse:  # noqa: N803
    """Delete an endpoint with its deliveries and their attempts (answered once more
    here). An unknown endpoint is `404 WEBHOOK_ENDPOINT_NOT_FOUND`."""
    view = await endpoints.delete_endpoint(call.session, call.ctx, endpointId)
    return respond(
        EndpointResult(message="Webhook endpoint deleted", webhook_endpoint=EndpointBody.of(view))
    )


@router.post("/{endpointId}/rotate-secret", response_model=EndpointWithSecret)
async def rotate_secret(
    endpointId: str,  # noqa: N803
    call: Writer,
    request: Request,
) -> V1JSONResponse:
    """Replace the endpoint's signing secret. Every attempt from now on, also retries of
    earlier deliveries, is signed with the new `secret`, shown only in this response.
    An unknown endpoint is `404 WEBHOOK_ENDPOINT_NOT_FOUND`."""
    view = await endpoints.rotate_secret(call.session, call.ctx, endpointId)
    keep_out_of_replays(request, "secret")
    return respond(
        EndpointWithSecret(
            message="Signing secret rotated; store it now, it will not be shown again",
            secret=view.endpoint.secret,
            webhook_endpoint=EndpointBody.of(view),
        )
    )


@router.get(
    "/{endpointId}/deliveries", response_model=DeliveryList, openapi_extra=_DELIVERY_FILTERS
)
async def list_deliveries(
    endpointId: str,  # noqa: N803
    call: Reader,
    query: Annotated[ListQuery, Depends(list_query)],
) -> V1JSONResponse:
    """List the endpoint's deliveries (one per event sent to it) under the key
    `deliveries`, newest first by default; filter with `status`.

    Sort with `sortBy` = `createdAt`. Pass `nextCursor` as `startAfter` to get the next
    page. An unknown endpoint is `404 WEBHOOK_ENDPOINT_NOT_FOUND`.
    """
    page = await deliveries.list_deliveries(
        call.session, call.ctx, endpointId, query.filters, query.page
    )
    return respond(
        DeliveryList(deliveries=[DeliveryBody.of(d) for d in page.items], **page_fields(page))
    )


@router.get("/{endpointId}/deliveries/{deliveryId}", response_model=DeliveryAnswer)
async def get_delivery(
    endpointId: str,  # noqa: N803
    deliveryId: str,  # noqa: N803
    call: Reader,
) -> V1JSONResponse:
    """Retrieve one delivery with the body it sends and every attempt: when, the HTTP
    status, how long the receiver took, the first 2 KB of its answer, or the error.
    Unknown ones are `404 WEBHOOK_ENDPOINT_NOT_FOUND` or `404 WEBHOOK_DELIVERY_NOT_FOUND`."""
    details = await deliveries.get_delivery(call.session, call.ctx, endpointId, deliveryId)
    return respond(DeliveryAnswer(delivery=DeliveryDetailsBody.of_details(details)))


@router.post(
    "/{endpointId}/deliveries/{deliveryId}/retry", response_model=DeliveryResult, status_code=202
)
async def retry_delivery(
    endpointId: str,  # noqa: N803
    deliveryId: str,  # noqa: N803
    call: Writer,
) -> V1JSONResponse:
    """Send a delivery again, whatever its status, with the same `webhook-id`. It is
    queued (`202`, status `pending`) and sent by the worker in its place in the
    endpoint's order: at once unless an older delivery is waiting for a retry, and on a
    disabled endpoint once it is enabled again. A `failed` delivery gets the full retry
    schedule again. Unknown ones are `404 WEBHOOK_ENDPOINT_NOT_FOUND` or
    `404 WEBHOOK_DELIVERY_NOT_FOUND`."""
    details = await deliveries.retry_delivery(call.session, call.ctx, endpointId, deliveryId)
    return respond(
        DeliveryResult(message="Delivery queued", delivery=DeliveryDetailsBody.of_details(details)),
        status_code=202,
    )
