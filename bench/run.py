"""``python -m bench.run``: every scenario on every backend, then the report.

Each backend gets a fresh database and its own server process, so one backend's caches,
files or memory never flatter the other's figures, and the baseline is measured in the same
process right before the endpoint it is compared with.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import sys
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

from bench import aio, bulk, report, usage, usage_report
from bench.backends import BACKENDS, BackendUnavailableError, database
from bench.billing import bench_billing
from bench.loadgen import LoadResult, combine, encode_request, fetch, run_load
from bench.orders import OrderRequests, create_catalog, order_body
from bench.seed import seed_customers
from bench.server import Credentials, Server, ServerError, bootstrap

HERE = Path(__file__).resolve().parent
README = HERE / "README.md"
RESULTS_JSON = HERE / "results" / "latest.json"

FULL = report.Settings(
    mode="full", connections=16, warmup_seconds=1.0, duration_seconds=5.0, customers=1000,
    subscriptions=100_000, billing_sizes=(10_000, 100_000),
)  # fmt: skip
QUICK = report.Settings(
    mode="quick", connections=16, warmup_seconds=0.5, duration_seconds=2.0, customers=200,
    subscriptions=20_000, billing_sizes=(2_000, 10_000),
)  # fmt: skip
PAGE_LIMIT = 100
SMALL_TENANT_SUBSCRIPTIONS = report.SMALL_SUBSCRIPTIONS
ORDER_SCENARIO = "order created"


@dataclass(frozen=True)
class Scenario:
    name: str
    template: str  # the request as the report shows it
    requests: Sequence[bytes]  # taken in turn by the load generator
    check: Callable[[bytes], None]  # raises if the probe's answer is not what we mean to measure
    headers: Mapping[str, str]  # the baseline gets the same ones
    probe: bytes | None = None  # learns the body size; by default the first request
    status: int = 200
    tenant_rows: int | None = None  # subscriptions in the tenant the list reads


def _get(paths: Sequence[str], headers: Mapping[str, str]) -> list[bytes]:
    return [encode_request("GET", path, headers) for path in paths]


def customer_scenarios(customer_ids: Sequence[str], headers: Mapping[str, str]) -> list[Scenario]:
    def one_customer(body: bytes) -> None:
        if json.loads(body).get("customerId") != customer_ids[0]:
            raise ServerError(f"unexpected single-read body: {body[:300]!r}")

    def full_page(body: bytes) -> None:
        found = len(json.loads(body).get("customers", []))
        if found != min(PAGE_LIMIT, len(customer_ids)):
            raise ServerError(f"the page holds {found} customers, expected {PAGE_LIMIT}")

    return [
        Scenario(
            "single read",
            "GET /v1/customers/{id}",
            _get([f"/v1/customers/{cid}" for cid in customer_ids], headers),
            one_customer,
            headers,
        ),
        Scenario(
            "page of 100",
            f"GET /v1/customers?limit={PAGE_LIMIT}",
            _get([f"/v1/customers?limit={PAGE_LIMIT}"], headers),
            full_page,
            headers,
        ),
    ]


def order_scenario(headers: Mapping[str, str]) -> Scenario:
    def placed(body: bytes) -> None:
        order = json.loads(body).get("order", {})
        if order.get("status") != "pending" or len(order.get("items", [])) != 1:
            raise ServerError(f"unexpected order body: {body[:300]!r}")

    return Scenario(
        ORDER_SCENARIO,
        "POST /v1/orders",
        OrderRequests(headers, first=1),
        placed,
        headers,
        probe=encode_request("POST", "/v1/orders", headers, order_body(0)),
        status=201,
    )


def subscriptions_scenario(rows: int, headers: Mapping[str, str]) -> Scenario:
    path = f"/v1/subscriptions?limit={PAGE_LIMIT}"

    def full_page(body: bytes) -> None:
        rentals = json.loads(body).get("rentals", [])
        if len(rentals) != min(PAGE_LIMIT, rows) or rentals[0].get("status") != "active":
            raise ServerError(f"the page holds {len(rentals)} rentals, expected {PAGE_LIMIT}")

    return Scenario(
        report.subscriptions_scenario_name(rows),
        f"GET {path}",
        _get([path], headers),
        full_page,
        headers,
        tenant_rows=rows,
    )


def load(server: Server, scenario: Scenario, settings: report.Settings) -> LoadResult:
    return aio.run(
        run_load(
            server.port,
            scenario.requests,
            connections=settings.connections,
            warmup=settings.warmup_seconds,
            duration=settings.duration_seconds,
            expect_status=scenario.status,
            server_cpu=server.cpu_seconds,
        )
    )


def measurement(server: Server, loads: Sequence[LoadResult]) -> report.Measurement:
    """The figures of ``loads`` taken together, and the server's memory right after."""
    result = combine(loads)
    memory = server.memory()
    per_request = result.server_cpu_seconds / result.requests * 1e6 if result.requests else math.nan
    return report.Measurement(
        rps=result.rps,
        p50_ms=result.percentile_ms(50),
        p99_ms=result.percentile_ms(99),
        requests=result.requests,
        errors=result.errors,
        seconds=result.seconds,
        client_cpu_share=result.client_cpu_seconds / result.seconds,
        server_cpu_share=result.server_cpu_seconds / result.seconds,
        server_cpu_us_per_request=per_request,
        rss_mib_after=memory.rss_mib,
        hwm_mib_after=memory.hwm_mib,
    )


