"""Scheduled payments on the /v1 face, as a FlexPortal client uses them: get, list with
every filter and sort, mark paid, cancel; every refusal, and what each one leaves alone."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest

from flexbill.billing.models import PaymentStatus
from flexbill.core import clock
from flexbill.core.db import Database
from tests.billing.factories import (
    JULY,
    T0,
    Billed,
    bill,
    counters,
    group,
    ledger,
    listed,
    one_billed,
    payment_of,
    rentals,
)
from tests.subscriptions.support import event_counts, events_of, exact
from tests.support import Api, Tenant, error_code, issue_key, new_tenant

PAYMENT_FIELDS = {
    "paymentId", "tenantId", "status", "paymentType", "customerId", "rentalId",
    "billingGroupId", "invoiceId", "invoiceNumber", "billingPeriod", "amount", "currency",
    "subtotal", "taxAmount", "taxRate", "total", "dueDate", "paidAt", "provider",
    "manuallyMarked", "captureAttempts", "lastCaptureError", "nextRetryAt", "lineItems",
    "lateFeeApplied", "lateFeeAmount", "originalAmount", "idempotencyKey", "paymentReference",
    "notes", "cancellationReason", "cancelledAt", "createdAt", "updatedAt",
}  # fmt: skip


@pytest.fixture(autouse=True)
def frozen_clock() -> Iterator[None]:
    with clock.frozen(T0):
        yield


async def test_get_answers_the_payment_with_its_invoice(api: Api, database: Database) -> None:
    rental, billed = await one_billed(api, database, due_date=date(2025, 7, 15))
    found = await payment_of(api, billed.payment_id)
    assert set(found) == PAYMENT_FIELDS
    assert found == {
        "paymentId": billed.payment_id, "tenantId": api.headers["Tenant-ID"],
        "status": "pending", "paymentType": "individual",
        "customerId": rental["customerId"], "rentalId": rental["rentalId"],
        "billingGroupId": None, "invoiceId": billed.invoice_id,
        "invoiceNumber": "INV-000001", "billingPeriod": "2025-07",
        "amount": Decimal("71.39"), "currency": "EUR", "subtotal": Decimal("59.99"),
        "taxAmount": Decimal("11.40"), "taxRate": Decimal("19.00"), "total": Decimal("71.39"),
        "dueDate": "2025-07-15", "paidAt": None, "provider": "manual",
        "manuallyMarked": False, "captureAttempts": 0, "lastCaptureError": None,
        "nextRetryAt": None,
        "lineItems": [
            {
                "rentalId": rental["rentalId"], "kind": "rental",
                "description": found["lineItems"][0]["description"],
                "amount": Decimal("59.99"), "taxAmount": Decimal("11.40"),
                "total": Decimal("71.39"), "periodStart": "2025-07-01",
                "periodEnd": "2025-08-01",
            }
        ],
        "lateFeeApplied": False, "lateFeeAmount": Decimal("0.00"),
        "originalAmount": Decimal("71.39"),
        "idempotencyKey": f"{rental['rentalId']}:2025-07-01", "paymentReference": None,
        "notes": None, "cancellationReason": None, "cancelledAt": None,
        "createdAt": "2025-07-01T09:00:00Z", "updatedAt": "2025-07-01T09:00:00Z",
    }  # fmt: skip


async def test_a_late_fee_is_part_of_the_amount(api: Api, database: Database) -> None:
    _, billed = await one_billed(api, database, late_fee=500)
    found = await payment_of(api, billed.payment_id)
    assert (found["amount"], found["originalAmount"], found["total"]) == (
        Decimal("76.39"), Decimal("71.39"), Decimal("71.39"),
    )  # fmt: skip
    assert (found["lateFeeApplied"], found["lateFeeAmount"]) == (True, Decimal("5.00"))


async def test_unknown_payment_is_not_found(api: Api) -> None:
    for response in (
        await api.get("/v1/payments/pay_unknown"),
        await api.post("/v1/payments/pay_unknown/mark-paid", {}),
        await api.post("/v1/payments/pay_unknown/cancel", {"reason": "duplicate"}),
    ):
        assert response.status_code == 404
        assert error_code(response) == "NOT_FOUND"


async def test_mark_paid_settles_payment_invoice_and_counters(api: Api, database: Database) -> None:
    rental, billed = await one_billed(api, database)
    assert await counters(api, [rental["rentalId"]], rental["customerId"]) == [
        Decimal("0.00"), Decimal("0.00"),
    ]  # fmt: skip
    with clock.frozen(T0 + timedelta(days=9)):
        response = await api.post(
            f"/v1/payments/{billed.payment_id}/mark-paid",
            {"paidAt": "2025-07-08T14:30:00Z", "paymentReference": "WIRE-2025-001234",
             "notes": "Received via bank transfer"},
        )  # fmt: skip
    assert response.status_code == 200, response.text
    answer = exact(response)
    assert (answer["success"], answer["message"]) == (True, "Payment marked as paid")
    paid = answer["payment"]
    assert paid == await payment_of(api, billed.payment_id)
    assert (paid["status"], paid["paidAt"], paid["manuallyMarked"], paid["provider"]) == (
        "paid", "2025-07-08T14:30:00Z", True, "manual",
    )  # fmt: skip
    assert (paid["paymentReference"], paid["notes"]) == (
        "WIRE-2025-001234", "Received via bank transfer",
    )  # fmt: skip
    assert paid["updatedAt"] == "2025-07-10T09:00:00Z"
    invoice = exact(await api.get(f"/v1/invoices/{billed.invoice_id}"))
    assert (invoice["status"], invoice["amountPaid"], invoice["amountDue"]) == (
        "paid", Decimal("71.39"), Decimal("0.00"),
    )  # fmt: skip
    assert invoice["paidAt"] == "2025-07-08T14:30:00Z"
    # Cost recovery counts the net revenue; the VAT belongs to the state.
    assert await counters(api, [rental["rentalId"]], rental["customerId"]) == [
        Decimal("59.99"), Decimal("59.99"),
    ]  # fmt: skip
    (event,) = await events_of(database, "payment.succeeded")
    assert event.data == {
        "paymentId": billed.payment_id, "customerId": rental["customerId"],
        "rentalId": rental["rentalId"], "subscriptionId": rental["rentalId"],
        "billingGroupId": None, "invoiceId": billed.invoice_id, "billingPeriod": "2025-07",
        "amount": Decimal("71.39"), "currency": "EUR", "dueDate": "2025-07-01",
        "status": "paid", "paidAt": "2025-07-08T14:30:00+00:00",
    }  # fmt: skip
    assert event.occurred_at == T0 + timedelta(days=9)


@pytest.mark.parametrize(
    ("body", "paid_at", "reference"),
    [
        ({}, "2025-07-01T09:00:00Z", None),  # paid now
        ({"reference": "CHQ-42"}, "2025-07-01T09:00:00Z", "CHQ-42"),  # the prose's name
        ({"reference": "CHQ-42", "paymentReference": "CHQ-42"}, "2025-07-01T09:00:00Z", "CHQ-42"),
        ({"paidAt": "2025-06-30T10:00:00"}, "2025-06-30T10:00:00Z", None),  # no zone: UTC
        ({"paidAt": "2025-07-01T10:00:00+02:00"}, "2025-07-01T08:00:00Z", None),
        (None, "2025-07-01T09:00:00Z", None),  # no body at all
    ],
)
async def test_mark_paid_fields(
    api: Api, database: Database, body: Any, paid_at: str, reference: str | None
) -> None:
    _, billed = await one_billed(api, database)
    response = await api.post(f"/v1/payments/{billed.payment_id}/mark-paid", body)
    assert response.status_code == 200, response.text
    paid = exact(response)["payment"]
    assert (paid["status"], paid["paidAt"], paid["paymentReference"]) == (
        "paid", paid_at, reference,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("body", "path", "code"),
    [
        ({"paidAt": "2025-07-01T09:00:01Z"}, "paidAt", "too_big"),  # a second from now
        ({"paidAt": "yesterday"}, "paidAt", "invalid_date"),
        ({"reference": "A", "paymentReference": "B"}, "reference", "mismatch"),
        ({"paymentReference": ""}, "paymentReference", "too_small"),
        ({"notes": "x" * 5001}, "notes", "too_big"),
    ],
)
async def test_mark_paid_refuses_invalid_fields(
    api: Api, database: Database, body: dict[str, Any], path: str, code: str
) -> None:
    _, billed = await one_billed(api, database)
    response = await api.post(f"/v1/payments/{billed.payment_id}/mark-paid", body)
    assert response.status_code == 400, response.text
    assert error_code(response) == "VALIDATION_ERROR"
    details = response.json()["error"]["details"]
    assert [(d["path"], d["code"]) for d in details] == [(path, code)]
    assert (await payment_of(api, billed.payment_id))["status"] == "pending"
    assert await events_of(database, "payment.succeeded") == []


async def test_mark_paid_after_a_failed_attempt(api: Api, database: Database) -> None:
    retry_at = datetime(2025, 7, 4, 9, 0, tzinfo=UTC)
    _, billed = await one_billed(
        api, database, status=PaymentStatus.FAILED, capture_attempts=1,
        last_capture_error="insufficient_funds", next_retry_at=retry_at,
    )  # fmt: skip
    failed = await payment_of(api, billed.payment_id)
    assert (failed["captureAttempts"], failed["lastCaptureError"], failed["nextRetryAt"]) == (
        1, "insufficient_funds", "2025-07-04T09:00:00Z",
    )  # fmt: skip
    response = await api.post(f"/v1/payments/{billed.payment_id}/mark-paid", {})
    assert response.status_code == 200, response.text
    paid = exact(response)["payment"]
    # No retry is due for a paid payment; its history of attempts stays.
    assert (paid["status"], paid["nextRetryAt"], paid["captureAttempts"]) == ("paid", None, 1)


async def test_mark_paid_of_a_group_counts_each_member_by_its_line(
    api: Api, database: Database
) -> None:
    laptop, phone = await rentals(api, 1, phones=1)
    group_id = await group(api, [laptop, phone])
    billed = await bill(database, [laptop, phone], period_start=JULY, billing_group_id=group_id)
    consolidated = await payment_of(api, billed.payment_id)
    assert (consolidated["paymentType"], consolidated["rentalId"]) == ("consolidated", None)
    assert consolidated["billingGroupId"] == group_id
    assert [(i["rentalId"], i["amount"], i["taxAmount"]) for i in consolidated["lineItems"]] == [
        (laptop["rentalId"], Decimal("59.99"), Decimal("11.40")),
        (phone["rentalId"], Decimal("19.99"), Decimal("3.80")),
    ]
    assert (consolidated["subtotal"], consolidated["amount"]) == (
        Decimal("79.98"), Decimal("95.18"),
    )  # fmt: skip
    response = await api.post(f"/v1/payments/{billed.payment_id}/mark-paid", {})
    assert response.status_code == 200, response.text
    assert await counters(api, [laptop["rentalId"], phone["rentalId"]], laptop["customerId"]) == [
        Decimal("59.99"), Decimal("19.99"), Decimal("79.98"),
    ]  # fmt: skip
    (event,) = await events_of(database, "payment.succeeded")
    assert (event.data["billingGroupId"], event.data["amount"]) == (group_id, Decimal("95.18"))


async def test_cancel_voids_the_invoice_and_collects_nothing(api: Api, database: Database) -> None:
    rental, billed = await one_billed(api, database)
    before = await event_counts(database)
    with clock.frozen(T0 + timedelta(hours=2)):
        response = await api.post(
            f"/v1/payments/{billed.payment_id}/cancel",
            {"reason": "Subscription ended early - customer relocated"},
        )
    assert response.status_code == 200, response.text
    answer = exact(response)
    assert (answer["success"], answer["message"]) == (True, "Payment cancelled")
    cancelled = answer["payment"]
    assert cancelled == await payment_of(api, billed.payment_id)
    assert (cancelled["status"], cancelled["cancelledAt"], cancelled["updatedAt"]) == (
        "cancelled", "2025-07-01T11:00:00Z", "2025-07-01T11:00:00Z",
    )  # fmt: skip
    assert cancelled["cancellationReason"] == "Subscription ended early - customer relocated"
    assert (cancelled["paidAt"], cancelled["amount"]) == (None, Decimal("71.39"))
    invoice = exact(await api.get(f"/v1/invoices/{billed.invoice_id}"))
    assert (invoice["status"], invoice["voidedAt"], invoice["amountDue"]) == (
        "void", "2025-07-01T11:00:00Z", Decimal("0.00"),
    )  # fmt: skip
    assert await counters(api, [rental["rentalId"]], rental["customerId"]) == [
        Decimal("0.00"), Decimal("0.00"),
    ]  # fmt: skip
    assert await event_counts(database) == before


async def test_a_failed_payment_can_be_cancelled(api: Api, database: Database) -> None:
    _, billed = await one_billed(
        api, database, status=PaymentStatus.FAILED,
        next_retry_at=datetime(2025, 7, 4, tzinfo=UTC),
    )  # fmt: skip
    response = await api.post(f"/v1/payments/{billed.payment_id}/cancel", {"reason": "waived"})
    assert response.status_code == 200, response.text
    cancelled = exact(response)["payment"]
    assert (cancelled["status"], cancelled["nextRetryAt"]) == ("cancelled", None)


@pytest.mark.parametrize(
    "body",
    [{}, {"reason": ""}, {"reason": "x" * 1001}, None],
)
async def test_cancel_needs_a_reason(api: Api, database: Database, body: Any) -> None:
    _, billed = await one_billed(api, database)
    response = await api.post(f"/v1/payments/{billed.payment_id}/cancel", body)
    assert response.status_code == 400, response.text
    assert error_code(response) == "VALIDATION_ERROR"
    assert (await payment_of(api, billed.payment_id))["status"] == "pending"


async def _prepare(api: Api, database: Database, status: str) -> tuple[dict[str, Any], Billed]:
    """A payment brought to ``status``: through the API where a client can."""
    if status == "processing":
        return await one_billed(api, database, status=PaymentStatus.PROCESSING)
    rental, billed = await one_billed(api, database)
    if status == "paid":
        response = await api.post(f"/v1/payments/{billed.payment_id}/mark-paid", {})
    else:
        response = await api.post(f"/v1/payments/{billed.payment_id}/cancel", {"reason": "x"})
    assert response.status_code == 200, response.text
    return rental, billed


@pytest.mark.parametrize(
    ("status", "operation", "code"),
    [
        ("paid", "mark-paid", "ALREADY_PAID"),
        ("paid", "cancel", "ALREADY_PAID"),
        ("cancelled", "mark-paid", "PAYMENT_CANCELLED"),
        ("cancelled", "cancel", "PAYMENT_CANCELLED"),
        ("processing", "mark-paid", "PAYMENT_PROCESSING"),
        ("processing", "cancel", "PAYMENT_PROCESSING"),
    ],
)
async def test_refusals_change_nothing(
    api: Api, database: Database, status: str, operation: str, code: str
) -> None:
    rental, billed = await _prepare(api, database, status)

    async def state() -> list[Any]:
        return [
            await payment_of(api, billed.payment_id),
            exact(await api.get(f"/v1/invoices/{billed.invoice_id}")),
            await counters(api, [rental["rentalId"]], rental["customerId"]),
            await event_counts(database),
        ]

    before = await state()
    with clock.frozen(T0 + timedelta(days=1)):
        response = await api.post(
            f"/v1/payments/{billed.payment_id}/{operation}",
            {"reason": "again", "paymentReference": "REF-2", "notes": "late"},
        )
    assert response.status_code == 409, response.text
    assert error_code(response) == code
    assert await state() == before


LOSER_CODE = {"mark-paid": "ALREADY_PAID", "cancel": "PAYMENT_CANCELLED"}


@pytest.mark.parametrize(
    "operations",
    [("mark-paid", "mark-paid"), ("mark-paid", "cancel"), ("cancel", "cancel")],
)
async def test_concurrent_requests_act_once(
    api: Api, database: Database, operations: tuple[str, str]
) -> None:
    """Two people act on the same payment at the same moment: whichever request takes the
    payment's lock first wins; the other is refused as if it came after."""
    rental, billed = await one_billed(api, database)
    responses = await asyncio.gather(
        *(
            api.post(f"/v1/payments/{billed.payment_id}/{operation}", {"reason": "x"})
            for operation in operations
        )
    )
    statuses = [response.status_code for response in responses]
    assert sorted(statuses) == [200, 409], [r.text for r in responses]
    winner = operations[statuses.index(200)]
    assert error_code(responses[statuses.index(409)]) == LOSER_CODE[winner]
    paid = winner == "mark-paid"
    expected = Decimal("59.99") if paid else Decimal("0.00")
    assert await counters(api, [rental["rentalId"]], rental["customerId"]) == [expected] * 2
    assert len(await events_of(database, "payment.succeeded")) == (1 if paid else 0)
    invoice = exact(await api.get(f"/v1/invoices/{billed.invoice_id}"))
    assert (invoice["status"], invoice["amountPaid"]) == (
        ("paid", Decimal("71.39")) if paid else ("void", Decimal("0.00"))
    )


