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
``tok_refund_declined``        visa        0051   succeeds; a refund of it is declined:
                                                  ``refund_declined``
=============================  ==========  =====  ============================================

Refunds give back a settled charge, named by its reference, at once: ``succeeded``. They
are declined (``failed``, nothing moved) for a card that says so, a charge unknown, not
settled or in another currency, and an amount above what is left of the charge after its
earlier refunds (``amount_too_large``). A refund is identified by its idempotency key like a
charge: the same key answers the refund made under it and never refunds twice; a key used
for another refund is refused (``IdempotencyKeyReused``). A declined refund moves nothing
and is not remembered: asked again, it is decided again.

Idempotency: a charge is identified by its idempotency key. The same key always gets the
answer its first call got (a ``pending`` charge is followed with ``lookup``) and never a
second charge; the same key with another amount, currency or token is refused
(``IdempotencyKeyReused``), as processors refuse it. References are derived from the key,
so even a forgotten charge comes back under the same reference.

Where the sandbox remembers its charges and refunds: in its own ledger, a SQLite file
(``<data_dir>/sandbox-gateway.db``) written and made durable *before* a charge is answered,
as a processor records a charge before it answers. So a worker killed between the call and
the commit of its answer, then started again in a new process, finds the charge under the
same key and is answered the same: never a second charge. The ledger lives outside the
job's database transaction on purpose (a rollback must not make the processor forget).
Where the file is not shared (workers on several machines), the ``transactions`` rows the
answers were recorded in are the fallback (``raw`` holds everything needed to answer again).
"""

from __future__ import annotations

import hashlib
import sqlite3
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any, Final

import orjson
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from flexbill.config import get_settings
from flexbill.payments.gateway import ChargeStatus, GatewayResult, GatewayUnavailable
from flexbill.payments.models import Gateway, Transaction, TransactionKind

SETTLEMENT_DELAY: Final = timedelta(minutes=30)
"""How long a ``tok_delayed`` charge stays ``pending``."""


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
    refund_decline: tuple[str, str] | None = None  # why a refund of its charges is declined


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
        SandboxCard(
            "tok_refund_declined", "visa", "0051", Behaviour.SUCCEED,
            refund_decline=("refund_declined", "The card issuer declined the refund."),
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


@dataclass(frozen=True)
class SandboxRefund:
    """One refund the sandbox made (declined ones are not kept)."""

    reference: str
    idempotency_key: str
    charge_reference: str
    amount: int
    currency: str
    created_at: datetime

    def answer(self) -> GatewayResult:
        raw: dict[str, Any] = {
            "id": self.reference, "object": "refund", "charge": self.charge_reference,
            "amount": self.amount, "currency": self.currency.lower(),
            "idempotency_key": self.idempotency_key, "created": self.created_at.isoformat(),
            "status": ChargeStatus.SUCCEEDED.value,
        }  # fmt: skip
        return GatewayResult(status=ChargeStatus.SUCCEEDED, reference=self.reference, raw=raw)

    @classmethod
    def from_raw(cls, raw: dict[str, Any]) -> SandboxRefund:
        return cls(
            reference=str(raw["id"]), idempotency_key=str(raw["idempotency_key"]),
            charge_reference=str(raw["charge"]), amount=int(raw["amount"]),
            currency=str(raw["currency"]).upper(),
            created_at=datetime.fromisoformat(str(raw["created"])),
        )  # fmt: skip


def refund_declined(code: str, reason: str, charge_reference: str | None) -> GatewayResult:
    raw = {"object": "refund", "charge": charge_reference, "status": "failed",
           "decline_code": code, "message": reason}  # fmt: skip
    return GatewayResult(ChargeStatus.FAILED, None, code, reason, raw)


def card_for(token: str) -> SandboxCard | None:
    """The test card a token stands for; ``None`` for a token the sandbox does not know."""
    return TEST_CARDS.get(token)


def charge_reference(tenant_id: str, idempotency_key: str) -> str:
    digest = hashlib.sha256(f"{tenant_id}:{idempotency_key}".encode()).hexdigest()
    return f"ch_sandbox_{digest[:24]}"


def refund_reference(tenant_id: str, idempotency_key: str) -> str:
    digest = hashlib.sha256(f"{tenant_id}:{idempotency_key}".encode()).hexdigest()
    return f"re_sandbox_{digest[:24]}"


LEDGER_FILE: Final = "sandbox-gateway.db"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS charges (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id TEXT NOT NULL,
    idempotency_key TEXT NOT NULL,
    reference TEXT NOT NULL,
    charge TEXT NOT NULL,
    UNIQUE (tenant_id, idempotency_key),
    UNIQUE (tenant_id, reference)
)
"""

_REFUNDS_SCHEMA = """
CREATE TABLE IF NOT EXISTS refunds (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id TEXT NOT NULL,
    idempotency_key TEXT NOT NULL,
    charge_reference TEXT NOT NULL,
    amount INTEGER NOT NULL,
    refund TEXT NOT NULL,
    UNIQUE (tenant_id, idempotency_key)
)
"""


