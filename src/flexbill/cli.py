"""The ``flexbill`` command. Each command is one transaction and can be used in scripts:
``--json`` prints machine-readable output, errors exit non-zero."""

from __future__ import annotations

import asyncio
import json
import signal
from datetime import UTC, datetime
from typing import Annotated, Any

import typer
from sqlalchemy.ext.asyncio import AsyncSession

from flexbill.commands import licenses as license_commands
from flexbill.commands import mail as mail_commands
from flexbill.commands import webhooks as webhook_commands
from flexbill.commands.support import JsonFlag, in_transaction, print_data
from flexbill.config import get_settings
from flexbill.core import migrate as migrations
from flexbill.core.db import Database
from flexbill.tenancy import service as tenancy
from flexbill.tenancy.models import ApiKey

app = typer.Typer(
    help="flexbill: self-hosted subscription commerce.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
api_keys_app = typer.Typer(help="Issue, list and revoke API keys.", no_args_is_help=True)
app.add_typer(api_keys_app, name="api-keys")
clock_app = typer.Typer(help="Test clocks of a test environment.", no_args_is_help=True)
app.add_typer(clock_app, name="clock")
app.add_typer(mail_commands.app, name="mail")
app.add_typer(webhook_commands.app, name="webhooks")
app.add_typer(license_commands.app, name="licenses")


@app.command()
def migrate() -> None:
    """Bring the database schema up to date."""
    migrations.upgrade(get_settings().database_url)
    print("database is up to date")


@app.command()
def bootstrap(as_json: JsonFlag = False) -> None:
    """Create the first organization and business unit if missing, and issue a fresh live
    and test API key with every permission."""
    migrations.upgrade(get_settings().database_url)
    result = in_transaction(lambda s: tenancy.bootstrap(s, region=get_settings().region))
    print_data(
        {
            "tenantId": result.business_unit.id,
            "apiKey": result.live_key.secret,
            "testApiKey": result.test_key.secret,
        },
        as_json,
    )


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    worker: Annotated[
        bool,
        typer.Option(
            "--worker/--no-worker",
            help="Also run the job worker in this process (turn off when separate "
            "`flexbill worker` processes do the work).",
        ),
    ] = True,
) -> None:
    """Migrate the database, create the first business unit on the first run, and serve."""
    import uvicorn

    from flexbill.app import create_app

    settings = get_settings()
    migrations.upgrade(settings.database_url)
    _welcome(host, port)
    uvicorn.run(
        create_app(settings, with_worker=worker),
        host=host,
        port=port,
        log_level="info",
        proxy_headers=True,
        forwarded_allow_ips=settings.trusted_proxies,
    )


@app.command("worker")
def run_worker(
    once: Annotated[
        bool, typer.Option("--once", help="Run the jobs due now, then exit (for cron or tests).")
    ] = False,
) -> None:
    """Run queued jobs and the periodic schedule until stopped (Ctrl-C). Any number of
    workers may share one PostgreSQL database."""
    from flexbill.worker.handlers import worker

    settings = get_settings()
    migrations.upgrade(settings.database_url)

    async def run() -> int:
        database = Database(settings.database_url)
        try:
            if once:
                return await worker(database).run_until_idle()
            stop = asyncio.Event()
            loop = asyncio.get_running_loop()
            for stop_signal in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(stop_signal, stop.set)
            await worker(database).run_forever(stop)
            return 0
        finally:
            await database.dispose()

    ran = asyncio.run(run())
    if once:
        print(f"{ran} job(s) run")


@clock_app.command("advance")
def advance_clock(
    tenant: Annotated[str, typer.Option(help="Business unit ID (the Tenant-ID).")],
    clock: Annotated[str, typer.Option("--clock", help="Test clock ID.")],
    to: Annotated[
        datetime, typer.Option("--to", help="The later time, e.g. 2025-06-01T00:00:00+00:00.")
    ],
    as_json: JsonFlag = False,
) -> None:
    """Advance a test clock of the business unit's test environment: everything due for its
    customers in between happens first, day by day."""
    from flexbill.billing import test_clocks

    until = to if to.tzinfo is not None else to.replace(tzinfo=UTC)

    async def work(session: AsyncSession) -> dict[str, Any]:
        ctx = await tenancy.environment_context(session, tenant, "test")
        moved = await test_clocks.advance(session, ctx, clock, until)
        return {"testClockId": moved.id, "frozenTime": moved.frozen_time.isoformat()}

    print_data(in_transaction(work), as_json)


