"""The payment status machine and the voiding of invoices, as tables of every case."""

from __future__ import annotations

import itertools

import pytest

from flexbill.billing import payment_lifecycle
from flexbill.billing.models import InvoiceStatus, PaymentStatus
from flexbill.billing.payment_lifecycle import PaymentAction
from flexbill.core.errors import Conflict, InvalidState

PENDING, PROCESSING, PAID, FAILED, CANCELLED = (
    PaymentStatus.PENDING,
    PaymentStatus.PROCESSING,
    PaymentStatus.PAID,
    PaymentStatus.FAILED,
    PaymentStatus.CANCELLED,
)

ALLOWED = {
    (PENDING, PaymentAction.CAPTURE): PROCESSING,
    (PENDING, PaymentAction.MARK_PAID): PAID,
    (PENDING, PaymentAction.CANCEL): CANCELLED,
    (PROCESSING, PaymentAction.SUCCEED): PAID,
    (PROCESSING, PaymentAction.FAIL): FAILED,
    (FAILED, PaymentAction.CAPTURE): PROCESSING,  # a retry
    (FAILED, PaymentAction.MARK_PAID): PAID,
    (FAILED, PaymentAction.CANCEL): CANCELLED,
}


def test_the_five_statuses_of_flexportal() -> None:
    assert [s.value for s in PaymentStatus] == [
        "pending", "processing", "paid", "failed", "cancelled",
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("status", "action"), list(itertools.product(PaymentStatus, PaymentAction))
)
def test_transitions(status: PaymentStatus, action: PaymentAction) -> None:
    assert payment_lifecycle.next_status(status, action) == ALLOWED.get((status, action))


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (PENDING, PAID),
        (FAILED, PAID),
        (PAID, "ALREADY_PAID"),
        (CANCELLED, "PAYMENT_CANCELLED"),
        (PROCESSING, "PAYMENT_PROCESSING"),
    ],
)
def test_mark_paid(status: PaymentStatus, expected: str) -> None:
    if isinstance(expected, PaymentStatus):
        assert payment_lifecycle.mark_paid(status) is expected
        return
    with pytest.raises(Conflict) as refused:
        payment_lifecycle.mark_paid(status)
    assert refused.value.code == expected
    assert "marked as paid" in refused.value.message


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (PENDING, CANCELLED),
        (FAILED, CANCELLED),
        (PAID, "ALREADY_PAID"),
        (CANCELLED, "PAYMENT_CANCELLED"),
        (PROCESSING, "PAYMENT_PROCESSING"),
    ],
)
def test_cancel(status: PaymentStatus, expected: str) -> None:
    if isinstance(expected, PaymentStatus):
        assert payment_lifecycle.cancel(status) is expected
        return
    with pytest.raises(Conflict) as refused:
        payment_lifecycle.cancel(status)
    assert refused.value.code == expected
    assert "cancelled" in refused.value.message


@pytest.mark.parametrize(
    ("status", "action", "code", "kind"),
    [
        (PAID, PaymentAction.CAPTURE, "ALREADY_PAID", Conflict),
        (CANCELLED, PaymentAction.CAPTURE, "PAYMENT_CANCELLED", Conflict),
        (PROCESSING, PaymentAction.CAPTURE, "PAYMENT_PROCESSING", Conflict),
        # A gateway's answer only ends an attempt that was started.
        (PENDING, PaymentAction.SUCCEED, "INVALID_STATUS", InvalidState),
        (FAILED, PaymentAction.FAIL, "INVALID_STATUS", InvalidState),
    ],
)
def test_refusals(
    status: PaymentStatus, action: PaymentAction, code: str, kind: type[Exception]
) -> None:
    assert payment_lifecycle.next_status(status, action) is None
    error = payment_lifecycle.refusal(status, action)
    assert (type(error), error.code) == (kind, code)
    with pytest.raises(kind):
        payment_lifecycle.apply(status, action)


@pytest.mark.parametrize(
    ("status", "amount_paid", "voidable"),
    [
        (InvoiceStatus.DRAFT, 0, True),
        (InvoiceStatus.OPEN, 0, True),
        (InvoiceStatus.UNCOLLECTIBLE, 0, True),
        (InvoiceStatus.PARTIALLY_PAID, 0, True),  # nothing received yet
        (InvoiceStatus.PARTIALLY_PAID, 1, False),  # one cent received: it needs a refund
        (InvoiceStatus.OPEN, 500, False),
        (InvoiceStatus.PAID, 7139, False),
        (InvoiceStatus.PAID, 0, False),
        (InvoiceStatus.VOID, 0, False),
    ],
)
def test_void_invoice(status: InvoiceStatus, amount_paid: int, voidable: bool) -> None:
    if voidable:
        assert payment_lifecycle.void_invoice(status, amount_paid) is InvoiceStatus.VOID
        return
    with pytest.raises(InvalidState) as refused:
        payment_lifecycle.void_invoice(status, amount_paid)
    assert refused.value.code == "INVALID_STATUS"
