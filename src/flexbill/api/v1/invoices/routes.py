"""``/v1/invoices``: the invoices behind scheduled payments (flexbill's addition)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/invoices", tags=["Invoices"])
