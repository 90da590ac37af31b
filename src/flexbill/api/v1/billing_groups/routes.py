"""``/v1/billing-groups``: consolidated billing of one customer's subscriptions."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/billing-groups", tags=["Billing groups"])
