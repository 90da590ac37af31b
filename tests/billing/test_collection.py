"""Collecting scheduled payments with a worker and a frozen clock: success, declines and
retries, a customer who never pays and each dunning outcome, a network error, a delayed
answer, a crash after the gateway call, manual payments; every payment, transaction and
event checked to the cent."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import update

from flexbill.billing import collection, run, test_clocks
from flexbill.billing.collection import COLLECT, Outcome, collect
from flexbill.billing.models import InvoiceStatus, Payment, PaymentStatus
from flexbill.billing.settlement import settle
from flexbill.core import clock
from flexbill.core.db import Database
from flexbill.core.jobs import JobStatus, backoff
from flexbill.customers.models import Customer
from flexbill.payments.sandbox import default_ledger
from tests.orders.support import tenant_context
from tests.payments.factories import (
    DUE,
    NET,
    T0,
    TAX,
    Charge,
    add_method,
    auto_charge,
    collect_jobs,
    crash_once_after,
    customer,
    due_payment,
    invoice,
    payment,
    payment_events,
    rental_of,
    rentals,
    retry_settings,
    scheduled_payment,
    transactions,
    worker,
)
from tests.subscriptions.support import events_of
from tests.support import Api, Tenant, new_tenant

TOTAL = Decimal("71.39")  # 59.99 and 19 % VAT
DECLINED = "insufficient_funds: Your card has insufficient funds."


async def test_a_due_payment_is_charged_and_paid(
    api: Api, database: Database, tenant: Tenant
) -> None:
    due = await due_payment(api, database, tenant)
    with clock.frozen(T0):
        assert await worker(database).run_until_idle() == 2  # the sweep, then the charge
        clock.advance(timedelta(minutes=10))
        assert await worker(database).run_until_idle() == 1  # a sweep with nothing to do

    paid = await payment(database, due.ctx.tenant_id, due.payment_id)
    assert (paid.status, paid.paid_at, paid.capture_attempts) == (PaymentStatus.PAID, T0, 1)
    assert (paid.provider, paid.payment_method_id) == ("sandbox", due.card_id)
    assert (paid.last_capture_error, paid.next_retry_at) == (None, None)
    (charge,) = await transactions(database, due.payment_id)
    assert (charge.status, charge.amount, charge.attempt, charge.gateway) == (
        "succeeded", 7139, 1, "sandbox",
    )  # fmt: skip
    assert charge.idempotency_key == f"{due.payment_id}:attempt:1"
    assert charge.payment_method_id == due.card_id
    assert charge.gateway_reference == paid.payment_reference
    assert charge.gateway_reference is not None
    assert charge.gateway_reference.startswith("ch_sandbox_")
    assert charge.response["amount"] == 7139

    bill = await invoice(database, due.ctx.tenant_id, due.invoice_id)
    assert (bill.status, bill.amount_paid, bill.paid_at) == (InvoiceStatus.PAID, 7139, T0)
    rental = await rental_of(api, due.rental_id)
    assert rental["totalCollected"] == Decimal("59.99")  # net: VAT is not revenue
    assert (await customer(database, due.ctx.tenant_id, due.customer_id)).lifetime_collected == (
        NET
    )
    ((kind, data),) = await payment_events(database, due.payment_id)
    assert kind == "payment.succeeded"
    assert (data["amount"], data["currency"], data["status"], data["rentalId"]) == (
        TOTAL, "EUR", "paid", due.rental_id,
    )  # fmt: skip
    assert data["paidAt"] == T0.isoformat()
    assert [job.dedup_key for job in await collect_jobs(database)] == [
        f"{COLLECT}:{due.payment_id}:1"
    ]


async def test_a_payment_waits_for_its_due_date(
    api: Api, database: Database, tenant: Tenant
) -> None:
    due = await due_payment(api, database, tenant, due=DUE + timedelta(days=2))
    with clock.frozen(T0):
        await worker(database).run_until_idle()
        assert (await payment(database, due.ctx.tenant_id, due.payment_id)).status == "pending"
        clock.advance(timedelta(days=1, hours=15))  # 3 days later at 00:00
        await worker(database).run_until_idle()
    paid = await payment(database, due.ctx.tenant_id, due.payment_id)
    assert (paid.status, paid.paid_at) == ("paid", datetime(2025, 3, 5, tzinfo=UTC))


async def test_a_decline_is_retried_on_schedule_and_then_succeeds(
    api: Api, database: Database, tenant: Tenant
) -> None:
    await retry_settings(api, automatic=True, attempts=3, intervalDays=3)
    due = await due_payment(api, database, tenant, "tok_insufficient_funds")
    with clock.frozen(T0):
        await worker(database).run_until_idle()
        failed = await payment(database, due.ctx.tenant_id, due.payment_id)
        assert (failed.status, failed.capture_attempts) == (PaymentStatus.FAILED, 1)
        assert failed.last_capture_error == DECLINED
        assert failed.next_retry_at == T0 + timedelta(days=3)

        # The customer gives a new card; it is charged when the retry is due, not before.
        card = await add_method(api, due.customer_id, "tok_visa", isDefault=True)
        clock.advance(timedelta(days=2, hours=23, minutes=50))
        await worker(database).run_until_idle()
        assert (await payment(database, due.ctx.tenant_id, due.payment_id)).status == "failed"
        clock.advance(timedelta(minutes=10))
        await worker(database).run_until_idle()

    paid = await payment(database, due.ctx.tenant_id, due.payment_id)
    retried_at = T0 + timedelta(days=3)
    assert (paid.status, paid.paid_at, paid.capture_attempts) == ("paid", retried_at, 2)
    assert (paid.last_capture_error, paid.next_retry_at) == (None, None)
    assert paid.payment_method_id == card["paymentMethodId"]
    declined, succeeded = await transactions(database, due.payment_id)
    assert [
        (t.attempt, t.status, t.amount, t.decline_code, t.payment_method_id, t.idempotency_key)
        for t in (declined, succeeded)
    ] == [
        (1, "failed", 7139, "insufficient_funds", due.card_id, f"{due.payment_id}:attempt:1"),
        (2, "succeeded", 7139, None, card["paymentMethodId"], f"{due.payment_id}:attempt:2"),
    ]
    assert declined.decline_reason == "Your card has insufficient funds."

    (failed_kind, failed_data), (paid_kind, paid_data) = await payment_events(
        database, due.payment_id
    )
    assert (failed_kind, paid_kind) == ("payment.failed", "payment.succeeded")
    assert {key: failed_data[key] for key in (
        "amount", "status", "captureAttempts", "declineCode", "declineReason",
        "failureReason", "nextRetryAt", "finalAttempt", "transactionId",
    )} == {
        "amount": TOTAL, "status": "failed", "captureAttempts": 1,
        "declineCode": "insufficient_funds", "declineReason": "Your card has insufficient funds.",
        "failureReason": DECLINED, "nextRetryAt": "2025-03-06T09:00:00Z", "finalAttempt": False,
        "transactionId": declined.id,
    }  # fmt: skip
    assert (paid_data["amount"], paid_data["paidAt"]) == (TOTAL, retried_at.isoformat())
    assert (await rental_of(api, due.rental_id))["status"] == "active"


@pytest.mark.parametrize(
    ("outcome", "rental_status", "history_action"),
    [
        ("stay_active", "active", None),
        ("suspend", "suspended", "suspended_for_non_payment"),
        ("cancel", "cancelled", "cancelled_for_non_payment"),
    ],
)
async def test_a_customer_who_never_pays(
    api: Api,
    database: Database,
    tenant: Tenant,
    outcome: str,
    rental_status: str,
    history_action: str | None,
) -> None:
    """Every attempt is declined: three tries two days apart, then the dunning outcome."""
    await retry_settings(api, automatic=True, attempts=2, intervalDays=2, finalOutcome=outcome)
    due = await due_payment(api, database, tenant, "tok_lost_card")
    with clock.frozen(T0):
        for day in range(12):
            await worker(database).run_until_idle()
            if day == 3:  # one try to go: still active
                assert (await rental_of(api, due.rental_id))["status"] == "active"
            clock.advance(timedelta(days=1))

    failed = await payment(database, due.ctx.tenant_id, due.payment_id)
    assert (failed.status, failed.capture_attempts, failed.next_retry_at) == ("failed", 3, None)
    assert (
        failed.last_capture_error == "lost_card: Your card has been declined: it was reported lost."
    )
    attempts = await transactions(database, due.payment_id)
    assert [(t.attempt, t.status, t.amount, t.decline_code) for t in attempts] == [
        (n, "failed", 7139, "lost_card") for n in (1, 2, 3)
    ]
    assert [t.created_at for t in attempts] == [T0 + timedelta(days=d) for d in (0, 2, 4)]
    events = await payment_events(database, due.payment_id)
    assert [
        (kind, data["captureAttempts"], data["nextRetryAt"], data["finalAttempt"], data["amount"])
        for kind, data in events
    ] == [
        ("payment.failed", 1, "2025-03-05T09:00:00Z", False, TOTAL),
        ("payment.failed", 2, "2025-03-07T09:00:00Z", False, TOTAL),
        ("payment.failed", 3, None, True, TOTAL),
    ]
    bill = await invoice(database, due.ctx.tenant_id, due.invoice_id)
    assert (bill.status, bill.amount_paid) == (InvoiceStatus.UNCOLLECTIBLE, 0)

    rental = await rental_of(api, due.rental_id)
    assert (rental["status"], rental["totalCollected"]) == (rental_status, Decimal(0))
    actions = [entry["action"] for entry in rental["history"]]
    if history_action is None:
        assert not any("non_payment" in action for action in actions)
    else:
        entry = rental["history"][-1]
        assert (entry["action"], entry["fromStatus"], entry["toStatus"]) == (
            history_action, "active", rental_status,
        )  # fmt: skip
        assert (entry["paymentId"], entry["at"]) == (due.payment_id, "2025-03-07T09:00:00Z")
    ended = await events_of(database, "subscription.ended")
    returned = await events_of(database, "asset.returned")
    if outcome == "cancel":
        assert rental["cancellationDetails"]["reason"] == "payment_failure"
        assert [event.data["subscriptionId"] for event in ended] == [due.rental_id]
        assert len(returned) == 1
    else:
        assert (ended, returned) == ([], [])


async def test_without_automatic_retries_the_first_failure_is_final(
    api: Api, database: Database, tenant: Tenant
) -> None:
    await retry_settings(api, automatic=False, attempts=5, finalOutcome="suspend")
    due = await due_payment(api, database, tenant, "tok_card_declined")
    with clock.frozen(T0):
        for _ in range(10):
            await worker(database).run_until_idle()
            clock.advance(timedelta(days=1))
    failed = await payment(database, due.ctx.tenant_id, due.payment_id)
    assert (failed.status, failed.capture_attempts, failed.next_retry_at) == ("failed", 1, None)
    assert len(await transactions(database, due.payment_id)) == 1
    ((_, data),) = await payment_events(database, due.payment_id)
    assert (data["finalAttempt"], data["declineCode"]) == (True, "card_declined")
    assert (await rental_of(api, due.rental_id))["status"] == "suspended"


async def test_a_suspended_subscription_that_pays_is_active_again(
    api: Api, database: Database, tenant: Tenant
) -> None:
    await retry_settings(api, automatic=False, finalOutcome="suspend")
    due = await due_payment(api, database, tenant, "tok_insufficient_funds")
    with clock.frozen(T0):
        await worker(database).run_until_idle()
    assert (await rental_of(api, due.rental_id))["status"] == "suspended"
    unpaid = await invoice(database, due.ctx.tenant_id, due.invoice_id)
    assert unpaid.status == InvoiceStatus.UNCOLLECTIBLE
    with clock.frozen(T0 + timedelta(days=5)):
        async with database.transaction() as session:  # the money arrives by bank transfer
            failed = await session.get(
                Payment, (due.ctx.tenant_id, due.payment_id), with_for_update=True
            )
            assert failed is not None
            await settle(session, due.ctx, failed, at=clock.now(), manually=True)
        rental = await rental_of(api, due.rental_id)
    assert (rental["status"], rental["totalCollected"]) == ("active", Decimal("59.99"))
    assert [entry["action"] for entry in rental["history"]][-2:] == [
        "suspended_for_non_payment", "reactivated",
    ]  # fmt: skip
    paid = await invoice(database, due.ctx.tenant_id, due.invoice_id)
    assert (paid.status, paid.amount_paid) == (InvoiceStatus.PAID, paid.total)


async def test_a_suspended_subscription_that_fails_again_can_be_cancelled(
    api: Api, database: Database, tenant: Tenant
) -> None:
    """The business unit moved from suspending to cancelling: the next payment that fails
    for good cancels the subscription its first failure suspended."""
    await retry_settings(api, automatic=False, finalOutcome="suspend")
    due = await due_payment(api, database, tenant, "tok_insufficient_funds")
    with clock.frozen(T0):
        await worker(database).run_until_idle()
    await retry_settings(api, finalOutcome="cancel")
    next_month = await scheduled_payment(
        database, due.ctx.tenant_id, due.customer_id, Charge(due.rental_id, NET, TAX),
        due_date=DUE + timedelta(days=31),
    )  # fmt: skip
    with clock.frozen(T0 + timedelta(days=31)):
        await worker(database).run_until_idle()
    rental = await rental_of(api, due.rental_id)
    assert (rental["status"], rental["cancellationDetails"]["reason"]) == (
        "cancelled", "payment_failure",
    )  # fmt: skip
    entry = rental["history"][-1]
    assert (entry["action"], entry["fromStatus"], entry["paymentId"]) == (
        "cancelled_for_non_payment", "suspended", next_month.id,
    )  # fmt: skip
    assert len(await events_of(database, "subscription.ended")) == 1


async def test_a_network_error_is_retried_with_the_same_key(
    api: Api, database: Database, tenant: Tenant
) -> None:
    """The processor does not answer: nothing is recorded and the job is retried later,
    with the same idempotency key (so a charge the processor did make is answered)."""
    due = await due_payment(api, database, tenant, "tok_network_error")
    with clock.frozen(T0):
        await worker(database).run_until_idle()
        pending = await payment(database, due.ctx.tenant_id, due.payment_id)
        assert (pending.status, pending.capture_attempts) == ("pending", 0)
        assert (pending.last_capture_error, pending.next_retry_at) == (None, None)
        assert await transactions(database, due.payment_id) == []
        assert await payment_events(database, due.payment_id) == []
        (job,) = await collect_jobs(database)
        assert (job.status, job.attempts, job.run_at) == (
            JobStatus.PENDING, 1, T0 + backoff(1),
        )  # fmt: skip
        assert job.last_error is not None
        assert job.last_error.startswith("GatewayUnavailable")

        card = await add_method(api, due.customer_id, "tok_visa", isDefault=True)
        clock.advance(backoff(1))
        await worker(database).run_until_idle()

    paid = await payment(database, due.ctx.tenant_id, due.payment_id)
    assert (paid.status, paid.capture_attempts, paid.paid_at) == ("paid", 1, T0 + backoff(1))
    (charge,) = await transactions(database, due.payment_id)
    assert (charge.idempotency_key, charge.status, charge.payment_method_id) == (
        f"{due.payment_id}:attempt:1", "succeeded", card["paymentMethodId"],
    )  # fmt: skip
    (job,) = await collect_jobs(database)
    assert (job.status, job.attempts) == (JobStatus.SUCCEEDED, 2)


async def test_a_network_error_that_lasts_leaves_dead_jobs_but_no_stranded_payment(
    api: Api, database: Database, tenant: Tenant
) -> None:
    due = await due_payment(api, database, tenant, "tok_network_error")
    with clock.frozen(T0):
        for _ in range(8):
            await worker(database).run_until_idle()
            clock.advance(timedelta(hours=7))  # past any backoff
        dead = [job for job in await collect_jobs(database) if job.status == JobStatus.DEAD]
        assert dead
        assert all(job.attempts == job.max_attempts for job in dead)
        assert all(str(job.dedup_key).endswith(f"#dead:{job.id}") for job in dead)
        stuck = await payment(database, due.ctx.tenant_id, due.payment_id)
        assert (stuck.status, stuck.capture_attempts) == ("pending", 0)
        assert await transactions(database, due.payment_id) == []

        # The processor answers again: the next sweep gives the attempt a fresh job.
        await add_method(api, due.customer_id, "tok_visa", isDefault=True)
        clock.advance(timedelta(hours=7))
        await worker(database).run_until_idle()
    paid = await payment(database, due.ctx.tenant_id, due.payment_id)
    assert (paid.status, paid.capture_attempts) == ("paid", 1)
    (charge,) = await transactions(database, due.payment_id)
    assert charge.idempotency_key == f"{due.payment_id}:attempt:1"


@pytest.mark.parametrize(
    ("token", "final_status", "event", "decline_code"),
    [
        ("tok_delayed", "paid", "payment.succeeded", None),
        ("tok_delayed_decline", "failed", "payment.failed", "insufficient_funds"),
    ],
)
async def test_a_pending_answer_is_looked_up_on_a_later_run(
    api: Api,
    database: Database,
    tenant: Tenant,
    token: str,
    final_status: str,
    event: str,
    decline_code: str | None,
) -> None:
    due = await due_payment(api, database, tenant, token)
    with clock.frozen(T0):
        await worker(database).run_until_idle()
        processing = await payment(database, due.ctx.tenant_id, due.payment_id)
        assert (processing.status, processing.capture_attempts) == ("processing", 1)
        (charge,) = await transactions(database, due.payment_id)
        assert (charge.status, charge.attempt) == ("pending", 1)
        assert await payment_events(database, due.payment_id) == []

        clock.advance(timedelta(minutes=20))  # two sweeps later: still pending
        await worker(database).run_until_idle()
        assert (await payment(database, due.ctx.tenant_id, due.payment_id)).status == ("processing")
        clock.advance(timedelta(minutes=10))  # 30 minutes after the charge
        await worker(database).run_until_idle()
        clock.advance(timedelta(minutes=10))
        await worker(database).run_until_idle()

    settled_at = T0 + timedelta(minutes=30)
    done = await payment(database, due.ctx.tenant_id, due.payment_id)
    assert (done.status, done.capture_attempts) == (final_status, 1)
    assert done.paid_at == (settled_at if final_status == "paid" else None)
    (answered,) = await transactions(database, due.payment_id)
    assert (answered.id, answered.status, answered.decline_code, answered.amount) == (
        charge.id, "succeeded" if final_status == "paid" else "failed", decline_code, 7139,
    )  # fmt: skip
    assert answered.gateway_reference == charge.gateway_reference
    ((kind, data),) = await payment_events(database, due.payment_id)
    assert (kind, data["amount"]) == (event, TOTAL)
    # One charge, looked up on each sweep: one job per sweep while pending.
    keys = [job.dedup_key for job in await collect_jobs(database)]
    assert keys == [
        f"{COLLECT}:{due.payment_id}:1",
        f"{COLLECT}:{due.payment_id}:1:check:{(T0 + timedelta(minutes=20)).isoformat()}",
        f"{COLLECT}:{due.payment_id}:1:check:{settled_at.isoformat()}",
    ]


async def test_a_pending_charge_is_looked_up_whatever_the_customer_changed(
    api: Api, database: Database, tenant: Tenant
) -> None:
    """The charge was made: its answer counts even after the card is removed and
    auto-charge is switched off."""
    due = await due_payment(api, database, tenant, "tok_delayed")
    with clock.frozen(T0):
        await worker(database).run_until_idle()
    assert (await api.delete(f"/v1/payment-methods/{due.card_id}")).status_code == 200
    response = await api.post(f"/v1/customers/{due.customer_id}/auto-charge", {"enabled": False})
    assert response.status_code == 200
    with clock.frozen(T0 + timedelta(minutes=30)):
        await worker(database).run_until_idle()
    paid = await payment(database, due.ctx.tenant_id, due.payment_id)
    assert (paid.status, paid.paid_at) == ("paid", T0 + timedelta(minutes=30))
    assert paid.payment_method_id == due.card_id


@pytest.mark.parametrize(
    ("token", "status", "transaction_status"),
    [("tok_visa", "paid", "succeeded"), ("tok_insufficient_funds", "failed", "failed")],
)
async def test_a_crash_after_the_gateway_call_never_charges_twice(
    api: Api,
    database: Database,
    tenant: Tenant,
    token: str,
    status: str,
    transaction_status: str,
) -> None:
    due = await due_payment(api, database, tenant, token)
    registry = crash_once_after(collection.collect_payment)
    with clock.frozen(T0):
        await worker(database, registry).run_until_idle()
        # The gateway charged, but nothing of it was committed.
        (charged,) = default_ledger().charges(due.ctx.tenant_id, f"{due.payment_id}:")
        assert charged.idempotency_key == f"{due.payment_id}:attempt:1"
        rolled_back = await payment(database, due.ctx.tenant_id, due.payment_id)
        assert (rolled_back.status, rolled_back.capture_attempts) == ("pending", 0)
        assert await transactions(database, due.payment_id) == []
        assert await payment_events(database, due.payment_id) == []

        clock.advance(backoff(1))
        await worker(database, registry).run_until_idle()

    done = await payment(database, due.ctx.tenant_id, due.payment_id)
    assert (done.status, done.capture_attempts) == (status, 1)
    (charge,) = await transactions(database, due.payment_id)
    assert (charge.status, charge.idempotency_key, charge.gateway_reference) == (
        transaction_status, charged.idempotency_key, charged.reference,
    )  # fmt: skip
    assert default_ledger().charges(due.ctx.tenant_id, f"{due.payment_id}:") == [charged]
    assert len(await payment_events(database, due.payment_id)) == 1


async def test_manual_payments_are_never_charged(
    api: Api, database: Database, tenant: Tenant
) -> None:
    due = await due_payment(api, database, tenant)
    # The customer now pays by bank transfer; auto-charge is still on.
    await add_method(api, due.customer_id, gateway="manual", token=None, isDefault=True)
    with clock.frozen(T0):
        for _ in range(3):
            await worker(database).run_until_idle()
            clock.advance(timedelta(days=1))
        async with database.transaction() as session:  # even when asked directly
            assert await collect(session, due.ctx, due.payment_id, clock.now()) is Outcome.SKIPPED
    untouched = await payment(database, due.ctx.tenant_id, due.payment_id)
    assert (untouched.status, untouched.capture_attempts, untouched.provider) == (
        "pending", 0, "manual",
    )  # fmt: skip
    assert await transactions(database, due.payment_id) == []
    assert await collect_jobs(database) == []
    assert default_ledger().charges(due.ctx.tenant_id, f"{due.payment_id}:") == []


async def test_customers_without_auto_charge_are_not_charged(
    api: Api, database: Database, tenant: Tenant
) -> None:
    due = await due_payment(api, database, tenant)
    response = await api.post(f"/v1/customers/{due.customer_id}/auto-charge", {"enabled": False})
    assert response.status_code == 200
    with clock.frozen(T0):
        await worker(database).run_until_idle()
        async with database.transaction() as session:
            assert await collect(session, due.ctx, due.payment_id, clock.now()) is Outcome.SKIPPED
    assert (await payment(database, due.ctx.tenant_id, due.payment_id)).status == "pending"
    assert await transactions(database, due.payment_id) == []


async def test_paid_and_cancelled_payments_are_left_alone(
    api: Api, database: Database, tenant: Tenant
) -> None:
    due = await due_payment(api, database, tenant)
    async with database.transaction() as session:
        await session.execute(
            update(Payment)
            .where(Payment.id == due.payment_id)
            .values(status=PaymentStatus.CANCELLED)
        )
    with clock.frozen(T0):
        await worker(database).run_until_idle()
        async with database.transaction() as session:
            assert await collect(session, due.ctx, due.payment_id, clock.now()) is Outcome.SKIPPED
            assert await collect(session, due.ctx, "pay_unknown", clock.now()) is Outcome.SKIPPED
    assert await transactions(database, due.payment_id) == []


async def test_a_billing_groups_payment_suspends_every_member(
    api: Api, database: Database, tenant: Tenant
) -> None:
    """A consolidated payment bills several subscriptions: each is collected by its line,
    and the dunning outcome reaches every member."""
    await retry_settings(api, automatic=False, finalOutcome="suspend")
    ctx = await tenant_context(database, tenant)
    first, second = await rentals(api, 2)
    group = await api.post(
        "/v1/billing-groups",
        {
            "customerId": first["customerId"], "groupName": "Office", "billingDay": 3,
            "rentalIds": [first["rentalId"], second["rentalId"]],
        },
    )  # fmt: skip
    assert group.status_code == 201, group.text
    group_id = group.json()["billingGroup"]["billingGroupId"]
    card = await auto_charge(api, first["customerId"], "tok_expired_card")
    consolidated = await scheduled_payment(
        database, ctx.tenant_id, first["customerId"], Charge(first["rentalId"], NET, TAX),
        Charge(second["rentalId"], 2500, 475), due_date=DUE, billing_group_id=group_id,
    )  # fmt: skip
    with clock.frozen(T0):
        await worker(database).run_until_idle()
    (charge,) = await transactions(database, consolidated.id)
    assert (charge.amount, charge.decline_code, charge.payment_method_id) == (
        10114, "expired_card", card["paymentMethodId"],
    )  # fmt: skip
    ((kind, data),) = await payment_events(database, consolidated.id)
    assert (kind, data["amount"], data["billingGroupId"]) == (
        "payment.failed", Decimal("101.14"), group_id,
    )  # fmt: skip
    for rental in (first, second):
        assert (await rental_of(api, rental["rentalId"]))["status"] == "suspended"


async def test_the_sweep_covers_every_tenant_but_not_test_clock_customers(
    api: Api, database: Database, tenant: Tenant, client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(collection, "SWEEP_BATCH", 1)  # page through the due payments
    ours = await due_payment(api, database, tenant)
    other = await new_tenant(database)
    their_api = Api(client, key=other.live_key, tenant_id=other.id)
    theirs = await due_payment(their_api, database, other)
    on_a_clock = await due_payment(api, database, tenant, email="grace@example.com")
    async with database.transaction() as session:
        await session.execute(
            update(Customer)
            .where(Customer.id == on_a_clock.customer_id)
            .values(test_clock_id="clock_x")
        )
    with clock.frozen(T0):
        await worker(database).run_until_idle()
        assert (await payment(database, ours.ctx.tenant_id, ours.payment_id)).status == "paid"
        assert (await payment(database, theirs.ctx.tenant_id, theirs.payment_id)).status == "paid"
        waiting = await payment(database, on_a_clock.ctx.tenant_id, on_a_clock.payment_id)
        assert waiting.status == "pending"
        assert len(await collect_jobs(database)) == 2

        # The clock's step collects its customers at the clock's time.
        clock_time = T0 + timedelta(days=40)
        async with database.transaction() as session:
            outcomes = await collection.collect_for_customers(
                session, on_a_clock.ctx, clock_time, [on_a_clock.customer_id]
            )
        assert outcomes == {on_a_clock.payment_id: Outcome.PAID}
    paid = await payment(database, on_a_clock.ctx.tenant_id, on_a_clock.payment_id)
    assert (paid.status, paid.paid_at) == ("paid", clock_time)


async def test_a_test_clock_collects_its_customers_on_its_time(
    client: Any, database: Database, tenant: Tenant
) -> None:
    """Advancing a test clock collects its customers' due payments at each day it passes,
    after billing them (``STEPS``)."""
    steps = test_clocks.STEPS
    assert steps.index(collection.collect_on_test_clock) == steps.index(run.bill_on_test_clock) + 1
    test_api = Api(client, key=tenant.test_key, tenant_id=tenant.id)
    ctx = await tenant_context(database, tenant, test_mode=True)
    grace = (await test_api.create_customer())["customerId"]
    await auto_charge(test_api, grace, "tok_visa")
    due_on = date(2025, 6, 10)
    scheduled = await scheduled_payment(
        database, ctx.tenant_id, grace, Charge(None, NET, TAX), due_date=due_on
    )
    async with database.transaction() as session:
        start = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
        made = await test_clocks.create_clock(session, ctx, frozen_time=start, name=None)
        await test_clocks.attach(session, ctx, made.id, grace)
    async with database.transaction() as session:
        await test_clocks.advance(session, ctx, made.id, datetime(2025, 6, 20, tzinfo=UTC))
    paid = await payment(database, ctx.tenant_id, scheduled.id)
    assert (paid.status, paid.paid_at) == ("paid", datetime(2025, 6, 10, 12, 0, tzinfo=UTC))
    (charge,) = await transactions(database, scheduled.id)
    assert (charge.status, charge.amount) == ("succeeded", 7139)


async def test_a_clock_step_leaves_an_unreachable_gateway_for_the_next_step(
    api: Api, database: Database, tenant: Tenant
) -> None:
    due = await due_payment(api, database, tenant, "tok_network_error")
    async with database.transaction() as session:
        outcomes = await collection.collect_for_customers(session, due.ctx, T0, [due.customer_id])
    assert outcomes == {}
    untouched = await payment(database, due.ctx.tenant_id, due.payment_id)
    assert (untouched.status, untouched.capture_attempts) == ("pending", 0)
    async with database.transaction() as session:
        assert await collection.collect_for_customers(session, due.ctx, T0, []) == {}
