"""``python -m bench.usage``: usage records ingested per second through
``POST /v1/usage/batch``, and the time to rate one period of a million records, each
beside a baseline measured in the same run and database.

For each backend, a fresh database and the real server process (``flexbill serve``):

1. ``flexbill bootstrap``; one customer through the API; a plan of four usage prices
   (tiered, volume, per unit, per unit; billed monthly in arrears) and a subscription of
   one item each, written straight into the tables (``/v1/plan-subscriptions`` belongs to
   another piece of work).
2. **Ingestion.** ``--batches`` batches of ``--batch-size`` new records (spread over the
   four items and the days of one month, each with its own client id) are sent one after
   the other over one keep-alive connection; records per second = records ÷ wall time.
   The **baseline** writes rows shaped exactly as the endpoint writes them, with plain
   SQLAlchemy Core ``executemany``, one transaction per batch of the same size, into the
   same table: half of its batches before the API's and half after, so that a table that
   grows (or a machine that slows down) weighs on both alike. Ratio = API rate ÷ plain rate.
3. **Rating.** The server is stopped; ``--rating-records`` records of a second subscription
   of the same four prices are bulk-inserted (untimed), all in one month, then
   ``ANALYZE``d. Timed, in one transaction as a billing run would do it:
   ``usage.rating.usage_totals`` for the four items, ``catalog.charge_models.rate`` for
   each, ``usage.rating.mark_rated`` and the commit. The **baseline** is a bare
   ``SELECT count(*)`` with the same conditions over the same rows (the best of three,
   after one untimed warm-up count).

The machine's load average is read before and after each backend. Figures go to stdout
and, with ``--readme``, into the "Usage" section of ``bench/README.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import func, insert, select, text

from bench import aio
from bench.backends import BACKENDS, BackendUnavailableError, database
from bench.loadgen import Connection, encode_request
from bench.seed import seed_customers
from bench.server import Credentials, Server, bootstrap
from bench.usage_report import (
    FULL,
    QUICK,
    Ingestion,
    Rating,
    Settings,
    UsageResult,
    current_section,
    findings_of,
    markdown,
    section,
    write_section,
)
from flexbill import tables  # noqa: F401  (every table: the ORM resolves foreign keys)
from flexbill.catalog import charge_models
from flexbill.catalog.charge_models import PriceBook, Tier
from flexbill.catalog.plan_models import (
    BillingTiming,
    ChargeModel,
    PeriodUnit,
    Plan,
    PlanPrice,
    PriceCategory,
)
from flexbill.core.db import Database
from flexbill.core.ids import new_id
from flexbill.plan_subscriptions.models import (
    PlanSubscription,
    PlanSubscriptionStatus,
    SubscriptionItem,
    SubscriptionType,
)
from flexbill.tenancy.service import environment_context
from flexbill.usage import rating
from flexbill.usage.models import UsageRecord, UsageStatus

HERE = Path(__file__).resolve().parent
README = HERE / "README.md"
PERIOD = (date(2026, 1, 1), date(2026, 2, 1))
DAYS = (PERIOD[1] - PERIOD[0]).days
MODELS = (ChargeModel.TIERED, ChargeModel.VOLUME, ChargeModel.PER_UNIT, ChargeModel.PER_UNIT)
TIERS = (
    Tier(Decimal(10_000), Decimal("0.0100")),
    Tier(Decimal(1_000_000), Decimal("0.0050")),
    Tier(None, Decimal("0.0010")),
)
UNIT_AMOUNT = Decimal("0.0025")
INSERT_ROWS = 5000  # rows per executemany call while seeding the rating's records
ACTOR = "bench:usage"


@dataclass(frozen=True)
class Subscribed:
    tenant_id: str
    currency: str
    customer_id: str
    subscription_id: str
    item_ids: list[str]
    prices: list[PlanPrice]


# --- setting up ---------------------------------------------------------------------


async def subscribe(url: str, business_unit_id: str, customer_id: str) -> Subscribed:
    """A plan of the four usage prices and an active subscription of one item each."""
    db = Database(url)
    try:
        async with db.transaction() as session:
            ctx = await environment_context(session, business_unit_id, "live")
            plan = Plan(tenant_id=ctx.tenant_id, id=new_id("plan"), name="Usage", created_by=ACTOR)
            session.add(plan)
            await session.flush()
            prices = [_price(ctx.tenant_id, ctx.currency, plan.id, model) for model in MODELS]
            session.add_all(prices)
            subscription = PlanSubscription(
                tenant_id=ctx.tenant_id, id=new_id("psub"), customer_id=customer_id,
                status=PlanSubscriptionStatus.ACTIVE, type=SubscriptionType.EVERGREEN,
                currency=ctx.currency, order_date=PERIOD[0], start_date=PERIOD[0],
                billing_anchor=PERIOD[0], next_bill_date=None, created_by=ACTOR,
            )  # fmt: skip
            session.add(subscription)
            await session.flush()
            items = [
                SubscriptionItem(
                    tenant_id=ctx.tenant_id,
                    id=new_id("si"),
                    subscription_id=subscription.id,
                    position=position,
                    plan_id=plan.id,
                    plan_price_id=price.id,
                    plan_price_version=1,
                    quantity=1,
                    billed_through=PERIOD[0],
                    started_on=PERIOD[0],
                )
                for position, price in enumerate(prices, start=1)
            ]
            session.add_all(items)
            await session.flush()
            return Subscribed(
                tenant_id=ctx.tenant_id, currency=ctx.currency, customer_id=customer_id,
                subscription_id=subscription.id, item_ids=[item.id for item in items],
                prices=prices,
            )  # fmt: skip
    finally:
        await db.dispose()


def _price(tenant_id: str, currency: str, plan_id: str, model: ChargeModel) -> PlanPrice:
    tiered = model in (ChargeModel.TIERED, ChargeModel.VOLUME)
    book = PriceBook(tiers=TIERS) if tiered else PriceBook(unit_amount=UNIT_AMOUNT)
    return PlanPrice(
        tenant_id=tenant_id, id=new_id("price"), version=1, plan_id=plan_id,
        name=f"{model.value} usage", category=PriceCategory.RECURRING, charge_model=model,
        billing_timing=BillingTiming.IN_ARREARS, billing_period=1,
        billing_period_unit=PeriodUnit.MONTH, amounts={currency: book.to_json()},
        included_units=Decimal(0), default_quantity=1, created_by=ACTOR,
    )  # fmt: skip


def _quantity(number: int) -> Decimal:
    return Decimal(number % 997 + 1).scaleb(-2)  # 0.01 … 9.97


def _day(number: int) -> date:
    return PERIOD[0] + timedelta(days=number % DAYS)


def wire_record(subscribed: Subscribed, label: str, number: int) -> dict[str, Any]:
    day = _day(number).isoformat()
    return {
        "id": f"{label}-{number:08d}", "subscriptionId": subscribed.subscription_id,
        "itemId": subscribed.item_ids[number % len(subscribed.item_ids)],
        "quantity": str(_quantity(number)), "startDate": day, "endDate": day,
    }  # fmt: skip


def row(subscribed: Subscribed, label: str, number: int, now: datetime) -> dict[str, Any]:
    """A usage record shaped as ``POST /v1/usage/batch`` writes it."""
    day = _day(number)
    return {
        "tenant_id": subscribed.tenant_id, "id": new_id("usage"),
        "client_id": f"{label}-{number:08d}", "customer_id": subscribed.customer_id,
        "subscription_id": subscribed.subscription_id,
        "item_id": subscribed.item_ids[number % len(subscribed.item_ids)], "name": None,
        "description": None, "quantity": _quantity(number), "start_date": day, "end_date": day,
        "status": UsageStatus.PENDING.value, "invoice_id": None, "created_at": now,
        "updated_at": now,
    }  # fmt: skip


# --- ingestion ----------------------------------------------------------------------


def batch_requests(
    subscribed: Subscribed, headers: dict[str, str], settings: Settings
) -> Iterator[bytes]:
    for batch in range(settings.batches):
        first = batch * settings.batch_size
        records = [
            wire_record(subscribed, "api", number)
            for number in range(first, first + settings.batch_size)
        ]
        body = json.dumps({"records": records}).encode()
        yield encode_request("POST", "/v1/usage/batch", headers, body)


async def send_batches(port: int, requests: Sequence[bytes], expected: int) -> float:
    """Send the batches one after the other on one connection; the wall time."""
    connection = await Connection.connect(port)
    try:
        started = time.perf_counter()
        for request in requests:
            response = await connection.send(request)
            answer = json.loads(response.body) if response.status == 200 else {}
            if answer.get("created") != expected:
                raise RuntimeError(f"the batch answered {response.status}: {response.body[:500]!r}")
        return time.perf_counter() - started
    finally:
        await connection.close()


async def plain_inserts(url: str, subscribed: Subscribed, first: int, settings: Settings) -> float:
    """Half the batches of plain ``executemany`` inserts, a transaction each; the time."""
    db = Database(url)
    try:
        started = time.perf_counter()
        for batch in range(settings.batches // 2 or 1):
            start = (first + batch) * settings.batch_size
            now = datetime.now(UTC)
            rows = [
                row(subscribed, "plain", number, now)
                for number in range(start, start + settings.batch_size)
            ]
            async with db.write_engine.begin() as connection:
                await connection.execute(insert(UsageRecord), rows)
        return time.perf_counter() - started
    finally:
        await db.dispose()


def ingest(
    server: Server, url: str, subscribed: Subscribed, credentials: Credentials, settings: Settings
) -> Ingestion:
    requests = list(batch_requests(subscribed, credentials.headers(), settings))
    halves = settings.batches // 2 or 1
    before = aio.run(plain_inserts(url, subscribed, 0, settings))
    cpu_before = server.cpu_seconds()
    seconds = aio.run(send_batches(server.port, requests, settings.batch_size))
    cpu = server.cpu_seconds() - cpu_before
    after = aio.run(plain_inserts(url, subscribed, halves, settings))
    return Ingestion(
        records=settings.batches * settings.batch_size, seconds=seconds, server_cpu_seconds=cpu,
        baseline_records=2 * halves * settings.batch_size, baseline_seconds=before + after,
    )  # fmt: skip


# --- rating -------------------------------------------------------------------------


async def seed_rating(url: str, subscribed: Subscribed, count: int) -> float:
    db = Database(url)
    try:
        started = time.perf_counter()
        now = datetime.now(UTC)
        async with db.write_engine.begin() as connection:
            for first in range(0, count, INSERT_ROWS):
                rows = [
                    row(subscribed, "rated", number, now)
                    for number in range(first, min(first + INSERT_ROWS, count))
                ]
                await connection.execute(insert(UsageRecord), rows)
        async with db.write_engine.begin() as connection:
            await connection.execute(text(f"ANALYZE {UsageRecord.__tablename__}"))
        return time.perf_counter() - started
    finally:
        await db.dispose()


async def count_baseline(url: str, subscribed: Subscribed) -> float:
    """The best of three bare counts of the period's records (after a warm-up count)."""
    db = Database(url)
    statement = select(func.count()).where(
        UsageRecord.tenant_id == subscribed.tenant_id,
        UsageRecord.item_id.in_(subscribed.item_ids),
        UsageRecord.start_date >= PERIOD[0],
        UsageRecord.start_date < PERIOD[1],
    )
    try:
        timings = []
        for _ in range(4):
            async with db.transaction(write=False) as session:
                started = time.perf_counter()
                await session.scalar(statement)
                timings.append(time.perf_counter() - started)
        return min(timings[1:])
    finally:
        await db.dispose()


