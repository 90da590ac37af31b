"""Every database test runs twice: on a SQLite file and on a throwaway PostgreSQL cluster.

Each test gets a fresh database: a copy of a migrated SQLite file, or a PostgreSQL database
cloned from a migrated template. The PostgreSQL half is skipped, with its reason shown,
only where no PostgreSQL binaries are installed.
"""

from __future__ import annotations

import asyncio
import itertools
import shutil
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import asyncpg
import httpx
import pytest
from fastapi import FastAPI

from flexbill.app import create_app
from flexbill.config import Settings, get_settings
from flexbill.core import migrate
from flexbill.core.db import Database
from flexbill.testing.postgres import PostgresCluster, find_binaries
from tests.support import Api, Tenant, new_tenant

TEMPLATE = "flexbill_template"
_database_numbers = itertools.count()


async def _admin(cluster: PostgresCluster, *statements: str) -> None:
    connection = await asyncpg.connect(cluster.url())
    try:
        for statement in statements:
            await connection.execute(statement)
    finally:
        await connection.close()


async def _server_version(cluster: PostgresCluster) -> int:
    connection = await asyncpg.connect(cluster.url())
    try:
        return int(await connection.fetchval("SHOW server_version_num"))
    finally:
        await connection.close()


@pytest.fixture(scope="session", autouse=True)
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Files the server keeps beside its database (documents, the sandbox gateway's
    ledger) go to a temporary directory, never into the working tree."""
    path = tmp_path_factory.mktemp("data")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("FLEXBILL_DATA_DIR", str(path))
        get_settings.cache_clear()
        yield path
    get_settings.cache_clear()


@pytest.fixture
def configure(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., None]]:
    """``configure(worker_lease_seconds="1")``: server settings for this test, through the
    environment as an operator sets them (subprocesses started by the test see them too)."""

    def set_values(**values: str) -> None:
        for name, value in values.items():
            monkeypatch.setenv(f"FLEXBILL_{name.upper()}", value)
        get_settings.cache_clear()

    yield set_values
    get_settings.cache_clear()  # the environment is restored right after this


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresCluster]:
    binaries = find_binaries()
    if binaries is None:
        pytest.skip("PostgreSQL binaries are not installed; install Debian's postgresql package")
    cluster = PostgresCluster(binaries).start()
    try:
        asyncio.run(_admin(cluster, f"CREATE DATABASE {TEMPLATE}"))
        migrate.upgrade(cluster.url(TEMPLATE))
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture(scope="session")
def template_copy(postgres: PostgresCluster) -> str:
    """How test databases copy the template. PostgreSQL 15 copies through the write-ahead
    log by default: about a second per database here, against a tenth of one for a plain
    file copy (fsync is off anyway). Before 15 the file copy is all there is."""
    return " STRATEGY FILE_COPY" if asyncio.run(_server_version(postgres)) >= 150000 else ""


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "flexbill.db"
    migrate.upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        path = tmp_path / "flexbill.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        yield f"sqlite:///{path}"
        return
    cluster: PostgresCluster = request.getfixturevalue("postgres")
    copy: str = request.getfixturevalue("template_copy")
    name = f"test_{next(_database_numbers)}"
    asyncio.run(_admin(cluster, f"CREATE DATABASE {name} TEMPLATE {TEMPLATE}{copy}"))
    yield cluster.url(name)
    asyncio.run(_admin(cluster, f"DROP DATABASE {name} WITH (FORCE)"))


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(database_url=database_url, region="eu")


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[FastAPI]:
    application = create_app(settings)
    yield application
    await application.state.runtime.limiter.close()
    await application.state.runtime.database.dispose()


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


@pytest.fixture
async def database(app: FastAPI) -> Database:
    db: Database = app.state.runtime.database
    return db


@pytest.fixture
async def tenant(database: Database) -> Tenant:
    return await new_tenant(database)


@pytest.fixture
def api(client: httpx.AsyncClient, tenant: Tenant) -> Api:
    """A client authenticated with the tenant's live key (every permission)."""
    return Api(client, key=tenant.live_key, tenant_id=tenant.id)
