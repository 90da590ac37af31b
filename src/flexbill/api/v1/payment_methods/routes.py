"""``/v1/payment-methods`` and customers' auto-charge switch (flexbill's addition)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["Payment methods"])
