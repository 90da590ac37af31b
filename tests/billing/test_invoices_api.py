"""Invoices on the /v1 face (flexbill's addition): get with lines, list with every filter
and sort, void; every refusal, and what each one leaves alone."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest

from flexbill.billing.models import InvoiceStatus, PaymentStatus
from flexbill.core import clock
from flexbill.core.db import Database
from tests.billing.factories import (
    JULY,
    T0,
    Billed,
    bill,
    group,
    invoice_of,
    ledger,
    listed,
    one_billed,
    payment_of,
    rentals,
)
from tests.subscriptions.support import event_counts, exact
from tests.support import Api, Tenant, error_code, issue_key, new_tenant

INVOICE_FIELDS = {
    "invoiceId", "number", "status", "customerId", "subscriptionId", "billingGroupId",
    "periodStart", "periodEnd", "currency", "vatRate", "vatMode", "subtotal", "taxAmount",
    "total", "amountPaid", "amountDue", "issuedAt", "dueDate", "paidAt", "voidedAt", "lines",
    "createdAt", "updatedAt",
}  # fmt: skip


@pytest.fixture(autouse=True)
def frozen_clock() -> Iterator[None]:
    with clock.frozen(T0):
        yield


async def test_get_answers_the_invoice_with_its_lines(api: Api, database: Database) -> None:
    rental, billed = await one_billed(api, database, due_date=date(2025, 7, 15))
    found = await invoice_of(api, billed.invoice_id)
    assert set(found) == INVOICE_FIELDS
    assert found == {
        "invoiceId": billed.invoice_id, "number": "INV-000001", "status": "open",
        "customerId": rental["customerId"], "subscriptionId": rental["rentalId"],
        "billingGroupId": None, "periodStart": "2025-07-01", "periodEnd": "2025-08-01",
        "currency": "EUR", "vatRate": Decimal("19.00"), "vatMode": "exclusive",
        "subtotal": Decimal("59.99"), "taxAmount": Decimal("11.40"), "total": Decimal("71.39"),
        "amountPaid": Decimal("0.00"), "amountDue": Decimal("71.39"),
        "issuedAt": "2025-07-01T09:00:00Z", "dueDate": "2025-07-15", "paidAt": None,
        "voidedAt": None,
        "lines": [
            {
                "position": 1, "kind": "rental", "description": found["lines"][0]["description"],
                "subscriptionId": rental["rentalId"], "quantity": 1,
                "unitAmount": Decimal("59.99"), "amount": Decimal("59.99"),
                "taxAmount": Decimal("11.40"), "total": Decimal("71.39"),
                "periodStart": "2025-07-01", "periodEnd": "2025-08-01",
            }
        ],
        "createdAt": "2025-07-01T09:00:00Z", "updatedAt": "2025-07-01T09:00:00Z",
    }  # fmt: skip
    assert found["lines"][0]["description"].startswith("Laptop Pro 16")


async def test_a_consolidated_invoice_has_a_line_per_member(api: Api, database: Database) -> None:
    laptop, phone = await rentals(api, 1, phones=1)
    group_id = await group(api, [laptop, phone])
    billed = await bill(database, [laptop, phone], period_start=JULY, billing_group_id=group_id)
    found = await invoice_of(api, billed.invoice_id)
    assert (found["subscriptionId"], found["billingGroupId"]) == (None, group_id)
    assert [
        (line["position"], line["subscriptionId"], line["total"]) for line in found["lines"]
    ] == [
        (1, laptop["rentalId"], Decimal("71.39")),
        (2, phone["rentalId"], Decimal("23.79")),
    ]
    assert (found["subtotal"], found["taxAmount"], found["total"]) == (
        Decimal("79.98"), Decimal("15.20"), Decimal("95.18"),
    )  # fmt: skip


async def test_unknown_invoice_is_not_found(api: Api) -> None:
    for response in (
        await api.get("/v1/invoices/inv_unknown"),
        await api.post("/v1/invoices/inv_unknown/void", {}),
    ):
        assert (response.status_code, error_code(response)) == (404, "NOT_FOUND")


@pytest.mark.parametrize(
    ("status", "body", "reason"),
    [
        (PaymentStatus.PENDING, {"reason": "Billed twice by mistake"}, "Billed twice by mistake"),
        (PaymentStatus.FAILED, None, "Invoice voided"),
        (PaymentStatus.PENDING, {}, "Invoice voided"),
    ],
)
async def test_void_cancels_the_payment(
    api: Api, database: Database, status: PaymentStatus, body: Any, reason: str
) -> None:
    _, billed = await one_billed(api, database, status=status)
    before = await event_counts(database)
    with clock.frozen(T0 + timedelta(hours=3)):
        response = await api.post(f"/v1/invoices/{billed.invoice_id}/void", body)
    assert response.status_code == 200, response.text
    answer = exact(response)
    assert (answer["success"], answer["message"]) == (True, "Invoice voided")
    voided = answer["invoice"]
    assert voided == await invoice_of(api, billed.invoice_id)
    assert (voided["status"], voided["voidedAt"], voided["updatedAt"]) == (
        "void", "2025-07-01T12:00:00Z", "2025-07-01T12:00:00Z",
    )  # fmt: skip
    assert (voided["amountDue"], voided["amountPaid"], voided["total"]) == (
        Decimal("0.00"), Decimal("0.00"), Decimal("71.39"),
    )  # fmt: skip
    cancelled = await payment_of(api, billed.payment_id)
    assert (cancelled["status"], cancelled["cancellationReason"], cancelled["cancelledAt"]) == (
        "cancelled", reason, "2025-07-01T12:00:00Z",
    )  # fmt: skip
    assert await event_counts(database) == before


async def test_a_partially_paid_invoice_without_money_can_be_voided(
    api: Api, database: Database
) -> None:
    _, billed = await one_billed(api, database, invoice_status=InvoiceStatus.PARTIALLY_PAID)
    response = await api.post(f"/v1/invoices/{billed.invoice_id}/void", {})
    assert response.status_code == 200, response.text
    assert exact(response)["invoice"]["status"] == "void"


async def _prepared(api: Api, database: Database, case: str) -> Billed:
    if case == "processing":
        return (await one_billed(api, database, status=PaymentStatus.PROCESSING))[1]
    if case == "partly paid":
        return (
            await one_billed(
                api, database, invoice_status=InvoiceStatus.PARTIALLY_PAID, amount_paid=2000
            )
        )[1]
    _, billed = await one_billed(api, database)
    if case == "paid":
        response = await api.post(f"/v1/payments/{billed.payment_id}/mark-paid", {})
    else:  # void already
        response = await api.post(f"/v1/invoices/{billed.invoice_id}/void", {})
    assert response.status_code == 200, response.text
    return billed


@pytest.mark.parametrize(
    ("case", "status", "code"),
    [
        ("paid", 422, "INVALID_STATUS"),
        ("void", 422, "INVALID_STATUS"),
        ("partly paid", 422, "INVALID_STATUS"),
        ("processing", 409, "PAYMENT_PROCESSING"),
    ],
)
async def test_void_refusals_change_nothing(
    api: Api, database: Database, case: str, status: int, code: str
) -> None:
    billed = await _prepared(api, database, case)

    async def state() -> list[Any]:
        return [
            await invoice_of(api, billed.invoice_id),
            await payment_of(api, billed.payment_id),
            await event_counts(database),
        ]

    before = await state()
    with clock.frozen(T0 + timedelta(days=1)):
        response = await api.post(f"/v1/invoices/{billed.invoice_id}/void", {"reason": "x"})
    assert response.status_code == status, response.text
    assert error_code(response) == code
    assert await state() == before


async def test_void_refuses_an_empty_reason(api: Api, database: Database) -> None:
    _, billed = await one_billed(api, database)
    response = await api.post(f"/v1/invoices/{billed.invoice_id}/void", {"reason": ""})
    assert (response.status_code, error_code(response)) == (400, "VALIDATION_ERROR")
    assert (await invoice_of(api, billed.invoice_id))["status"] == "open"


async def test_permissions(api: Api, database: Database, tenant: Tenant) -> None:
    _, billed = await one_billed(api, database)
    reader = api.with_key(await issue_key(database, tenant, permissions=["invoices:read"]))
    assert (await reader.get(f"/v1/invoices/{billed.invoice_id}")).status_code == 200
    assert (await reader.get("/v1/invoices")).status_code == 200
    response = await reader.post(f"/v1/invoices/{billed.invoice_id}/void", {})
    assert (response.status_code, error_code(response)) == (403, "INSUFFICIENT_PERMISSIONS")
    outsider = api.with_key(await issue_key(database, tenant, permissions=["payments:write"]))
    response = await outsider.get("/v1/invoices")
    assert (response.status_code, error_code(response)) == (403, "INSUFFICIENT_PERMISSIONS")
    writer = api.with_key(await issue_key(database, tenant, permissions=["invoices:write"]))
    response = await writer.post(f"/v1/invoices/{billed.invoice_id}/void", {})
    assert response.status_code == 200, response.text


async def test_tenants_see_only_their_invoices(
    api: Api, client: httpx.AsyncClient, database: Database, tenant: Tenant
) -> None:
    _, billed = await one_billed(api, database)
    other_tenant = await new_tenant(database)
    other = Api(client, key=other_tenant.live_key, tenant_id=other_tenant.id)
    test_mode = Api(client, key=tenant.test_key, tenant_id=tenant.id)
    for outsider in (other, test_mode):
        for response in (
            await outsider.get(f"/v1/invoices/{billed.invoice_id}"),
            await outsider.post(f"/v1/invoices/{billed.invoice_id}/void", {}),
        ):
            assert (response.status_code, error_code(response)) == (404, "NOT_FOUND")
        assert (await outsider.get("/v1/invoices")).json()["invoices"] == []
    assert (await invoice_of(api, billed.invoice_id))["status"] == "open"
    assert (await payment_of(api, billed.payment_id))["status"] == "pending"


async def test_list_filters(api: Api, database: Database) -> None:
    book = await ledger(api, database)
    ada, bob = book.customers["ada"], book.customers["bob"]
    cases: list[tuple[dict[str, str], list[str]]] = [
        ({}, ["I4", "I3", "I2", "I1"]),
        ({"status": "open"}, ["I3", "I2"]),  # a failed attempt leaves its invoice open
        ({"status": "paid"}, ["I1"]),
        ({"status": "void"}, ["I4"]),
        ({"status": "uncollectible"}, []),
        ({"customerId": ada}, ["I3", "I2", "I1"]),
        ({"customerId": bob}, ["I4"]),
        ({"subscriptionId": book.rental_ids["a1"]}, ["I2", "I1"]),
        ({"subscriptionId": book.rental_ids["a2"]}, []),  # billed through its group
        ({"billingGroupId": book.group_id}, ["I3"]),
        ({"dueDateFrom": "2025-07-05"}, ["I4", "I3", "I2"]),  # inclusive
        ({"dueDateTo": "2025-07-05"}, ["I4", "I1"]),
        ({"dueDateFrom": "2025-07-02", "dueDateTo": "2025-07-31"}, ["I4", "I3"]),
        ({"dueDateTo": "2025-07-01T23:59:59Z"}, ["I1"]),
        ({"customerId": ada, "status": "open"}, ["I3", "I2"]),
    ]
    for params, expected in cases:
        assert await listed(api, "/v1/invoices", book.ids, **params) == expected, params


async def test_list_sorts_and_pages(api: Api, database: Database) -> None:
    book = await ledger(api, database)
    ids = book.ids
    cases: list[tuple[dict[str, str], list[str]]] = [
        ({"sortDir": "asc"}, ["I1", "I2", "I3", "I4"]),
        ({"sortBy": "dueDate", "sortDir": "asc"}, ["I1", "I4", "I3", "I2"]),
        ({"sortBy": "dueDate"}, ["I2", "I3", "I4", "I1"]),
    ]
    for order, expected in cases:
        assert await listed(api, "/v1/invoices", ids, **order) == expected, order
    first = exact(await api.get("/v1/invoices", sortBy="dueDate", limit=3))
    assert [i["invoiceId"] for i in first["invoices"]] == [ids["I2"], ids["I3"], ids["I4"]]
    assert (first["count"], first["limit"], first["hasMore"]) == (3, 3, True)
    rest = exact(
        await api.get("/v1/invoices", sortBy="dueDate", limit=3, startAfter=first["nextCursor"])
    )
    assert [i["invoiceId"] for i in rest["invoices"]] == [ids["I1"]]
    assert (rest["count"], rest["hasMore"], rest["nextCursor"]) == (1, False, None)
    assert await listed(api, "/v1/invoices", ids, startAfter=ids["I3"]) == ["I2", "I1"]
    invoices = exact(await api.get("/v1/invoices"))["invoices"]
    assert [(i["total"], i["amountPaid"], i["amountDue"]) for i in invoices] == [
        (Decimal("71.39"), Decimal("0.00"), Decimal("0.00")),  # void
        (Decimal("142.78"), Decimal("0.00"), Decimal("142.78")),
        (Decimal("71.39"), Decimal("0.00"), Decimal("71.39")),
        (Decimal("71.39"), Decimal("71.39"), Decimal("0.00")),  # paid
    ]


@pytest.mark.parametrize(
    ("params", "path", "code"),
    [
        ({"status": "due"}, "status", "invalid_enum_value"),
        ({"dueDateFrom": "soon"}, "dueDateFrom", "invalid_date"),
        ({"dueDateTo": "2025-02-30"}, "dueDateTo", "invalid_date"),
        ({"sortBy": "total"}, "sortBy", "invalid_enum_value"),
        ({"startAfter": "inv_unknown"}, "startAfter", "invalid_cursor"),
    ],
)
async def test_list_refuses_unknown_parameters(
    api: Api, params: dict[str, str], path: str, code: str
) -> None:
    response = await api.get("/v1/invoices", **params)
    assert (response.status_code, error_code(response)) == (400, "VALIDATION_ERROR")
    details = response.json()["error"]["details"]
    assert [(d["path"], d["code"]) for d in details] == [(path, code)]
