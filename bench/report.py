"""Results: the records one run produces, the markdown table, ``bench/README.md`` and
``bench/results/latest.json``.

The README is rewritten by every run so that the figures in the repository are always the
latest measured ones, next to the method that produced them.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bench.billing import BillingResult

# The small tenant of the list-growth comparison (the large one is Settings.subscriptions).
SMALL_SUBSCRIPTIONS = 1000

# The target: a single authenticated read should reach at least half of what the
# same stack serves without auth or database.
TARGET_RATIO = 0.5
TARGET_SCENARIO = "single read"
SUBSCRIPTIONS_SCENARIO = "subscriptions page"


def subscriptions_scenario_name(rows: int) -> str:
    return f"{SUBSCRIPTIONS_SCENARIO} ({rows:,})"


@dataclass(frozen=True)
class Measurement:
    """One load run against one path, plus the server's state right after it."""

    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    errors: int
    seconds: float
    client_cpu_share: float  # fraction of one core the load generator used
    server_cpu_share: float  # fraction of one core the server process used
    server_cpu_us_per_request: float
    rss_mib_after: float
    hwm_mib_after: float


@dataclass(frozen=True)
class ScenarioResult:
    backend: str
    scenario: str
    path: str
    body_bytes: int
    real: Measurement
    baseline: Measurement
    tenant_rows: int | None = None  # subscriptions in the tenant a list scenario reads

    @property
    def ratio(self) -> float:
        return self.real.rps / self.baseline.rps if self.baseline.rps else math.nan


@dataclass(frozen=True)
class Settings:
    mode: str  # "full" or "quick"
    connections: int
    warmup_seconds: float
    duration_seconds: float
    customers: int
    subscriptions: int  # in the large tenant of the list-growth scenarios
    billing_sizes: tuple[int, ...] = ()  # due subscriptions of each billing run


@dataclass
class Run:
    date: str
    settings: Settings
    machine: dict[str, str]
    results: list[ScenarioResult] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)  # backend -> reason
    seeding: dict[str, float] = field(default_factory=dict)  # backend -> customers per second
    bulk_seeding: dict[str, float] = field(default_factory=dict)  # backend -> rows per second
    billing: list[BillingResult] = field(default_factory=list)


def _number(value: float, digits: int = 0) -> str:
    return "n/a" if math.isnan(value) else f"{value:,.{digits}f}"


def results_table(results: list[ScenarioResult]) -> str:
    rows = [
        "| backend | scenario | body bytes | rps | p50 ms | p99 ms | baseline rps "
        "| ratio vs baseline | server RSS MB after | server peak RSS MB |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        rows.append(
            f"| {r.backend} | {r.scenario} | {r.body_bytes:,} | {_number(r.real.rps)} "
            f"| {_number(r.real.p50_ms, 2)} | {_number(r.real.p99_ms, 2)} "
            f"| {_number(r.baseline.rps)} | {_number(r.ratio, 2)} "
            f"| {_number(r.real.rss_mib_after, 1)} | {_number(r.real.hwm_mib_after, 1)} |"
        )
    return "\n".join(rows)


def details_table(results: list[ScenarioResult]) -> str:
    """What explains the headline: where the server's CPU goes and who was the bottleneck."""
    rows = [
        "| backend | scenario | baseline p50 ms | baseline p99 ms | server CPU µs/request "
        "| baseline server CPU µs/request | server CPU busy | client CPU busy | errors |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        rows.append(
            f"| {r.backend} | {r.scenario} | {_number(r.baseline.p50_ms, 2)} "
            f"| {_number(r.baseline.p99_ms, 2)} | {_number(r.real.server_cpu_us_per_request)} "
            f"| {_number(r.baseline.server_cpu_us_per_request)} "
            f"| {_number(r.real.server_cpu_share * 100)} % "
            f"| {_number(r.real.client_cpu_share * 100)} % "
            f"| {r.real.errors + r.baseline.errors} |"
        )
    return "\n".join(rows)


def verdict(results: list[ScenarioResult]) -> list[str]:
    lines = []
    for r in results:
        if r.scenario != TARGET_SCENARIO:
            continue
        met = "met" if r.ratio >= TARGET_RATIO else "**not met**"
        lines.append(
            f"- {r.backend}: the single read reaches {_number(r.ratio, 2)} of the baseline's "
            f"throughput (target ≥ {TARGET_RATIO}): {met}."
        )
    return lines


def growth(results: list[ScenarioResult]) -> list[str]:
    """Per backend: the subscriptions page in the largest tenant against the smallest."""
    lines = []
    for backend in dict.fromkeys(r.backend for r in results):
        lists = sorted(
            (r for r in results if r.backend == backend and r.tenant_rows is not None),
            key=lambda r: r.tenant_rows or 0,
        )
        if len(lists) < 2:
            continue
        small, large = lists[0], lists[-1]
        ratio = large.real.rps / small.real.rps if small.real.rps else math.nan
        cpu = large.real.server_cpu_us_per_request / small.real.server_cpu_us_per_request
        lines.append(
            f"- {backend}: {_number(large.real.rps)} rps (p50 {_number(large.real.p50_ms, 2)} ms, "
            f"p99 {_number(large.real.p99_ms, 2)} ms) with {large.tenant_rows:,} subscriptions "
            f"against {_number(small.real.rps)} rps (p50 {_number(small.real.p50_ms, 2)} ms, "
            f"p99 {_number(small.real.p99_ms, 2)} ms) with {small.tenant_rows:,}: "
            f"**{_number(ratio, 2)}** (1.00 = flat); server CPU per request "
            f"{_number(cpu, 2)} × the small tenant's."
        )
    return lines


