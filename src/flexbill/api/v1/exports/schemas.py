"""Export bodies of the /v1 face (FlexPortal's ``POST /v1/exports/rentals``).

The request refuses fields it does not know: an export filter that was silently dropped
would hand out more customers' data than asked for. The names FlexPortal's prose pages
use (``customerId``, ``startDateFrom``, ``startDateTo``) are accepted beside those of its
reference.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import ConfigDict, Field

from flexbill.api.v1.responses import Amount, V1Model
from flexbill.api.v1.subscriptions.dates import CalendarDate
from flexbill.core.errors import ValidationFailed
from flexbill.core.money import to_major
from flexbill.subscriptions.export import (
    MAX_CUSTOMER_IDS,
    ExportRequest,
    IncludeFields,
    RentalExport,
)

Reference = Annotated[str, Field(min_length=1, max_length=100)]
StatusName = Literal[
    "active", "cancelled", "ended_completed", "ended_buyout", "ended_upgrade",
    "ended_early_return",
]  # fmt: skip


class _StrictBody(V1Model):
    model_config = ConfigDict(extra="forbid")


class IncludeFieldsBody(_StrictBody):
    customer_details: bool = Field(
        default=True, description="Customer Email, Customer Name, Company"
    )
    device_details: bool = Field(
        default=True, description="SKU, Product Name, Variant Name, Serial Number"
    )
    financial_details: bool = Field(
        default=True,
        description="Monthly Amount, Currency, Total Collected, Acquisition Cost, List Price",
    )
    custom_fields: bool = Field(
        default=True, description="One `Custom: <name>` column per custom field in the rows"
    )

    def to_domain(self) -> IncludeFields:
        return IncludeFields(
            customer_details=self.customer_details, device_details=self.device_details,
            financial_details=self.financial_details, custom_fields=self.custom_fields,
        )  # fmt: skip


def _one_of(
    reference: date | None, reference_name: str, prose: date | None, prose_name: str
) -> date | None:
    """The value of a filter sent under its reference name or its prose name; both may
    be sent only with the same value."""
    if reference is not None and prose is not None and reference != prose:
        raise ValidationFailed.field(
            prose_name, f"{prose_name} is another name of {reference_name}; send one", "mismatch"
        )
    return reference if reference is not None else prose


class RentalExportBody(_StrictBody):
    """The body of ``POST /v1/exports/rentals``; every field is optional, unknown fields
    are refused."""

    start_date: CalendarDate | None = Field(
        default=None, description="Subscriptions that started on or after this date"
    )
    end_date: CalendarDate | None = Field(
        default=None, description="Subscriptions that started on or before this date"
    )
    start_date_from: CalendarDate | None = Field(
        default=None, description="The same as `startDate`"
    )
    start_date_to: CalendarDate | None = Field(default=None, description="The same as `endDate`")
    format: Literal["csv"] = "csv"
    include_fields: IncludeFieldsBody = Field(default_factory=IncludeFieldsBody)
    status: StatusName | None = None
    customer_ids: Annotated[list[Reference], Field(max_length=MAX_CUSTOMER_IDS)] | None = Field(
        default=None, description="Only subscriptions of these customers"
    )
    customer_id: Reference | None = Field(
        default=None, description="Only subscriptions of this customer (added to `customerIds`)"
    )

    def to_domain(self) -> ExportRequest:
        customer_ids = list(self.customer_ids or ())
        if self.customer_id is not None and self.customer_id not in customer_ids:
            customer_ids.append(self.customer_id)
        return ExportRequest(
            start_date=_one_of(self.start_date, "startDate", self.start_date_from, "startDateFrom"),
            end_date=_one_of(self.end_date, "endDate", self.start_date_to, "startDateTo"),
            status=self.status, customer_ids=tuple(customer_ids),
            include=self.include_fields.to_domain(),
        )  # fmt: skip


class ExportFilters(V1Model):
    start_date: date | None
    end_date: date | None
    status: StatusName | None
    customer_ids: list[str] | None

    @classmethod
    def of(cls, request: ExportRequest, status: StatusName | None) -> ExportFilters:
        return cls(
            start_date=request.start_date, end_date=request.end_date, status=status,
            customer_ids=list(request.customer_ids) or None,
        )  # fmt: skip


class RentalExportResult(V1Model):
    success: bool = True
    filename: str = Field(description="`rentals-export-YYYY-MM-DD.csv`, today's date")
    format: Literal["csv"] = "csv"
    csv_data: str = Field(description="The CSV text (RFC 4180), a header row first")
    total_records: int = Field(description="Data rows in `csvData`")
    total_rentals: int = Field(description="The same as `totalRecords`")
    active_rentals: int = Field(description="Rows of active subscriptions")
    total_revenue: Amount = Field(description="The monthly amounts of the rows added up")
    average_monthly_revenue: Amount = Field(
        description="`totalRevenue` / `totalRentals`, rounded half up to the currency's "
        "minor unit; 0 without rows"
    )
    currency: str
    generated_at: datetime
    filters: ExportFilters

    @classmethod
    def of(cls, result: RentalExport, filters: ExportFilters, currency: str) -> RentalExportResult:
        money: dict[str, Decimal] = {
            "total_revenue": to_major(result.total_monthly_amount, currency),
            "average_monthly_revenue": to_major(result.average_monthly_amount, currency),
        }
        return cls(
            filename=result.filename, csv_data=result.csv_text,
            total_records=result.total_records, total_rentals=result.total_records,
            active_rentals=result.active_records, currency=currency,
            generated_at=result.generated_at, filters=filters, **money,
        )  # fmt: skip
