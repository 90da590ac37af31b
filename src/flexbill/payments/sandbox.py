"""The sandbox gateway: a card processor without money, driven by test tokens.

Test tokens (a payment method's ``token``), in the style of the card processors' own:

=============================  ==========  =====  ============================================
token                          brand       last4  what a charge does
=============================  ==========  =====  ============================================
``tok_visa``                   visa        4242   succeeds
``tok_mastercard``             mastercard  4444   succeeds
``tok_insufficient_funds``     visa        9995   declines: ``insufficient_funds``
``tok_lost_card``              visa        9987   declines: ``lost_card``
``tok_expired_card``           visa        0069   declines: ``expired_card``
``tok_card_declined``          visa        0002   declines: ``card_declined``
``tok_network_error``          visa        0119   the processor cannot be reached
                                                  (``GatewayUnavailable``: retriable, no
                                                  decline, nothing charged)
``tok_delayed``                visa        3155   answers ``pending``; a lookup
                                                  ``SETTLEMENT_DELAY`` (30 minutes) after the
                                                  charge answers ``succeeded``
``tok_delayed_decline``        visa        3220   answers ``pending``; a lookup 30 minutes
                                                  later answers declined
                                                  ``insufficient_funds``
=============================  ==========  =====  ============================================

Idempotency: a charge is identified by its idempotency key. The same key always gets the
answer its first call got (a ``pending`` charge is followed with ``lookup``) and never a
second charge; the same key with another amount, currency or token is refused
(``IdempotencyKeyReused``), as processors refuse it. References are derived from the key,
so even a forgotten charge comes back under the same reference.

Where the sandbox remembers its charges: in ``LEDGER`` (this process, bounded: it only has
to bridge the moments between a charge and the commit that records it, which a crash can
roll back), and in the ``transactions`` rows its answers were recorded in (which survive a
restart: ``raw`` holds everything the sandbox needs to answer again). A crash between the
charge and the commit *and* a restart of the process lose the charge; a real processor
would still know it, and so would a ``sandbox_charges`` table (see the billing issue).
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from flexbill.payments.gateway import ChargeStatus, GatewayResult, GatewayUnavailable
from flexbill.payments.models import Gateway, Transaction

SETTLEMENT_DELAY: Final = timedelta(minutes=30)
"""How long a ``tok_delayed`` charge stays ``pending``."""

LEDGER_CAPACITY: Final = 10_000


class Behaviour(StrEnum):
    SUCCEED = "succeed"
    DECLINE = "decline"
    NETWORK_ERROR = "network_error"
    DELAYED_SUCCESS = "delayed_success"
    DELAYED_DECLINE = "delayed_decline"


@dataclass(frozen=True)
class SandboxCard:
    token: str
    brand: str
    last4: str
    behaviour: Behaviour
    decline_code: str | None = None
    decline_reason: str | None = None


_INSUFFICIENT_FUNDS = ("insufficient_funds", "Your card has insufficient funds.")

TEST_CARDS: Final[dict[str, SandboxCard]] = {
    card.token: card
    for card in (
        SandboxCard("tok_visa", "visa", "4242", Behaviour.SUCCEED),
        SandboxCard("tok_mastercard", "mastercard", "4444", Behaviour.SUCCEED),
        SandboxCard(
            "tok_insufficient_funds", "visa", "9995", Behaviour.DECLINE, *_INSUFFICIENT_FUNDS
        ),
        SandboxCard(
            "tok_lost_card", "visa", "9987", Behaviour.DECLINE,
            "lost_card", "Your card has been declined: it was reported lost.",
        ),
        SandboxCard(
            "tok_expired_card", "visa", "0069", Behaviour.DECLINE,
            "expired_card", "Your card has expired.",
        ),
        SandboxCard(
            "tok_card_declined", "visa", "0002", Behaviour.DECLINE,
            "card_declined", "Your card was declined.",
        ),
        SandboxCard("tok_network_error", "visa", "0119", Behaviour.NETWORK_ERROR),
        SandboxCard("tok_delayed", "visa", "3155", Behaviour.DELAYED_SUCCESS),
        SandboxCard(
            "tok_delayed_decline", "visa", "3220", Behaviour.DELAYED_DECLINE, *_INSUFFICIENT_FUNDS
        ),
    )
}  # fmt: skip


class IdempotencyKeyReused(ValueError):
    """A key already used for a charge of another amount, currency or token."""


class UnknownCharge(LookupError):
    """``lookup`` of a reference the sandbox never answered."""


@dataclass(frozen=True)
class SandboxCharge:
    """One charge the sandbox made: what was asked, and when it settles."""

    reference: str
    idempotency_key: str
    amount: int
    currency: str
    token: str
    created_at: datetime
    settles_at: datetime | None  # only for the delayed cards

    @property
    def card(self) -> SandboxCard:
        return TEST_CARDS[self.token]

    def answer(self, now: datetime) -> GatewayResult:
        """How the charge stands at ``now``. Pure."""
        card = self.card
        if self.settles_at is not None and now < self.settles_at:
            status = ChargeStatus.PENDING
        elif card.behaviour in (Behaviour.DECLINE, Behaviour.DELAYED_DECLINE):
            status = ChargeStatus.FAILED
        else:
            status = ChargeStatus.SUCCEEDED
        declined = status is ChargeStatus.FAILED
        raw: dict[str, Any] = {
            "id": self.reference,
            "object": "charge",
            "amount": self.amount,
            "currency": self.currency.lower(),
            "payment_method": self.token,
            "idempotency_key": self.idempotency_key,
            "created": self.created_at.isoformat(),
            "settles_at": None if self.settles_at is None else self.settles_at.isoformat(),
            "status": status.value,
            "decline_code": card.decline_code if declined else None,
            "message": card.decline_reason if declined else None,
        }
        return GatewayResult(
            status=status,
            reference=self.reference,
            decline_code=card.decline_code if declined else None,
            decline_reason=card.decline_reason if declined else None,
            raw=raw,
        )

    @classmethod
    def from_raw(cls, raw: dict[str, Any]) -> SandboxCharge:
        """The charge an answer was built from (``answer(...).raw``)."""
        settles_at = raw.get("settles_at")
        return cls(
            reference=str(raw["id"]),
            idempotency_key=str(raw["idempotency_key"]),
            amount=int(raw["amount"]),
            currency=str(raw["currency"]).upper(),
            token=str(raw["payment_method"]),
            created_at=datetime.fromisoformat(str(raw["created"])),
            settles_at=None if settles_at is None else datetime.fromisoformat(str(settles_at)),
        )


def card_for(token: str) -> SandboxCard | None:
    """The test card a token stands for; ``None`` for a token the sandbox does not know."""
    return TEST_CARDS.get(token)


def charge_reference(tenant_id: str, idempotency_key: str) -> str:
    digest = hashlib.sha256(f"{tenant_id}:{idempotency_key}".encode()).hexdigest()
    return f"ch_sandbox_{digest[:24]}"


class SandboxLedger:
    """The charges the sandbox made in this process, oldest first, at most ``capacity``."""

    def __init__(self, capacity: int = LEDGER_CAPACITY) -> None:
        self.capacity = capacity
        self._by_key: OrderedDict[tuple[str, str], SandboxCharge] = OrderedDict()
        self._by_reference: dict[tuple[str, str], SandboxCharge] = {}

    def by_key(self, tenant_id: str, idempotency_key: str) -> SandboxCharge | None:
        return self._by_key.get((tenant_id, idempotency_key))

    def by_reference(self, tenant_id: str, reference: str) -> SandboxCharge | None:
        return self._by_reference.get((tenant_id, reference))

    def add(self, tenant_id: str, charge: SandboxCharge) -> None:
        self._by_key[(tenant_id, charge.idempotency_key)] = charge
        self._by_reference[(tenant_id, charge.reference)] = charge
        while len(self._by_key) > self.capacity:
            (old_tenant, _key), old = self._by_key.popitem(last=False)
            self._by_reference.pop((old_tenant, old.reference), None)

    def charges(self, tenant_id: str, key_prefix: str = "") -> list[SandboxCharge]:
        """The charges made for ``tenant_id`` whose key starts with ``key_prefix`` (a
        payment's keys start with its id)."""
        return [
            charge
            for (tenant, key), charge in self._by_key.items()
            if tenant == tenant_id and key.startswith(key_prefix)
        ]


LEDGER = SandboxLedger()


class SandboxGateway:
    """The sandbox for one tenant; ``session`` reads the recorded transactions."""

    name = Gateway.SANDBOX.value
    charges = True

    def __init__(
        self, session: AsyncSession | None, tenant_id: str, ledger: SandboxLedger = LEDGER
    ) -> None:
        self.session = session
        self.tenant_id = tenant_id
        self.ledger = ledger

    async def charge(
        self, *, amount: int, currency: str, token: str, idempotency_key: str, now: datetime
    ) -> GatewayResult:
        card = card_for(token)
        if card is None:
            return GatewayResult(
                status=ChargeStatus.FAILED,
                reference=None,
                decline_code="invalid_payment_method",
                decline_reason=f"No such test payment method: '{token}'",
                raw={"error": "invalid_payment_method", "payment_method": token},
            )
        if card.behaviour is Behaviour.NETWORK_ERROR:
            raise GatewayUnavailable("sandbox: the processor did not answer (tok_network_error)")
        earlier = await self._charge_by_key(idempotency_key)
        if earlier is not None:
            if (earlier.amount, earlier.currency, earlier.token) != (amount, currency, token):
                raise IdempotencyKeyReused(
                    f"idempotency key {idempotency_key!r} was used for another charge"
                )
            return earlier.answer(earlier.created_at)
        delayed = card.behaviour in (Behaviour.DELAYED_SUCCESS, Behaviour.DELAYED_DECLINE)
        charge = SandboxCharge(
            reference=charge_reference(self.tenant_id, idempotency_key),
            idempotency_key=idempotency_key, amount=amount, currency=currency, token=token,
            created_at=now, settles_at=now + SETTLEMENT_DELAY if delayed else None,
        )  # fmt: skip
        self.ledger.add(self.tenant_id, charge)
        return charge.answer(now)

    async def lookup(self, reference: str, *, now: datetime) -> GatewayResult:
        charge = self.ledger.by_reference(self.tenant_id, reference)
        if charge is None:
            charge = await self._recorded(Transaction.gateway_reference == reference)
        if charge is None:
            raise UnknownCharge(f"sandbox: no charge {reference!r}")
        return charge.answer(now)

    async def _charge_by_key(self, idempotency_key: str) -> SandboxCharge | None:
        charge = self.ledger.by_key(self.tenant_id, idempotency_key)
        if charge is None:
            charge = await self._recorded(Transaction.idempotency_key == idempotency_key)
        return charge

    async def _recorded(self, condition: Any) -> SandboxCharge | None:
        """A charge known from the transaction its answer was recorded in (after a
        restart, the ledger is empty)."""
        if self.session is None:
            return None
        statement = select(Transaction.response).where(
            Transaction.tenant_id == self.tenant_id,
            Transaction.gateway == self.name,
            condition,
        )
        raw = (await self.session.scalars(statement.limit(1))).first()
        if not raw or "idempotency_key" not in raw:
            return None
        charge = SandboxCharge.from_raw(raw)
        self.ledger.add(self.tenant_id, charge)
        return charge
