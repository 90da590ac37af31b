"""Files as a tenant sees them: list, read, delete, upload, and signed links to their
content. Every function works in the caller's transaction; the bytes go to the configured
storage (``storage.configured_storage``).

A new file's bytes are stored before its row is written, so a row never points at
nothing; should the transaction then roll back, the object stays behind unlisted (for
generated invoices its key is the invoice's, so a retry overwrites it).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from flexbill.config import get_settings
from flexbill.core import clock
from flexbill.core.errors import ValidationFailed
from flexbill.core.filtering import FilterSet, equals, one_of
from flexbill.core.ids import new_id
from flexbill.core.repository import TenantRepository
from flexbill.core.secrets import secret_key
from flexbill.customers.models import Customer
from flexbill.files import links
from flexbill.files.errors import (
    customer_not_found,
    delete_failed,
    file_not_found,
    file_too_large,
    unsupported_file_type,
)
from flexbill.files.models import FileCategory, FileType, StoredFile
from flexbill.files.sniffing import ALLOWED, EXTENSIONS, printable, safe_filename, sniff
from flexbill.files.storage import ObjectMissing, StorageError, configured_storage
from flexbill.orders.repository import Orders
from flexbill.tenancy.context import TenantContext

FILE_PREFIX = "file"
DEFAULT_LIMIT = 50
MAX_LIMIT = 100
UPLOADABLE = (FileType.DOCUMENT, FileType.ATTACHMENT)


class Files(TenantRepository[StoredFile]):
    model = StoredFile
    noun = "File"

    async def get(self, row_id: str, *, for_update: bool = False) -> StoredFile:
        row = await self.session.get(
            StoredFile,
            (self.tenant_id, row_id),
            with_for_update=for_update or None,
            populate_existing=for_update,
        )
        if row is None:
            raise file_not_found(row_id)
        return row


@dataclass(frozen=True)
class NewFile:
    category: FileCategory
    type: FileType
    filename: str
    content_type: str
    data: bytes
    order_id: str | None = None
    customer_id: str | None = None
    invoice_id: str | None = None
    original_filename: str | None = None
    details: Mapping[str, Any] = field(default_factory=dict)


def storage_key(tenant_id: str, file_id: str, content_type: str) -> str:
    return f"{tenant_id}/{file_id}{EXTENSIONS.get(content_type, '')}"


async def put_file(
    tenant_id: str, actor: str, new: NewFile, *, key: str | None = None
) -> StoredFile:
    """Put ``new``'s bytes in the storage (under ``key``, or one named after the new
    file) and answer its row, for the caller to add."""
    file_id = new_id(FILE_PREFIX)
    key = key or storage_key(tenant_id, file_id, new.content_type)
    await configured_storage().put(key, new.data, new.content_type)
    return StoredFile(
        tenant_id=tenant_id, id=file_id, category=new.category, type=new.type,
        filename=new.filename, original_filename=new.original_filename,
        content_type=new.content_type, size=len(new.data),
        sha256=hashlib.sha256(new.data).hexdigest(), storage_key=key, order_id=new.order_id,
        customer_id=new.customer_id, invoice_id=new.invoice_id, created_by=actor,
        details=dict(new.details),
    )  # fmt: skip


async def replace_content(row: StoredFile, data: bytes) -> StoredFile:
    """Put ``data`` in the place of ``row``'s bytes (a document rendered again)."""
    await configured_storage().put(row.storage_key, data, row.content_type)
    row.size = len(data)
    row.sha256 = hashlib.sha256(data).hexdigest()
    return row


async def store(session: AsyncSession, tenant_id: str, actor: str, new: NewFile) -> StoredFile:
    """Keep ``new``: its bytes in the storage, its row in the session."""
    row = await put_file(tenant_id, actor, new)
    session.add(row)
    await session.flush()
    return row


FILTERS = FilterSet(
    equals("orderId", StoredFile.order_id),
    equals("customerId", StoredFile.customer_id),
    one_of("type", StoredFile.type, tuple(FileType)),
)


@dataclass(frozen=True)
class FilePage:
    items: list[StoredFile]
    limit: int
    offset: int
    has_more: bool


async def list_files(
    session: AsyncSession,
    ctx: TenantContext,
    filters: Mapping[str, str],
    *,
    limit: int = DEFAULT_LIMIT,
    offset: int = 0,
) -> FilePage:
    """The tenant's files, newest first, ``offset`` rows on; ``filters`` by ``orderId``,
    ``customerId`` and ``type`` (anything else is a ``VALIDATION_ERROR``)."""
    statement = FILTERS.apply(Files(session, ctx.tenant_id).select(), filters)
    statement = (
        statement.order_by(StoredFile.created_at.desc(), StoredFile.id.desc())
        .limit(limit + 1)
        .offset(offset)
    )
    rows = list((await session.scalars(statement)).all())
    return FilePage(items=rows[:limit], limit=limit, offset=offset, has_more=len(rows) > limit)