async def rate_period(url: str, subscribed: Subscribed, expected: int) -> tuple[float, ...]:
    """Rate the period as a billing run would; the seconds of each step, and how many
    records were marked."""
    db = Database(url)
    try:
        session = db.session(write=True)
        try:
            started = time.perf_counter()
            totals = await rating.usage_totals(
                session, subscribed.tenant_id, subscribed.item_ids, *PERIOD
            )
            summed = time.perf_counter()
            ratings = [
                charge_models.rate(
                    ChargeModel(price.charge_model),
                    PriceBook.from_json(price.amounts[subscribed.currency]),
                    totals[item_id],
                    subscribed.currency,
                    included_units=price.included_units,
                )
                for item_id, price in zip(subscribed.item_ids, subscribed.prices, strict=True)
            ]
            rated = time.perf_counter()
            marked = await rating.mark_rated(
                session, subscribed.tenant_id, subscribed.item_ids, *PERIOD, new_id("inv")
            )
            await session.commit()
            done = time.perf_counter()
        finally:
            await session.close()
        if marked != expected or sum(totals.values()) <= 0 or not all(r.amount for r in ratings):
            raise RuntimeError(f"rating marked {marked} of {expected} records: {totals}")
        return summed - started, rated - summed, done - rated, float(marked)
    finally:
        await db.dispose()


