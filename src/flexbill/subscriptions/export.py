"""The rentals export: the subscriptions a client asks for as one CSV text.

Rows are read in keyset batches of ``BATCH_SIZE`` in creation order (oldest first), each
batch joined with its customers, so an export costs a handful of queries whatever its
size. The CSV follows RFC 4180 (the ``csv`` module's quoting, CRLF line ends). A text cell
a spreadsheet would take for a formula (``=``, ``+``, ``-``, ``@``, tab, CR first) gets a
leading ``'``, so opening an export never runs what a customer typed into a field.
"""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import orjson
from sqlalchemy import ColumnElement, Row, and_, func, literal, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from flexbill.core import clock
from flexbill.core.errors import ErrorDetail, ValidationFailed
from flexbill.core.money import to_major
from flexbill.customers.models import Customer
from flexbill.events.service import rfc3339
from flexbill.subscriptions.lifecycle import (
    DISPLAY_STATUSES,
    display_status,
    is_active,
    parse_display_status,
)
from flexbill.subscriptions.models import Subscription
from flexbill.tenancy.context import TenantContext

BATCH_SIZE = 1000
MAX_RECORDS = 100_000
MAX_CUSTOMER_IDS = 1000
CUSTOM_FIELD_PREFIX = "Custom: "
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class IncludeFields:
    customer_details: bool = True
    device_details: bool = True
    financial_details: bool = True
    custom_fields: bool = True


@dataclass(frozen=True)
class ExportRequest:
    """Which subscriptions to export (``start_date``/``end_date``: an inclusive range of
    the contract start) and which column groups to write."""

    start_date: date | None = None
    end_date: date | None = None
    status: str | None = None  # one of DISPLAY_STATUSES
    customer_ids: Sequence[str] = ()  # empty: every customer
    include: IncludeFields = field(default_factory=IncludeFields)


