"""Asset request and response bodies of the /v1 face (FlexPortal's Assets reference)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, TypeVar

from pydantic import Field

from flexbill.api.v1.responses import V1Model
from flexbill.assets.lifecycle import AssetStatus
from flexbill.assets.models import Asset, AssetEvent, EventKind
from flexbill.assets.service import KEEP, AssetChanges, AssetWithHistory, Keep, NewAsset
from flexbill.core.errors import ValidationFailed
from flexbill.core.money import (
    PRECISION_CODE,
    PrecisionError,
    to_major,
    to_minor_exact,
)
from flexbill.tenancy.context import TenantContext

# A serial number is a path segment of /v1/assets/{serialNumber}: no slash, and no blank at
# either end, where it would be invisible on a label and in a URL.
SerialNumber = Annotated[
    str, Field(min_length=1, max_length=100, pattern=r"^[^\s/](?:[^/]*[^\s/])?$")
]
Sku = Annotated[str, Field(min_length=1, max_length=100)]
Optional200 = Annotated[str | None, Field(default=None, max_length=200)]
Notes = Annotated[str | None, Field(default=None, max_length=5000)]
# Bounded so that any accepted amount fits the minor-unit column in every currency.
Amount = Annotated[Decimal | None, Field(default=None, ge=0, lt=Decimal(10) ** 13)]

T = TypeVar("T")


def _minor_units(amount: Decimal | None, currency: str, path: str) -> int | None:
    """Major units → minor units, refusing digits the currency does not have (rounding an
    amount the client typed would store a different amount than the one it sent)."""
    if amount is None:
        return None
    try:
        return to_minor_exact(amount, currency)
    except PrecisionError as error:
        raise ValidationFailed.field(path, str(error), PRECISION_CODE) from None


class AssetCreateBody(V1Model):
    serial_number: SerialNumber
    sku: Sku
    product_name: Optional200 = None
    status: AssetStatus = AssetStatus.AVAILABLE
    acquisition_cost: Amount = None
    acquisition_date: date | None = None
    location: Optional200 = None
    condition: Optional200 = None
    notes: Notes = None

    def to_domain(self, ctx: TenantContext) -> NewAsset:
        return NewAsset(
            serial_number=self.serial_number, sku=self.sku, product_name=self.product_name,
            status=self.status,
            acquisition_cost=_minor_units(self.acquisition_cost, ctx.currency, "acquisitionCost"),
            acquisition_date=self.acquisition_date, location=self.location,
            condition=self.condition, notes=self.notes,
        )  # fmt: skip


class AssetUpdateBody(V1Model):
    """The asset object as sent back by a client; read-only fields in it are ignored."""

    serial_number: SerialNumber | None = None
    sku: Sku | None = None  # FlexPortal's own PUT examples leave it out
    product_name: Optional200 = None
    status: AssetStatus | None = None
    acquisition_cost: Amount = None
    acquisition_date: date | None = None
    location: Optional200 = None
    condition: Optional200 = None
    notes: Notes = None

    def _sent(self, name: str, value: T) -> T | Keep:
        # A field left out keeps its value; a field sent as null clears it.
        return value if name in self.model_fields_set else KEEP

    def to_domain(self, ctx: TenantContext) -> AssetChanges:
        cost = _minor_units(self.acquisition_cost, ctx.currency, "acquisitionCost")
        return AssetChanges(
            sku=self.sku,
            status=self.status,
            product_name=self._sent("product_name", self.product_name),
            acquisition_cost=self._sent("acquisition_cost", cost),
            acquisition_date=self._sent("acquisition_date", self.acquisition_date),
            location=self._sent("location", self.location),
            condition=self._sent("condition", self.condition),
            notes=self._sent("notes", self.notes),
        )


class AssetHistoryEntry(V1Model):
    at: datetime
    kind: EventKind
    from_status: AssetStatus | None
    to_status: AssetStatus | None
    rental_id: str | None
    customer_id: str | None
    actor: str
    note: str | None

    @classmethod
    def of(cls, event: AssetEvent) -> AssetHistoryEntry:
        return cls(
            at=event.at, kind=EventKind(event.kind),
            from_status=AssetStatus(event.from_status) if event.from_status else None,
            to_status=AssetStatus(event.to_status) if event.to_status else None,
            rental_id=event.rental_id, customer_id=event.customer_id, actor=event.actor,
            note=event.note,
        )  # fmt: skip


class AssetBody(V1Model):
    serial_number: str
    tenant_id: str
    sku: str
    product_name: str | None
    status: AssetStatus
    acquisition_cost: Decimal | None
    acquisition_date: date | None
    customer_id: str | None
    rental_id: str | None
    location: str | None
    condition: str | None
    notes: str | None
    currency: str
    deleted_at: datetime | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, asset: Asset, ctx: TenantContext) -> AssetBody:
        cost = asset.acquisition_cost
        return cls(
            serial_number=asset.serial_number, tenant_id=ctx.business_unit_id, sku=asset.sku,
            product_name=asset.product_name, status=AssetStatus(asset.status),
            acquisition_cost=None if cost is None else to_major(cost, ctx.currency),
            acquisition_date=asset.acquisition_date, customer_id=asset.customer_id,
            rental_id=asset.rental_id, location=asset.location, condition=asset.condition,
            notes=asset.notes, currency=ctx.currency, deleted_at=asset.deleted_at,
            created_at=asset.created_at, updated_at=asset.updated_at,
        )  # fmt: skip


class AssetDetail(AssetBody):
    """An asset with its history, oldest event first."""

    history: list[AssetHistoryEntry]

    @classmethod
    def of_record(cls, record: AssetWithHistory, ctx: TenantContext) -> AssetDetail:
        body = AssetBody.of(record.asset, ctx)
        # The body's values are validated already; only the history is added.
        return cls.model_construct(
            **vars(body), history=[AssetHistoryEntry.of(event) for event in record.history]
        )


class AssetResult(V1Model):
    success: bool = True
    message: str
    serial_number: str
    asset: AssetBody


class AssetList(V1Model):
    assets: list[AssetBody]
    count: int
    limit: int
    has_more: bool
    next_cursor: str | None
