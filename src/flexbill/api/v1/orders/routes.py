"""`/v1/orders` (filled in by the orders work)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/orders", tags=["Orders"])
