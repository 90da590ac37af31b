"""What the credit-note face refuses, and what each refusal leaves alone; the list and
its filters; another tenant's credit notes do not exist."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import update

from flexbill.billing.models import Payment
from flexbill.core import clock
from flexbill.core.db import Database
from tests.billing.factories import rentals
from tests.credit.support import (
    T0,
    D,
    balance_of,
    bill_now,
    credit_note,
    latest,
    note_of,
    post_credit_note,
    rented,
    replayed,
)
from tests.subscriptions.support import exact, read
from tests.support import Api, Tenant, error_code, issue_key, new_tenant


@pytest.fixture(autouse=True)
def frozen_clock() -> Iterator[None]:
    with clock.frozen(T0):
        yield


async def open_invoice(api: Api, database: Database, tenant: Tenant) -> tuple[str, str]:
    customer_id = await rented(api, database, tenant)
    return customer_id, (await latest(api, database, customer_id)).invoice["invoiceId"]


async def test_creating_refuses_bad_requests(api: Api, database: Database, tenant: Tenant) -> None:
    customer_id, invoice_id = await open_invoice(api, database, tenant)
    cases: list[tuple[dict[str, Any], int, str, str]] = [
        ({"invoiceId": "inv_unknown", "amount": 1}, 404, "INVOICE_NOT_FOUND", ""),
        ({"invoiceId": invoice_id, "amount": 84.991}, 400, "VALIDATION_ERROR", "amount"),
        ({"invoiceId": invoice_id, "amount": 0}, 400, "VALIDATION_ERROR", "amount"),
        ({"invoiceId": invoice_id, "amount": -5}, 400, "VALIDATION_ERROR", "amount"),
        ({"invoiceId": invoice_id}, 400, "VALIDATION_ERROR", "amount"),
        ({"amount": 5}, 400, "VALIDATION_ERROR", "invoiceId"),
        ({"invoiceId": invoice_id, "amount": 5, "apply": "later"}, 400, "VALIDATION_ERROR",
         "apply"),
        ({"invoiceId": invoice_id, "amount": 85}, 422, "CREDIT_EXCEEDS_INVOICE", ""),
    ]  # fmt: skip
    for body, status, code, path in cases:
        response = await api.post("/v1/credit-notes", body)
        assert (response.status_code, error_code(response)) == (status, code), body
        if path:
            assert [d["path"] for d in response.json()["error"]["details"]] == [path], body
    await credit_note(api, invoice_id, "80.00", apply="credit")
    over = await post_credit_note(api, invoice_id, "5.00")
    assert (over.status_code, error_code(over)) == (422, "CREDIT_EXCEEDS_INVOICE")
    assert "4.99 EUR can still be credited" in over.json()["error"]["message"]
    voided = await api.post(f"/v1/invoices/{invoice_id}/void", {})
    assert voided.status_code == 200, voided.text
    void = await post_credit_note(api, invoice_id, "1.00")
    assert (void.status_code, error_code(void)) == (422, "INVALID_STATUS")
    assert await balance_of(api, customer_id) == (D("0.00"), D("80.00"))
    listed = await read(api, "/v1/credit-notes")
    assert [note["number"] for note in listed["creditNotes"]] == ["CN-000001"]


async def test_allocating_refuses_what_does_not_fit(
    api: Api, database: Database, tenant: Tenant
) -> None:
    customer_id, invoice_id = await open_invoice(api, database, tenant)
    clock.advance(timedelta(minutes=11))  # another order, not a duplicate of the first
    assert await rented(api, database, tenant, "SN-2", catalog=False) == customer_id
    second_invoice = (await latest(api, database, customer_id)).invoice["invoiceId"]
    small = await credit_note(api, invoice_id, "30.00", apply="credit")
    large = await credit_note(api, second_invoice, "84.99", apply="credit")

    async def allocate(note: dict[str, Any], **body: Any) -> Any:
        return await api.post(f"/v1/credit-notes/{note['creditNoteId']}/allocate", body)

    for response, status, code in (
        (await allocate(small, invoiceId="inv_unknown"), 404, "INVOICE_NOT_FOUND"),
        (await allocate(small, invoiceId=invoice_id, amount=30.01), 422, "INSUFFICIENT_CREDIT"),
        (await allocate(small, invoiceId=invoice_id, amount=0), 400, "VALIDATION_ERROR"),
        (await allocate(small), 400, "VALIDATION_ERROR"),
        (await allocate({"creditNoteId": "cn_unknown"}, invoiceId=invoice_id), 404,
         "CREDIT_NOTE_NOT_FOUND"),
    ):  # fmt: skip
        assert (response.status_code, error_code(response)) == (status, code)
    assert await balance_of(api, customer_id) == (D("169.98"), D("114.99"))

    whole = await allocate(small, invoiceId=invoice_id)  # all 30.00: the invoice asks more
    assert exact(whole)["creditNote"]["status"] == "allocated"
    too_much = await allocate(large, invoiceId=invoice_id, amount=55)
    assert (too_much.status_code, error_code(too_much)) == (422, "CREDIT_EXCEEDS_INVOICE")
    assert "asks for 54.99 EUR only" in too_much.json()["error"]["message"]
    rest = await allocate(large, invoiceId=invoice_id, amount=54.99)
    assert rest.status_code == 200, rest.text
    assert (await read(api, f"/v1/invoices/{invoice_id}"))["status"] == "paid"
    spare = await credit_note(api, invoice_id, "0.01", apply="credit")  # not above the total
    paid = await allocate(spare, invoiceId=invoice_id)
    assert (paid.status_code, error_code(paid)) == (422, "INVALID_STATUS")
    await api.post(f"/v1/credit-notes/{spare['creditNoteId']}/cancel", {})
    gone = await allocate(spare, invoiceId=invoice_id)
    assert (gone.status_code, error_code(gone)) == (409, "CREDIT_NOTE_CANCELLED")
    assert await balance_of(api, customer_id) == (D("84.99"), D("30.00"))
    await replayed(api, customer_id)


async def test_credit_for_an_invoice_being_collected_stays_customer_credit(
    api: Api, database: Database, tenant: Tenant
) -> None:
    customer_id, invoice_id = await open_invoice(api, database, tenant)
    async with database.transaction() as session:
        await session.execute(
            update(Payment).where(Payment.invoice_id == invoice_id).values(status="processing")
        )
    note = await credit_note(api, invoice_id, "10.00")  # apply=invoice, but being collected
    assert (note["status"], note["allocations"]) == ("unallocated", [])
    busy = await api.post(
        f"/v1/credit-notes/{note['creditNoteId']}/allocate", {"invoiceId": invoice_id}
    )
    assert (busy.status_code, error_code(busy)) == (409, "PAYMENT_PROCESSING")
    assert await balance_of(api, customer_id) == (D("84.99"), D("10.00"))


async def test_another_customers_invoice_is_refused(
    api: Api, database: Database, tenant: Tenant
) -> None:
    _, ada_invoice = await open_invoice(api, database, tenant)
    note = await credit_note(api, ada_invoice, "10.00", apply="credit")
    bob = await rented_for(api, database, tenant, "bob@example.com")
    response = await api.post(
        f"/v1/credit-notes/{note['creditNoteId']}/allocate", {"invoiceId": bob}
    )
    assert (response.status_code, error_code(response)) == (400, "VALIDATION_ERROR")
    assert response.json()["error"]["details"][0]["path"] == "invoiceId"
    assert (await note_of(api, note["creditNoteId"]))["balance"] == D("10.00")


async def rented_for(api: Api, database: Database, tenant: Tenant, email: str) -> str:
    """A rental of another customer, billed; its invoice's id."""
    (rental,) = await rentals(api, email=email, catalog=False)
    await bill_now(database, tenant)
    invoice_id: str = (await latest(api, database, rental["customerId"])).invoice["invoiceId"]
    return invoice_id