async def test_permissions(api: Api, database: Database, tenant: Tenant) -> None:
    _, billed = await one_billed(api, database)
    reader = api.with_key(await issue_key(database, tenant, permissions=["payments:read"]))
    assert (await reader.get(f"/v1/payments/{billed.payment_id}")).status_code == 200
    assert (await reader.get("/v1/payments")).status_code == 200
    for operation, body in (("mark-paid", {}), ("cancel", {"reason": "x"})):
        response = await reader.post(f"/v1/payments/{billed.payment_id}/{operation}", body)
        assert response.status_code == 403
        assert error_code(response) == "INSUFFICIENT_PERMISSIONS"
    outsider = api.with_key(await issue_key(database, tenant, permissions=["invoices:write"]))
    response = await outsider.get(f"/v1/payments/{billed.payment_id}")
    assert (response.status_code, error_code(response)) == (403, "INSUFFICIENT_PERMISSIONS")
    writer = api.with_key(await issue_key(database, tenant, permissions=["payments:write"]))
    response = await writer.post(f"/v1/payments/{billed.payment_id}/mark-paid", {})
    assert response.status_code == 200, response.text


async def test_tenants_see_only_their_payments(
    api: Api, client: httpx.AsyncClient, database: Database, tenant: Tenant
) -> None:
    _, billed = await one_billed(api, database)
    other_tenant = await new_tenant(database)
    other = Api(client, key=other_tenant.live_key, tenant_id=other_tenant.id)
    test_mode = Api(client, key=tenant.test_key, tenant_id=tenant.id)
    for outsider in (other, test_mode):
        for response in (
            await outsider.get(f"/v1/payments/{billed.payment_id}"),
            await outsider.post(f"/v1/payments/{billed.payment_id}/mark-paid", {}),
            await outsider.post(f"/v1/payments/{billed.payment_id}/cancel", {"reason": "x"}),
        ):
            assert (response.status_code, error_code(response)) == (404, "NOT_FOUND")
        assert (await outsider.get("/v1/payments")).json()["payments"] == []
        response = await outsider.get("/v1/payments", startAfter=billed.payment_id)
        assert error_code(response) == "VALIDATION_ERROR"
    assert (await payment_of(api, billed.payment_id))["status"] == "pending"
    assert await events_of(database, "payment.succeeded") == []


