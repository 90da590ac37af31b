"""The event log table: one row per business event, written in the transaction that caused it."""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

import orjson
from sqlalchemy import Index, String, Text
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

from flexbill.core.models import Base, TenantOwned, UTCDateTime


class EventType(StrEnum):
    """The events FlexPortal's webhooks announce (seed 000), then those of general
    subscriptions, usage billing and credit notes (flexbill's own)."""

    ORDER_CREATED = "order.created"
    ORDER_FULFILLED = "order.fulfilled"
    SUBSCRIPTION_CREATED = "subscription.created"
    SUBSCRIPTION_EXTENDED = "subscription.extended"
    SUBSCRIPTION_UPGRADED = "subscription.upgraded"
    SUBSCRIPTION_ENDED = "subscription.ended"
    PAYMENT_SCHEDULED = "payment.scheduled"
    PAYMENT_SUCCEEDED = "payment.succeeded"
    PAYMENT_FAILED = "payment.failed"
    ASSET_ASSIGNED = "asset.assigned"
    ASSET_RETURNED = "asset.returned"
    SUBSCRIPTION_ACTIVATED = "subscription.activated"  # a trial, draft or pending one starts
    SUBSCRIPTION_UPDATED = "subscription.updated"  # its items changed
    SUBSCRIPTION_SUSPENDED = "subscription.suspended"
    SUBSCRIPTION_RESUMED = "subscription.resumed"
    SUBSCRIPTION_CANCELLED = "subscription.cancelled"
    SUBSCRIPTION_RENEWED = "subscription.renewed"
    SUBSCRIPTION_EXPIRED = "subscription.expired"
    CREDIT_NOTE_CREATED = "credit_note.created"
    CREDIT_NOTE_ALLOCATED = "credit_note.allocated"
    CREDIT_NOTE_REFUNDED = "credit_note.refunded"
    CREDIT_NOTE_CANCELLED = "credit_note.cancelled"


def _exact_number(value: Any) -> Any:
    if isinstance(value, Decimal):
        return orjson.Fragment(format(value, "f").encode())
    raise TypeError(f"cannot store {type(value).__name__} in an event")


class ExactJSON(TypeDecorator[dict[str, Any]]):
    """A JSON object stored as text, whose ``Decimal`` numbers survive the round trip.

    The ``JSON`` type would refuse ``Decimal`` on the way in and, on PostgreSQL, hand back
    ``float`` on the way out; event data carries money amounts that must stay exact
    (``49.99`` is written and read back as ``Decimal("49.99")``). Datetimes are written as
    RFC 3339 text and read back as text.
    """

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: dict[str, Any] | None, dialect: Dialect) -> str | None:
        if value is None:
            return None
        return orjson.dumps(value, default=_exact_number, option=orjson.OPT_UTC_Z).decode()

    def process_result_value(self, value: Any, dialect: Dialect) -> dict[str, Any] | None:
        if value is None:
            return None
        decoded: dict[str, Any] = json.loads(value, parse_float=Decimal)
        return decoded


class Event(TenantOwned, Base):
    """Something that happened in a tenant, in the words of FlexPortal's webhooks.

    ``data`` is the webhook's ``data`` object (camelCase keys, amounts in major units as
    exact numbers). Rows are never changed; webhook deliveries name them.
    """

    __tablename__ = "events"
    __table_args__ = (
        Index("ix_events_tenant_occurred_at", "tenant_id", "occurred_at", "id"),
        Index("ix_events_tenant_type_occurred_at", "tenant_id", "type", "occurred_at", "id"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    type: Mapped[str] = mapped_column(String(60))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime())
    data: Mapped[dict[str, Any]] = mapped_column(ExactJSON())
