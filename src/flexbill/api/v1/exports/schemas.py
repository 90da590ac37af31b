"""Export bodies of the /v1 face (FlexPortal's ``POST /v1/exports/rentals``)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import Field

from flexbill.api.v1.responses import V1Model
from flexbill.subscriptions.export import MAX_CUSTOMER_IDS, ExportRequest, IncludeFields

Reference = Annotated[str, Field(min_length=1, max_length=100)]
StatusName = Literal[
    "active", "cancelled", "ended_completed", "ended_buyout", "ended_upgrade",
    "ended_early_return",
]  # fmt: skip


class IncludeFieldsBody(V1Model):
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


class RentalExportBody(V1Model):
    """The body of ``POST /v1/exports/rentals``; every field is optional."""

    start_date: date | None = Field(
        default=None, description="Subscriptions that started on or after this date"
    )
    end_date: date | None = Field(
        default=None, description="Subscriptions that started on or before this date"
    )
    format: Literal["csv"] = "csv"
    include_fields: IncludeFieldsBody = Field(default_factory=IncludeFieldsBody)
    status: StatusName | None = None
    customer_ids: Annotated[list[Reference], Field(max_length=MAX_CUSTOMER_IDS)] | None = Field(
        default=None, description="Only subscriptions of these customers"
    )

    def to_domain(self) -> ExportRequest:
        return ExportRequest(
            start_date=self.start_date, end_date=self.end_date, status=self.status,
            customer_ids=tuple(self.customer_ids or ()), include=self.include_fields.to_domain(),
        )  # fmt: skip


class ExportFilters(V1Model):
    start_date: date | None
    end_date: date | None
    status: StatusName | None
    customer_ids: list[str] | None


class RentalExportResult(V1Model):
    success: bool = True
    filename: str = Field(description="`rentals-export-YYYY-MM-DD.csv`, today's date")
    format: Literal["csv"] = "csv"
    csv_data: str = Field(description="The CSV text (RFC 4180), a header row first")
    total_records: int = Field(description="Data rows in `csvData`")
    generated_at: datetime
    filters: ExportFilters
