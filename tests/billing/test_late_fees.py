"""Late fees: the fee and the lateness rule as tables; then, through the /v1 API, the
hourly job on a frozen clock (flat and percentage fees to the cent, nothing before the
grace period ends, once only, never on paid or cancelled payments, the invoice's line and
totals) and a test clock's advance."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from flexbill.billing import collection, late_fees, run, test_clocks
from flexbill.billing.late_fees import (
    APPLY_LATE_FEES,
    apply_late_fees_on_test_clock,
    is_late,
    late_fee,
)
from flexbill.billing.models import PaymentStatus
from flexbill.core import clock
from flexbill.core.db import Database
from flexbill.core.jobs import Job
from flexbill.settings.rules import LateFees, LateFeeType
from flexbill.worker import handlers
from flexbill.worker.registry import REGISTRY
from flexbill.worker.runner import Worker
from flexbill.worker.schedule import Periodic
from tests.billing.factories import (
    JULY,
    T0,
    bill,
    counters,
    group,
    invoice_of,
    one_billed,
    payment_of,
    rentals,
)
from tests.credit.support import replayed
from tests.orders.support import exact
from tests.subscriptions.support import LAPTOP, confirmed_order, register, subscribe
from tests.support import Api, Tenant, new_tenant

# ----------------------------------------------------------------------------- pure rules


def _flat(amount: int) -> LateFees:
    return LateFees(enabled=True, type=LateFeeType.FLAT, amount=amount)


def _percent(percentage: str) -> LateFees:
    return LateFees(enabled=True, type=LateFeeType.PERCENTAGE, percentage=Decimal(percentage))


@pytest.mark.parametrize(
    ("rules", "original", "fee"),
    [
        (_flat(1000), 7139, 1000),
        (_flat(1000), 1, 1000),  # a flat fee whatever the amount
        (_flat(0), 7139, 0),
        (_percent("10"), 25, 3),  # 2.5 → 3: half up, not to even
        (_percent("10"), 35, 4),  # 3.5 → 4
        (_percent("2.5"), 7139, 178),  # 178.475
        (_percent("2.5"), 14278, 357),  # 356.95
        (_percent("5"), 7139, 357),  # 356.95
        (_percent("0.01"), 4999, 0),  # 0.4999
        (_percent("0.01"), 5000, 1),  # 0.5
        (_percent("100"), 7139, 7139),
        (_percent("0"), 7139, 0),
        # Percentage rules keep a flat amount typed earlier; it does not count.
        (LateFees(enabled=True, type=LateFeeType.PERCENTAGE, amount=500,
                  percentage=Decimal("1")), 10000, 100),
        (LateFees(enabled=True, type=LateFeeType.FLAT, amount=500,
                  percentage=Decimal("50")), 10000, 500),
    ],
)  # fmt: skip
def test_the_fee_of_an_amount(rules: LateFees, original: int, fee: int) -> None:
    assert late_fee(rules, original) == fee


@pytest.mark.parametrize(
    ("due", "grace", "today", "late"),
    [
        (date(2025, 7, 1), 0, date(2025, 7, 1), False),  # due today
        (date(2025, 7, 1), 0, date(2025, 7, 2), True),
        (date(2025, 7, 1), 3, date(2025, 7, 4), False),  # the grace period's last day
        (date(2025, 7, 1), 3, date(2025, 7, 5), True),
        (date(2025, 7, 1), 3, date(2025, 6, 30), False),  # not even due
        (date(2025, 12, 30), 5, date(2026, 1, 4), False),  # across a year
        (date(2025, 12, 30), 5, date(2026, 1, 5), True),
        (date(2024, 2, 28), 1, date(2024, 3, 1), True),  # 29 February counts
        (date(2025, 7, 1), 365, date(2026, 7, 1), False),
        (date(2025, 7, 1), 365, date(2026, 7, 2), True),
    ],
)
def test_whether_a_payment_is_late(due: date, grace: int, today: date, late: bool) -> None:
    assert is_late(due, grace, today) is late


def test_a_clock_advance_charges_fees_after_collecting() -> None:
    assert handlers.late_fees.APPLY_LATE_FEES == APPLY_LATE_FEES
    steps = [run.bill_on_test_clock, collection.collect_on_test_clock]
    assert [*steps, apply_late_fees_on_test_clock] == test_clocks.STEPS


# ----------------------------------------------------------------------------- the job

FEE_JOB = (Periodic(APPLY_LATE_FEES, timedelta(hours=1)),)
ORIGINAL = Decimal("71.39")  # 59.99 and 19 % VAT


async def _settings(api: Api, late_fees: dict[str, Any]) -> None:
    response = await api.patch("/v1/settings", {"lateFees": late_fees})
    assert response.status_code == 200, response.text


async def _run_job_on(database: Database, moment: datetime) -> int:
    """Run the late-fee job's slot at ``moment`` (with whatever else is due, such as invoice
    documents); how many late-fee jobs ran."""
    with clock.frozen(moment):
        await Worker(database, REGISTRY, schedule=FEE_JOB).run_until_idle()
    async with database.transaction() as session:
        ran = await session.scalar(
            select(func.count()).where(
                Job.kind == late_fees.APPLY_LATE_FEES, Job.finished_at == moment
            )
        )
    return int(ran or 0)


def _on(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 9, 0, tzinfo=UTC)


def _fee_fields(payment: dict[str, Any]) -> tuple[Any, ...]:
    return (
        payment["amount"],
        payment["originalAmount"],
        payment["lateFeeApplied"],
        payment["lateFeeAmount"],
    )


async def test_a_flat_fee_after_the_grace_period_once(api: Api, database: Database) -> None:
    with clock.frozen(T0):
        await _settings(api, {"enabled": True, "type": "flat", "amount": 10, "gracePeriodDays": 3})
        rental, billed = await one_billed(api, database)  # due 1 July

    # Through the grace period's last day: nothing.
    assert await _run_job_on(database, _on(date(2025, 7, 4))) == 1
    untouched = await payment_of(api, billed.payment_id)
    assert _fee_fields(untouched) == (ORIGINAL, ORIGINAL, False, Decimal("0"))
    assert [line["kind"] for line in untouched["lineItems"]] == ["rental"]

    late = _on(date(2025, 7, 5))
    assert await _run_job_on(database, late) == 1
    charged = await payment_of(api, billed.payment_id)
    assert _fee_fields(charged) == (Decimal("81.39"), ORIGINAL, True, Decimal("10.00"))
    assert (charged["status"], charged["subtotal"], charged["taxAmount"], charged["total"]) == (
        "pending", Decimal("69.99"), Decimal("11.40"), Decimal("81.39"),
    )  # fmt: skip
    assert charged["updatedAt"] == "2025-07-05T09:00:00Z"
    fee_line = charged["lineItems"][1]
    assert fee_line == {
        "rentalId": None, "kind": "late_fee", "description": "Late fee",
        "amount": Decimal("10.00"), "taxAmount": Decimal("0.00"), "total": Decimal("10.00"),
        "periodStart": None, "periodEnd": None,
    }  # fmt: skip

    invoice = await invoice_of(api, billed.invoice_id)
    assert [(line["position"], line["kind"], line["total"]) for line in invoice["lines"]] == [
        (1, "rental", ORIGINAL), (2, "late_fee", Decimal("10.00")),
    ]  # fmt: skip
    assert invoice["lines"][1]["quantity"] == 1
    assert invoice["lines"][1]["unitAmount"] == Decimal("10.00")
    assert (invoice["subtotal"], invoice["taxAmount"], invoice["total"]) == (
        Decimal("69.99"), Decimal("11.40"), Decimal("81.39"),
    )  # fmt: skip
    assert (invoice["status"], invoice["amountDue"]) == ("open", Decimal("81.39"))

    # Later runs, and a day later, add nothing.
    assert await _run_job_on(database, late + timedelta(hours=1)) == 1
    assert await _run_job_on(database, late + timedelta(days=1)) == 1
    assert await payment_of(api, billed.payment_id) == charged
    assert len((await invoice_of(api, billed.invoice_id))["lines"]) == 2

    # Paying the payment pays the invoice, fee included.
    with clock.frozen(late + timedelta(days=2)):
        response = await api.post(f"/v1/payments/{billed.payment_id}/mark-paid", {})
    assert response.status_code == 200, response.text
    paid = await invoice_of(api, billed.invoice_id)
    assert (paid["status"], paid["amountPaid"], paid["amountDue"]) == (
        "paid", Decimal("81.39"), Decimal("0.00"),
    )  # fmt: skip
    # What the rental earned, net, without the penalty.
    collected = await counters(api, [rental["rentalId"]], rental["customerId"])
    assert collected == [Decimal("59.99"), Decimal("59.99")]
    # The customer's ledger has the fee owed, then paid with the rest (the invoice itself
    # was written by a test factory, past the ledger).
    assert await replayed(api, rental["customerId"]) == [
        ("late_fee_charged", Decimal("10.00"), Decimal("0.00")),
        ("payment_received", Decimal("-81.39"), Decimal("0.00")),
    ]


async def test_a_percentage_of_the_original_amount_to_the_cent(
    api: Api, database: Database
) -> None:
    with clock.frozen(T0):
        await _settings(
            api, {"enabled": True, "type": "percentage", "percentage": 2.5, "gracePeriodDays": 0}
        )
        a1, a2, a3 = await rentals(api, 3)
        group_id = await group(api, [a2, a3])
        own = await bill(database, [a1], period_start=JULY, status=PaymentStatus.FAILED)
        grouped = await bill(database, [a2, a3], period_start=JULY, billing_group_id=group_id)

    assert await _run_job_on(database, _on(date(2025, 7, 1))) == 1  # due today: not late
    assert (await payment_of(api, own.payment_id))["lateFeeApplied"] is False

    await _run_job_on(database, _on(date(2025, 7, 2)))
    failed = await payment_of(api, own.payment_id)
    assert failed["status"] == "failed"
    # 2.5 % of 71.39 = 1.78475
    assert _fee_fields(failed) == (Decimal("73.17"), ORIGINAL, True, Decimal("1.78"))
    assert failed["total"] == Decimal("73.17")
    consolidated = await payment_of(api, grouped.payment_id)
    # 2.5 % of 142.78 = 3.5695
    assert _fee_fields(consolidated) == (
        Decimal("146.35"), Decimal("142.78"), True, Decimal("3.57"),
    )  # fmt: skip
    assert (consolidated["subtotal"], consolidated["total"]) == (
        Decimal("123.55"), Decimal("146.35"),
    )  # fmt: skip
    fee_line = consolidated["lineItems"][-1]
    assert (fee_line["kind"], fee_line["rentalId"], fee_line["total"]) == (
        "late_fee", None, Decimal("3.57"),
    )  # fmt: skip
    assert len(consolidated["lineItems"]) == 3


async def test_no_fee_on_paid_or_cancelled_payments_nor_while_fees_are_off(
    api: Api, database: Database
) -> None:
    with clock.frozen(T0):
        a1, a2 = await rentals(api, 2)
        paid = await bill(database, [a1], period_start=JULY, status=PaymentStatus.PAID)
        cancelled = await bill(database, [a2], period_start=JULY, status=PaymentStatus.CANCELLED)
        waiting = await bill(database, [a1], period_start=date(2025, 6, 1))

    # Late fees are off by default.
    await _run_job_on(database, _on(date(2025, 8, 1)))
    for billed in (paid, cancelled, waiting):
        payment = await payment_of(api, billed.payment_id)
        assert _fee_fields(payment) == (ORIGINAL, ORIGINAL, False, Decimal("0"))

    with clock.frozen(_on(date(2025, 8, 1))):
        await _settings(api, {"enabled": True, "type": "flat", "amount": 5})
    await _run_job_on(database, _on(date(2025, 8, 1)) + timedelta(hours=1))
    for billed in (paid, cancelled):
        payment = await payment_of(api, billed.payment_id)
        assert _fee_fields(payment) == (ORIGINAL, ORIGINAL, False, Decimal("0"))
        assert [line["kind"] for line in payment["lineItems"]] == ["rental"]
        assert payment["total"] == ORIGINAL
    charged = await payment_of(api, waiting.payment_id)
    assert _fee_fields(charged) == (Decimal("76.39"), ORIGINAL, True, Decimal("5.00"))


async def test_each_tenant_by_its_own_rules_in_batches(
    api: Api, database: Database, client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(late_fees, "BATCH", 1)  # page through the late payments
    other = await new_tenant(database)
    other_api = Api(client, key=other.live_key, tenant_id=other.id)
    with clock.frozen(T0):
        await _settings(api, {"enabled": True, "type": "flat", "amount": 10, "gracePeriodDays": 5})
        await _settings(other_api, {"enabled": True, "type": "flat", "amount": 2})
        _, mine = await one_billed(api, database)
        theirs, also_theirs = [
            await bill(database, [rental], period_start=JULY)
            for rental in await rentals(other_api, 2)
        ]

    await _run_job_on(database, _on(date(2025, 7, 3)))
    assert (await payment_of(api, mine.payment_id))["lateFeeApplied"] is False
    for billed in (theirs, also_theirs):
        assert _fee_fields(await payment_of(other_api, billed.payment_id)) == (
            Decimal("73.39"), ORIGINAL, True, Decimal("2.00"),
        )  # fmt: skip
    await _run_job_on(database, _on(date(2025, 7, 7)))
    assert (await payment_of(api, mine.payment_id))["lateFeeAmount"] == Decimal("10.00")
    for billed in (theirs, also_theirs):
        assert (await payment_of(other_api, billed.payment_id))["lateFeeAmount"] == Decimal("2.00")


# ----------------------------------------------------------------------------- test clocks

CLOCK_T0 = datetime(2025, 1, 15, 9, 0, tzinfo=UTC)


@pytest.fixture
def _real_time_stands_still() -> Iterator[None]:
    with clock.frozen(CLOCK_T0):
        yield


async def _ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return exact(response)


@pytest.mark.usefixtures("_real_time_stands_still")
async def test_fees_on_a_test_clock_at_the_clocks_time(
    api: Api, tenant: Tenant, database: Database
) -> None:
    api = api.with_key(tenant.test_key)
    await _settings(api, {"enabled": True, "type": "flat", "amount": 5, "gracePeriodDays": 2})
    order = await confirmed_order(api, items=[{"sku": LAPTOP, "quantity": 1, "contractLength": 12}])
    await register(api, "SN-1")
    rental = await subscribe(api, order, "SN-1")
    test_clock = (
        await _ok(await api.post("/v1/test-clocks", {"frozenTime": CLOCK_T0.isoformat()}), 201)
    )["testClock"]
    clock_path = f"/v1/test-clocks/{test_clock['testClockId']}"
    await _ok(await api.post(f"{clock_path}/customers", {"customerId": order["customerId"]}))

    async def advance_to(moment: datetime) -> list[dict[str, Any]]:
        await _ok(await api.post(f"{clock_path}/advance", {"frozenTime": moment.isoformat()}))
        body = await _ok(
            await api.get(
                "/v1/payments", rentalId=rental["rentalId"], sortBy="dueDate", sortDir="asc"
            )
        )
        payments: list[dict[str, Any]] = body["payments"]
        return payments

    monthly = Decimal("59.99")  # no VAT: the settings' default
    first = Decimal("84.99")  # and the laptop's 25.00 setup fee, on the first invoice
    (january,) = await advance_to(CLOCK_T0 + timedelta(hours=1))  # billed, due today
    assert _fee_fields(january) == (first, first, False, Decimal("0"))
    (january,) = await advance_to(datetime(2025, 1, 17, 9, 0, tzinfo=UTC))  # grace's last day
    assert (january["dueDate"], january["status"]) == ("2025-01-15", "pending")
    assert _fee_fields(january) == (first, first, False, Decimal("0"))

    # The real time is far on, but a customer on a clock lives on the clock's time.
    assert await _run_job_on(database, datetime(2025, 3, 1, 9, 0, tzinfo=UTC)) == 1
    (january,) = await advance_to(datetime(2025, 1, 17, 23, 0, tzinfo=UTC))
    assert january["lateFeeApplied"] is False

    (january,) = await advance_to(datetime(2025, 1, 18, 0, 0, tzinfo=UTC))
    assert _fee_fields(january) == (Decimal("89.99"), first, True, Decimal("5.00"))
    assert january["updatedAt"] == "2025-01-18T00:00:00Z"

    january, february = await advance_to(datetime(2025, 2, 20, 9, 0, tzinfo=UTC))
    assert _fee_fields(january) == (Decimal("89.99"), first, True, Decimal("5.00"))
    assert february["dueDate"] == "2025-02-15"
    assert _fee_fields(february) == (Decimal("64.99"), monthly, True, Decimal("5.00"))
    assert [line["kind"] for line in february["lineItems"]] == ["rental", "late_fee"]
    assert (february["subtotal"], february["total"]) == (Decimal("64.99"), Decimal("64.99"))
