"""Asset use cases. Every function works inside the caller's transaction (flush only), and
every change writes its history event in that same transaction.

``register_asset``, ``get_asset``, ``list_assets``, ``update_asset`` and ``delete_asset``
serve the faces; ``assign`` and ``release`` are for subscriptions (create, return, buyout,
replace), which own the ``rented_out`` and ``sold`` states.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import Enum
from typing import Literal

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from flexbill.assets import lifecycle
from flexbill.assets.lifecycle import AssetStatus
from flexbill.assets.models import Asset, AssetEvent, EventKind
from flexbill.catalog import service as catalog
from flexbill.core import clock
from flexbill.core.errors import Conflict, FlexbillError, NotFound
from flexbill.core.filtering import FilterSet, equals, one_of
from flexbill.core.ids import new_id
from flexbill.core.pagination import Page, PageRequest, SortOrders, paginate
from flexbill.core.repository import TenantRepository
from flexbill.tenancy.context import TenantContext


class Keep(Enum):
    """Marks a field an update leaves as it is (``None`` would clear it)."""

    KEEP = "keep"


KEEP = Keep.KEEP

ReleaseStatus = Literal["returned", "available", "unavailable", "sold"]


@dataclass(frozen=True)
class NewAsset:
    serial_number: str
    sku: str
    product_name: str | None = None
    status: AssetStatus = AssetStatus.AVAILABLE
    acquisition_cost: int | None = None  # minor units of the business unit's currency
    acquisition_date: date | None = None  # None: acquired today
    location: str | None = None
    condition: str | None = None
    notes: str | None = None


@dataclass(frozen=True)
class AssetChanges:
    """An update: ``sku``/``status`` of ``None`` and any ``KEEP`` leave a field unchanged."""

    sku: str | None = None
    status: AssetStatus | None = None
    product_name: str | Keep | None = KEEP
    acquisition_cost: int | Keep | None = KEEP
    acquisition_date: date | Keep | None = KEEP
    location: str | Keep | None = KEEP
    condition: str | Keep | None = KEEP
    notes: str | Keep | None = KEEP


@dataclass(frozen=True)
class AssetWithHistory:
    asset: Asset
    history: Sequence[AssetEvent]


# Field → the words a history note uses for it.
_DESCRIBED_FIELDS = {
    "sku": "SKU",
    "product_name": "product name",
    "acquisition_cost": "acquisition cost",
    "acquisition_date": "acquisition date",
    "location": "location",
    "condition": "condition",
    "notes": "notes",
}


class Assets(TenantRepository[Asset]):
    model = Asset
    noun = "Asset"

    async def find_by_serial(self, serial_number: str, *, for_update: bool = False) -> Asset | None:
        statement = self.select().where(Asset.serial_number == serial_number)
        if for_update:
            statement = statement.with_for_update()
        return (await self.session.scalars(statement)).one_or_none()

    async def get_by_serial(self, serial_number: str, *, for_update: bool = False) -> Asset:
        asset = await self.find_by_serial(serial_number, for_update=for_update)
        if asset is None:
            raise NotFound(self.noun, serial_number)
        return asset


SORT_ORDERS = SortOrders(
    columns={
        "createdAt": Asset.created_at,
        "updatedAt": Asset.updated_at,
        "serialNumber": Asset.serial_number,
        "status": Asset.status,
        "sku": Asset.sku,
    },
    id_column=Asset.serial_number,
)

FILTERS = FilterSet(
    one_of("status", Asset.status, tuple(AssetStatus)),
    equals("sku", Asset.sku),
    equals("customerId", Asset.customer_id),
    equals("rentalId", Asset.rental_id),
)


def _record(
    session: AsyncSession,
    ctx: TenantContext,
    asset: Asset,
    kind: EventKind,
    *,
    from_status: str | None = None,
    to_status: str | None = None,
    rental_id: str | None = None,
    customer_id: str | None = None,
    note: str | None = None,
    at: datetime | None = None,
) -> AssetEvent:
    at = at or clock.now()
    asset.revision += 1
    asset.updated_at = at  # the asset's updatedAt equals the time of its latest event
    event = AssetEvent(
        tenant_id=ctx.tenant_id, id=new_id("aevt"), asset_id=asset.id, revision=asset.revision,
        at=at, kind=kind, from_status=from_status, to_status=to_status, rental_id=rental_id,
        customer_id=customer_id, actor=ctx.actor, note=note,
    )  # fmt: skip
    session.add(event)
    return event


def _exists(serial_number: str) -> Conflict:
    return Conflict("ASSET_EXISTS", f"An asset with serial number '{serial_number}' already exists")


async def register_asset(session: AsyncSession, ctx: TenantContext, new: NewAsset) -> Asset:
    """Register a unit of a catalog variant; its serial number must be new to the tenant
    (deleted units count). The product name and acquisition cost default to the catalog's."""
    lifecycle.check_registration(new.status)
    assets = Assets(session, ctx.tenant_id)
    if await assets.find_by_serial(new.serial_number) is not None:
        raise _exists(new.serial_number)
    variant = await catalog.get_variant(session, ctx, new.sku)
    now = clock.now()
    asset = assets.add(
        Asset(
            id=new_id("ast"), serial_number=new.serial_number, sku=new.sku,
            product_name=new.product_name or variant.product.name, status=new.status,
            acquisition_cost=(
                variant.acquisition_cost if new.acquisition_cost is None else new.acquisition_cost
            ),
            acquisition_date=new.acquisition_date or now.date(),
            location=new.location, condition=new.condition, notes=new.notes,
            revision=0, created_at=now,
        )
    )  # fmt: skip
    _record(session, ctx, asset, EventKind.REGISTERED, to_status=new.status, at=now)
    try:
        await session.flush()
    except IntegrityError:
        # Another request registered the same serial number between our check and insert.
        raise _exists(new.serial_number) from None
    return asset


