"""The one interface every payment gateway sits behind, and the ``manual`` gateway.

A gateway charges a customer's token for an amount and answers ``succeeded``, ``failed``
(declined, with the processor's code and reason) or ``pending`` (the processor answers
later: ``lookup`` tells how it ended). Every charge carries an idempotency key: the same
key always gets the same answer and never a second charge, which is what makes a charge
retried after a crash safe.

A gateway that cannot be reached raises ``GatewayUnavailable``: nothing is known about the
charge, so the caller retries it later with the same key (the processor either charged
and answers that charge, or never saw the call). A gateway that does not charge at all
(``manual``) raises ``ChargingRefused``.

A refund gives back part or all of a charge (named by its reference) and answers like a
charge: ``succeeded``, ``failed`` (declined, with a code and reason: nothing moved) or
``pending``; its idempotency key makes a retried refund the same refund, never a second
one. The ``manual`` gateway's refund is money the business sends itself (a bank transfer):
it always succeeds, as the record of that transfer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol

from flexbill.core.errors import InvalidState


class ChargeStatus(StrEnum):
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    PENDING = "pending"


@dataclass(frozen=True)
class GatewayResult:
    """A gateway's answer to a charge or a lookup. ``raw`` is what the processor sent,
    kept on the transaction as it came."""

    status: ChargeStatus
    reference: str | None
    decline_code: str | None = None
    decline_reason: str | None = None
    raw: dict[str, Any] = field(default_factory=dict)


class GatewayUnavailable(Exception):
    """The gateway could not be reached or did not answer: retriable, and no decline."""


class ChargingRefused(InvalidState):
    """This gateway does not charge (manual payments are paid through mark-paid)."""

    def __init__(self, gateway: str) -> None:
        super().__init__(
            "GATEWAY_CANNOT_CHARGE",
            f"The {gateway} gateway does not charge: mark such payments paid instead",
        )


class PaymentGateway(Protocol):
    name: str

    @property
    def charges(self) -> bool:
        """Whether ``charge`` can take money at all (``manual`` cannot)."""
        ...

    async def charge(
        self, *, amount: int, currency: str, token: str, idempotency_key: str, now: datetime
    ) -> GatewayResult:
        """Charge ``amount`` (minor units of ``currency``) to ``token``, once per key."""
        ...

    async def lookup(self, reference: str, *, now: datetime) -> GatewayResult:
        """How the charge ``reference`` (answered ``pending``) stands at ``now``; ``now`` is
        passed because a test clock, not the wall clock, may be the customer's time."""
        ...

    async def refund(
        self,
        *,
        charge_reference: str | None,
        amount: int,
        currency: str,
        idempotency_key: str,
        now: datetime,
    ) -> GatewayResult:
        """Give back ``amount`` (minor units of ``currency``) of the charge
        ``charge_reference``, once per key."""
        ...


class ManualGateway:
    """Bank transfers and cash: money arrives outside flexbill and a person marks the
    payment paid. Charging is refused; a refund is money the business sends back itself,
    recorded as it is made."""

    name = "manual"
    charges = False

    async def charge(
        self, *, amount: int, currency: str, token: str, idempotency_key: str, now: datetime
    ) -> GatewayResult:
        raise ChargingRefused(self.name)

    async def lookup(self, reference: str, *, now: datetime) -> GatewayResult:
        raise ChargingRefused(self.name)

    async def refund(
        self,
        *,
        charge_reference: str | None,
        amount: int,
        currency: str,
        idempotency_key: str,
        now: datetime,
    ) -> GatewayResult:
        return GatewayResult(
            status=ChargeStatus.SUCCEEDED,
            reference=None,
            raw={
                "object": "refund",
                "gateway": self.name,
                "charge": charge_reference,
                "amount": amount,
                "currency": currency.lower(),
                "idempotency_key": idempotency_key,
                "created": now.isoformat(),
                "status": ChargeStatus.SUCCEEDED.value,
                "message": "Sent by the business outside flexbill",
            },
        )
