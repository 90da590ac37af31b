"""``/v1/plans`` and ``/v1/plan-prices``: the catalog of general subscriptions."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/plans", tags=["Plans"])
prices_router = APIRouter(prefix="/plan-prices", tags=["Plan prices"])
