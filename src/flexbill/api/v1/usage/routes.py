"""``/v1/usage``: usage records of subscription items."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/usage", tags=["Usage"])
