"""Refunds in the sandbox gateway: a settled charge is given back at once, once per
idempotency key, never beyond what it charged; declines say why and move nothing; the
manual gateway's refund is money the business sends itself."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from flexbill.core.db import Database
from flexbill.core.ids import new_id
from flexbill.customers.models import Customer
from flexbill.payments.gateway import ChargeStatus, GatewayResult, ManualGateway
from flexbill.payments.models import Transaction, TransactionKind
from flexbill.payments.sandbox import (
    SETTLEMENT_DELAY,
    IdempotencyKeyReused,
    SandboxGateway,
    SandboxLedger,
    card_for,
)
from tests.orders.support import tenant_context
from tests.support import Tenant

T0 = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
TENANT = "tnl_sandbox"


def sandbox(ledger: SandboxLedger) -> SandboxGateway:
    return SandboxGateway(None, TENANT, ledger)


async def charged(ledger: SandboxLedger, token: str = "tok_visa", amount: int = 7139) -> str:
    """A charge of ``amount`` to ``token``; its reference."""
    result = await sandbox(ledger).charge(
        amount=amount, currency="EUR", token=token, idempotency_key=new_id("pay"), now=T0
    )
    assert result.reference is not None
    return result.reference


async def refund(
    gateway: SandboxGateway,
    charge: str | None,
    amount: int,
    key: str = "cn_1:refund:1",
    *,
    currency: str = "EUR",
    now: datetime = T0,
) -> GatewayResult:
    return await gateway.refund(
        charge_reference=charge, amount=amount, currency=currency, idempotency_key=key, now=now
    )


async def test_a_settled_charge_is_refunded_at_once() -> None:
    ledger = SandboxLedger()
    charge = await charged(ledger)
    result = await refund(sandbox(ledger), charge, 2000)
    assert (result.status, result.decline_code) == (ChargeStatus.SUCCEEDED, None)
    assert result.reference is not None
    assert result.reference.startswith("re_sandbox_")
    assert result.raw == {
        "id": result.reference, "object": "refund", "charge": charge, "amount": 2000,
        "currency": "eur", "idempotency_key": "cn_1:refund:1", "created": T0.isoformat(),
        "status": "succeeded",
    }  # fmt: skip
    (made,) = ledger.refunds(TENANT)
    assert (made.charge_reference, made.amount) == (charge, 2000)
    assert ledger.refunded(TENANT, charge) == 2000


async def test_the_same_key_is_the_same_refund_and_another_amount_is_refused() -> None:
    ledger = SandboxLedger()
    charge = await charged(ledger)
    first = await refund(sandbox(ledger), charge, 2000)
    again = await refund(sandbox(ledger), charge, 2000, now=T0 + timedelta(days=2))
    assert again == first
    assert len(ledger.refunds(TENANT)) == 1
    with pytest.raises(IdempotencyKeyReused):
        await refund(sandbox(ledger), charge, 1999)
    with pytest.raises(IdempotencyKeyReused):
        await refund(sandbox(ledger), await charged(ledger), 2000)
    second = await refund(sandbox(ledger), charge, 1000, "cn_1:refund:2")
    assert second.reference != first.reference
    assert [r.idempotency_key for r in ledger.refunds(TENANT, "cn_1:")] == [
        "cn_1:refund:1", "cn_1:refund:2",
    ]  # fmt: skip
    assert ledger.refunds(TENANT, "cn_2:") == []


@pytest.mark.parametrize(
    ("earlier", "amount", "status", "decline_code"),
    [
        ([], 7139, ChargeStatus.SUCCEEDED, None),
        ([], 7140, ChargeStatus.FAILED, "amount_too_large"),
        ([], 0, ChargeStatus.FAILED, "amount_too_large"),
        ([7000], 139, ChargeStatus.SUCCEEDED, None),
        ([7000], 140, ChargeStatus.FAILED, "amount_too_large"),
        ([3000, 4139], 1, ChargeStatus.FAILED, "amount_too_large"),
    ],
)
async def test_a_charge_is_never_refunded_beyond_what_it_charged(
    earlier: list[int], amount: int, status: ChargeStatus, decline_code: str | None
) -> None:
    ledger = SandboxLedger()
    charge = await charged(ledger)
    for number, part in enumerate(earlier, start=1):
        made = await refund(sandbox(ledger), charge, part, f"cn_0:refund:{number}")
        assert made.status is ChargeStatus.SUCCEEDED
    result = await refund(sandbox(ledger), charge, amount)
    assert (result.status, result.decline_code) == (status, decline_code)
    assert ledger.refunded(TENANT, charge) == sum(earlier) + (
        amount if status is ChargeStatus.SUCCEEDED else 0
    )


async def test_declines_say_why_and_are_not_kept() -> None:
    ledger = SandboxLedger()
    gateway = sandbox(ledger)
    declined = await refund(gateway, await charged(ledger, "tok_refund_declined"), 100)
    assert (declined.status, declined.reference) == (ChargeStatus.FAILED, None)
    assert (declined.decline_code, declined.decline_reason) == (
        "refund_declined", "The card issuer declined the refund.",
    )  # fmt: skip
    card = card_for("tok_refund_declined")
    assert card is not None
    assert (card.brand, card.last4) == ("visa", "0051")
    unknown = await refund(gateway, "ch_sandbox_nope", 100, "cn_1:refund:2")
    assert unknown.decline_code == "no_such_charge"
    nothing = await refund(gateway, None, 100, "cn_1:refund:3")
    assert nothing.decline_code == "no_such_charge"
    in_dollars = await refund(gateway, await charged(ledger), 100, "cn_1:refund:4", currency="USD")
    assert in_dollars.decline_code == "currency_mismatch"
    declined_charge = await refund(gateway, await charged(ledger, "tok_lost_card"), 100, "k5")
    assert declined_charge.decline_code == "charge_not_settled"
    assert ledger.refunds(TENANT) == []
    # A declined refund is decided again when asked again: here it now fits.
    charge = await charged(ledger, amount=100)
    assert (await refund(gateway, charge, 101, "k6")).decline_code == "amount_too_large"
    assert (await refund(gateway, charge, 100, "k6")).status is ChargeStatus.SUCCEEDED


async def test_a_delayed_charge_is_refunded_once_it_settled() -> None:
    ledger = SandboxLedger()
    charge = await charged(ledger, "tok_delayed")
    early = await refund(sandbox(ledger), charge, 100)
    assert early.decline_code == "charge_not_settled"
    late = await refund(sandbox(ledger), charge, 100, now=T0 + SETTLEMENT_DELAY)
    assert late.status is ChargeStatus.SUCCEEDED
    never = await refund(
        sandbox(ledger), await charged(ledger, "tok_delayed_decline"), 100, "k2",
        now=T0 + timedelta(days=1),
    )  # fmt: skip
    assert never.decline_code == "charge_not_settled"


async def test_refunds_outlive_the_process(tmp_path: Path) -> None:
    before = SandboxLedger(tmp_path / "ledger.db")
    charge = await charged(before)
    first = await refund(sandbox(before), charge, 7000)
    before.close()
    after = SandboxLedger(tmp_path / "ledger.db")
    assert await refund(sandbox(after), charge, 7000) == first
    assert (await refund(sandbox(after), charge, 140, "k2")).decline_code == "amount_too_large"
    assert [r.amount for r in after.refunds(TENANT)] == [7000]


async def test_a_refund_recorded_in_transactions_survives_a_restart(
    database: Database, tenant: Tenant
) -> None:
    """A new process (an empty ledger) answers a refund key from its transaction row: the
    same refund, not a second one."""
    ctx = await tenant_context(database, tenant)
    before_restart = SandboxLedger()
    charge = await (
        SandboxGateway(None, ctx.tenant_id, before_restart).charge(
            amount=5000, currency="EUR", token="tok_visa", idempotency_key="pay_7:attempt:1",
            now=T0,
        )
    )  # fmt: skip
    made = await refund(SandboxGateway(None, ctx.tenant_id, before_restart), charge.reference, 900)
    async with database.transaction() as session:
        customer = Customer(
            tenant_id=ctx.tenant_id, id=new_id("cust"), email="grace@example.com",
            first_name="Grace", last_name="Hopper", created_by="test",
        )  # fmt: skip
        session.add(customer)
        await session.flush()
        for kind, key, result in (
            (TransactionKind.CHARGE, "pay_7:attempt:1", charge),
            (TransactionKind.REFUND, "cn_1:refund:1", made),
        ):
            session.add(
                Transaction(
                    tenant_id=ctx.tenant_id, id=new_id("txn"), customer_id=customer.id,
                    gateway="sandbox", kind=kind, amount=5000, status=result.status.value,
                    gateway_reference=result.reference, idempotency_key=key,
                    response=result.raw,
                )
            )  # fmt: skip

    ledger = SandboxLedger()
    async with database.transaction() as session:
        gateway = SandboxGateway(session, ctx.tenant_id, ledger)
        again = await refund(gateway, charge.reference, 900, now=T0 + timedelta(days=1))
        assert again == made
        with pytest.raises(IdempotencyKeyReused):
            await refund(gateway, charge.reference, 800)
        # The charge is known again from its transaction and can be refunded further.
        more = await refund(gateway, charge.reference, 100, "cn_1:refund:2")
        assert more.status is ChargeStatus.SUCCEEDED
    assert [r.idempotency_key for r in ledger.refunds(ctx.tenant_id)] == [
        "cn_1:refund:1", "cn_1:refund:2",
    ]  # fmt: skip


async def test_the_manual_gateway_refunds_what_the_business_sends() -> None:
    result = await ManualGateway().refund(
        charge_reference=None, amount=2500, currency="EUR", idempotency_key="cn_1:refund:1",
        now=T0,
    )  # fmt: skip
    assert (result.status, result.reference, result.decline_code) == (
        ChargeStatus.SUCCEEDED, None, None,
    )  # fmt: skip
    assert (result.raw["object"], result.raw["gateway"], result.raw["amount"]) == (
        "refund", "manual", 2500,
    )  # fmt: skip