@dataclass(frozen=True)
class Prepared:
    body_bytes: int
    baseline: report.Measurement


def prepare(server: Server, scenario: Scenario, settings: report.Settings) -> Prepared:
    """Check that the endpoint answers what we mean to measure, then load the baseline: a
    static body of the same size, requested with the same headers."""
    probe = scenario.probe or scenario.requests[0]
    first = aio.run(fetch(server.port, probe))
    if first.status != scenario.status:
        raise ServerError(
            f"{scenario.template} answered {first.status}, not {scenario.status}: "
            f"{first.body[:300]!r}"
        )
    scenario.check(first.body)
    size = len(first.body)
    path = f"/bench/static/{size}"
    baseline = Scenario(
        "baseline",
        f"GET {path}",
        [encode_request("GET", path, scenario.headers)],
        lambda body: None,
        scenario.headers,
    )
    if aio.run(fetch(server.port, baseline.requests[0])).status != 200:
        raise ServerError("the baseline did not answer 200; is FLEXBILL_BENCH_BASELINE set?")
    return Prepared(size, measurement(server, [load(server, baseline, settings)]))


def result_of(
    backend: str, scenario: Scenario, prepared: Prepared, real: report.Measurement
) -> report.ScenarioResult:
    result = report.ScenarioResult(
        backend=backend,
        scenario=scenario.name,
        path=scenario.template,
        body_bytes=prepared.body_bytes,
        real=real,
        baseline=prepared.baseline,
        tenant_rows=scenario.tenant_rows,
    )
    print(
        f"  {scenario.name}: {real.rps:,.0f} rps (p50 {real.p50_ms:.2f} ms, p99 "
        f"{real.p99_ms:.2f} ms) vs baseline {prepared.baseline.rps:,.0f} rps → "
        f"{result.ratio:.2f}; RSS {real.rss_mib_after:.1f} MB",
        flush=True,
    )
    return result


def run_scenario(
    server: Server, backend: str, scenario: Scenario, settings: report.Settings
) -> report.ScenarioResult:
    prepared = prepare(server, scenario, settings)
    real = measurement(server, [load(server, scenario, settings)])
    return result_of(backend, scenario, prepared, real)