class SandboxLedger:
    """The charges the sandbox made, oldest first: in a SQLite file that outlives the
    process (``path``), or in memory for tests of the gateway alone (``path=None``).

    Each ``add`` is committed before it returns. Several processes may share the file: the
    first charge written under a key wins and the others are answered with it."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path
        self._connection: sqlite3.Connection | None = None

    def _db(self) -> sqlite3.Connection:
        if self._connection is None:
            if self.path is not None:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            connection = sqlite3.connect(
                ":memory:" if self.path is None else str(self.path),
                isolation_level=None,  # autocommit: each statement is durable on return
                check_same_thread=False,
                timeout=10,
            )
            if self.path is not None:
                connection.execute("PRAGMA journal_mode=WAL")
                # Survives a killed process (what it is for); an OS crash may lose the tail.
                connection.execute("PRAGMA synchronous=NORMAL")
            connection.execute(_SCHEMA)
            connection.execute(_REFUNDS_SCHEMA)
            self._connection = connection
        return self._connection

    def _one(self, sql: str, *parameters: str) -> SandboxCharge | None:
        row = self._db().execute(sql, parameters).fetchone()
        return None if row is None else SandboxCharge.from_raw(orjson.loads(row[0]))

    def by_key(self, tenant_id: str, idempotency_key: str) -> SandboxCharge | None:
        return self._one(
            "SELECT charge FROM charges WHERE tenant_id = ? AND idempotency_key = ?",
            tenant_id, idempotency_key,
        )  # fmt: skip

    def by_reference(self, tenant_id: str, reference: str) -> SandboxCharge | None:
        return self._one(
            "SELECT charge FROM charges WHERE tenant_id = ? AND reference = ?",
            tenant_id, reference,
        )  # fmt: skip

    def add(self, tenant_id: str, charge: SandboxCharge) -> SandboxCharge:
        """Record ``charge``; the charge recorded under its key (an earlier one wins)."""
        self._db().execute(
            "INSERT INTO charges (tenant_id, idempotency_key, reference, charge)"
            " VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
            (tenant_id, charge.idempotency_key, charge.reference,
             orjson.dumps(charge.answer(charge.created_at).raw).decode()),
        )  # fmt: skip
        recorded = self.by_key(tenant_id, charge.idempotency_key)
        assert recorded is not None, "a charge just written is there"
        return recorded

    def charges(self, tenant_id: str, key_prefix: str = "") -> list[SandboxCharge]:
        """The charges made for ``tenant_id`` whose key starts with ``key_prefix`` (a
        payment's keys start with its id), oldest first."""
        rows = self._db().execute(
            "SELECT charge FROM charges WHERE tenant_id = ? AND substr(idempotency_key, 1, ?) = ?"
            " ORDER BY seq",
            (tenant_id, len(key_prefix), key_prefix),
        )
        return [SandboxCharge.from_raw(orjson.loads(row[0])) for row in rows]

    def _first(self, sql: str, *parameters: str) -> Any:
        row = self._db().execute(sql, parameters).fetchone()
        return None if row is None else row[0]

    def refund_by_key(self, tenant_id: str, idempotency_key: str) -> SandboxRefund | None:
        sql = "SELECT refund FROM refunds WHERE tenant_id = ? AND idempotency_key = ?"
        found = self._first(sql, tenant_id, idempotency_key)
        return None if found is None else SandboxRefund.from_raw(orjson.loads(found))

    def add_refund(self, tenant_id: str, refund: SandboxRefund) -> SandboxRefund:
        """Record ``refund``; the refund recorded under its key (an earlier one wins)."""
        self._db().execute(
            "INSERT INTO refunds (tenant_id, idempotency_key, charge_reference, amount, refund)"
            " VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
            (tenant_id, refund.idempotency_key, refund.charge_reference, refund.amount,
             orjson.dumps(refund.answer().raw).decode()),
        )  # fmt: skip
        recorded = self.refund_by_key(tenant_id, refund.idempotency_key)
        assert recorded is not None, "a refund just written is there"
        return recorded

    def refunded(self, tenant_id: str, charge_reference: str) -> int:
        """What the refunds of the charge ``charge_reference`` gave back so far."""
        sql = "SELECT sum(amount) FROM refunds WHERE tenant_id = ? AND charge_reference = ?"
        return int(self._first(sql, tenant_id, charge_reference) or 0)

    def refunds(self, tenant_id: str, key_prefix: str = "") -> list[SandboxRefund]:
        """The refunds made for ``tenant_id`` whose key starts with ``key_prefix``."""
        rows = self._db().execute(
            "SELECT refund FROM refunds WHERE tenant_id = ? AND substr(idempotency_key, 1, ?) = ?"
            " ORDER BY seq",
            (tenant_id, len(key_prefix), key_prefix),
        )
        return [SandboxRefund.from_raw(orjson.loads(row[0])) for row in rows]

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None


_LEDGERS: dict[Path, SandboxLedger] = {}


def default_ledger() -> SandboxLedger:
    """The ledger of this installation: ``<data_dir>/sandbox-gateway.db``."""
    path = (get_settings().data_dir / LEDGER_FILE).resolve()
    ledger = _LEDGERS.get(path)
    if ledger is None:
        ledger = _LEDGERS[path] = SandboxLedger(path)
    return ledger


class SandboxGateway:
    """The sandbox for one tenant; ``session`` reads the recorded transactions."""

    name = Gateway.SANDBOX.value
    charges = True

    def __init__(
        self, session: AsyncSession | None, tenant_id: str, ledger: SandboxLedger | None = None
    ) -> None:
        self.session = session
        self.tenant_id = tenant_id
        self.ledger = ledger or default_ledger()

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
        recorded = self.ledger.add(self.tenant_id, charge)
        if recorded != charge:
            return await self.charge(
                amount=amount,
                currency=currency,
                token=token,
                idempotency_key=idempotency_key,
                now=now,
            )  # another process charged this key first: answer as it was answered
        return charge.answer(now)

    async def lookup(self, reference: str, *, now: datetime) -> GatewayResult:
        charge = self.ledger.by_reference(self.tenant_id, reference)
        if charge is None:
            charge = await self._recorded(Transaction.gateway_reference == reference)
        if charge is None:
            raise UnknownCharge(f"sandbox: no charge {reference!r}")
        return charge.answer(now)

    async def refund(
        self,
        *,
        charge_reference: str | None,
        amount: int,
        currency: str,
        idempotency_key: str,
        now: datetime,
    ) -> GatewayResult:
        earlier = await self._refund_by_key(idempotency_key)
        if earlier is None:
            refusal = await self._refusal(charge_reference, amount, currency, now)
            if refusal is not None:
                return refusal
            assert charge_reference is not None, "a refusal answers a refund without a charge"
            made = SandboxRefund(
                reference=refund_reference(self.tenant_id, idempotency_key),
                idempotency_key=idempotency_key, charge_reference=charge_reference,
                amount=amount, currency=currency, created_at=now,
            )  # fmt: skip
            earlier = self.ledger.add_refund(self.tenant_id, made)  # another process may win
        if (earlier.charge_reference, earlier.amount, earlier.currency) != (
            charge_reference, amount, currency,
        ):  # fmt: skip
            raise IdempotencyKeyReused(
                f"idempotency key {idempotency_key!r} was used for another refund"
            )
        return earlier.answer()

    async def _refusal(
        self, charge_reference: str | None, amount: int, currency: str, now: datetime
    ) -> GatewayResult | None:
        """Why a refund of ``amount`` from ``charge_reference`` is declined, if it is."""
        charge = None
        if charge_reference is not None:
            charge = self.ledger.by_reference(self.tenant_id, charge_reference)
            if charge is None:
                charge = await self._recorded(Transaction.gateway_reference == charge_reference)
        if charge is None:
            reason = f"No such charge: {charge_reference!r}"
            return refund_declined("no_such_charge", reason, charge_reference)
        if charge.answer(now).status is not ChargeStatus.SUCCEEDED:
            reason = "Only a settled charge can be refunded"
            return refund_declined("charge_not_settled", reason, charge_reference)
        if charge.card.refund_decline is not None:
            return refund_declined(*charge.card.refund_decline, charge_reference)
        if currency != charge.currency:
            reason = f"The charge was made in {charge.currency}"
            return refund_declined("currency_mismatch", reason, charge_reference)
        left = charge.amount - self.ledger.refunded(self.tenant_id, charge.reference)
        if not 0 < amount <= left:
            reason = f"{left} (minor units) of this charge can still be refunded"
            return refund_declined("amount_too_large", reason, charge_reference)
        return None

    async def _refund_by_key(self, idempotency_key: str) -> SandboxRefund | None:
        refund = self.ledger.refund_by_key(self.tenant_id, idempotency_key)
        if refund is None:
            condition = Transaction.idempotency_key == idempotency_key
            raw = await self._response(TransactionKind.REFUND, condition)
            if raw is not None and raw.get("status") == ChargeStatus.SUCCEEDED:
                refund = self.ledger.add_refund(self.tenant_id, SandboxRefund.from_raw(raw))
        return refund

    async def _charge_by_key(self, idempotency_key: str) -> SandboxCharge | None:
        charge = self.ledger.by_key(self.tenant_id, idempotency_key)
        if charge is None:
            charge = await self._recorded(Transaction.idempotency_key == idempotency_key)
        return charge

    async def _recorded(self, condition: Any) -> SandboxCharge | None:
        """A charge known from the transaction its answer was recorded in (after a
        restart, the ledger is empty)."""
        raw = await self._response(TransactionKind.CHARGE, condition)
        if raw is None or "idempotency_key" not in raw:
            return None
        charge = SandboxCharge.from_raw(raw)
        self.ledger.add(self.tenant_id, charge)
        return charge

    async def _response(self, kind: TransactionKind, condition: Any) -> dict[str, Any] | None:
        """The gateway's answer recorded in a transaction of ours, if any."""
        if self.session is None:
            return None
        statement = select(Transaction.response).where(
            Transaction.tenant_id == self.tenant_id,
            Transaction.gateway == self.name,
            Transaction.kind == kind,
            condition,
        )
        raw = (await self.session.scalars(statement.limit(1))).first()
        return raw or None
