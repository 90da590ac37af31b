"""``/v1/subscriptions``: extend, upgrade and replace a running subscription."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/subscriptions", tags=["Subscriptions"])