BILLING_START = "<!-- billing run: written by bench/report.py -->"
BILLING_END = "<!-- end of billing run -->"


def billing_table(results: list[BillingResult]) -> str:
    rows = [
        "| backend | due subscriptions | jobs | run s | subscriptions/s | baseline s "
        "| baseline subscriptions/s | ratio vs baseline | µs per subscription |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        rows.append(
            f"| {r.backend} | {r.subscriptions:,} | {r.jobs} | {_number(r.seconds, 1)} "
            f"| {_number(r.per_second)} | {_number(r.baseline_seconds, 1)} "
            f"| {_number(r.baseline_per_second)} | {_number(r.ratio, 3)} "
            f"| {_number(r.seconds / r.subscriptions * 1e6)} |"
        )
    return "\n".join(rows)


def billing_growth(results: list[BillingResult]) -> list[str]:
    """Per backend: the largest run against the smallest, time and cost per subscription."""
    lines = []
    for backend in dict.fromkeys(r.backend for r in results):
        runs = sorted((r for r in results if r.backend == backend), key=lambda r: r.subscriptions)
        if len(runs) < 2:
            continue
        small, large = runs[0], runs[-1]
        per_small = small.seconds / small.subscriptions
        per_large = large.seconds / large.subscriptions
        lines.append(
            f"- {backend}: {_number(small.seconds, 1)} s for {small.subscriptions:,}, "
            f"{_number(large.seconds, 1)} s for {large.subscriptions:,} "
            f"(×{_number(large.seconds / small.seconds, 2)} for "
            f"×{_number(large.subscriptions / small.subscriptions, 0)} the subscriptions); "
            f"cost per subscription **{_number(per_large / per_small, 2)}** × the small run's "
            f"(1.00 = linear)."
        )
    return lines


def billing_section(run: Run) -> str:
    if not run.billing:
        return f"{BILLING_START}\n## Billing run\n\n- no billing result in this run.\n{BILLING_END}"
    sizes = " and ".join(f"{n:,}" for n in dict.fromkeys(r.subscriptions for r in run.billing))
    return f"""{BILLING_START}
## Billing run

Run of {run.date}: {sizes} due subscriptions, each size in a fresh database. The run is
`flexbill.billing.run.bill_due` in jobs of `billing_units_per_job` (2,000) subscriptions,
one transaction each, as `billing.run_tenant` runs it; every subscription is due for exactly
one period, and the invoices, lines and payments written are counted afterwards (one each per
subscription). The baseline, in the same database right after: as many invoice, invoice-line
and payment rows, shaped as the run writes them, inserted with plain `executemany` into the
test tenant (batches of 5,000, one transaction). See `bench/billing.py`.

{billing_table(run.billing)}

Growth, the same backend from the smallest to the largest run:

{chr(10).join(billing_growth(run.billing)) or "- one size only in this run."}
{BILLING_END}"""


def replace_billing_section(readme: Path, run: Run) -> None:
    """Rewrite only the billing section of an existing README (a billing-only run)."""
    current = readme.read_text()
    section = billing_section(run)
    if BILLING_START in current and BILLING_END in current:
        head, _, rest = current.partition(BILLING_START)
        _, _, tail = rest.partition(BILLING_END)
        readme.write_text(head + section + tail)
    else:
        head, marker, tail = current.partition("## Latest results")
        readme.write_text(head + section + "\n\n" + marker + tail)