async def test_list_filters(api: Api, database: Database) -> None:
    book = await ledger(api, database)
    ada, bob = book.customers["ada"], book.customers["bob"]
    cases: list[tuple[dict[str, str], list[str]]] = [
        ({}, ["P4", "P3", "P2", "P1"]),
        ({"status": "pending"}, ["P3"]),
        ({"status": "paid"}, ["P1"]),
        ({"status": "failed"}, ["P2"]),
        ({"status": "cancelled"}, ["P4"]),
        ({"status": "processing"}, []),
        ({"customerId": ada}, ["P3", "P2", "P1"]),
        ({"customerId": bob}, ["P4"]),
        ({"rentalId": book.rental_ids["a1"]}, ["P2", "P1"]),
        ({"rentalId": book.rental_ids["a2"]}, []),  # billed through its group
        ({"billingGroupId": book.group_id}, ["P3"]),
        ({"dueDateFrom": "2025-07-05"}, ["P4", "P3", "P2"]),  # inclusive
        ({"dueDateTo": "2025-07-05"}, ["P4", "P1"]),
        ({"dueDateFrom": "2025-07-02", "dueDateTo": "2025-07-31"}, ["P4", "P3"]),
        ({"dueDateFrom": "2025-07-15T00:00:00Z"}, ["P3", "P2"]),
        ({"customerId": ada, "status": "failed"}, ["P2"]),
        ({"customerId": "cust_unknown"}, []),
    ]
    for params, expected in cases:
        assert await listed(api, "/v1/payments", book.ids, **params) == expected, params


