"""The migrations build exactly the schema the models describe, and can be undone."""

from __future__ import annotations

import asyncio

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, inspect
from sqlalchemy.ext.asyncio import create_async_engine

from flexbill.core import migrate
from flexbill.core.db import normalize_database_url
from flexbill.tables import metadata


def _inspect(url: str) -> tuple[list[object], set[str]]:
    async def run() -> tuple[list[object], set[str]]:
        engine = create_async_engine(normalize_database_url(url))

        def check(connection: Connection) -> tuple[list[object], set[str]]:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            return compare_metadata(context, metadata), set(inspect(connection).get_table_names())

        async with engine.connect() as connection:
            result = await connection.run_sync(check)
        await engine.dispose()
        return result

    return asyncio.run(run())


def test_no_drift_between_models_and_migrations(database_url: str) -> None:
    migrate.upgrade(database_url)
    differences, tables = _inspect(database_url)
    assert differences == []
    assert {"customers", "api_keys", "tenants", "business_units", "idempotency_records"} <= tables


def test_downgrade_to_nothing_and_back(database_url: str) -> None:
    migrate.downgrade(database_url, "base")
    _, tables = _inspect(database_url)
    assert tables <= {"alembic_version"}
    migrate.upgrade(database_url)
    differences, _ = _inspect(database_url)
    assert differences == []
