"""`flexbill mail …`: the outgoing e-mails, sent or kept (without an SMTP server, in
development, e-mails are kept and read here)."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer
from sqlalchemy.ext.asyncio import AsyncSession

from flexbill.commands.support import JsonFlag, in_transaction, print_data, print_rows
from flexbill.mail import outbox
from flexbill.mail.models import OutgoingMail
from flexbill.mail.queries import get_mail, list_mails

app = typer.Typer(
    help="Outgoing e-mail: list and read what was sent or kept, send a test.",
    no_args_is_help=True,
)


def _moment(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def _summary(mail: OutgoingMail) -> dict[str, Any]:
    return {
        "mailId": mail.id,
        "tenantId": mail.tenant_id,
        "template": mail.template,
        "from": mail.sender,
        "to": mail.recipient,
        "subject": mail.subject,
        "status": mail.status,
        "attempts": mail.attempts,
        "lastError": mail.last_error,
        "nextAttemptAt": _moment(mail.next_attempt_at),
        "sentAt": _moment(mail.sent_at),
        "messageId": mail.message_id,
        "createdAt": _moment(mail.created_at),
    }


@app.command("list")
def list_command(
    status: Annotated[
        str | None, typer.Option(help="Only e-mails in this status: queued, sent, failed, kept.")
    ] = None,
    to: Annotated[str | None, typer.Option("--to", help="Only e-mails to this address.")] = None,
    limit: Annotated[int, typer.Option(help="At most this many (1 to 1000).")] = 50,
    as_json: JsonFlag = False,
) -> None:
    """The newest e-mails first."""

    async def work(session: AsyncSession) -> list[dict[str, Any]]:
        mails = await list_mails(session, status=status, to=to, limit=limit)
        return [_summary(mail) for mail in mails]

    def line(row: dict[str, Any]) -> str:
        return (
            f"{row['mailId']}  {row['createdAt']}  {row['status']:<6}  {row['template']}  "
            f"{row['to']}  {row['subject']}"
        )

    print_rows("mails", in_transaction(work), as_json, line)


@app.command("show")
def show_command(
    mail_id: Annotated[str, typer.Argument(help="The mailId (from `flexbill mail list`).")],
    html: Annotated[
        bool, typer.Option("--html", help="Print the HTML part, not the text.")
    ] = False,
    as_json: JsonFlag = False,
) -> None:
    """One e-mail: its headers, where it stands, and its text (or HTML)."""

    async def work(session: AsyncSession) -> dict[str, Any]:
        mail = await get_mail(session, mail_id)
        return {
            **_summary(mail),
            "date": _moment(mail.created_at),
            "textBody": mail.text_body,
            "htmlBody": mail.html_body,
        }

    data = in_transaction(work)
    if as_json:
        print(json.dumps(data))
        return
    print(f"From: {data['from']}")
    print(f"To: {data['to']}")
    print(f"Subject: {data['subject']}")
    print(f"Date: {data['date']}")
    print(f"Message-ID: {data['messageId']}")
    print(f"Status: {data['status']} (attempts: {data['attempts']})")
    for label, key in (("Sent at", "sentAt"), ("Next attempt", "nextAttemptAt")):
        if data[key] is not None:
            print(f"{label}: {data[key]}")
    if data["lastError"] is not None:
        print(f"Last error: {data['lastError']}")
    print()
    print(data["htmlBody"] if html else data["textBody"], end="")


@app.command("send-test")
def send_test_command(
    to: Annotated[str, typer.Option("--to", help="The address to send the test e-mail to.")],
    as_json: JsonFlag = False,
) -> None:
    """Queue a test e-mail; the worker sends it, or keeps it without an SMTP server."""

    async def work(session: AsyncSession) -> str:
        return await outbox.send(session, None, template="test", to=to, data={})

    print_data({"mailId": in_transaction(work), "status": "queued"}, as_json)
