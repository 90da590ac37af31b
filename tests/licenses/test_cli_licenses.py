"""`flexbill licenses …` on a real database (in process, through Typer's runner)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable

from typer.testing import CliRunner

from flexbill.cli import app
from flexbill.core.db import Database
from tests.support import Tenant, new_tenant


def _tenant(url: str) -> Tenant:
    async def make() -> Tenant:
        database = Database(url)
        try:
            return await new_tenant(database)
        finally:
            await database.dispose()

    return asyncio.run(make())


def test_products_keys_and_licenses(database_url: str, configure: Callable[..., None]) -> None:
    configure(database_url=database_url)
    tenant = _tenant(database_url)
    runner = CliRunner()
    where = ["--tenant", tenant.id, "--json"]
    added = runner.invoke(
        app, ["licenses", "products", "add", "Pro", "--type", "Inner credit", "--unit", "tokens",
              *where],
    )  # fmt: skip
    assert added.exit_code == 0, added.output
    product = json.loads(added.stdout)
    assert (product["type"], product["unit"]) == ("Inner credit", "tokens")
    listed = runner.invoke(app, ["licenses", "products", "list", *where])
    assert [p["id"] for p in json.loads(listed.stdout)["licenseProducts"]] == [product["id"]]
    issued = json.loads(
        runner.invoke(app, ["licenses", "keys", "issue", product["id"], *where]).stdout
    )
    assert len(issued["key"]) == 36
    revoked = runner.invoke(
        app, ["licenses", "keys", "revoke", product["id"], issued["id"], *where]
    )
    assert json.loads(revoked.stdout)["revokedAt"] is not None
    empty = runner.invoke(app, ["licenses", "list", *where])
    assert json.loads(empty.stdout) == {"licenses": []}
    unknown = runner.invoke(app, ["licenses", "keys", "issue", "lprod_nope", *where])
    assert unknown.exit_code == 1
