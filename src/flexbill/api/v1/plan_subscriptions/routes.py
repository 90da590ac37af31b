"""``/v1/plan-subscriptions``: general subscriptions of plan prices."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/plan-subscriptions", tags=["Plan subscriptions"])
