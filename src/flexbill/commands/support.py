"""What every CLI command shares: one transaction per command, JSON or plain output, and
errors printed as the /v1 error envelope with a non-zero exit."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Awaitable, Callable
from enum import StrEnum
from typing import Annotated, Any, TypeVar

import typer
from sqlalchemy.ext.asyncio import AsyncSession

from flexbill.config import get_settings
from flexbill.core.db import Database
from flexbill.core.errors import FlexbillError

T = TypeVar("T")

JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]


def in_transaction(work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    async def run() -> T:
        database = Database(get_settings().database_url)
        try:
            async with database.transaction() as session:
                return await work(session)
        finally:
            await database.dispose()

    try:
        return asyncio.run(run())
    except FlexbillError as error:
        details = [{"path": d.path, "message": d.message, "code": d.code} for d in error.details]
        print(
            json.dumps(
                {"error": {"code": error.code, "message": error.message, "details": details}}
            ),
            file=sys.stderr,
        )
        raise typer.Exit(code=1) from None


def print_data(data: dict[str, Any], as_json: bool) -> None:
    if as_json:
        print(json.dumps(data))
    else:
        for key, value in data.items():
            print(f"{key}: {value}")


class Mode(StrEnum):
    LIVE = "live"
    TEST = "test"


TenantOption = Annotated[str, typer.Option("--tenant", help="Business unit ID (the Tenant-ID).")]
ModeOption = Annotated[Mode, typer.Option("--mode", help="The environment: live or test.")]


def print_rows(
    name: str, rows: list[dict[str, Any]], as_json: bool, line: Callable[[dict[str, Any]], str]
) -> None:
    """A list: ``{name: rows}`` as JSON, or one ``line(row)`` per row."""
    if as_json:
        print(json.dumps({name: rows}))
        return
    for row in rows:
        print(line(row))