async def test_the_list_filters_and_pages(api: Api, database: Database, tenant: Tenant) -> None:
    customer_id, invoice_id = await open_invoice(api, database, tenant)
    applied = await credit_note(api, invoice_id, "10.00")
    kept = await credit_note(api, invoice_id, "5.00", apply="credit")
    cancelled = await credit_note(api, invoice_id, "1.00", apply="credit")
    await api.post(f"/v1/credit-notes/{cancelled['creditNoteId']}/cancel", {})

    async def numbers(**params: Any) -> list[str]:
        body = await read(api, "/v1/credit-notes", **params)
        return [note["number"] for note in body["creditNotes"]]

    assert await numbers() == ["CN-000003", "CN-000002", "CN-000001"]
    assert await numbers(sortDir="asc", customerId=customer_id) == [
        "CN-000001", "CN-000002", "CN-000003",
    ]  # fmt: skip
    assert await numbers(status="allocated") == [applied["number"]]
    assert await numbers(status="unallocated") == [kept["number"]]
    assert await numbers(status="cancelled", invoiceId=invoice_id) == [cancelled["number"]]
    assert await numbers(customerId="cust_other") == []
    first = await read(api, "/v1/credit-notes", limit=2)
    assert (first["count"], first["hasMore"]) == (2, True)
    rest = await read(api, "/v1/credit-notes", limit=2, startAfter=first["nextCursor"])
    assert [n["number"] for n in rest["creditNotes"]] == ["CN-000001"]
    assert rest["creditNotes"][0]["allocations"][0]["amount"] == D("10.00")
    wrong = await api.get("/v1/credit-notes", status="spent")
    assert (wrong.status_code, error_code(wrong)) == (400, "VALIDATION_ERROR")


