"""The sandbox gateway behaves like a card processor: test tokens that succeed, decline,
fail to answer or answer later; one charge per idempotency key, whatever is retried; and
the manual gateway that never charges."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from flexbill.core.db import Database
from flexbill.core.ids import new_id
from flexbill.customers.models import Customer
from flexbill.payments.gateway import (
    ChargeStatus,
    ChargingRefused,
    GatewayResult,
    GatewayUnavailable,
    ManualGateway,
)
from flexbill.payments.models import Transaction
from flexbill.payments.sandbox import (
    SETTLEMENT_DELAY,
    IdempotencyKeyReused,
    SandboxCharge,
    SandboxGateway,
    SandboxLedger,
    UnknownCharge,
    card_for,
)
from tests.orders.support import tenant_context
from tests.support import Tenant

T0 = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
TENANT = "tnl_sandbox"


def sandbox(ledger: SandboxLedger | None = None) -> SandboxGateway:
    return SandboxGateway(None, TENANT, ledger or SandboxLedger())


async def charge(
    gateway: SandboxGateway,
    token: str,
    key: str = "pay_1:attempt:1",
    *,
    amount: int = 7139,
    now: datetime = T0,
) -> GatewayResult:
    return await gateway.charge(
        amount=amount, currency="EUR", token=token, idempotency_key=key, now=now
    )


@pytest.mark.parametrize(
    ("token", "status", "decline_code", "brand", "last4"),
    [
        ("tok_visa", ChargeStatus.SUCCEEDED, None, "visa", "4242"),
        ("tok_mastercard", ChargeStatus.SUCCEEDED, None, "mastercard", "4444"),
        ("tok_insufficient_funds", ChargeStatus.FAILED, "insufficient_funds", "visa", "9995"),
        ("tok_lost_card", ChargeStatus.FAILED, "lost_card", "visa", "9987"),
        ("tok_expired_card", ChargeStatus.FAILED, "expired_card", "visa", "0069"),
        ("tok_card_declined", ChargeStatus.FAILED, "card_declined", "visa", "0002"),
        ("tok_delayed", ChargeStatus.PENDING, None, "visa", "3155"),
        ("tok_delayed_decline", ChargeStatus.PENDING, None, "visa", "3220"),
    ],
)
async def test_each_test_token_answers_as_documented(
    token: str, status: ChargeStatus, decline_code: str | None, brand: str, last4: str
) -> None:
    result = await charge(sandbox(), token)
    assert (result.status, result.decline_code) == (status, decline_code)
    assert (result.decline_reason is None) == (decline_code is None)
    assert result.reference is not None
    assert result.reference.startswith("ch_sandbox_")
    assert result.raw["amount"] == 7139
    assert result.raw["currency"] == "eur"
    assert result.raw["status"] == status.value
    card = card_for(token)
    assert card is not None
    assert (card.brand, card.last4) == (brand, last4)


async def test_a_decline_says_why() -> None:
    result = await charge(sandbox(), "tok_insufficient_funds")
    assert result.decline_reason == "Your card has insufficient funds."
    assert result.raw["decline_code"] == "insufficient_funds"
    lost = await charge(sandbox(), "tok_lost_card")
    assert lost.decline_reason == "Your card has been declined: it was reported lost."


async def test_a_network_error_raises_and_charges_nothing() -> None:
    ledger = SandboxLedger()
    with pytest.raises(GatewayUnavailable):
        await charge(sandbox(ledger), "tok_network_error")
    assert ledger.charges(TENANT) == []


async def test_an_unknown_token_is_declined_without_a_charge() -> None:
    ledger = SandboxLedger()
    result = await charge(sandbox(ledger), "tok_nonsense")
    assert (result.status, result.decline_code, result.reference) == (
        ChargeStatus.FAILED, "invalid_payment_method", None,
    )  # fmt: skip
    assert ledger.charges(TENANT) == []
    assert card_for("tok_nonsense") is None


async def test_the_same_key_gets_the_same_answer_and_never_a_second_charge() -> None:
    ledger = SandboxLedger()
    first = await charge(sandbox(ledger), "tok_visa", "pay_1:attempt:1")
    again = await charge(sandbox(ledger), "tok_visa", "pay_1:attempt:1", now=T0 + timedelta(1))
    assert again == first
    other = await charge(sandbox(ledger), "tok_visa", "pay_1:attempt:2")
    assert other.reference != first.reference
    assert [c.idempotency_key for c in ledger.charges(TENANT, "pay_1:")] == [
        "pay_1:attempt:1", "pay_1:attempt:2",
    ]  # fmt: skip
    assert ledger.charges(TENANT, "pay_2:") == []


async def test_a_key_reused_for_another_charge_is_refused() -> None:
    ledger = SandboxLedger()
    await charge(sandbox(ledger), "tok_visa", amount=7139)
    with pytest.raises(IdempotencyKeyReused):
        await charge(sandbox(ledger), "tok_visa", amount=7140)
    with pytest.raises(IdempotencyKeyReused):
        await charge(sandbox(ledger), "tok_mastercard", amount=7139)
    assert len(ledger.charges(TENANT)) == 1


async def test_references_are_per_tenant_and_key() -> None:
    ledger = SandboxLedger()
    ours = await charge(SandboxGateway(None, "tnl_a", ledger), "tok_visa")
    theirs = await charge(SandboxGateway(None, "tnl_b", ledger), "tok_visa")
    assert ours.reference != theirs.reference
    assert len(ledger.charges("tnl_a")) == len(ledger.charges("tnl_b")) == 1
    with pytest.raises(UnknownCharge):
        await SandboxGateway(None, "tnl_b", ledger).lookup(str(ours.reference), now=T0)


@pytest.mark.parametrize(
    ("token", "after", "status", "decline_code"),
    [
        ("tok_delayed", timedelta(0), ChargeStatus.PENDING, None),
        ("tok_delayed", SETTLEMENT_DELAY - timedelta(seconds=1), ChargeStatus.PENDING, None),
        ("tok_delayed", SETTLEMENT_DELAY, ChargeStatus.SUCCEEDED, None),
        ("tok_delayed", timedelta(days=3), ChargeStatus.SUCCEEDED, None),
        ("tok_delayed_decline", SETTLEMENT_DELAY, ChargeStatus.FAILED, "insufficient_funds"),
        ("tok_visa", timedelta(0), ChargeStatus.SUCCEEDED, None),
        ("tok_lost_card", timedelta(0), ChargeStatus.FAILED, "lost_card"),
    ],
)
async def test_a_lookup_tells_how_a_charge_stands(
    token: str, after: timedelta, status: ChargeStatus, decline_code: str | None
) -> None:
    gateway = sandbox()
    first = await charge(gateway, token)
    assert first.reference is not None
    looked_up = await gateway.lookup(first.reference, now=T0 + after)
    assert (looked_up.status, looked_up.decline_code) == (status, decline_code)
    assert looked_up.reference == first.reference


async def test_a_delayed_charge_asked_again_answers_as_the_first_time() -> None:
    gateway = sandbox()
    first = await charge(gateway, "tok_delayed")
    again = await charge(gateway, "tok_delayed", now=T0 + timedelta(hours=2))
    assert again.status is ChargeStatus.PENDING
    assert again.reference == first.reference


async def test_a_lookup_of_an_unknown_charge_fails() -> None:
    with pytest.raises(UnknownCharge):
        await sandbox().lookup("ch_sandbox_nope", now=T0)


async def test_the_ledger_outlives_the_process(tmp_path: Path) -> None:
    """A charge is on file before it is answered: a new process (a new ledger on the same
    file) answers the same key with the same charge and looks up its pending charges."""
    before = SandboxLedger(tmp_path / "ledger.db")
    paid = await charge(sandbox(before), "tok_visa", "pay_1:attempt:1")
    delayed = await charge(sandbox(before), "tok_delayed", "pay_2:attempt:1")
    before.close()

    after = SandboxLedger(tmp_path / "ledger.db")
    again = await charge(sandbox(after), "tok_visa", "pay_1:attempt:1", now=T0 + timedelta(1))
    assert (again.status, again.reference) == (ChargeStatus.SUCCEEDED, paid.reference)
    assert delayed.reference is not None
    settled = await sandbox(after).lookup(delayed.reference, now=T0 + SETTLEMENT_DELAY)
    assert settled.status is ChargeStatus.SUCCEEDED
    with pytest.raises(IdempotencyKeyReused):
        await charge(sandbox(after), "tok_visa", "pay_1:attempt:1", amount=1)
    assert [c.idempotency_key for c in after.charges(TENANT)] == [
        "pay_1:attempt:1", "pay_2:attempt:1",
    ]  # fmt: skip


async def test_two_processes_charging_one_key_make_one_charge(tmp_path: Path) -> None:
    ours, theirs = SandboxLedger(tmp_path / "l.db"), SandboxLedger(tmp_path / "l.db")
    first = await charge(sandbox(ours), "tok_delayed", "pay_1:attempt:1")
    # The other process checked the key before ours wrote it, and now writes its own.
    late = SandboxCharge(
        reference=str(first.reference), idempotency_key="pay_1:attempt:1", amount=7139,
        currency="EUR", token="tok_delayed", created_at=T0 + timedelta(1), settles_at=None,
    )  # fmt: skip
    recorded = theirs.add(TENANT, late)
    assert recorded.created_at == T0  # the first charge written wins
    assert recorded.settles_at == T0 + SETTLEMENT_DELAY
    assert len(theirs.charges(TENANT)) == len(ours.charges(TENANT)) == 1


async def test_the_manual_gateway_never_charges() -> None:
    manual = ManualGateway()
    assert manual.charges is False
    with pytest.raises(ChargingRefused) as refused:
        await manual.charge(amount=100, currency="EUR", token="manual", idempotency_key="k", now=T0)
    assert refused.value.code == "GATEWAY_CANNOT_CHARGE"
    with pytest.raises(ChargingRefused):
        await manual.lookup("anything", now=T0)


async def test_charges_recorded_in_transactions_survive_a_restart(
    database: Database, tenant: Tenant
) -> None:
    """A new process (an empty ledger) answers from the transaction rows: the same key is
    the same charge, and a pending charge is looked up by its reference."""
    ctx = await tenant_context(database, tenant)
    before_restart = SandboxGateway(None, ctx.tenant_id, SandboxLedger())
    paid = await charge(before_restart, "tok_visa", "pay_9:attempt:1")
    delayed = await charge(before_restart, "tok_delayed", "pay_9:attempt:2")
    async with database.transaction() as session:
        customer = Customer(
            tenant_id=ctx.tenant_id, id=new_id("cust"), email="grace@example.com",
            first_name="Grace", last_name="Hopper", created_by="test",
        )  # fmt: skip
        session.add(customer)
        await session.flush()
        for attempt, result in enumerate((paid, delayed), start=1):
            session.add(
                Transaction(
                    tenant_id=ctx.tenant_id, id=new_id("txn"), customer_id=customer.id,
                    gateway="sandbox", attempt=attempt, amount=7139, status=result.status.value,
                    gateway_reference=result.reference, idempotency_key=f"pay_9:attempt:{attempt}",
                    response=result.raw,
                )
            )  # fmt: skip

    ledger = SandboxLedger()
    async with database.transaction() as session:
        after_restart = SandboxGateway(session, ctx.tenant_id, ledger)
        again = await charge(after_restart, "tok_visa", "pay_9:attempt:1", now=T0 + timedelta(1))
        assert (again.status, again.reference) == (ChargeStatus.SUCCEEDED, paid.reference)
        assert delayed.reference is not None
        settled = await after_restart.lookup(delayed.reference, now=T0 + SETTLEMENT_DELAY)
        assert (settled.status, settled.reference) == (ChargeStatus.SUCCEEDED, delayed.reference)
        early = await after_restart.lookup(delayed.reference, now=T0 + timedelta(minutes=5))
        assert early.status is ChargeStatus.PENDING
    assert len(ledger.charges(ctx.tenant_id)) == 2  # known again, not charged again
