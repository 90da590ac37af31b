"""`/v1/products` (filled in by the products work)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/products", tags=["Products"])
