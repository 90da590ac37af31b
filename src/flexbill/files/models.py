"""The files table: one row per stored document, its bytes in the storage under
``storage_key``.

Deleting a file removes its row (FlexPortal documents deletion as permanent, metadata
included): no other table refers to a file, so a tombstone would keep nothing anyone can
use, and the invoice document's unique key is free again should it be rendered anew.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKeyConstraint, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from flexbill.core.models import Base, TenantOwned, Timestamped

# The server secret's table is declared beside the code that uses it (core/secrets.py);
# imported here so that ``tables.py`` gathers it with the files tables.
from flexbill.core.secrets import ServerSecret

__all__ = ["FileCategory", "FileType", "ServerSecret", "StoredFile"]

MAX_FILENAME_LENGTH = 255


class FileCategory(StrEnum):
    GENERATED = "generated"  # rendered by flexbill: contracts, invoices
    UPLOADED = "uploaded"


class FileType(StrEnum):
    CONTRACT = "contract"
    INVOICE = "invoice"
    DOCUMENT = "document"
    ATTACHMENT = "attachment"


def _list_index(column: str | None = None) -> Index:
    """What the list reads, newest first: all files, or those of one order, customer or
    type."""
    if column is None:
        return Index("ix_files_tenant_created_at", "tenant_id", "created_at", "id")
    return Index(f"ix_files_tenant_{column}_created_at", "tenant_id", column, "created_at", "id")


def _belongs_to(table: str, column: str) -> ForeignKeyConstraint:
    return ForeignKeyConstraint(["tenant_id", column], [f"{table}.tenant_id", f"{table}.id"])


class StoredFile(TenantOwned, Timestamped, Base):
    """A document of one tenant. ``sha256`` and ``size`` describe the stored bytes.

    ``invoice_id`` is set only on an invoice's own PDF, and is unique per tenant: one
    document per invoice, however often its rendering is retried.
    """

    __tablename__ = "files"
    __table_args__ = (
        _belongs_to("orders", "order_id"),
        _belongs_to("customers", "customer_id"),
        _belongs_to("invoices", "invoice_id"),
        UniqueConstraint("tenant_id", "invoice_id"),
        _list_index(),
        _list_index("order_id"),
        _list_index("customer_id"),
        _list_index("type"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    category: Mapped[str] = mapped_column(String(20))
    type: Mapped[str] = mapped_column(String(20))
    filename: Mapped[str] = mapped_column(String(MAX_FILENAME_LENGTH))
    original_filename: Mapped[str | None] = mapped_column(String(MAX_FILENAME_LENGTH), default=None)
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    storage_key: Mapped[str] = mapped_column(String(300))
    order_id: Mapped[str | None] = mapped_column(String(40), default=None)
    customer_id: Mapped[str | None] = mapped_column(String(40), default=None)
    invoice_id: Mapped[str | None] = mapped_column(String(40), default=None)
    # What made it: ``api_key:key_…`` for uploads and contracts, ``system`` for invoices.
    created_by: Mapped[str] = mapped_column(String(80))
    # Facts about the document for people (template used, invoice number).
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
