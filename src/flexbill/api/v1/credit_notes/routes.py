"""``/v1/credit-notes``: money owed back to customers."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/credit-notes", tags=["Credit notes"])