@dataclass(frozen=True)
class RentalExport:
    filename: str
    csv_text: str
    total_records: int
    generated_at: datetime
    active_records: int  # rows of active subscriptions
    total_monthly_amount: int  # minor units: the monthly amounts of every row added up

    @property
    def average_monthly_amount(self) -> int:
        """The mean monthly amount of the rows in minor units, rounded half up; 0 without
        rows."""
        if not self.total_records:
            return 0
        average = Decimal(self.total_monthly_amount) / self.total_records
        return int(average.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def neutralise(text: str) -> str:
    """``text`` as a spreadsheet shows it, never as a formula it would run."""
    return f"'{text}" if text.startswith(FORMULA_STARTS) else text


def _text(value: str | None) -> str:
    return "" if value is None else neutralise(value)


def _custom_value(value: Any) -> str:
    """A custom field's value as a cell: text neutralised, numbers and booleans in JSON
    notation (as the ``customField_<name>`` filter reads them), objects as JSON."""
    if value is None:
        return ""
    if isinstance(value, str):
        return neutralise(value)
    if isinstance(value, bool | int | float):
        return orjson.dumps(value).decode()
    return neutralise(orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode())


@dataclass(frozen=True)
class _Column:
    title: str
    cell: Callable[[Row[Any], str], str]  # (row, currency) → the cell's text


def _amount(name: str) -> Callable[[Row[Any], str], str]:
    def cell(row: Row[Any], currency: str) -> str:
        amount: int | None = getattr(row, name)
        return "" if amount is None else format(to_major(amount, currency), "f")

    return cell


def _plain(name: str) -> Callable[[Row[Any], str], str]:
    return lambda row, _currency: _text(getattr(row, name))


ALWAYS = (
    _Column("Rental ID", _plain("id")),
    _Column("Status", lambda row, _c: display_status(row.status, row.end_reason)),
    _Column("Customer ID", _plain("customer_id")),
    _Column("Order ID", _plain("order_id")),
    _Column("Start Date", lambda row, _c: row.start_date.isoformat()),
    _Column("End Date", lambda row, _c: row.end_date.isoformat()),
    _Column("Contract Length", lambda row, _c: str(row.contract_length)),
    _Column("Created At", lambda row, _c: rfc3339(row.created_at)),
)
CUSTOMER_DETAILS = (
    _Column("Customer Email", _plain("email")),
    _Column("Customer Name", lambda row, _c: _text(f"{row.first_name} {row.last_name}".strip())),
    _Column("Company", _plain("company")),
)
DEVICE_DETAILS = (
    _Column("SKU", _plain("sku")),
    _Column("Product Name", _plain("product_name")),
    _Column("Variant Name", _plain("variant_name")),
    _Column("Serial Number", _plain("serial_number")),
)
FINANCIAL_DETAILS = (
    _Column("Monthly Amount", _amount("monthly_amount")),
    _Column("Currency", lambda _row, currency: currency),
    _Column("Total Collected", _amount("total_collected")),
    _Column("Acquisition Cost", _amount("acquisition_cost")),
    _Column("List Price", _amount("list_price")),
)


def columns(include: IncludeFields) -> tuple[_Column, ...]:
    """The fixed columns of an export, in order (custom fields follow them)."""
    chosen = [
        *ALWAYS,
        *(CUSTOMER_DETAILS if include.customer_details else ()),
        *(DEVICE_DETAILS if include.device_details else ()),
        *(FINANCIAL_DETAILS if include.financial_details else ()),
    ]
    return tuple(chosen)


_SELECTED = (
    Subscription.id, Subscription.status, Subscription.end_reason, Subscription.customer_id,
    Subscription.order_id, Subscription.start_date, Subscription.end_date,
    Subscription.contract_length, Subscription.created_at, Subscription.sku,
    Subscription.product_name, Subscription.variant_name, Subscription.serial_number,
    Subscription.monthly_amount, Subscription.total_collected, Subscription.acquisition_cost,
    Subscription.list_price, Subscription.custom_fields, Customer.email, Customer.first_name,
    Customer.last_name, Customer.company,
)  # fmt: skip


def _conditions(ctx: TenantContext, request: ExportRequest) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = [Subscription.tenant_id == ctx.tenant_id]
    if request.start_date is not None:
        conditions.append(Subscription.start_date >= request.start_date)
    if request.end_date is not None:
        conditions.append(Subscription.start_date <= request.end_date)
    if request.status is not None:
        status, end_reason = parse_display_status(request.status)
        conditions.append(Subscription.status == status)
        if end_reason is not None:
            conditions.append(Subscription.end_reason == end_reason)
    if request.customer_ids:
        conditions.append(Subscription.customer_id.in_(sorted(set(request.customer_ids))))
    return conditions


def _check(request: ExportRequest) -> None:
    if (
        request.start_date is not None
        and request.end_date is not None
        and request.start_date > request.end_date
    ):
        raise ValidationFailed.field(
            "startDate", "startDate must be on or before endDate", "invalid_date_range"
        )
    if request.status is not None and request.status not in DISPLAY_STATUSES:
        raise ValidationFailed.field(
            "status", f"status must be one of: {', '.join(DISPLAY_STATUSES)}", "invalid_enum_value"
        )
    if len(request.customer_ids) > MAX_CUSTOMER_IDS:
        raise ValidationFailed.field(
            "customerIds", f"customerIds lists at most {MAX_CUSTOMER_IDS} customers", "too_big"
        )


async def _count_up_to(
    session: AsyncSession, conditions: Sequence[ColumnElement[bool]], limit: int
) -> int:
    """How many subscriptions match, counting no further than ``limit``."""
    matching = select(Subscription.id).where(*conditions).limit(limit).subquery()
    return int((await session.execute(select(func.count()).select_from(matching))).scalar_one())


async def _batches(
    session: AsyncSession, conditions: Sequence[ColumnElement[bool]]
) -> AsyncIterator[list[Row[Any]]]:
    """The matching rows with their customers, oldest first, ``BATCH_SIZE`` at a time."""
    joined = select(*_SELECTED).join(
        Customer,
        and_(Customer.tenant_id == Subscription.tenant_id, Customer.id == Subscription.customer_id),
    )
    after: tuple[datetime, str] | None = None
    while True:
        statement = joined.where(*conditions)
        if after is not None:
            created_at, rental_id = after
            statement = statement.where(
                tuple_(Subscription.created_at, Subscription.id)
                > tuple_(
                    literal(created_at, type_=Subscription.created_at.type),
                    literal(rental_id, type_=Subscription.id.type),
                )
            )
        statement = statement.order_by(Subscription.created_at, Subscription.id).limit(BATCH_SIZE)
        rows = list(await session.execute(statement))
        if rows:
            yield rows
        if len(rows) < BATCH_SIZE:
            return
        after = (rows[-1].created_at, rows[-1].id)


async def export_rentals(
    session: AsyncSession, ctx: TenantContext, request: ExportRequest
) -> RentalExport:
    """The subscriptions ``request`` selects, oldest first, as CSV text.

    Raises ``VALIDATION_ERROR`` for a start date after the end date, an unknown status,
    too many customer ids, or more than ``MAX_RECORDS`` matching subscriptions.
    """
    _check(request)
    conditions = _conditions(ctx, request)
    if await _count_up_to(session, conditions, MAX_RECORDS + 1) > MAX_RECORDS:
        message = (
            f"More than {MAX_RECORDS:,} subscriptions match; narrow the range with startDate "
            "and endDate, or filter by status or customerIds"
        )
        raise ValidationFailed(message, [ErrorDetail("startDate", message, "too_many_records")])
    fixed = columns(request.include)
    currency = ctx.currency
    rows: list[list[str]] = []
    custom: list[dict[str, Any]] = []
    active = total_monthly_amount = 0
    async for batch in _batches(session, conditions):
        for row in batch:
            rows.append([column.cell(row, currency) for column in fixed])
            active += is_active(row.status)
            total_monthly_amount += row.monthly_amount
            if request.include.custom_fields:
                custom.append(dict(row.custom_fields or {}))
    custom_names = sorted({name for fields in custom for name in fields})
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(
        [
            *(column.title for column in fixed),
            *(f"{CUSTOM_FIELD_PREFIX}{name}" for name in custom_names),
        ]
    )
    for index, cells in enumerate(rows):
        if custom_names:
            fields = custom[index]
            cells.extend(_custom_value(fields.get(name)) for name in custom_names)
        writer.writerow(cells)
    generated_at = clock.now()
    return RentalExport(
        filename=f"rentals-export-{generated_at.date().isoformat()}.csv",
        csv_text=buffer.getvalue(),
        total_records=len(rows),
        generated_at=generated_at,
        active_records=active,
        total_monthly_amount=total_monthly_amount,
    )
