"""`/v1/settings` (filled in by the settings work)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/settings", tags=["Settings"])