def _welcome(host: str, port: int) -> None:
    async def first_unit(session: AsyncSession) -> tenancy.Bootstrap | str | None:
        unit = await tenancy.first_business_unit(session)
        if unit is None:
            return await tenancy.bootstrap(session, region=get_settings().region)
        return unit.id

    found = in_transaction(first_unit)
    base = f"http://{host}:{port}"
    print(f"\nflexbill {base}  (API docs: {base}/docs)")
    if isinstance(found, tenancy.Bootstrap):
        tenant_id, key = found.business_unit.id, found.live_key.secret
        print("First start: created your organization, business unit and API keys.")
        print("The keys are shown only now; store them.\n")
        print(f"  Tenant-ID     {tenant_id}")
        print(f"  Live API key  {found.live_key.secret}")
        print(f"  Test API key  {found.test_key.secret}\n")
    else:
        tenant_id, key = found or "", "YOUR_API_KEY"
        print(f"  Tenant-ID     {tenant_id}")
        print("  API keys were shown on the first start; `flexbill bootstrap` issues new ones.\n")
    print("Try it:")
    print(f'  curl -X GET "{base}/v1/customers" \\')
    print(f'    -H "Authorization: Bearer {key}" \\')
    print(f'    -H "Tenant-ID: {tenant_id}" \\')
    print('    -H "Content-Type: application/json"\n', flush=True)


def _key_data(key: ApiKey, mode: str) -> dict[str, Any]:
    return {
        "keyId": key.id,
        "name": key.name,
        "mode": mode,
        "prefix": key.display_prefix,
        "permissions": key.permissions,
        "tier": key.tier,
        "allowedIps": key.allowed_ips,
        "expiresAt": key.expires_at.isoformat() if key.expires_at else None,
        "revokedAt": key.revoked_at.isoformat() if key.revoked_at else None,
    }


@api_keys_app.command("create")
def create_key(
    tenant: Annotated[str, typer.Option(help="Business unit ID (the Tenant-ID).")],
    mode: Annotated[str, typer.Option(help="live or test.")] = "live",
    tier: Annotated[str, typer.Option(help="starter, growth or enterprise.")] = "growth",
    permission: Annotated[
        list[str] | None, typer.Option(help="Repeat for each permission; default '*'.")
    ] = None,
    allow_ip: Annotated[
        list[str] | None, typer.Option(help="Trusted IP or CIDR; repeat for several.")
    ] = None,
    name: Annotated[str, typer.Option(help="A label for people.")] = "",
    expires_at: Annotated[
        datetime | None,
        typer.Option(help="Expiry, ISO 8601 with a zone.", formats=["%Y-%m-%dT%H:%M:%S%z"]),
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Issue an API key. The secret is printed once."""
    issued = in_transaction(
        lambda s: tenancy.create_api_key(
            s, business_unit_id=tenant, mode=mode, tier=tier, permissions=permission or ["*"],
            allowed_ips=allow_ip or [], expires_at=expires_at, name=name,
        )
    )  # fmt: skip
    print_data({"apiKey": issued.secret, "keyId": issued.record.id}, as_json)


@api_keys_app.command("list")
def list_keys(
    tenant: Annotated[str, typer.Option(help="Business unit ID (the Tenant-ID).")],
    as_json: JsonFlag = False,
) -> None:
    """List a business unit's keys (both environments); secrets are never shown."""
    keys = in_transaction(lambda s: tenancy.list_api_keys(s, business_unit_id=tenant))
    rows = [_key_data(key, mode) for key, mode in keys]
    if as_json:
        print(json.dumps({"apiKeys": rows}))
        return
    for row in rows:
        state = "revoked" if row["revokedAt"] else "active"
        granted = ",".join(row["permissions"])
        print(f"{row['keyId']}  {row['prefix']}…  {row['mode']}  {row['tier']}  {state}  {granted}")


@api_keys_app.command("revoke")
def revoke_key(
    key_id: Annotated[str, typer.Argument(help="The keyId to revoke.")],
    tenant: Annotated[str, typer.Option(help="Business unit ID (the Tenant-ID).")],
    as_json: JsonFlag = False,
) -> None:
    """Revoke a key at once."""
    key, mode = in_transaction(
        lambda s: tenancy.revoke_api_key(s, business_unit_id=tenant, key_id=key_id)
    )
    print_data(_key_data(key, mode), as_json)


def main() -> None:
    app()
