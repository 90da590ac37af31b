"""``/v1/subscriptions``: buyout, early return and cancellation, and their quotes."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/subscriptions", tags=["Subscriptions"])
