"""``/v1/payments``: scheduled payments (FlexPortal's Payments)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/payments", tags=["Payments"])