def _readme(run: Run) -> str:
    s = run.settings
    machine = ", ".join(f"{k}: {v}" for k, v in run.machine.items())
    skipped = "".join(f"\n- {backend} was skipped: {why}" for backend, why in run.skipped.items())
    seeding = ", ".join(f"{b} {_number(rate)} customers/s" for b, rate in run.seeding.items())
    bulk = ", ".join(f"{b} {_number(rate)} rows/s" for b, rate in run.bulk_seeding.items())
    return f"""# Benchmarks

`make bench` (or `python -m bench.run` from the repository root) measures how fast flexbill
answers customer reads, places orders and lists subscriptions, each beside a **baseline**:
the same server process, framework and middleware answering a static JSON body of the same
size, without auth or database (`GET /bench/static/<bytes>`, mounted only when
`FLEXBILL_BENCH_BASELINE=true`). The ratio real ÷ baseline says what flexbill's own work
costs — auth, rate limiting, the unit of work, the query, serialization — independently of
how fast the machine is.

## What is measured

| scenario | request |
|---|---|
| single read | `GET /v1/customers/{{id}}`, cycling over all seeded customers |
| page of 100 | `GET /v1/customers?limit=100` (the first page, newest first) |
| order created | `POST /v1/orders`: each request a new order of a new customer (own e-mail) |
| subscriptions page (n) | `GET /v1/subscriptions?limit=100`, first page, in a tenant of n rentals |

For each backend (SQLite in a fresh temporary file; PostgreSQL in a throwaway cluster from
`flexbill.testing.postgres`) the run

1. bootstraps a tenant and key with `flexbill bootstrap --json`, starts `flexbill serve` on a
   free loopback port with the rate limits raised out of reach, and waits for `/v1/health`;
2. creates {s.customers:,} customers through `POST /v1/customers`;
3. per scenario, fetches the real response once to learn its size, then loads
   `/bench/static/<that size>` (baseline) and then the real endpoint;
4. reads the server process's `VmRSS` and `VmHWM` from `/proc/<pid>/status` after each load;
5. for the orders, creates a catalog product through the API first; the baseline is the
   same `GET` of a static body the size of the order's answer (it reads no request body);
6. for the subscription lists, bulk-inserts rows with SQLAlchemy Core `executemany` while
   the server runs (customers, fulfilled orders of four devices, their items, rented-out
   assets, active subscriptions; every foreign key valid): {s.subscriptions:,} into the
   business unit's live tenant and {SMALL_SUBSCRIPTIONS:,} into its test tenant, in the
   same tables, then loads the page with the test key and with the live key in the order
   small, large, large, small (each row of the table combines its two loads, so a machine
   that slows down mid-run weighs on both alike). The ratio of the two says whether the
   list stays flat as a tenant's data grows.

The load generator (`bench/loadgen.py`) is a small asyncio HTTP/1.1 keep-alive client on
raw sockets ({run.machine.get("event loop", "asyncio")}). It keeps {s.connections} connections busy,
one request in flight on each, for {s.duration_seconds:g} s after a {s.warmup_seconds:g} s
warm-up. A request counts when its response completes inside the measured window; p50 and
p99 are nearest-rank percentiles of those requests' latencies. The baseline gets the same
request headers (`Authorization`, `Tenant-ID`), and ignores them.

**Machine:** client and server share one machine ({run.machine.get("cores", "?")} cores), so
the client's CPU is taken from the server's and the absolute figures are lower than on a
dedicated server; the ratios are the figures to compare between runs. The server is one
uvicorn process (one core at most); PostgreSQL's own processes run on the same cores.
uvicorn's access log is on (as in `flexbill serve`) for the baseline and the real endpoints
alike.

## How to run

```sh
make bench                                   # full run, both backends; rewrites this file
.venv/bin/python -m bench.run --quick        # shorter loads, fewer customers
.venv/bin/python -m bench.run --backends sqlite
```

Raw figures of the latest run are written to `bench/results/latest.json` (not committed).

## Target

A single read should reach at least **{TARGET_RATIO}** of the baseline's throughput.

{chr(10).join(verdict(run.results)) or "- no single-read result in this run."}{skipped}

## List growth

The first page of `GET /v1/subscriptions?limit=100`, {s.subscriptions:,} subscriptions against
{SMALL_SUBSCRIPTIONS:,} in the same run (throughput large ÷ small):

{chr(10).join(growth(run.results)) or "- no list-growth result in this run."}

{billing_section(run)}

## Latest results

Run of {run.date}: {s.mode} run, {s.connections} connections, {s.warmup_seconds:g} s
warm-up + {s.duration_seconds:g} s measured per load, {s.customers:,} customers,
{s.subscriptions:,} + {SMALL_SUBSCRIPTIONS:,} subscriptions.
Machine: {machine}.

{results_table(run.results)}

RSS and peak RSS are the server process's after the real endpoint's load; MB = MiB.

Details — server CPU is the flexbill process only (not PostgreSQL's); "busy" is the share of
one core used during the measured window:

{details_table(run.results)}

Seeding through the API: {seeding or "n/a"}.
Bulk seeding (rows of all five tables): {bulk or "n/a"}.
"""


def _finite(value: Any) -> Any:
    """NaN becomes null: strict JSON readers refuse ``NaN``."""
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    return value


def write(run: Run, readme: Path | None, results_json: Path, *, billing_only: bool = False) -> None:
    """Write the JSON record and, unless ``readme`` is None, the README (only its billing
    section after a billing-only run)."""
    results_json.parent.mkdir(parents=True, exist_ok=True)
    data: dict[str, Any] = asdict(run)
    for record, result in zip(data["results"], run.results, strict=True):
        record["ratio"] = result.ratio
    for record, billed in zip(data["billing"], run.billing, strict=True):
        record.update(per_second=billed.per_second, ratio=billed.ratio)
    results_json.write_text(json.dumps(_finite(data), indent=2) + "\n")
    if readme is not None and billing_only:
        replace_billing_section(readme, run)
    elif readme is not None:
        # Findings written by people (what changed the figures, where the time goes) live
        # in FINDINGS.md and are appended, so that a new run never erases them.
        findings = readme.with_name("FINDINGS.md")
        extra = "\n" + findings.read_text() if findings.exists() else ""
        readme.write_text(_readme(run) + extra)
