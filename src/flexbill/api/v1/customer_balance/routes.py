"""``/v1/customers/{customerId}/balance`` and ``…/ledger``: what a customer owes and holds."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/customers", tags=["Customers"])
