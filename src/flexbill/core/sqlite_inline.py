"""A SQLite dialect for the async engine that runs ``sqlite3`` inline on the event loop.

Reads in WAL mode never wait for a lock, and a lookup by key takes microseconds, so handing
each call to a worker thread (as ``aiosqlite`` does) costs far more than the call itself
(bench/README.md). Only read sessions use this dialect; writes keep ``aiosqlite`` because a
write may wait for SQLite's write lock, and waiting inline would stop the event loop.

The engine serves ORM sessions (``AsyncSession``). ``AsyncConnection.execute`` insists on a
driver that awaits and refuses this one with ``AwaitRequired``, loudly.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from sqlalchemy import pool
from sqlalchemy.dialects import registry
from sqlalchemy.dialects.sqlite.pysqlite import SQLiteDialect_pysqlite
from sqlalchemy.engine import URL


class _Cursor(sqlite3.Cursor):
    async def _async_soft_close(self) -> None:
        """What SQLAlchemy's async results call on an adapted cursor; nothing to do here."""


class _Connection(sqlite3.Connection):
    def cursor(self, factory: Any = _Cursor) -> _Cursor:  # type: ignore[override]
        cursor: _Cursor = super().cursor(factory)
        return cursor


class SQLiteDialect_inline(SQLiteDialect_pysqlite):  # noqa: N801 - SQLAlchemy's naming
    driver = "inline"
    is_async = True
    supports_statement_cache = True

    def create_connect_args(self, url: URL) -> Any:
        args, kwargs = super().create_connect_args(url)
        kwargs["factory"] = _Connection
        return args, kwargs

    @classmethod
    def get_pool_class(cls, url: URL) -> type[pool.Pool]:
        # Waiting for a free connection must yield to the event loop, never block it.
        return pool.AsyncAdaptedQueuePool

    def get_driver_connection(self, connection: Any) -> Any:
        return connection


DRIVERNAME = "sqlite+inline"
registry.register("sqlite.inline", __name__, "SQLiteDialect_inline")
