"""The service other domains call: domain names, minor units, the caller's transaction."""

from __future__ import annotations

import pytest

from flexbill.core.db import Database
from flexbill.core.errors import ValidationFailed
from flexbill.settings.rules import BusinessSettings, LateFeeType, PaymentTerms
from flexbill.settings.service import get_settings, update_settings
from flexbill.tenancy.context import TenantContext
from flexbill.tenancy.service import authenticate
from tests.support import Tenant


async def context_of(database: Database, tenant: Tenant) -> TenantContext:
    async with database.transaction() as session:
        return await authenticate(
            session, secret=tenant.live_key, business_unit_id=tenant.id, client_ip=None
        )


async def test_defaults_until_saved_then_what_was_saved(database: Database, tenant: Tenant) -> None:
    ctx = await context_of(database, tenant)
    async with database.transaction() as session:
        assert await get_settings(session, ctx) == BusinessSettings(currency="EUR")
    async with database.transaction() as session:
        saved = await update_settings(
            session,
            ctx,
            {"late_fees": {"enabled": True, "amount": 1250}, "payment_terms": "net_14"},
        )
        # Read back in the same transaction, as a billing job would.
        assert await get_settings(session, ctx) == saved
    async with database.transaction(write=False) as session:
        settings = await get_settings(session, ctx)
    assert settings == saved
    assert settings.updated_at is not None
    assert (settings.late_fees.type, settings.late_fees.amount) == (LateFeeType.FLAT, 1250)
    assert settings.payment_terms is PaymentTerms.NET_14
    assert settings.payment_terms.days == 14


async def test_a_refused_update_writes_nothing_even_if_the_caller_commits(
    database: Database, tenant: Tenant
) -> None:
    ctx = await context_of(database, tenant)
    async with database.transaction() as session:
        with pytest.raises(ValidationFailed):
            await update_settings(session, ctx, {"vat": {"rate": 19}, "buyout": {"method": "x"}})
    async with database.transaction(write=False) as session:
        assert (await get_settings(session, ctx)).updated_at is None