async def test_another_tenants_credit_notes_do_not_exist(
    api: Api, database: Database, tenant: Tenant
) -> None:
    customer_id, invoice_id = await open_invoice(api, database, tenant)
    note = await credit_note(api, invoice_id, "10.00", apply="credit")
    note_id = note["creditNoteId"]
    other = await new_tenant(database)
    theirs = Api(api.client, key=other.live_key, tenant_id=other.id)
    ours_in_test_mode = api.with_key(tenant.test_key)
    for stranger in (theirs, ours_in_test_mode):
        for response, code in (
            (await stranger.get(f"/v1/credit-notes/{note_id}"), "CREDIT_NOTE_NOT_FOUND"),
            (await stranger.post(f"/v1/credit-notes/{note_id}/cancel", {}),
             "CREDIT_NOTE_NOT_FOUND"),
            (await stranger.post(f"/v1/credit-notes/{note_id}/refund", {}),
             "CREDIT_NOTE_NOT_FOUND"),
            (await stranger.post(f"/v1/credit-notes/{note_id}/allocate",
                                 {"invoiceId": invoice_id}), "CREDIT_NOTE_NOT_FOUND"),
            (await post_credit_note(stranger, invoice_id, "1.00"), "INVOICE_NOT_FOUND"),
            (await stranger.get(f"/v1/customers/{customer_id}/balance"), "CUSTOMER_NOT_FOUND"),
            (await stranger.get(f"/v1/customers/{customer_id}/ledger"), "CUSTOMER_NOT_FOUND"),
        ):  # fmt: skip
            assert (response.status_code, error_code(response)) == (404, code)
        assert (await read(stranger, "/v1/credit-notes"))["creditNotes"] == []
    assert (await note_of(api, note_id))["status"] == "unallocated"


async def test_writing_needs_the_write_permission(
    api: Api, database: Database, tenant: Tenant
) -> None:
    _, invoice_id = await open_invoice(api, database, tenant)
    note = await credit_note(api, invoice_id, "10.00", apply="credit")
    reader = api.with_key(await issue_key(database, tenant, permissions=["credit-notes:read"]))
    assert (await reader.get(f"/v1/credit-notes/{note['creditNoteId']}")).status_code == 200
    refused = await post_credit_note(reader, invoice_id, "1.00")
    assert (refused.status_code, error_code(refused)) == (403, "INSUFFICIENT_PERMISSIONS")
    response = await api.post(
        f"/v1/credit-notes/{note['creditNoteId']}/cancel", {}, headers={"Idempotency-Key": "c1"}
    )
    replay = await api.post(
        f"/v1/credit-notes/{note['creditNoteId']}/cancel", {}, headers={"Idempotency-Key": "c1"}
    )
    assert (response.status_code, replay.status_code) == (200, 200)
    assert exact(replay) == exact(response)