def run_growth(
    server: Server, backend: str, small: Scenario, large: Scenario, settings: report.Settings
) -> list[report.ScenarioResult]:
    """The same list in a small and a large tenant, loaded small, large, large, small: a
    machine that speeds up or slows down during the run (other work on its cores) then
    weighs on both alike instead of on whichever came second."""
    prepared = {scenario.name: prepare(server, scenario, settings) for scenario in (small, large)}
    loads: dict[str, list[LoadResult]] = {small.name: [], large.name: []}
    for scenario in (small, large, large, small):
        loads[scenario.name].append(load(server, scenario, settings))
    return [
        result_of(backend, s, prepared[s.name], measurement(server, loads[s.name]))
        for s in (small, large)
    ]


def seed_subscriptions(
    url: str, credentials: Credentials, server: Server, settings: report.Settings
) -> tuple[dict[str, dict[str, str]], float]:
    """The live tenant gets ``settings.subscriptions`` subscriptions, the test tenant
    ``SMALL_TENANT_SUBSCRIPTIONS``; each its own catalog, made through the API. Returns
    the headers per mode and the rows written per second."""
    headers = {"live": credentials.headers(), "test": credentials.headers(test=True)}
    tenants = aio.run(bulk.tenant_ids(url, credentials.tenant_id))
    counts = {"live": settings.subscriptions, "test": SMALL_TENANT_SUBSCRIPTIONS}
    written, started = 0, time.perf_counter()
    for mode, count in counts.items():
        variant = aio.run(create_catalog(server.port, headers[mode]))
        written += aio.run(bulk.seed_subscriptions(url, tenants[mode], variant, count, mode))
    return headers, written / (time.perf_counter() - started)


def bench_backend(backend: str, settings: report.Settings, run: report.Run) -> None:
    with (
        database(backend) as url,
        tempfile.TemporaryDirectory(prefix="flexbill-bench-") as scratch,
    ):
        credentials: Credentials = bootstrap(url)
        headers = credentials.headers()
        with Server(url, Path(scratch) / "server.log") as server:
            print(
                f"{backend}: server up (pid {server.pid}); "
                f"seeding {settings.customers:,} customers",
                flush=True,
            )
            started = time.perf_counter()
            ids = aio.run(seed_customers(server.port, headers, settings.customers))
            run.seeding[backend] = len(ids) / (time.perf_counter() - started)
            for scenario in customer_scenarios(ids, headers):
                run.results.append(run_scenario(server, backend, scenario, settings))
            aio.run(create_catalog(server.port, headers))
            run.results.append(run_scenario(server, backend, order_scenario(headers), settings))
            print(
                f"{backend}: bulk-seeding {settings.subscriptions:,} + "
                f"{SMALL_TENANT_SUBSCRIPTIONS:,} subscriptions",
                flush=True,
            )
            modes, run.bulk_seeding[backend] = seed_subscriptions(
                url, credentials, server, settings
            )
            small = subscriptions_scenario(SMALL_TENANT_SUBSCRIPTIONS, modes["test"])
            large = subscriptions_scenario(settings.subscriptions, modes["live"])
            run.results.extend(run_growth(server, backend, small, large, settings))


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.partition(":")[2].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def machine() -> dict[str, str]:
    return {
        "cores": str(os.cpu_count()),
        "CPU": _cpu_model(),
        "Python": platform.python_version(),
        "event loop": aio.event_loop_name(),
    }


