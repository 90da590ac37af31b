"""Webhook endpoint and delivery bodies of the /v1 face (flexbill's addition: FlexPortal
configures webhooks in its dashboard)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import Field, StrictBool

from flexbill.api.v1.responses import V1Model
from flexbill.events import service as events
from flexbill.events.models import EventType
from flexbill.webhooks.deliveries import DeliveryDetails
from flexbill.webhooks.endpoints import EndpointChanges, EndpointView, NewEndpoint
from flexbill.webhooks.models import (
    ALL_EVENTS,
    MAX_DESCRIPTION_LENGTH,
    MAX_URL_LENGTH,
    WebhookAttempt,
    WebhookDelivery,
)

Url = Annotated[str, Field(min_length=1, max_length=MAX_URL_LENGTH)]
Description = Annotated[str, Field(max_length=MAX_DESCRIPTION_LENGTH)]
EventTypes = Annotated[
    list[str],
    Field(
        min_length=1,
        max_length=50,
        description="The events to send: any of "
        + ", ".join(f"`{t.value}`" for t in EventType)
        + f", or `{ALL_EVENTS}` for all of them (also those added later)",
    ),
]
DeliveryStatusName = Literal["pending", "succeeded", "failed"]


class EndpointCreateBody(V1Model):
    """The body of ``POST /v1/webhook-endpoints``."""

    url: Url = Field(description="Where events are POSTed: an http:// or https:// URL")
    events: EventTypes = Field(default_factory=lambda: [ALL_EVENTS])
    description: Description = ""
    enabled: StrictBool = True

    def to_domain(self) -> NewEndpoint:
        return NewEndpoint(
            url=self.url, events=self.events, description=self.description, enabled=self.enabled
        )


class EndpointUpdateBody(V1Model):
    """The body of ``PATCH /v1/webhook-endpoints/{id}``: only the fields sent change."""

    url: Url | None = None
    events: EventTypes | None = None
    description: Description | None = None
    enabled: StrictBool | None = None

    def to_domain(self) -> EndpointChanges:
        return EndpointChanges(
            url=self.url, events=self.events, description=self.description, enabled=self.enabled
        )


class EndpointBody(V1Model):
    webhook_endpoint_id: str
    url: str
    description: str
    events: list[str]
    enabled: bool
    disabled_reason: str | None = Field(
        description="Why it is disabled: by request, or after a delivery failed for days"
    )
    disabled_at: datetime | None
    failing_since: datetime | None = Field(
        description="Since when its deliveries fail (`null` while they succeed)"
    )
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, view: EndpointView) -> EndpointBody:
        endpoint = view.endpoint
        return cls(
            webhook_endpoint_id=endpoint.id, url=endpoint.url,
            description=endpoint.description, events=view.events, enabled=endpoint.enabled,
            disabled_reason=endpoint.disabled_reason, disabled_at=endpoint.disabled_at,
            failing_since=endpoint.failing_since, created_at=endpoint.created_at,
            updated_at=endpoint.updated_at,
        )  # fmt: skip


class EndpointWithSecret(V1Model):
    success: bool = True
    message: str
    secret: str | None = Field(
        description="The signing secret (`whsec_…`, Standard Webhooks). Shown only in this "
        "response; a request replayed with the same `Idempotency-Key` answers `null`."
    )
    webhook_endpoint: EndpointBody


class EndpointResult(V1Model):
    success: bool = True
    message: str
    webhook_endpoint: EndpointBody


class EndpointAnswer(V1Model):
    success: bool = True
    webhook_endpoint: EndpointBody


class EndpointList(V1Model):
    success: bool = True
    webhook_endpoints: list[EndpointBody]
    count: int
    limit: int
    has_more: bool
    next_cursor: str | None


class DeliveryBody(V1Model):
    delivery_id: str = Field(description="Sent as `webhook-id`; the same on every attempt")
    webhook_endpoint_id: str
    event_id: str
    event: str
    status: DeliveryStatusName = Field(
        description="`pending` (not sent yet, or waiting for its next attempt), "
        "`succeeded` (answered 2xx) or `failed` (every attempt failed)"
    )
    attempt_count: int
    next_attempt_at: datetime | None
    last_attempt_at: datetime | None
    delivered_at: datetime | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, delivery: WebhookDelivery) -> DeliveryBody:
        status: DeliveryStatusName = delivery.status  # type: ignore[assignment]
        return cls(
            delivery_id=delivery.id, webhook_endpoint_id=delivery.endpoint_id,
            event_id=delivery.event_id, event=delivery.event_type, status=status,
            attempt_count=delivery.attempt_count, next_attempt_at=delivery.next_attempt_at,
            last_attempt_at=delivery.last_attempt_at, delivered_at=delivery.delivered_at,
            created_at=delivery.created_at, updated_at=delivery.updated_at,
        )  # fmt: skip


class AttemptBody(V1Model):
    attempted_at: datetime
    url: str
    succeeded: bool
    status_code: int | None = Field(description="`null` when no answer came")
    latency_ms: int
    response_body: str | None = Field(description="The first 2 KB of the answer")
    error: str | None = Field(description="What went wrong: the status, a timeout, …")

    @classmethod
    def of(cls, attempt: WebhookAttempt) -> AttemptBody:
        return cls(
            attempted_at=attempt.attempted_at, url=attempt.url, succeeded=attempt.succeeded,
            status_code=attempt.status_code, latency_ms=attempt.latency_ms,
            response_body=attempt.response_body, error=attempt.error,
        )  # fmt: skip


class DeliveryDetailsBody(DeliveryBody):
    payload: dict[str, Any] = Field(description="The JSON body every attempt sends")
    attempts: list[AttemptBody] = Field(description="Every attempt, oldest first")

    @classmethod
    def of_details(cls, details: DeliveryDetails) -> DeliveryDetailsBody:
        summary = DeliveryBody.of(details.delivery).model_dump()
        return cls(
            **summary,
            payload=events.payload(details.event),
            attempts=[AttemptBody.of(attempt) for attempt in details.attempts],
        )


class DeliveryAnswer(V1Model):
    success: bool = True
    delivery: DeliveryDetailsBody


class DeliveryResult(V1Model):
    success: bool = True
    message: str
    delivery: DeliveryDetailsBody


class DeliveryList(V1Model):
    success: bool = True
    deliveries: list[DeliveryBody]
    count: int
    limit: int
    has_more: bool
    next_cursor: str | None
