"""(Filled in by the licensing work.)"""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
