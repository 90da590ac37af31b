"""``/v1/subscriptions/{id}/upcoming-invoice``: the next invoice of any subscription."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/subscriptions", tags=["Subscriptions"])