def parse_args(
    argv: Sequence[str] | None,
) -> tuple[report.Settings, list[str], bool, bool, str]:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="shorter loads and fewer customers")
    parser.add_argument(
        "--backends", default=",".join(BACKENDS), help="comma-separated: sqlite,postgresql"
    )
    parser.add_argument("--connections", type=int, help="concurrent connections (default 16)")
    parser.add_argument("--warmup", type=float, help="warm-up seconds per load")
    parser.add_argument("--duration", type=float, help="measured seconds per load")
    parser.add_argument("--customers", type=int, help="customers to seed")
    parser.add_argument(
        "--subscriptions", type=int, help="subscriptions of the large tenant (bulk-seeded)"
    )
    parser.add_argument(
        "--billing-sizes", help="due subscriptions of each billing run, comma-separated"
    )
    parser.add_argument(
        "--billing-only",
        action="store_true",
        help="only the billing runs; the README's other figures stay as they are",
    )
    parser.add_argument(
        "--usage",
        choices=("with", "only", "none"),
        default="with",
        help="the usage benchmark (bench/usage.py) too, alone, or not",
    )
    parser.add_argument("--no-readme", action="store_true", help="leave bench/README.md as it is")
    args = parser.parse_args(argv)
    settings = QUICK if args.quick else FULL
    overrides = {
        "connections": args.connections,
        "warmup_seconds": args.warmup,
        "duration_seconds": args.duration,
        "customers": args.customers,
        "subscriptions": args.subscriptions,
        "billing_sizes": (
            tuple(int(n) for n in args.billing_sizes.split(",") if n.strip())
            if args.billing_sizes
            else None
        ),
    }
    settings = replace(settings, **{k: v for k, v in overrides.items() if v is not None})
    if (
        settings.connections < 1
        or settings.duration_seconds <= 0
        or settings.customers < 1
        or settings.subscriptions < PAGE_LIMIT
        or any(n < 1 for n in settings.billing_sizes)
    ):
        parser.error(
            f"connections, duration and customers must be positive, subscriptions ≥ {PAGE_LIMIT}"
        )
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    unknown = sorted(set(backends) - set(BACKENDS))
    if unknown:
        parser.error(f"unknown backend(s) {', '.join(unknown)}; choose from {', '.join(BACKENDS)}")
    return settings, backends, not args.no_readme, args.billing_only, args.usage


def bench_billing_runs(backend: str, settings: report.Settings, run: report.Run) -> None:
    with tempfile.TemporaryDirectory(prefix="flexbill-bench-") as scratch:
        for size in settings.billing_sizes:
            print(f"{backend}: billing run over {size:,} due subscriptions", flush=True)
            run.billing.append(bench_billing(backend, size, scratch))


def main(argv: Sequence[str] | None = None) -> int:
    settings, backends, write_readme, billing_only, usage_mode = parse_args(argv)
    usage_settings = usage_report.QUICK if settings.mode == "quick" else usage_report.FULL
    usage_results: list[usage_report.UsageResult] = []
    run = report.Run(
        date=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"), settings=settings, machine=machine()
    )
    for backend in backends:
        try:
            if usage_mode != "only":
                if not billing_only:
                    bench_backend(backend, settings, run)
                bench_billing_runs(backend, settings, run)
            if usage_mode != "none":
                with tempfile.TemporaryDirectory(prefix="flexbill-bench-") as scratch:
                    usage_results.append(usage.bench_usage(backend, usage_settings, scratch))
        except BackendUnavailableError as why:
            print(f"{backend}: skipped: {why}", flush=True)
            run.skipped[backend] = str(why)
    if usage_mode == "only":
        print("\n" + usage_report.markdown(usage_results))
        if write_readme and usage_results:
            previous = usage_report.current_section(README)
            usage_report.write_section(
                README, usage_report.section(usage_results, usage_report.findings_of(previous))
            )
        return 0
    kept = usage_report.current_section(README)  # a full run rewrites the README
    report.write(run, README if write_readme else None, RESULTS_JSON, billing_only=billing_only)
    if write_readme and (usage_results or kept):
        fresh = (
            usage_report.section(usage_results, usage_report.findings_of(kept))
            if usage_results
            else kept
        )
        assert fresh is not None
        usage_report.write_section(README, fresh)
    if usage_results:
        print("\n" + usage_report.markdown(usage_results))
    print()
    print(report.results_table(run.results))
    print()
    print(report.details_table(run.results))
    print()
    print("\n".join(report.verdict(run.results) + report.growth(run.results)))
    print()
    print(report.billing_table(run.billing))
    print("\n".join(report.billing_growth(run.billing)))
    errors = sum(r.real.errors + r.baseline.errors for r in run.results)
    if errors:
        print(f"warning: {errors} failed requests; the figures are suspect", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