# --- one backend --------------------------------------------------------------------


def bench_usage(backend: str, settings: Settings, scratch: str) -> UsageResult:
    print(f"{backend}: usage", flush=True)
    load_before = os.getloadavg()
    with database(backend) as url:
        credentials = bootstrap(url)
        with Server(url, Path(scratch) / f"usage-{backend}.log") as server:
            [customer_id] = aio.run(seed_customers(server.port, credentials.headers(), 1))
            ingesting = aio.run(subscribe(url, credentials.tenant_id, customer_id))
            rated = aio.run(subscribe(url, credentials.tenant_id, customer_id))
            ingestion = ingest(server, url, ingesting, credentials, settings)
        print(
            f"  ingestion: {ingestion.per_second:,.0f} records/s through the API vs "
            f"{ingestion.baseline_per_second:,.0f} plain → {ingestion.ratio:.3f}",
            flush=True,
        )
        seed_seconds = aio.run(seed_rating(url, rated, settings.rating_records))
        print(f"  rating: {settings.rating_records:,} records seeded in {seed_seconds:.1f} s")
        count_seconds = aio.run(count_baseline(url, rated))
        totals_s, rate_s, mark_s, marked = aio.run(rate_period(url, rated, settings.rating_records))
    result = UsageResult(
        backend=backend, settings=settings, ingestion=ingestion,
        rating=Rating(
            records=settings.rating_records, seed_seconds=seed_seconds,
            totals_seconds=totals_s, rate_seconds=rate_s, mark_seconds=mark_s,
            marked=int(marked), count_seconds=count_seconds,
        ),
        load_before=load_before, load_after=os.getloadavg(),
    )  # fmt: skip
    print(
        f"  rating: {result.rating.seconds:.2f} s (totals {totals_s:.2f} s, mark "
        f"{mark_s:.2f} s) vs count(*) {count_seconds:.3f} s → {result.rating.ratio:.1f}",
        flush=True,
    )
    return result


