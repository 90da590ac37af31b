"""Throwaway databases for each run, so every run starts from the same empty state and
leaves nothing behind."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

from bench import aio

BACKENDS = ("sqlite", "postgresql")
DATABASE_NAME = "bench"


class BackendUnavailableError(Exception):
    """The backend cannot run on this machine; the reason is the message."""


@contextmanager
def sqlite_database() -> Iterator[str]:
    with tempfile.TemporaryDirectory(prefix="flexbill-bench-") as directory:
        yield f"sqlite:///{Path(directory) / 'bench.db'}"


async def _create_database(admin_url: str) -> None:
    import asyncpg

    connection = await asyncpg.connect(admin_url, timeout=30)
    try:
        await connection.execute(f"CREATE DATABASE {DATABASE_NAME}")
    finally:
        await connection.close()


@contextmanager
def postgresql_database() -> Iterator[str]:
    """A fresh cluster from the repository's test helper, with an empty database."""
    from flexbill.testing.postgres import PostgresCluster, find_binaries

    binaries = find_binaries()
    if binaries is None:
        raise BackendUnavailableError("PostgreSQL binaries (initdb, pg_ctl) were not found")
    cluster = PostgresCluster(binaries).start()
    try:
        aio.run(_create_database(cluster.url()))
        yield cluster.url(DATABASE_NAME)
    finally:
        cluster.stop()


def database(backend: str) -> AbstractContextManager[str]:
    """The URL of an empty database of ``backend``, removed again on exit."""
    if backend == "sqlite":
        return sqlite_database()
    if backend == "postgresql":
        return postgresql_database()
    raise ValueError(f"unknown backend {backend!r}; choose from {', '.join(BACKENDS)}")
