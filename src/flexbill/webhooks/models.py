"""Webhook endpoints, the event types each wants, deliveries and their attempts.

A delivery is one event for one endpoint. It is written in the transaction of its event
(``webhooks.fanout``), so it exists exactly when the event does. Its id is the message id
receivers see in ``webhook-id``; it names the event and the endpoint, so that an
endpoint's deliveries sort in the order of their events.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, ForeignKeyConstraint, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from flexbill.core.models import Base, TenantOwned, Timestamped, UTCDateTime

ALL_EVENTS = "*"
"""The event type an endpoint stores when it wants every event (also those added later)."""

MAX_URL_LENGTH = 2000
MAX_DESCRIPTION_LENGTH = 500
MAX_RESPONSE_BODY_LENGTH = 2048


class DeliveryStatus(StrEnum):
    PENDING = "pending"  # not sent yet, or waiting for its next attempt
    SUCCEEDED = "succeeded"  # the receiver answered 2xx
    FAILED = "failed"  # every attempt of the retry schedule failed


class WebhookEndpoint(TenantOwned, Timestamped, Base):
    """Where a tenant wants its events POSTed, and the secret they are signed with.

    ``retry_at`` is when the endpoint's oldest pending delivery may be tried again after a
    failure (``None``: now); nothing newer is sent before it, so events arrive in order.
    ``lease_owner``/``lease_until``: the worker round sending to it right now (one at a
    time); ``lease_until`` stays as the time it was last served, for fairness.
    """

    __tablename__ = "webhook_endpoints"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    url: Mapped[str] = mapped_column(String(MAX_URL_LENGTH))
    description: Mapped[str] = mapped_column(String(MAX_DESCRIPTION_LENGTH), default="")
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    secret: Mapped[str] = mapped_column(String(100))
    disabled_reason: Mapped[str | None] = mapped_column(String(500), default=None)
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    failing_since: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    retry_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    lease_owner: Mapped[str | None] = mapped_column(String(80), default=None)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)


class WebhookEndpointEvent(TenantOwned, Base):
    """One event type an endpoint wants (``*``: all of them). Kept as rows, not a list in
    the endpoint, so that one ``INSERT … SELECT`` finds the endpoints of an event."""

    __tablename__ = "webhook_endpoint_events"
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "endpoint_id"],
            ["webhook_endpoints.tenant_id", "webhook_endpoints.id"],
            ondelete="CASCADE",
        ),
        Index("ix_webhook_endpoint_events_tenant_type", "tenant_id", "event_type", "endpoint_id"),
    )

    endpoint_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    event_type: Mapped[str] = mapped_column(String(60), primary_key=True)


class WebhookDelivery(TenantOwned, Base):
    """One event to be delivered to one endpoint, however many attempts it takes.

    ``failures`` counts the failed attempts since it was last queued (a manual retry
    queues it again) and picks the next delay of the retry schedule; ``attempt_count``
    counts every attempt ever made."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "endpoint_id"],
            ["webhook_endpoints.tenant_id", "webhook_endpoints.id"],
            ondelete="CASCADE",
        ),
        ForeignKeyConstraint(["tenant_id", "event_id"], ["events.tenant_id", "events.id"]),
        # An endpoint's queue in order (its oldest pending delivery), and its list by status.
        Index("ix_webhook_deliveries_endpoint_status", "tenant_id", "endpoint_id", "status", "id"),
        Index(
            "ix_webhook_deliveries_endpoint_created", "tenant_id", "endpoint_id", "created_at", "id"
        ),
    )

    id: Mapped[str] = mapped_column(String(60), primary_key=True)
    endpoint_id: Mapped[str] = mapped_column(String(40))
    event_id: Mapped[str] = mapped_column(String(40))
    event_type: Mapped[str] = mapped_column(String(60))
    status: Mapped[str] = mapped_column(String(20))
    attempt_count: Mapped[int] = mapped_column(Integer)
    failures: Mapped[int] = mapped_column(Integer)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class WebhookAttempt(TenantOwned, Base):
    """One POST of a delivery and what came of it."""

    __tablename__ = "webhook_attempts"
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "delivery_id"],
            ["webhook_deliveries.tenant_id", "webhook_deliveries.id"],
            ondelete="CASCADE",
        ),
        Index("ix_webhook_attempts_delivery", "tenant_id", "delivery_id", "id"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    delivery_id: Mapped[str] = mapped_column(String(60))
    attempted_at: Mapped[datetime] = mapped_column(UTCDateTime())
    url: Mapped[str] = mapped_column(String(MAX_URL_LENGTH))
    succeeded: Mapped[bool] = mapped_column(Boolean)
    status_code: Mapped[int | None] = mapped_column(Integer)
    latency_ms: Mapped[int] = mapped_column(Integer)
    response_body: Mapped[str | None] = mapped_column(Text)
    error: Mapped[str | None] = mapped_column(String(500))
