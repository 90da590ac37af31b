"""Contract and invoice PDFs, read back with a PDF reader: a contract generated for a real
order, and every invoice of a billing run rendered by the worker, once."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from flexbill.billing import late_fees, run
from flexbill.core import clock
from flexbill.core.db import Database
from flexbill.core.jobs import Job, JobStatus
from flexbill.files import pdf
from flexbill.files.contract_pdf import ContractData, ContractItem, render_contract
from flexbill.files.invoice_pdf import InvoiceData, InvoiceLineData, render_invoice
from flexbill.files.invoices import RENDER_INVOICES, enqueue_invoice_documents
from flexbill.files.pdf import Party, format_money
from flexbill.worker.registry import REGISTRY
from flexbill.worker.runner import Worker
from flexbill.worker.schedule import Periodic
from tests.files.support import content_of, pdf_text
from tests.orders.support import create_catalog, exact, order_body, place, tenant_context
from tests.subscriptions.support import LAPTOP, confirmed_order, register, subscribe
from tests.support import Api, Tenant, error_code, new_tenant

T0 = datetime(2025, 7, 1, 9, 0, tzinfo=UTC)
COMPANY = {
    "name": "Rent & Go GmbH", "address": "Hauptstraße 1\n10115 Berlin\nGermany",
    "email": "billing@rentgo.example", "phone": "+49 30 123456", "vatId": "DE123456789",
    "registrationNumber": "HRB 12345",
}  # fmt: skip
SCHEDULE = (Periodic(run.SWEEP, timedelta(minutes=10)),)


@pytest.fixture(autouse=True)
def frozen_clock() -> Iterator[None]:
    with clock.frozen(T0):
        yield


async def business(api: Api) -> None:
    """The company details, 19 % VAT on top of prices, invoices due in 14 days."""
    response = await api.patch(
        "/v1/settings",
        {
            "company": COMPANY,
            "vat": {"enabled": True, "rate": 19, "mode": "exclusive"},
            "paymentTerms": "net_14",
        },
    )
    assert response.status_code == 200, response.text


async def generate(api: Api, **body: Any) -> Any:
    return await api.post("/v1/files/contracts/generate", body)


async def test_a_contract_for_an_order_shows_business_customer_items_and_terms(
    api: Api,
) -> None:
    await business(api)
    await create_catalog(api)
    order = await place(api)
    response = await generate(api, orderId=order["orderId"])
    assert response.status_code == 201, response.text
    answer = response.json()
    assert answer == {
        "success": True, "message": "Contract generated successfully",
        "fileId": answer["fileId"], "orderId": order["orderId"],
        "tenantId": api.headers["Tenant-ID"],
    }  # fmt: skip
    file = (await api.get(f"/v1/files/{answer['fileId']}")).json()
    assert (file["type"], file["category"], file["contentType"]) == (
        "contract", "generated", "application/pdf",
    )  # fmt: skip
    assert (file["orderId"], file["customerId"], file["invoiceId"]) == (
        order["orderId"], order["customerId"], None,
    )  # fmt: skip
    assert (file["filename"], file["metadata"]) == (
        f"contract-{order['orderId']}.pdf", {"template": "standard"},
    )  # fmt: skip
    text = pdf_text(await content_of(api, answer["fileId"]))
    for expected in (
        "Rent & Go GmbH", "Rental agreement", order["orderId"], "1 July 2025", "Hauptstraße 1",
        "10115 Berlin", "VAT ID: DE123456789", "Registration no.: HRB 12345", "Ada Lovelace",
        "1 Navy Way", "22202 Arlington, VA", "ada@example.com",
        "LAPTOP-16-A Laptop Pro 16 – Space grey, grade A 2 12 € 59.99 € 119.98",
        "Monthly subtotal € 119.98", "VAT 19% (added) € 22.80", "Monthly total € 142.78",
        "One-time setup fees € 50.00", "each invoice is payable within 14 days",
        "Returns within 14 days of the start are free of charge",
        "Lessor, place and date", "Customer, place and date",
    ):  # fmt: skip
        assert expected in text, expected


async def test_contract_requests_are_checked(api: Api, database: Database) -> None:
    await create_catalog(api)
    order = await place(api)
    stranger = await new_tenant(database)
    other = Api(api.client, key=stranger.live_key, tenant_id=stranger.id)
    refused = [
        (api, {"orderId": order["orderId"], "contractType": "fancy"}, 404, "TEMPLATE_NOT_FOUND"),
        (api, {"orderId": order["orderId"], "templateId": "fancy"}, 404, "TEMPLATE_NOT_FOUND"),
        (api, {"orderId": order["orderId"], "contractType": "standard", "templateId": "x"}, 400,
         "VALIDATION_ERROR"),
        (api, {"orderId": "ord_nope"}, 404, "ORDER_NOT_FOUND"),
        (other, {"orderId": order["orderId"]}, 404, "ORDER_NOT_FOUND"),
        (api, {}, 400, "VALIDATION_ERROR"),
    ]  # fmt: skip
    for caller, body, status, code in refused:
        response = await generate(caller, **body)
        assert (response.status_code, error_code(response)) == (status, code), body
    named = await generate(api, orderId=order["orderId"], templateId="standard")
    assert named.status_code == 201, named.text
    files = (await api.get("/v1/files", orderId=order["orderId"])).json()["files"]
    assert [f["fileId"] for f in files] == [named.json()["fileId"]]


@pytest.mark.skipif(pdf.unicode_font() is None, reason="DejaVu Sans is not installed")
async def test_a_name_beyond_latin_1_is_set_in_a_unicode_font(api: Api) -> None:
    await create_catalog(api)
    customer = {"email": "lz@example.com", "firstName": "Łukasz", "lastName": "Żółć"}
    order = await place(api, order_body("lz@example.com", customer=customer))
    response = await generate(api, orderId=order["orderId"])
    assert response.status_code == 201, response.text
    text = pdf_text(await content_of(api, response.json()["fileId"]))
    assert "Łukasz Żółć" in text
    assert "€ 119.98" in text


def _invoice(customer: str) -> InvoiceData:
    return InvoiceData(
        seller=Party("Rent & Go GmbH"), seller_footer="Rent & Go GmbH", customer=Party(customer),
        number="INV-000007", issue_date=date(2025, 7, 1), due_date=date(2025, 7, 1),
        period_start=date(2025, 7, 1), period_end=date(2025, 8, 1), reference="Subscription s",
        currency="EUR", vat_rate=Decimal("19.00"), vat_mode="inclusive",
        lines=(InvoiceLineData(1, "Laptop", 4201, 798, 4999),), subtotal=4201, tax_amount=798,
        total=4999, amount_paid=0, created=T0,
    )  # fmt: skip


def test_without_a_unicode_font_such_names_lose_what_the_core_font_lacks(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(pdf, "unicode_font", lambda: None)
    text = pdf_text(render_invoice(_invoice("Łukasz Żółć")))
    assert "?ukasz Zó?c" in text
    assert "Total € 49.99" in text
    assert "VAT 19% (included) € 7.98" in text
    assert "Please pay € 49.99 now; it is due on receipt." in text
    assert "Prices include 19% VAT." in text


def test_a_long_contract_breaks_onto_pages_with_the_headings_repeated() -> None:
    items = tuple(
        ContractItem(f"SKU-{n:03d}", f"Device {n}", 1, 12, 1000 + n, 0) for n in range(60)
    )
    total = sum(item.monthly_price for item in items)
    data = ContractData(
        title="Rental agreement", seller=Party("Rent & Go GmbH"), seller_footer="Rent & Go",
        customer=Party("Ada Lovelace"), customer_name="Ada Lovelace", order_id="ord_1",
        issue_date=date(2025, 7, 1), currency="EUR", items=items, subtotal=total, tax_amount=0,
        total=total, vat_rate=None, vat_inclusive=False, terms=("One term.",), created=T0,
    )  # fmt: skip
    pages = [page.extract_text() for page in PdfReader(io.BytesIO(render_contract(data))).pages]
    assert len(pages) >= 2
    assert all("SKU Device Qty Months Monthly price Monthly total" in page for page in pages[:2])
    assert f"Page 1 of {len(pages)}" in pages[0]
    assert "SKU-059 Device 59 1 12 € 10.59 € 10.59" in "\n".join(pages)
    assert f"Monthly total {format_money(total, 'EUR')}" in "\n".join(pages)


async def _invoice_jobs(database: Database) -> list[Job]:
    async with database.transaction() as session:
        statement = select(Job).where(Job.kind == RENDER_INVOICES).order_by(Job.created_at)
        return list((await session.scalars(statement)).all())


async def test_every_invoice_of_a_billing_run_gets_its_pdf_once(
    api: Api, database: Database, tenant: Tenant
) -> None:
    await business(api)
    customer = {"email": "ada@example.com", "firstName": "Ada", "lastName": "Lovelace",
                "company": "Analytical Engines"}  # fmt: skip
    order = await confirmed_order(
        api, customer=customer, items=[{"sku": LAPTOP, "quantity": 2, "contractLength": 12}]
    )
    for serial in ("SN-1", "SN-2"):
        await register(api, serial)
        await subscribe(api, order, serial)
    worker = Worker(database, REGISTRY, schedule=SCHEDULE)
    await worker.run_until_idle()

    [job] = await _invoice_jobs(database)  # one job for the run's batch
    assert job.status == JobStatus.SUCCEEDED
    listed = (await api.get("/v1/files", type="invoice")).json()["files"]
    assert sorted(f["invoiceId"] for f in listed) == sorted(job.payload["invoice_ids"])
    assert len(listed) == 2
    for file in listed:
        invoice = exact(await api.get(f"/v1/invoices/{file['invoiceId']}"))
        assert (file["orderId"], file["customerId"], file["category"]) == (
            order["orderId"], order["customerId"], "generated",
        )  # fmt: skip
        assert (file["filename"], file["metadata"], file["uploadedBy"]) == (
            f"invoice-{invoice['number']}.pdf", {"invoiceNumber": invoice["number"]}, "system",
        )  # fmt: skip
        text = pdf_text(await content_of(api, file["fileId"]))
        expected = [
            "Rent & Go GmbH", "VAT ID: DE123456789", f"Invoice number {invoice['number']}",
            "Issue date 1 July 2025", "Due date 15 July 2025",
            "Billing period 1 July 2025 – 31 July 2025", f"Subscription {invoice['subscriptionId']}",
            "Ada Lovelace", "Analytical Engines", "Qty Description Net VAT 19% Gross",
            f"Net total € {invoice['subtotal']}", f"VAT 19% (added) € {invoice['taxAmount']}",
            f"Total € {invoice['total']}",
            f"Please pay € {invoice['total']} by 15 July 2025, quoting invoice number "
            f"{invoice['number']}.",
        ]  # fmt: skip
        for line in invoice["lines"]:
            expected.append(f"€ {line['amount']} € {line['taxAmount']} € {line['total']}")
            expected.append(line["description"][:30])
        for snippet in expected:
            assert snippet in text, snippet

    ctx = await tenant_context(database, tenant)
    async with database.transaction() as session:
        await enqueue_invoice_documents(
            session, ctx.tenant_id, [*job.payload["invoice_ids"], "inv_unknown"]
        )
    await worker.run_until_idle()
    jobs = await _invoice_jobs(database)
    assert [j.status for j in jobs] == [JobStatus.SUCCEEDED, JobStatus.SUCCEEDED]
    assert len((await api.get("/v1/files", type="invoice")).json()["files"]) == 2


async def test_a_late_fee_renders_the_invoice_pdf_again(
    api: Api, database: Database, tenant: Tenant
) -> None:
    """The PDF shows what the invoice asks for: after a late fee adds its line, the same
    document (same id and link) holds the new total."""
    await business(api)
    fees = {"enabled": True, "type": "flat", "amount": 5, "gracePeriodDays": 0}
    assert (await api.patch("/v1/settings", {"lateFees": fees})).status_code == 200
    order = await confirmed_order(api, items=[{"sku": LAPTOP, "quantity": 1, "contractLength": 12}])
    await register(api, "SN-1")
    await subscribe(api, order, "SN-1")
    schedule = (*SCHEDULE, Periodic(late_fees.APPLY_LATE_FEES, timedelta(hours=1)))
    await Worker(database, REGISTRY, schedule=schedule).run_until_idle()
    [document] = (await api.get("/v1/files", type="invoice")).json()["files"]
    before = exact(await api.get(f"/v1/invoices/{document['invoiceId']}"))
    assert late_fees.LINE_DESCRIPTION not in pdf_text(await content_of(api, document["fileId"]))

    clock.advance(timedelta(days=15))  # due on 15 July, paid by nobody
    await Worker(database, REGISTRY, schedule=schedule).run_until_idle()
    after = exact(await api.get(f"/v1/invoices/{document['invoiceId']}"))
    assert after["total"] == before["total"] + Decimal(5)
    [again] = (await api.get("/v1/files", type="invoice")).json()["files"]
    assert again["fileId"] == document["fileId"]
    text = pdf_text(await content_of(api, again["fileId"]))
    assert f"Total € {after['total']}" in text
    assert late_fees.LINE_DESCRIPTION in text