def parse_args(argv: Sequence[str] | None) -> tuple[Settings, list[str], bool]:
    parser = argparse.ArgumentParser(
        prog="python -m bench.usage", description=(__doc__ or "").split("\n")[0]
    )
    parser.add_argument("--backends", default=",".join(BACKENDS))
    parser.add_argument("--batches", type=int, default=FULL.batches)
    parser.add_argument("--batch-size", type=int, default=FULL.batch_size)
    parser.add_argument("--rating-records", type=int, default=FULL.rating_records)
    parser.add_argument("--quick", action="store_true", help="10 batches, 50,000 rated records")
    parser.add_argument("--readme", action="store_true", help="write the README's section")
    args = parser.parse_args(argv)
    settings = (
        QUICK
        if args.quick
        else Settings(
            batches=args.batches, batch_size=args.batch_size, rating_records=args.rating_records
        )
    )
    if settings.batches < 2 or not 1 <= settings.batch_size <= 1000 or settings.rating_records < 1:
        parser.error("at least 2 batches of 1 to 1,000 records, and at least 1 rated record")
    return settings, [b.strip() for b in args.backends.split(",") if b.strip()], args.readme


def run(backends: Sequence[str], settings: Settings) -> list[UsageResult]:
    results = []
    with tempfile.TemporaryDirectory(prefix="flexbill-bench-") as scratch:
        for backend in backends:
            try:
                results.append(bench_usage(backend, settings, scratch))
            except BackendUnavailableError as why:
                print(f"{backend}: skipped: {why}", flush=True)
    return results


def main(argv: Sequence[str] | None = None) -> int:
    settings, backends, write_readme = parse_args(argv)
    results = run(backends, settings)
    print()
    print(markdown(results))
    if write_readme and results:
        write_section(README, section(results, findings_of(current_section(README))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
