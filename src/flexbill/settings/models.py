"""The stored settings: one row per tenant holding the whole settings document as JSON.

A document rather than a column per setting, because settings are read whole (every
billing run and order needs several sections at once), change rarely (an administrator
saves a form), and keep growing as features arrive: a new setting is a new field with a
default in ``rules.py``, readable from every stored document, with no schema migration.
Renaming or removing a field, on the other hand, needs a data migration that rewrites
the documents, because a stored document is validated against the current model.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, String
from sqlalchemy.orm import Mapped, mapped_column

from flexbill.core.models import Base, TenantOwned, UTCDateTime


class TenantSettings(TenantOwned, Base):
    """The settings a tenant saved; a tenant without a row has the defaults.

    ``document`` is ``BusinessSettings.document()``: every field, defaults included, so a
    later change of a default never changes rules a business unit has already saved.
    """

    __tablename__ = "tenant_settings"

    document: Mapped[dict[str, Any]] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_by: Mapped[str] = mapped_column(String(80))
