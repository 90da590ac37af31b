"""Engines and sessions. One request, job or CLI command is one transaction.

Reads and writes use separate engines. Read sessions run in autocommit mode: a GET needs
no BEGIN/COMMIT round trips, and each of its statements sees committed data.

SQLite allows one writer at a time. Write transactions therefore start with
``BEGIN IMMEDIATE``, so concurrent writers queue on SQLite's busy timeout instead of failing
when a read lock cannot be upgraded; reads run in parallel with the writer under WAL.

No statement on any engine binds text holding the NUL character: PostgreSQL cannot store
it (a client's ``"broken\u0000screen"`` would be a server error there, and stored as is on
SQLite), so it is refused as ``VALIDATION_ERROR`` before the statement runs, for every
field of every table at once.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, Literal

from sqlalchemy import event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from flexbill.core import sqlite_inline
from flexbill.core.errors import ValidationFailed

DatabaseKind = Literal["sqlite", "postgresql"]

SQLITE_BUSY_TIMEOUT_SECONDS = 30


def normalize_database_url(url: str) -> URL:
    """Accept ``sqlite:///file.db`` and ``postgresql://…`` with or without a driver suffix."""
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return parsed.set(drivername="sqlite+aiosqlite")
    if backend in ("postgresql", "postgres"):
        return parsed.set(drivername="postgresql+asyncpg")
    raise ValueError(f"unsupported database '{backend}': use sqlite:/// or postgresql://")


def database_kind(url: URL) -> DatabaseKind:
    return "sqlite" if url.get_backend_name() == "sqlite" else "postgresql"


NUL = "\x00"
NUL_MESSAGE = "Text may not contain the NUL character (U+0000)"


def _holds_nul(parameters: Any) -> bool:
    """Whether any text among a statement's parameters (a sequence or a mapping of values,
    or a list of those for ``executemany``) holds NUL."""
    if isinstance(parameters, str):
        return NUL in parameters
    if isinstance(parameters, dict):
        return any(_holds_nul(value) for value in parameters.values())
    if isinstance(parameters, list | tuple):
        return any(_holds_nul(value) for value in parameters)
    return False


def _refuse_nul_text(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "before_cursor_execute")
    def _check(
        _connection: Any,
        _cursor: Any,
        _statement: str,
        parameters: Any,
        _context: Any,
        _executemany: bool,
    ) -> None:
        if _holds_nul(parameters):
            raise ValidationFailed(NUL_MESSAGE)


def _sqlite_engine(url: URL, begin_statement: str | None, pool_size: int) -> AsyncEngine:
    engine = create_async_engine(
        url,
        connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS},
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_reset_on_return="rollback" if begin_statement else None,
    )

    @event.listens_for(engine.sync_engine, "connect")
    def _configure(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control away from the sqlite3 module so that BEGIN is ours.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _begin(connection: Any) -> None:
        if begin_statement:
            connection.exec_driver_sql(begin_statement)

    return engine


async def is_reachable(session: AsyncSession) -> bool:
    """Whether the database answers a trivial query."""
    try:
        await session.execute(text("SELECT 1"))
    except (SQLAlchemyError, OSError):
        return False
    return True


class Database:
    """The application's engines and session factories for one database URL."""

    def __init__(self, url: str) -> None:
        self.url = normalize_database_url(url)
        self.kind: DatabaseKind = database_kind(self.url)
        if self.kind == "sqlite":
            if self.url.database:
                Path(self.url.database).parent.mkdir(parents=True, exist_ok=True)
            self.read_engine = _sqlite_engine(
                self.url.set(drivername=sqlite_inline.DRIVERNAME), None, pool_size=16
            )
            self.write_engine = _sqlite_engine(self.url, "BEGIN IMMEDIATE", pool_size=4)
        else:
            self.read_engine = create_async_engine(
                self.url, pool_size=10, max_overflow=10, isolation_level="AUTOCOMMIT",
                pool_reset_on_return=None,
            )  # fmt: skip
            self.write_engine = create_async_engine(self.url, pool_size=10, max_overflow=10)
        _refuse_nul_text(self.read_engine)
        _refuse_nul_text(self.write_engine)
        self._readers = async_sessionmaker(self.read_engine, expire_on_commit=False)
        self._writers = async_sessionmaker(self.write_engine, expire_on_commit=False)

    def session(self, *, write: bool) -> AsyncSession:
        return (self._writers if write else self._readers)()

    @asynccontextmanager
    async def transaction(self, *, write: bool = True) -> AsyncIterator[AsyncSession]:
        """A unit of work for jobs and CLI commands: commit on success, roll back on error."""
        async with self.session(write=write) as session:
            try:
                yield session
            except BaseException:
                await session.rollback()
                raise
            await session.commit()

    async def dispose(self) -> None:
        await self.read_engine.dispose()
        await self.write_engine.dispose()
