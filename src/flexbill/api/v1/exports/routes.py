"""``/v1/exports``: CSV exports."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/exports", tags=["Exports"])
