"""The status rules of scheduled payments and of voiding their invoices. Pure, no I/O.

    pending ─capture─► processing ─succeed─► paid
                                 └─fail────► failed ─capture (a retry)─► processing
    pending | failed ─mark paid─► paid
    pending | failed ─cancel────► cancelled

``paid`` and ``cancelled`` are final. A person may settle or cancel a payment only while
no attempt is running: a ``processing`` payment waits for its gateway's answer.

An invoice can be voided while no money was received for it (draft, open, uncollectible,
or partially paid with nothing paid yet, or paid by customer credit alone); voiding
cancels its payment.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum

from flexbill.billing.models import InvoiceStatus, PaymentStatus
from flexbill.core.errors import Conflict, FlexbillError, InvalidState


class PaymentAction(StrEnum):
    CAPTURE = "capture"  # a collection attempt starts
    SUCCEED = "succeed"  # the gateway collected the money
    FAIL = "fail"  # the gateway declined or failed
    MARK_PAID = "mark_paid"  # money received outside the gateways, recorded by a person
    CANCEL = "cancel"


TRANSITIONS: Mapping[PaymentStatus, Mapping[PaymentAction, PaymentStatus]] = {
    PaymentStatus.PENDING: {
        PaymentAction.CAPTURE: PaymentStatus.PROCESSING,
        PaymentAction.MARK_PAID: PaymentStatus.PAID,
        PaymentAction.CANCEL: PaymentStatus.CANCELLED,
    },
    PaymentStatus.PROCESSING: {
        PaymentAction.SUCCEED: PaymentStatus.PAID,
        PaymentAction.FAIL: PaymentStatus.FAILED,
    },
    PaymentStatus.FAILED: {
        PaymentAction.CAPTURE: PaymentStatus.PROCESSING,
        PaymentAction.MARK_PAID: PaymentStatus.PAID,
        PaymentAction.CANCEL: PaymentStatus.CANCELLED,
    },
    PaymentStatus.PAID: {},
    PaymentStatus.CANCELLED: {},
}

_DOING = {
    PaymentAction.CAPTURE: "collected",
    PaymentAction.SUCCEED: "settled by its gateway",
    PaymentAction.FAIL: "failed",
    PaymentAction.MARK_PAID: "marked as paid",
    PaymentAction.CANCEL: "cancelled",
}


def next_status(current: PaymentStatus, action: PaymentAction) -> PaymentStatus | None:
    """The status ``action`` leads to from ``current``, or ``None`` if it is not allowed."""
    return TRANSITIONS[current].get(action)


def refusal(current: PaymentStatus, action: PaymentAction) -> FlexbillError:
    """Why ``action`` is not allowed on a payment in ``current``."""
    doing = _DOING[action]
    if current is PaymentStatus.PAID:
        return Conflict("ALREADY_PAID", f"This payment is already paid; it cannot be {doing}")
    if current is PaymentStatus.CANCELLED:
        return Conflict("PAYMENT_CANCELLED", f"This payment is cancelled; it cannot be {doing}")
    if current is PaymentStatus.PROCESSING:
        return Conflict(
            "PAYMENT_PROCESSING",
            f"A collection attempt for this payment is in progress; it cannot be {doing} "
            "until the attempt ends",
        )
    return InvalidState("INVALID_STATUS", f"A payment that is '{current}' cannot be {doing}")


def apply(current: PaymentStatus, action: PaymentAction) -> PaymentStatus:
    """The status after ``action``, or the refusal as an error."""
    target = next_status(current, action)
    if target is None:
        raise refusal(current, action)
    return target


def mark_paid(current: PaymentStatus) -> PaymentStatus:
    """pending | failed → paid. Raises ``ALREADY_PAID``, ``PAYMENT_CANCELLED`` or
    ``PAYMENT_PROCESSING``."""
    return apply(current, PaymentAction.MARK_PAID)


def cancel(current: PaymentStatus) -> PaymentStatus:
    """pending | failed → cancelled. Raises ``ALREADY_PAID``, ``PAYMENT_CANCELLED`` or
    ``PAYMENT_PROCESSING``."""
    return apply(current, PaymentAction.CANCEL)


VOIDABLE_INVOICES = frozenset(
    {
        InvoiceStatus.DRAFT,
        InvoiceStatus.OPEN,
        InvoiceStatus.PARTIALLY_PAID,
        InvoiceStatus.UNCOLLECTIBLE,
    }
)


def void_invoice(
    current: InvoiceStatus, amount_paid: int, credit_applied: int = 0
) -> InvoiceStatus:
    """An invoice nobody paid money for → void. Raises ``INVALID_STATUS`` for a void
    invoice, and for one that received money (it would need a refund). Customer credit
    applied to it (``credit_applied``, counted in ``amount_paid``) is no money received:
    an invoice paid by credit alone can be voided, and its credit goes back."""
    paid_by_credit_alone = current is InvoiceStatus.PAID and 0 < credit_applied == amount_paid
    if current not in VOIDABLE_INVOICES and not paid_by_credit_alone:
        raise InvalidState(
            "INVALID_STATUS", f"Only unpaid invoices can be voided; this invoice is '{current}'"
        )
    if amount_paid - credit_applied > 0:
        raise InvalidState(
            "INVALID_STATUS",
            "Money was already received for this invoice; it cannot be voided",
        )
    return InvoiceStatus.VOID
