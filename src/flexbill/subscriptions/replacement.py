"""Replacing a damaged, stolen, defective or lost device by another unit of the same SKU.

The contract goes on unchanged (same id, terms and amount); only the unit changes. The old
unit leaves the rental as ``unavailable`` (it is broken or gone; a repair makes it
``available`` again through the assets API), the new one becomes ``rented_out`` to the
same rental and customer.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy.ext.asyncio import AsyncSession

from flexbill.assets import service as assets
from flexbill.core import clock
from flexbill.core.errors import Conflict
from flexbill.events import service as events
from flexbill.events.models import EventType
from flexbill.events.service import rfc3339
from flexbill.subscriptions.details import ReplacementEntry
from flexbill.subscriptions.event_data import asset_data
from flexbill.subscriptions.lifecycle import check_active, display_status
from flexbill.subscriptions.models import Subscription
from flexbill.subscriptions.records import record
from flexbill.subscriptions.repository import Subscriptions
from flexbill.tenancy.context import TenantContext

ReplacementReason = Literal["damaged", "stolen", "defective", "lost"]


@dataclass(frozen=True)
class Replacement:
    rental_id: str
    new_serial_number: str
    replacement_reason: ReplacementReason
    new_sku: str | None = None  # when given, it must be the subscription's SKU
    damage_assessment: str | None = None
    insurance_claim: dict[str, Any] | str | bool | None = None
    notes: str | None = None


def not_the_same_sku(what: str, sku: str, subscription_sku: str) -> Conflict:
    return Conflict(
        "SKU_MISMATCH",
        f"{what} is of SKU '{sku}'; a replacement must be of the subscription's SKU "
        f"'{subscription_sku}'",
    )


@dataclass(frozen=True)
class Replaced:
    subscription: Subscription
    entry: ReplacementEntry
    reason: ReplacementReason


async def replace_device(
    session: AsyncSession, ctx: TenantContext, replacement: Replacement
) -> Replaced:
    """Put the unit ``replacement.new_serial_number`` in place of the one the active
    subscription ``replacement.rental_id`` rents.

    Raises ``NOT_FOUND``, ``SUBSCRIPTION_NOT_ACTIVE``, ``ASSET_NOT_FOUND``,
    ``ASSET_NOT_AVAILABLE`` and ``SKU_MISMATCH`` (``new_sku`` or the new unit's SKU is not
    the subscription's).
    """
    subscription = await Subscriptions(session, ctx.tenant_id).get(
        replacement.rental_id, for_update=True
    )
    check_active(subscription.status, subscription.end_reason, "replaced")
    sku = subscription.sku
    if replacement.new_sku is not None and replacement.new_sku != sku:
        raise not_the_same_sku("newSku", replacement.new_sku, sku)
    new_asset = await assets.assign(
        session, ctx, replacement.new_serial_number, rental_id=subscription.id,
        customer_id=subscription.customer_id,
    )  # fmt: skip
    if new_asset.sku != sku:
        raise not_the_same_sku(f"Asset '{new_asset.serial_number}'", new_asset.sku, sku)
    old_asset = await assets.release(
        session, ctx, subscription.serial_number, to_status="unavailable"
    )

    now = clock.now()
    entry = ReplacementEntry(
        replaced_at=rfc3339(now), old_serial_number=old_asset.serial_number,
        new_serial_number=new_asset.serial_number, old_sku=old_asset.sku,
        new_sku=new_asset.sku, replacement_reason=replacement.replacement_reason,
        damage_assessment=replacement.damage_assessment,
        insurance_claim=replacement.insurance_claim, notes=replacement.notes,
        processed_by=ctx.actor,
    )  # fmt: skip
    subscription.serial_number = new_asset.serial_number
    subscription.asset_id = new_asset.id
    # A new list, not an append: the ORM notices a JSON column change by assignment.
    subscription.replacement_history = [*subscription.replacement_history, dict(entry)]
    status = display_status(subscription.status, subscription.end_reason)
    record(
        subscription, ctx, "replaced", now, from_status=status,
        old_serial_number=old_asset.serial_number, new_serial_number=new_asset.serial_number,
        replacement_reason=replacement.replacement_reason,
    )  # fmt: skip
    await session.flush()
    await events.emit(session, ctx, EventType.ASSET_RETURNED, asset_data(old_asset, subscription))
    await events.emit(session, ctx, EventType.ASSET_ASSIGNED, asset_data(new_asset, subscription))
    await Subscriptions(session, ctx.tenant_id).load_customers([subscription])
    return Replaced(subscription=subscription, entry=entry, reason=replacement.replacement_reason)