async def get_asset(session: AsyncSession, ctx: TenantContext, serial_number: str) -> Asset:
    return await Assets(session, ctx.tenant_id).get_by_serial(serial_number)


async def get_asset_with_history(
    session: AsyncSession, ctx: TenantContext, serial_number: str
) -> AssetWithHistory:
    asset = await get_asset(session, ctx, serial_number)
    statement = (
        select(AssetEvent)
        .where(AssetEvent.tenant_id == ctx.tenant_id, AssetEvent.asset_id == asset.id)
        .order_by(AssetEvent.revision)
    )
    return AssetWithHistory(asset=asset, history=list((await session.scalars(statement)).all()))


async def list_assets(
    session: AsyncSession, ctx: TenantContext, filters: Mapping[str, str], page: PageRequest
) -> Page[Asset]:
    statement = FILTERS.apply(Assets(session, ctx.tenant_id).select(), filters)
    return await paginate(session, statement, SORT_ORDERS, page)


async def update_asset(
    session: AsyncSession, ctx: TenantContext, serial_number: str, changes: AssetChanges
) -> Asset:
    """Change an asset's details and, within the manual transitions, its status.

    Setting ``available`` on a deleted asset restores it.
    """
    asset = await Assets(session, ctx.tenant_id).get_by_serial(serial_number, for_update=True)
    current = AssetStatus(asset.status)
    if changes.sku is not None and changes.sku != asset.sku:
        lifecycle.check_sku_change(current)
        await catalog.get_variant(session, ctx, changes.sku)
    target = changes.status if changes.status is not None else current
    lifecycle.check_manual_change(current, target)

    changed = []
    for name in _DESCRIBED_FIELDS:
        value = getattr(changes, name)
        if value is KEEP or (name == "sku" and value is None) or value == getattr(asset, name):
            continue
        setattr(asset, name, value)
        changed.append(_DESCRIBED_FIELDS[name])
    if changed:
        _record(session, ctx, asset, EventKind.UPDATED, note=f"Changed {', '.join(changed)}")
    if target != current:
        restored = asset.deleted_at is not None and target == AssetStatus.AVAILABLE
        asset.status = target
        if restored:
            asset.deleted_at = None
        _record(
            session, ctx, asset, EventKind.STATUS_CHANGED, from_status=current, to_status=target,
            note="Restored after deletion" if restored else None,
        )  # fmt: skip
    await session.flush()
    return asset


async def delete_asset(session: AsyncSession, ctx: TenantContext, serial_number: str) -> Asset:
    """Soft delete: the asset becomes ``unavailable`` and is marked deleted, but keeps its
    serial number and history. Deleting a deleted asset changes nothing."""
    asset = await Assets(session, ctx.tenant_id).get_by_serial(serial_number, for_update=True)
    if asset.deleted_at is not None:
        return asset
    current = AssetStatus(asset.status)
    lifecycle.check_delete(current)
    asset.status = AssetStatus.UNAVAILABLE
    asset.deleted_at = clock.now()
    _record(
        session, ctx, asset, EventKind.DELETED,
        from_status=current, to_status=AssetStatus.UNAVAILABLE,
    )  # fmt: skip
    await session.flush()
    return asset


async def _find_for_rental(session: AsyncSession, ctx: TenantContext, serial_number: str) -> Asset:
    asset = await Assets(session, ctx.tenant_id).find_by_serial(serial_number, for_update=True)
    if asset is None:
        # Subscriptions report a missing unit in their own vocabulary (FlexPortal's
        # create-subscription errors), unlike a plain lookup's NOT_FOUND.
        raise FlexbillError("ASSET_NOT_FOUND", f"Asset '{serial_number}' not found")
    return asset


async def assign(
    session: AsyncSession, ctx: TenantContext, serial_number: str, *, rental_id: str,
    customer_id: str,
) -> Asset:  # fmt: skip
    """Hand an available unit to a subscription: ``available`` → ``rented_out``."""
    asset = await _find_for_rental(session, ctx, serial_number)
    current = AssetStatus(asset.status)
    lifecycle.check_assign(current)
    asset.status = AssetStatus.RENTED_OUT
    asset.rental_id = rental_id
    asset.customer_id = customer_id
    _record(
        session, ctx, asset, EventKind.ASSIGNED, from_status=current,
        to_status=AssetStatus.RENTED_OUT, rental_id=rental_id, customer_id=customer_id,
    )  # fmt: skip
    await session.flush()
    return asset


async def release(
    session: AsyncSession, ctx: TenantContext, serial_number: str, *,
    to_status: ReleaseStatus = "returned",
) -> Asset:  # fmt: skip
    """Take a unit back from its subscription (return, early return, replacement) or hand it
    over for good (``sold``, a buyout). The asset forgets its customer and rental; the
    history event keeps them."""
    asset = await _find_for_rental(session, ctx, serial_number)
    current = AssetStatus(asset.status)
    target = AssetStatus(to_status)
    lifecycle.check_release(current, target)
    rental_id, customer_id = asset.rental_id, asset.customer_id
    asset.status = target
    asset.rental_id = asset.customer_id = None
    _record(
        session, ctx, asset, EventKind.SOLD if target == AssetStatus.SOLD else EventKind.RETURNED,
        from_status=current, to_status=target, rental_id=rental_id, customer_id=customer_id,
    )  # fmt: skip
    await session.flush()
    return asset