async def test_list_sorts_and_pages(api: Api, database: Database) -> None:
    book = await ledger(api, database)
    cases: list[tuple[str, str, list[str]]] = [
        ("createdAt", "asc", ["P1", "P2", "P3", "P4"]),
        ("updatedAt", "desc", ["P4", "P1", "P3", "P2"]),  # cancelled, then marked paid
        ("dueDate", "asc", ["P1", "P4", "P3", "P2"]),
        ("dueDate", "desc", ["P2", "P3", "P4", "P1"]),
        ("amount", "desc", ["P3", "P4", "P2", "P1"]),  # 142.78, 81.39, 71.39, 71.39
        ("amount", "asc", ["P1", "P2", "P4", "P3"]),
    ]
    for sort_by, sort_dir, expected in cases:
        order = {"sortBy": sort_by, "sortDir": sort_dir}
        assert await listed(api, "/v1/payments", book.ids, **order) == expected, order
        # Walking the same order two at a time gives every payment once.
        first = exact(await api.get("/v1/payments", **order, limit=2))
        assert (first["count"], first["limit"], first["hasMore"]) == (2, 2, True)
        rest = await listed(
            api, "/v1/payments", book.ids, **order, limit=2, startAfter=first["nextCursor"]
        )
        names = {payment_id: name for name, payment_id in book.ids.items()}
        assert [names[p["paymentId"]] for p in first["payments"]] + rest == expected, order
    # FlexPortal's cursor is the last id: a bare payment id continues after that payment.
    assert await listed(api, "/v1/payments", book.ids, startAfter=book.ids["P3"]) == [
        "P2", "P1",
    ]  # fmt: skip
    by_amount = exact(await api.get("/v1/payments", sortBy="amount"))["payments"]
    assert [p["amount"] for p in by_amount] == [
        Decimal("142.78"), Decimal("81.39"), Decimal("71.39"), Decimal("71.39"),
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("params", "path", "code"),
    [
        ({"status": "open"}, "status", "invalid_enum_value"),
        ({"dueDateFrom": "07/01/2025"}, "dueDateFrom", "invalid_date"),
        ({"dueDateTo": "2025-13-01"}, "dueDateTo", "invalid_date"),
        ({"sortBy": "customerId"}, "sortBy", "invalid_enum_value"),
        ({"limit": "101"}, "limit", "too_big"),
        ({"startAfter": "pay_unknown"}, "startAfter", "invalid_cursor"),
    ],
)
async def test_list_refuses_unknown_parameters(
    api: Api, params: dict[str, str], path: str, code: str
) -> None:
    response = await api.get("/v1/payments", **params)
    assert response.status_code == 400, response.text
    assert error_code(response) == "VALIDATION_ERROR"
    details = response.json()["error"]["details"]
    assert [(d["path"], d["code"]) for d in details] == [(path, code)]
