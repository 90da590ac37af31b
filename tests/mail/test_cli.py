"""`flexbill mail` as an operator uses it in development, where no SMTP server is
configured: a test e-mail is queued, the worker keeps it, and the CLI lists and shows it.
On both databases."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from typing import Any

from typer.testing import CliRunner, Result

from flexbill.cli import app
from flexbill.core import clock
from flexbill.core.db import Database
from flexbill.mail import sending  # noqa: F401 (registers the handler)
from flexbill.worker.registry import REGISTRY
from flexbill.worker.runner import Worker
from tests.mail.support import Configure

T0 = datetime(2025, 3, 10, 9, 0, tzinfo=UTC)


def flexbill(*args: str, code: int = 0) -> Result:
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == code, (result.stdout, result.stderr)
    return result


def flexbill_json(*args: str) -> Any:
    return json.loads(flexbill(*args, "--json").stdout)


def error_code(result: Result) -> str:
    code: str = json.loads(result.stderr)["error"]["code"]
    return code


def run_worker(database_url: str) -> int:
    async def run() -> int:
        database = Database(database_url)
        try:
            return await Worker(database, REGISTRY).run_until_idle()
        finally:
            await database.dispose()

    return asyncio.run(run())


def test_kept_emails_are_listed_and_shown(database_url: str, configure: Configure) -> None:
    configure(database_url=database_url, smtp_host=None)
    with clock.frozen(T0):
        first = flexbill_json("mail", "send-test", "--to", "ops@example.com")
        clock.advance(timedelta(minutes=1))
        second = flexbill_json("mail", "send-test", "--to", "dev@example.com")
        clock.advance(timedelta(minutes=1))
        third = flexbill_json("mail", "send-test", "--to", "ops@example.com")
        assert first["status"] == "queued"
        assert (
            flexbill_json("mail", "list", "--status", "queued")["mails"][0]["mailId"]
            == third["mailId"]
        )
        assert run_worker(database_url) == 3

    listed = flexbill_json("mail", "list")["mails"]
    assert [m["mailId"] for m in listed] == [third["mailId"], second["mailId"], first["mailId"]]
    assert [(m["status"], m["to"], m["attempts"]) for m in listed] == [
        ("kept", "ops@example.com", 0), ("kept", "dev@example.com", 0),
        ("kept", "ops@example.com", 0),
    ]  # fmt: skip
    assert listed[2]["createdAt"] == "2025-03-10T09:00:00+00:00"
    assert listed[2]["messageId"] == f"<{first['mailId']}@acme.example>"
    assert listed[2]["from"] == "Acme Rentals <billing@acme.example>"

    only = flexbill_json(
        "mail", "list", "--status", "kept", "--to", "ops@example.com", "--limit", "1"
    )
    assert [m["mailId"] for m in only["mails"]] == [third["mailId"]]
    assert flexbill_json("mail", "list", "--status", "sent")["mails"] == []

    lines = flexbill("mail", "list", "--to", "dev@example.com").stdout.splitlines()
    assert lines == [
        f"{second['mailId']}  2025-03-10T09:01:00+00:00  kept    test  dev@example.com  "
        "flexbill test e-mail"
    ]

    shown = flexbill("mail", "show", first["mailId"]).stdout
    assert shown == (
        "From: Acme Rentals <billing@acme.example>\n"
        "To: ops@example.com\n"
        "Subject: flexbill test e-mail\n"
        "Date: 2025-03-10T09:00:00+00:00\n"
        f"Message-ID: <{first['mailId']}@acme.example>\n"
        "Status: kept (attempts: 0)\n"
        "\n"
        "This is a test e-mail from flexbill. If you can read it, outgoing e-mail works.\n"
    )
    html = flexbill("mail", "show", first["mailId"], "--html").stdout
    assert "<title>flexbill test e-mail</title>" in html
    assert flexbill_json("mail", "show", first["mailId"])["textBody"] == shown.split("\n\n")[1]


def test_mistakes_exit_non_zero_with_a_json_error(database_url: str, configure: Configure) -> None:
    configure(database_url=database_url)
    cases = [
        (("mail", "show", "mail_nope"), "NOT_FOUND"),
        (("mail", "list", "--status", "lost"), "VALIDATION_ERROR"),
        (("mail", "list", "--limit", "0"), "VALIDATION_ERROR"),
        (("mail", "send-test", "--to", "ops.example.com"), "VALIDATION_ERROR"),
    ]
    for args, code in cases:
        result = flexbill(*args, code=1)
        assert (error_code(result), result.stdout) == (code, "")
    assert flexbill_json("mail", "list")["mails"] == []
