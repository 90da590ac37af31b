"""E-mails to the business's customers: an issued invoice, a failed payment. Off until
the business turns them on in its settings (``notifications``)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from flexbill.core import clock
from flexbill.core.db import Database
from flexbill.mail.models import OutgoingMail
from flexbill.worker.handlers import worker as full_worker
from tests.payments.factories import T0, due_payment, rentals, retry_settings, worker
from tests.support import Api, Tenant


async def _notify(api: Api, **switches: bool) -> None:
    response = await api.patch("/v1/settings", {"notifications": switches})
    assert response.status_code == 200, response.text


async def _mails(database: Database) -> list[OutgoingMail]:
    async with database.transaction() as session:
        statement = select(OutgoingMail).order_by(OutgoingMail.created_at, OutgoingMail.id)
        return list((await session.scalars(statement)).all())


async def test_each_issued_invoice_is_e_mailed_when_asked_for(api: Api, database: Database) -> None:
    await api.patch("/v1/settings", {"company": {"name": "Rent & Go GmbH"}})
    with clock.frozen(T0):
        (laptop,) = await rentals(api)
        await full_worker(database).run_until_idle()
        assert await _mails(database) == []  # off by default

        await _notify(api, emailInvoices=True)
        clock.advance(timedelta(days=31))
        await full_worker(database).run_until_idle()
    invoices = (await api.get("/v1/invoices", rentalId=laptop["rentalId"])).json()["invoices"]
    newest = max(invoices, key=lambda i: i["number"])
    (mail,) = await _mails(database)
    assert (mail.template, mail.recipient) == ("invoice_issued", "ada@example.com")
    assert mail.subject == f"Invoice {newest['number']} from Rent & Go GmbH"
    assert mail.text_body.startswith("Hello Ada Lovelace,")
    assert (
        f"Rent & Go GmbH has issued invoice {newest['number']} for 59.99 EUR, due on "
        f"{newest['dueDate']}." in mail.text_body
    )


async def test_a_failed_payment_is_e_mailed_with_what_comes_next(
    api: Api, database: Database, tenant: Tenant
) -> None:
    await retry_settings(api, automatic=True, attempts=1, intervalDays=2)
    await _notify(api, emailPaymentFailures=True)
    due = await due_payment(api, database, tenant, "tok_insufficient_funds")
    with clock.frozen(T0):
        for _ in range(3):
            await worker(database).run_until_idle()
            clock.advance(timedelta(days=1))
    first, last = await _mails(database)
    assert {first.template, last.template} == {"payment_failed"}
    assert first.recipient == last.recipient == "ada@example.com"
    for mail in (first, last):
        assert "We could not collect your payment of 71.39 EUR for invoice" in mail.text_body
        assert "Reason: insufficient_funds: Your card has insufficient funds." in mail.text_body
    assert "We will try again on 2025-03-05 09:00 UTC." in first.text_body
    assert "This was the last attempt" in last.text_body
    failed = (await api.get(f"/v1/payments/{due.payment_id}")).json()["payment"]
    assert (failed["status"], failed["captureAttempts"]) == ("failed", 2)