async def get_file(session: AsyncSession, ctx: TenantContext, file_id: str) -> StoredFile:
    return await Files(session, ctx.tenant_id).get(file_id)


async def delete_file(
    session: AsyncSession, ctx: TenantContext, file_id: str, *, from_storage: bool = True
) -> StoredFile:
    """Remove the file's row and, unless told otherwise, its bytes. Raises
    ``FILE_NOT_FOUND``, or ``DELETE_FAILED`` when the storage refuses (the caller's
    transaction must then roll back, which keeps the row)."""
    row = await Files(session, ctx.tenant_id).get(file_id, for_update=True)
    await session.delete(row)
    await session.flush()
    if from_storage:
        try:
            await configured_storage().delete(row.storage_key)
        except StorageError as error:
            raise delete_failed(file_id) from error
    return row


@dataclass(frozen=True)
class FileLink:
    file: StoredFile
    url: str
    expires_at: datetime


async def file_link(
    session: AsyncSession, ctx: TenantContext, file_id: str, *, action: str, minutes: int
) -> FileLink:
    """A link to the file's content that works without an API key for ``minutes``;
    ``action`` ``view`` shows it in the browser, ``download`` saves it."""
    row = await get_file(session, ctx, file_id)
    disposition = links.DISPOSITION_OF_ACTION[action]
    link = links.new_link(ctx.tenant_id, row.id, disposition, now=clock.now(), minutes=minutes)
    url = links.url(get_settings().public_url, await secret_key(session), link)
    return FileLink(file=row, url=url, expires_at=link.expires_at)


@dataclass(frozen=True)
class Content:
    file: StoredFile
    data: bytes


async def open_link(session: AsyncSession, link: links.Link, signature: str) -> Content:
    """The file a signed link names, with its bytes. Raises ``FILE_LINK_INVALID``,
    ``FILE_LINK_EXPIRED``, or ``FILE_NOT_FOUND`` (deleted since the link was made)."""
    links.verify(await secret_key(session), link, signature, now=clock.now())
    row = await Files(session, link.tenant_id).get(link.file_id)
    try:
        data = await configured_storage().get(row.storage_key)
    except ObjectMissing:
        raise file_not_found(row.id) from None
    return Content(file=row, data=data)


@dataclass(frozen=True)
class Upload:
    data: bytes
    filename: str | None
    declared_type: str | None
    type: FileType = FileType.DOCUMENT
    order_id: str | None = None
    customer_id: str | None = None


def upload_limit() -> int:
    """The largest upload accepted, in bytes (``FLEXBILL_UPLOAD_MAX_BYTES``)."""
    return get_settings().upload_max_bytes


async def upload_file(session: AsyncSession, ctx: TenantContext, upload: Upload) -> StoredFile:
    """Keep an uploaded document or attachment, of an order or a customer if named.

    Raises ``FILE_TOO_LARGE`` past ``upload_max_bytes``, ``UNSUPPORTED_FILE_TYPE`` unless
    the bytes are a PDF, PNG, JPEG or UTF-8 text (CSV), ``ORDER_NOT_FOUND``,
    ``CUSTOMER_NOT_FOUND``, and ``VALIDATION_ERROR`` for an empty file, a type other than
    ``document`` or ``attachment``, or an order of another customer than the one named.
    """
    limit = upload_limit()
    if len(upload.data) > limit:
        raise file_too_large(limit)
    if not upload.data:
        raise ValidationFailed.field("file", "The file is empty", "too_small")
    if upload.type not in UPLOADABLE:
        raise ValidationFailed.field("type", "Uploads are of type document or attachment")
    content_type = sniff(upload.data, filename=upload.filename or "", declared=upload.declared_type)
    if content_type is None:
        raise unsupported_file_type(ALLOWED)
    customer_id = await _owner(session, ctx, upload.order_id, upload.customer_id)
    fallback = f"upload{EXTENSIONS[content_type]}"
    document = NewFile(
        category=FileCategory.UPLOADED, type=upload.type,
        filename=safe_filename(upload.filename, fallback), content_type=content_type,
        data=upload.data, order_id=upload.order_id, customer_id=customer_id,
        original_filename=printable(upload.filename),
    )  # fmt: skip
    return await store(session, ctx.tenant_id, ctx.actor, document)


async def _owner(
    session: AsyncSession, ctx: TenantContext, order_id: str | None, customer_id: str | None
) -> str | None:
    """The customer a file belongs to: the one named, or the order's."""
    if (
        customer_id is not None
        and await session.get(Customer, (ctx.tenant_id, customer_id)) is None
    ):
        raise customer_not_found(customer_id)
    if order_id is None:
        return customer_id
    order = await Orders(session, ctx.tenant_id).get(order_id)
    if customer_id is not None and customer_id != order.customer_id:
        raise ValidationFailed.field("customerId", "The order belongs to another customer")
    return order.customer_id
