"""E-mails queued through ``outbox.send`` and sent by the worker to a real SMTP server on
loopback: headers and both parts of each template, retries with backoff while the server
is silent or down, the last try, a final refusal, TLS (STARTTLS and implicit) with a login,
and development without a server. On both databases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from flexbill.core import clock
from flexbill.core.db import Database
from flexbill.core.errors import FlexbillError, ValidationFailed
from flexbill.core.jobs import JobStatus, backoff
from flexbill.mail import outbox, sending
from flexbill.worker.registry import REGISTRY
from flexbill.worker.runner import Worker
from tests.mail.support import (
    REFUSED_MAILBOX,
    Certificates,
    Configure,
    authenticator,
    free_port,
    jobs,
    mail,
    mails,
    make_certificates,
    silent_server,
    smtp_server,
)
from tests.mail.test_templates import INVOICE, LICENSE, PAYMENT, TRIAL, WEBHOOK
from tests.orders.support import tenant_context
from tests.support import Tenant

T0 = datetime(2025, 3, 10, 9, 0, tzinfo=UTC)
SENDER = "Acme Rentals <billing@acme.example>"


@pytest.fixture(scope="module")
def certificates(tmp_path_factory: pytest.TempPathFactory) -> Certificates:
    return make_certificates(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def trusting(monkeypatch: pytest.MonkeyPatch, certificates: Certificates) -> None:
    """Clients trust the test certificate authority (as an operator would with a
    company CA), for the duration of the test."""
    monkeypatch.setenv("SSL_CERT_FILE", str(certificates.authority))


async def queue(
    database: Database, to: str, template: str = "test", data: dict[str, Any] | None = None,
    tenant_id: str | None = None,
) -> str:  # fmt: skip
    async with database.transaction() as session:
        return await outbox.send(session, tenant_id, template=template, to=to, data=data or {})


async def work(database: Database) -> int:
    return await Worker(database, REGISTRY).run_until_idle()


def plain_server(configure: Configure, port: int, **more: Any) -> None:
    configure(smtp_host="127.0.0.1", smtp_port=port, smtp_security="none", **more)


async def test_each_template_arrives_with_its_headers_and_both_parts(
    database: Database, tenant: Tenant, configure: Configure
) -> None:
    ctx = await tenant_context(database, tenant)
    port = free_port()
    plain_server(configure, port)
    letters = {
        "invoice_issued": {**INVOICE, "company_name": "Müller & Söhne"}, "payment_failed": PAYMENT, "webhook_endpoint_disabled": WEBHOOK,
        "license_key": LICENSE, "trial_validation": TRIAL, "test": {},
    }  # fmt: skip
    with clock.frozen(T0), smtp_server(port) as inbox:
        async with database.transaction() as session:
            for template, data in letters.items():
                tenant_id = None if template == "test" else ctx.tenant_id
                to = f"{template.replace('_', '.')}@example.com"
                await outbox.send(session, tenant_id, template=template, to=to, data=data)
        assert {(m.status, m.attempts) for m in await mails(database)} == {("queued", 0)}
        assert await work(database) == 6
        assert await work(database) == 0  # a sent e-mail is never sent again

    rows = await mails(database)
    assert len(inbox.messages) == 6
    received = {message.envelope_to[0]: message for message in inbox.messages}
    for row in rows:
        message = received[row.recipient]
        assert (row.status, row.attempts, row.sent_at, row.last_error) == ("sent", 1, T0, None)
        assert row.next_attempt_at is None
        assert row.tenant_id == (None if row.template == "test" else ctx.tenant_id)
        assert message.envelope_from == "billing@acme.example"
        assert message.message["From"] == SENDER
        assert message.message["To"] == row.recipient
        assert message.message["Subject"] == row.subject
        assert message.message["Message-ID"] == row.message_id == f"<{row.id}@acme.example>"
        assert message.message["Date"] == "Mon, 10 Mar 2025 09:00:00 +0000"
        assert message.message["Auto-Submitted"] == "auto-generated"
        assert message.message.get_content_type() == "multipart/alternative"
        assert message.part("text/plain") == row.text_body
        assert message.part("text/html") == row.html_body

    invoice = received["invoice.issued@example.com"]
    assert invoice.message["Subject"] == "Invoice INV-2025-0042 from Müller & Söhne"
    assert (
        "Müller & Söhne has issued invoice INV-2025-0042 for 71.39 EUR, due on 2025-03-24."
    ) in invoice.part("text/plain")
    assert "<p>Kind regards,<br>\nMüller &amp; Söhne</p>" in invoice.part("text/html")
    failed = received["payment.failed@example.com"]
    assert failed.message["Subject"] == "Your payment of 1,234.50 USD to Acme Rentals failed"
    license_key = received["license.key@example.com"]
    assert "9b2f7c1e-3c1d-4f4e-9a59-1b2c3d4e5f60" in license_key.part("text/plain")
    assert [job.status for job in await jobs(database)] == [JobStatus.SUCCEEDED] * 6


async def test_a_silent_or_stopped_server_is_tried_again_with_backoff_until_it_answers(
    database: Database, configure: Configure
) -> None:
    port = free_port()  # nothing listens here until the server starts
    with clock.frozen(T0):
        with silent_server() as silent:
            plain_server(configure, silent, smtp_timeout_seconds=0.2)
            mail_id = await queue(database, "ops@example.com")
            assert await work(database) == 1
        first = await mail(database, mail_id)
        assert (first.status, first.attempts, first.sent_at) == ("queued", 1, None)
        assert (
            first.last_error == "SMTPServerDisconnected: Connection unexpectedly closed: timed out"
        )
        assert first.next_attempt_at == T0 + timedelta(seconds=10)

        plain_server(configure, port)
        assert await work(database) == 0  # not due yet
        clock.advance(timedelta(seconds=10))
        assert await work(database) == 1
        second = await mail(database, mail_id)
        assert (second.status, second.attempts) == ("queued", 2)
        assert second.last_error == "ConnectionRefusedError: [Errno 111] Connection refused"
        assert second.next_attempt_at == T0 + timedelta(seconds=10 + 40)

        with smtp_server(port) as inbox:
            clock.advance(timedelta(seconds=40))
            assert await work(database) == 1
        sent = await mail(database, mail_id)
    assert (sent.status, sent.attempts, sent.sent_at) == ("sent", 3, T0 + timedelta(seconds=50))
    assert (sent.last_error, sent.next_attempt_at) == (None, None)
    assert [m.message["Message-ID"] for m in inbox.messages] == [sent.message_id]
    assert [(job.dedup_key, job.status) for job in await jobs(database)] == [
        (f"mail.send:{mail_id}:{attempt}", JobStatus.SUCCEEDED) for attempt in (1, 2, 3)
    ]


async def test_after_the_last_try_the_email_is_failed(
    database: Database, configure: Configure
) -> None:
    plain_server(configure, free_port())  # refused every time
    with clock.frozen(T0):
        mail_id = await queue(database, "ops@example.com")
        for attempt in range(1, sending.MAX_ATTEMPTS + 1):
            assert await work(database) == 1
            row = await mail(database, mail_id)
            assert row.attempts == attempt
            if attempt < sending.MAX_ATTEMPTS:
                assert (row.status, row.next_attempt_at) == (
                    "queued",
                    clock.now() + backoff(attempt),
                )
                clock.advance(backoff(attempt))
        assert (
            clock.now() - T0
            == timedelta(seconds=10 + 40 + 160 + 640 + 2560 + 10240) + timedelta(hours=6) * 5
        )
        clock.advance(timedelta(days=7))
        assert await work(database) == 0
    failed = await mail(database, mail_id)
    assert (failed.status, failed.attempts, failed.next_attempt_at) == ("failed", 12, None)
    assert failed.last_error == "ConnectionRefusedError: [Errno 111] Connection refused"


async def test_a_recipient_the_server_refuses_for_good_fails_at_once(
    database: Database, configure: Configure
) -> None:
    port = free_port()
    plain_server(configure, port)
    with clock.frozen(T0), smtp_server(port) as inbox:
        refused = await queue(database, REFUSED_MAILBOX)
        accepted = await queue(database, "ops@example.com")
        assert await work(database) == 2
    row = await mail(database, refused)
    assert (row.status, row.attempts, row.next_attempt_at) == ("failed", 1, None)
    assert row.last_error == "recipient refused: 550 5.1.1 No such mailbox"
    assert (await mail(database, accepted)).status == "sent"
    assert [m.envelope_to for m in inbox.messages] == [["ops@example.com"]]


@pytest.mark.usefixtures("trusting")
async def test_starttls_with_a_login_and_a_wrong_password_first(
    database: Database, configure: Configure, certificates: Certificates
) -> None:
    port = free_port()
    configure(
        smtp_host="127.0.0.1", smtp_port=port, smtp_security="starttls",
        smtp_username="flexbill", smtp_password="wrong",
    )  # fmt: skip
    server = smtp_server(
        port, tls_context=certificates.server, require_starttls=True,
        authenticator=authenticator("flexbill", "s3cret"), auth_require_tls=True,
    )  # fmt: skip
    with clock.frozen(T0), server as inbox:
        mail_id = await queue(database, "ops@example.com")
        assert await work(database) == 1
        refused = await mail(database, mail_id)
        assert (refused.status, refused.attempts) == ("queued", 1)
        assert refused.last_error == (
            "SMTPAuthenticationError: 535 5.7.8 Authentication credentials invalid"
        )
        configure(smtp_password="s3cret")
        clock.advance(timedelta(seconds=10))
        assert await work(database) == 1
    sent = await mail(database, mail_id)
    assert (sent.status, sent.attempts) == ("sent", 2)
    assert [(m.login, m.message["Message-ID"]) for m in inbox.messages] == [
        ("flexbill", sent.message_id)
    ]


async def test_implicit_tls_verifies_the_servers_certificate(
    database: Database, configure: Configure, certificates: Certificates,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    port = free_port()
    configure(smtp_host="127.0.0.1", smtp_port=port, smtp_security="tls")
    monkeypatch.setenv("SSL_CERT_FILE", str(Path(__file__)))  # trusts no authority at all
    with clock.frozen(T0), smtp_server(port, ssl_context=certificates.server) as inbox:
        mail_id = await queue(database, "ops@example.com")
        assert await work(database) == 1
        untrusted = await mail(database, mail_id)
        assert (untrusted.status, untrusted.attempts) == ("queued", 1)
        assert untrusted.last_error is not None
        assert "CERTIFICATE_VERIFY_FAILED" in untrusted.last_error
        assert inbox.messages == []

        monkeypatch.setenv("SSL_CERT_FILE", str(certificates.authority))
        clock.advance(timedelta(seconds=10))
        assert await work(database) == 1
    assert (await mail(database, mail_id)).status == "sent"
    assert len(inbox.messages) == 1


async def test_without_an_smtp_server_emails_are_kept_and_nothing_outlives_a_rollback(
    database: Database, configure: Configure
) -> None:
    configure(smtp_host=None)

    async def failing_change() -> None:
        async with database.transaction() as session:
            await outbox.send(session, None, template="test", to="ops@example.com", data={})
            raise RuntimeError("the change that wanted the e-mail failed")

    with pytest.raises(RuntimeError):
        await failing_change()
    assert (await mails(database), await jobs(database)) == ([], [])

    async with database.transaction() as session:
        with pytest.raises(FlexbillError) as unknown:
            await outbox.send(session, None, template="welcome", to="ops@example.com", data={})
        with pytest.raises(ValidationFailed) as invalid:
            await outbox.send(session, None, template="test", to="ops@@example.com", data={})
    assert unknown.value.code == "TEMPLATE_NOT_FOUND"
    assert [detail.path for detail in invalid.value.details] == ["to"]
    assert await mails(database) == []

    with clock.frozen(T0):
        mail_id = await queue(database, "Ops@Example.com")
        assert await work(database) == 1
    kept = await mail(database, mail_id)
    assert (kept.status, kept.attempts, kept.sent_at, kept.next_attempt_at) == (
        "kept",
        0,
        None,
        None,
    )
    assert kept.recipient == "Ops@example.com"
    assert kept.subject == "flexbill test e-mail"
    assert [job.status for job in await jobs(database)] == [JobStatus.SUCCEEDED]
