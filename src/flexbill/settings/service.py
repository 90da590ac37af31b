"""Reading and changing a tenant's settings. Both work inside the caller's transaction.

Orders, billing and subscriptions read the rules through ``get_settings``; faces, the
dashboard and the CLI change them through ``update_settings``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from flexbill.core import clock
from flexbill.settings.models import TenantSettings
from flexbill.settings.patching import apply_patch
from flexbill.settings.rules import BusinessSettings
from flexbill.tenancy.context import TenantContext


def _settings_of(row: TenantSettings | None, ctx: TenantContext) -> BusinessSettings:
    if row is None:
        return BusinessSettings(currency=ctx.currency)
    return BusinessSettings.from_document(
        row.document, currency=ctx.currency, updated_at=row.updated_at
    )


async def get_settings(session: AsyncSession, ctx: TenantContext) -> BusinessSettings:
    """The tenant's settings; the defaults while it has never saved any."""
    # By primary key: a second call in the same session costs no query.
    row = await session.get(TenantSettings, ctx.tenant_id)
    return _settings_of(row, ctx)


async def update_settings(
    session: AsyncSession, ctx: TenantContext, patch: Mapping[str, Any]
) -> BusinessSettings:
    """Apply ``patch`` (a merge patch in the domain's field names and units, see
    ``patching.py``) and store the result. Raises ``VALIDATION_ERROR`` before writing
    anything when the resulting settings break a rule."""
    # Locked while we merge, so that two concurrent patches both take effect.
    row = await session.get(TenantSettings, ctx.tenant_id, with_for_update=True)
    now = clock.now()
    changed = apply_patch(_settings_of(row, ctx), patch).model_copy(update={"updated_at": now})
    if row is None:
        try:
            async with session.begin_nested():
                session.add(
                    TenantSettings(
                        tenant_id=ctx.tenant_id, document=changed.document(),
                        updated_at=now, updated_by=ctx.actor,
                    )
                )  # fmt: skip
        except IntegrityError:
            # A concurrent first save won (there was no row to lock): its row exists now,
            # so this patch applies on top of it, as if it had come second.
            return await update_settings(session, ctx, patch)
    else:
        row.document = changed.document()
        row.updated_at = now
        row.updated_by = ctx.actor
        await session.flush()
    return changed
