"""What the billing-run tests share: a laptop rented through the API, a status set as
dunning would set it."""

from __future__ import annotations

from typing import Any

from sqlalchemy import update

from flexbill.core.db import Database
from flexbill.subscriptions.models import Subscription
from tests.subscriptions.support import LAPTOP, confirmed_order, register, subscribe
from tests.support import Api


async def rent(
    api: Api, serial: str, *, months: int = 12, catalog: bool = True, **fields: Any
) -> dict[str, Any]:
    """One laptop rented today through the API."""
    order = await confirmed_order(
        api, catalog=catalog, items=[{"sku": LAPTOP, "quantity": 1, "contractLength": months}]
    )
    await register(api, serial)
    return await subscribe(api, order, serial, **fields)


async def set_status(database: Database, rental_id: str, status: str) -> None:
    """What dunning does (not this module's): suspend, or reactivate once paid."""
    async with database.transaction() as session:
        await session.execute(
            update(Subscription).where(Subscription.id == rental_id).values(status=status)
        )
