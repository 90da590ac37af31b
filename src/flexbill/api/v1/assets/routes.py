"""`/v1/assets` (filled in by the assets work)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/assets", tags=["Assets"])
