"""``/v1/files``: list, read, delete and upload documents, signed links to their content,
and contract PDFs for orders."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Query
from starlette.datastructures import FormData, UploadFile
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from flexbill.api.v1.errors import envelope
from flexbill.api.v1.files.schemas import (
    ContractGenerateBody,
    ContractGenerated,
    FileBody,
    FileDeleteBody,
    FileDeleted,
    FileFilters,
    FileList,
    FileUploaded,
    FileUrl,
    FileUrlBody,
)
from flexbill.api.v1.guard import Call, Session, require
from flexbill.api.v1.responses import V1JSONResponse, respond
from flexbill.core.errors import ValidationFailed
from flexbill.files import contracts, service
from flexbill.files.errors import LinkRefused, link_invalid
from flexbill.files.links import Disposition, Link
from flexbill.files.models import FileType

router = APIRouter(prefix="/files", tags=["Files"])

Reader = Annotated[Call, Depends(require("files:read"))]
Writer = Annotated[Call, Depends(require("files:write"))]
MAX_REFERENCE_LENGTH = 100


@router.get("", response_model=FileList)
async def list_files(
    call: Reader,
    order_id: Annotated[
        str | None, Query(alias="orderId", description="Files of this order")
    ] = None,
    customer_id: Annotated[
        str | None, Query(alias="customerId", description="Files of this customer")
    ] = None,
    file_type: Annotated[
        str | None,
        Query(alias="type", description="`contract`, `invoice`, `document` or `attachment`"),
    ] = None,
    limit: Annotated[
        int, Query(ge=1, le=service.MAX_LIMIT, description="Files per page (max 100)")
    ] = service.DEFAULT_LIMIT,
    offset: Annotated[int, Query(ge=0, description="Files to skip")] = 0,
) -> V1JSONResponse:
    """List files, newest first: contracts, invoice PDFs and uploaded documents.

    Filter with `orderId`, `customerId` and `type`. Pages are counted by `offset` (as
    FlexPortal does for files): ask for the next page with `offset` + `limit` while
    `hasMore` is true. `filters` repeats the filters applied.
    """
    filters = FileFilters(order_id=order_id, customer_id=customer_id, type=file_type)
    given = filters.model_dump(by_alias=True, exclude_none=True)
    page = await service.list_files(call.session, call.ctx, given, limit=limit, offset=offset)
    return respond(FileList.of(page, filters, call.ctx))


_UPLOAD_TYPES = ("document", "attachment")
_UPLOAD_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {
                        "file": {"type": "string", "format": "binary"},
                        "type": {
                            "type": "string",
                            "enum": list(_UPLOAD_TYPES),
                            "default": "document",
                        },
                        "orderId": {"type": "string", "maxLength": 100},
                        "customerId": {"type": "string", "maxLength": 100},
                    },
                }
            }
        },
    }
}


def _text_field(form: FormData, name: str) -> str | None:
    value = form.get(name)
    if value is None or value == "":
        return None
    if not isinstance(value, str) or len(value) > MAX_REFERENCE_LENGTH:
        raise ValidationFailed.field(
            name, f"Must be text of at most {MAX_REFERENCE_LENGTH} characters", "invalid_type"
        )
    return value


async def _read_upload(request: Request) -> service.Upload:
    # The form is read here, after the guard, rather than by FastAPI before it: the caller
    # is authenticated before a large body is parsed, and a guard that reads the body for
    # an Idempotency-Key finds it still there.
    try:
        async with request.form(max_files=1, max_fields=10) as form:
            file = form.get("file")
            if not isinstance(file, UploadFile):
                raise ValidationFailed.field(
                    "file", "Required: the file, as a multipart file field", "invalid_type"
                )
            kind = _text_field(form, "type") or "document"
            if kind not in _UPLOAD_TYPES:
                raise ValidationFailed.field(
                    "type", "Must be document or attachment", "invalid_enum_value"
                )
            return service.Upload(
                data=await file.read(service.upload_limit() + 1), filename=file.filename,
                declared_type=file.content_type, type=FileType(kind),
                order_id=_text_field(form, "orderId"), customer_id=_text_field(form, "customerId"),
            )  # fmt: skip
    except HTTPException as malformed:
        raise ValidationFailed.field("file", str(malformed.detail), "invalid_type") from None


@router.post("", response_model=FileUploaded, status_code=201, openapi_extra=_UPLOAD_BODY)
async def upload_file(call: Writer, request: Request) -> V1JSONResponse:
    """Upload a document or attachment as `multipart/form-data` (flexbill's addition):
    the content in `file`, optionally `type` (`document`, the default, or `attachment`),
    `orderId` and `customerId`. A file of an order belongs to the order's customer.

    Accepted are PDF, PNG, JPEG and UTF-8 text (CSV with a `.csv` name or `text/csv`
    type), judged by the content itself, not by the name or declared type: anything else
    is `415 UNSUPPORTED_FILE_TYPE`. A file above the server's upload limit (10 MB unless
    configured) is `413 FILE_TOO_LARGE`, an empty one `400 VALIDATION_ERROR`. An unknown
    order or customer is `404 ORDER_NOT_FOUND` or `404 CUSTOMER_NOT_FOUND`.
    """
    row = await service.upload_file(call.session, call.ctx, await _read_upload(request))
    return respond(
        FileUploaded(message="File uploaded successfully", file=FileBody.of(row, call.ctx)),
        status_code=201,
    )


@router.post("/url", response_model=FileUrl)
async def file_url(call: Reader, body: FileUrlBody) -> V1JSONResponse:
    """A signed URL to a file's content that works without an API key until it expires
    (`expiresInMinutes`, 1–1440, 60 by default).

    `action: view` (the default) has browsers show the file, `download` has them save it
    under its `filename`. `expiresAt` is in Unix milliseconds. An altered or expired URL
    answers `403`; a file deleted meanwhile `404 FILE_NOT_FOUND`. An unknown `fileId` is
    `404 FILE_NOT_FOUND`.
    """
    link = await service.file_link(
        call.session, call.ctx, body.file_id, action=body.action, minutes=body.expires_in_minutes
    )
    return respond(FileUrl.of(link))


@router.post("/contracts/generate", response_model=ContractGenerated, status_code=201)
async def generate_contract(call: Writer, body: ContractGenerateBody) -> V1JSONResponse:
    """Generate the contract PDF of an order and keep it as a file of `type: contract`,
    linked to the order and its customer.

    The contract shows the business's details from the settings (`company`), the
    customer and billing address, each item with SKU, contract length and monthly price,
    the monthly totals with VAT, the terms the settings give, and lines to sign.
    `contractType` (or `templateId`) names the template: `standard`, the default, is the
    only one today; any other is `404 TEMPLATE_NOT_FOUND`. An unknown order is
    `404 ORDER_NOT_FOUND`. Each call makes a new file; fetch it with `POST /v1/files/url`.
    """
    row = await contracts.generate_contract(call.session, call.ctx, body.order_id, body.template)
    answer = ContractGenerated(
        message="Contract generated successfully", file_id=row.id, order_id=body.order_id,
        tenant_id=call.ctx.business_unit_id,
    )  # fmt: skip
    return respond(answer, status_code=201)


@router.get("/{fileId}", response_model=FileBody)
async def get_file(fileId: str, call: Reader) -> V1JSONResponse:  # noqa: N803
    """A file's metadata (not its content: ask `POST /v1/files/url` for a link)."""
    row = await service.get_file(call.session, call.ctx, fileId)
    return respond(FileBody.of(row, call.ctx))


