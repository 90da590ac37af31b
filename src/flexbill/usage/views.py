"""A usage record as the faces show it, built from a stored row or from the values just
inserted (a batch writes its rows with Core statements, not ORM objects)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from flexbill.usage.models import UsageRecord
from flexbill.usage.rules import NewUsage


@dataclass(frozen=True, slots=True)
class UsageView:
    id: str
    client_id: str
    customer_id: str
    subscription_id: str
    item_id: str
    name: str | None
    description: str | None
    quantity: Decimal
    start_date: date
    end_date: date
    status: str
    invoice_id: str | None
    created_at: datetime

    @classmethod
    def of(cls, values: Mapping[Any, Any]) -> UsageView:
        """From a row's columns by name (a Core row's mapping or an insert's values)."""
        return cls(
            id=values["id"], client_id=values["client_id"], customer_id=values["customer_id"],
            subscription_id=values["subscription_id"], item_id=values["item_id"],
            name=values["name"], description=values["description"],
            quantity=_plain(values["quantity"]), start_date=values["start_date"],
            end_date=values["end_date"], status=values["status"],
            invoice_id=values["invoice_id"], created_at=values["created_at"],
        )  # fmt: skip

    @classmethod
    def of_record(cls, record: UsageRecord) -> UsageView:
        return cls.of({name: getattr(record, name) for name in FIELDS})

    def as_new(self) -> NewUsage:
        """What the client sent, to compare a retry with."""
        return NewUsage(
            subscription_id=self.subscription_id, item_id=self.item_id, quantity=self.quantity,
            start_date=self.start_date, end_date=self.end_date, client_id=self.client_id,
            name=self.name, description=self.description,
        )  # fmt: skip


def _plain(quantity: Decimal) -> Decimal:
    """Without the column's trailing zeros (``2.500000`` → ``2.5``, ``10.000000`` → ``10``),
    so that a record reads the same as it was sent, on both databases."""
    normalized = quantity.normalize()
    return normalized.quantize(Decimal(1)) if normalized == normalized.to_integral() else normalized


FIELDS = tuple(field.name for field in fields(UsageView))
# The columns a view is built from, for Core statements.
COLUMNS = tuple(getattr(UsageRecord, name) for name in FIELDS)
