"""File bodies of the /v1 face (FlexPortal's ``/v1/files`` operations, and uploads as
flexbill's addition)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import Field, StrictBool, model_validator

from flexbill.api.v1.responses import V1Model
from flexbill.files import links
from flexbill.files.models import FileCategory, FileType, StoredFile
from flexbill.files.service import FileLink, FilePage
from flexbill.tenancy.context import TenantContext

Reference = Annotated[str, Field(min_length=1, max_length=100)]


class FileBody(V1Model):
    file_id: str
    tenant_id: str = Field(description="The business unit (what requests send as `Tenant-ID`)")
    order_id: str | None
    customer_id: str | None
    invoice_id: str | None = Field(description="For `type: invoice`: the invoice it shows")
    type: FileType
    category: FileCategory
    filename: str
    original_filename: str | None = Field(description="An upload's name as the client sent it")
    content_type: str
    file_size: int = Field(description="Bytes")
    sha256: str = Field(description="Hex SHA-256 of the content")
    storage_path: str = Field(description="Where the storage keeps the content")
    uploaded_by: str = Field(description="`api_key:<keyId>`, or `system` for invoices")
    metadata: dict[str, Any]
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, row: StoredFile, ctx: TenantContext) -> FileBody:
        return cls(
            file_id=row.id, tenant_id=ctx.business_unit_id, order_id=row.order_id,
            customer_id=row.customer_id, invoice_id=row.invoice_id, type=FileType(row.type),
            category=FileCategory(row.category), filename=row.filename,
            original_filename=row.original_filename,
            content_type=row.content_type, file_size=row.size, sha256=row.sha256,
            storage_path=row.storage_key, uploaded_by=row.created_by, metadata=row.details,
            created_at=row.created_at, updated_at=row.updated_at,
        )  # fmt: skip


class FileFilters(V1Model):
    order_id: str | None
    customer_id: str | None
    type: str | None


class FileList(V1Model):
    files: list[FileBody]
    count: int = Field(description="Files on this page")
    limit: int
    offset: int
    has_more: bool = Field(description="Whether files follow this page (flexbill's addition)")
    filters: FileFilters

    @classmethod
    def of(cls, page: FilePage, filters: FileFilters, ctx: TenantContext) -> FileList:
        return cls(
            files=[FileBody.of(row, ctx) for row in page.items], count=len(page.items),
            limit=page.limit, offset=page.offset, has_more=page.has_more, filters=filters,
        )  # fmt: skip


class FileDeleteBody(V1Model):
    """The optional body of ``DELETE /v1/files/{fileId}``."""

    delete_from_storage: StrictBool = Field(
        default=True, description="Also remove the content from the storage"
    )


class FileDeleted(V1Model):
    success: bool = True
    message: str
    file_id: str


class FileUrlBody(V1Model):
    """The body of ``POST /v1/files/url``."""

    file_id: Reference
    action: Literal["view", "download"] = Field(
        default="view",
        description="`view` opens the file in the browser, `download` saves it",
    )
    expires_in_minutes: Annotated[int, Field(ge=links.MIN_MINUTES, le=links.MAX_MINUTES)] = (
        links.DEFAULT_MINUTES
    )


class FileUrl(V1Model):
    success: bool = True
    url: str
    filename: str
    content_type: str
    file_size: int
    expires_at: int = Field(description="When the URL stops working, in Unix milliseconds")

    @classmethod
    def of(cls, link: FileLink) -> FileUrl:
        return cls(
            url=link.url, filename=link.file.filename, content_type=link.file.content_type,
            file_size=link.file.size, expires_at=int(link.expires_at.timestamp()) * 1000,
        )  # fmt: skip


class ContractGenerateBody(V1Model):
    """The body of ``POST /v1/files/contracts/generate``."""

    order_id: Reference
    contract_type: Reference | None = Field(
        default=None, description="The contract template; `standard` when left out"
    )
    template_id: Reference | None = Field(default=None, description="Same as `contractType`")

    @model_validator(mode="after")
    def _one_template(self) -> ContractGenerateBody:
        if self.contract_type and self.template_id and self.contract_type != self.template_id:
            raise ValueError("contractType and templateId name different templates")
        return self

    @property
    def template(self) -> str | None:
        return self.template_id or self.contract_type


class ContractGenerated(V1Model):
    success: bool = True
    message: str
    file_id: str
    order_id: str
    tenant_id: str


class FileUploaded(V1Model):
    success: bool = True
    message: str
    file: FileBody