@router.delete("/{fileId}", response_model=FileDeleted)
async def delete_file(
    fileId: str,  # noqa: N803
    call: Writer,
    body: FileDeleteBody | None = None,
) -> V1JSONResponse:
    """Delete a file for good. Its content is removed from the storage too unless the
    body says `{"deleteFromStorage": false}`.

    When the storage refuses to delete the content the answer is `500 DELETE_FAILED`
    and the file stays as it was. Links made earlier stop working.
    """
    from_storage = body.delete_from_storage if body else True
    row = await service.delete_file(call.session, call.ctx, fileId, from_storage=from_storage)
    return respond(FileDeleted(message="File deleted successfully", file_id=row.id))


def _link(file_id: str, tenant: str | None, expires: str | None, disposition: str | None) -> Link:
    if (
        not tenant
        or not expires
        or not expires.isdecimal()
        or disposition not in ("inline", "attachment")
    ):
        raise link_invalid()
    return Link(tenant, file_id, int(expires), Disposition(disposition))


def _content_disposition(disposition: Disposition, filename: str) -> str:
    fallback = "".join(
        c if c.isascii() and c.isprintable() and c not in '"\\' else "_" for c in filename
    )
    return (
        f"{disposition.value}; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"
    )


@router.get(
    "/{fileId}/content",
    response_class=Response,
    responses={200: {"description": "The file's content", "content": {"application/pdf": {}}}},
)
async def file_content(
    fileId: str,  # noqa: N803
    session: Session,
    tenant: str | None = None,
    expires: str | None = None,
    disposition: str | None = None,
    signature: str | None = None,
) -> Response:
    """The content of a file, through a URL from `POST /v1/files/url` (no API key).

    An altered URL is `403 FILE_LINK_INVALID`, an expired one `403 FILE_LINK_EXPIRED`; a
    file deleted since is `404 FILE_NOT_FOUND`.
    """
    try:
        link = _link(fileId, tenant, expires, disposition)
        content = await service.open_link(session, link, signature or "")
    except LinkRefused as refused:
        # A refused link is forbidden, whatever the status table says of unknown codes.
        return V1JSONResponse(envelope(refused.code, refused.message), status_code=403)
    return Response(
        content.data,
        media_type=content.file.content_type,
        headers={
            "Content-Disposition": _content_disposition(link.disposition, content.file.filename),
            "Cache-Control": "private, no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )
