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

from bench import aio, report
from bench.backends import BACKENDS, BackendUnavailableError, database
from bench.loadgen import encode_request, fetch, run_load
from bench.seed import seed_customers
from bench.server import Credentials, Server, ServerError, bootstrap

HERE = Path(__file__).resolve().parent
README = HERE / "README.md"
RESULTS_JSON = HERE / "results" / "latest.json"

FULL = report.Settings(
    mode="full", connections=16, warmup_seconds=1.0, duration_seconds=5.0, customers=1000
)
QUICK = report.Settings(
    mode="quick", connections=16, warmup_seconds=0.5, duration_seconds=2.0, customers=200
)
PAGE_LIMIT = 100


@dataclass(frozen=True)
class Scenario:
    name: str
    template: str  # the path as the report shows it
    paths: Sequence[str]  # taken in turn by the load generator
    check: Callable[[bytes], None]  # raises if the first answer is not what we mean to measure


def scenarios(customer_ids: Sequence[str]) -> list[Scenario]:
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
            "/v1/customers/{id}",
            [f"/v1/customers/{cid}" for cid in customer_ids],
            one_customer,
        ),
        Scenario(
            "page of 100",
            f"/v1/customers?limit={PAGE_LIMIT}",
            [f"/v1/customers?limit={PAGE_LIMIT}"],
            full_page,
        ),
    ]


def measure(
    server: Server, requests: Sequence[bytes], settings: report.Settings
) -> report.Measurement:
    result = aio.run(
        run_load(
            server.port,
            requests,
            connections=settings.connections,
            warmup=settings.warmup_seconds,
            duration=settings.duration_seconds,
            server_cpu=server.cpu_seconds,
        )
    )
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


def run_scenario(
    server: Server,
    backend: str,
    scenario: Scenario,
    headers: Mapping[str, str],
    settings: report.Settings,
) -> report.ScenarioResult:
    first = aio.run(fetch(server.port, encode_request("GET", scenario.paths[0], headers)))
    if first.status != 200:
        raise ServerError(f"GET {scenario.paths[0]} answered {first.status}: {first.body[:300]!r}")
    scenario.check(first.body)
    size = len(first.body)
    baseline_path = f"/bench/static/{size}"
    probe = aio.run(fetch(server.port, encode_request("GET", baseline_path, headers)))
    if probe.status != 200:
        raise ServerError(f"the baseline answered {probe.status}; is FLEXBILL_BENCH_BASELINE set?")
    baseline = measure(server, [encode_request("GET", baseline_path, headers)], settings)
    real = measure(server, [encode_request("GET", p, headers) for p in scenario.paths], settings)
    result = report.ScenarioResult(
        backend=backend,
        scenario=scenario.name,
        path=scenario.template,
        body_bytes=size,
        real=real,
        baseline=baseline,
    )
    print(
        f"  {scenario.name}: {real.rps:,.0f} rps (p50 {real.p50_ms:.2f} ms, p99 "
        f"{real.p99_ms:.2f} ms) vs baseline {baseline.rps:,.0f} rps → {result.ratio:.2f}; "
        f"RSS {real.rss_mib_after:.1f} MB",
        flush=True,
    )
    return result


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
            for scenario in scenarios(ids):
                run.results.append(run_scenario(server, backend, scenario, headers, settings))


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


def parse_args(argv: Sequence[str] | None) -> tuple[report.Settings, list[str], bool]:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="shorter loads and fewer customers")
    parser.add_argument(
        "--backends", default=",".join(BACKENDS), help="comma-separated: sqlite,postgresql"
    )
    parser.add_argument("--connections", type=int, help="concurrent connections (default 16)")
    parser.add_argument("--warmup", type=float, help="warm-up seconds per load")
    parser.add_argument("--duration", type=float, help="measured seconds per load")
    parser.add_argument("--customers", type=int, help="customers to seed")
    parser.add_argument("--no-readme", action="store_true", help="leave bench/README.md as it is")
    args = parser.parse_args(argv)
    settings = QUICK if args.quick else FULL
    overrides = {
        "connections": args.connections,
        "warmup_seconds": args.warmup,
        "duration_seconds": args.duration,
        "customers": args.customers,
    }
    settings = replace(settings, **{k: v for k, v in overrides.items() if v is not None})
    if settings.connections < 1 or settings.duration_seconds <= 0 or settings.customers < 1:
        parser.error("connections, duration and customers must be positive")
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    unknown = sorted(set(backends) - set(BACKENDS))
    if unknown:
        parser.error(f"unknown backend(s) {', '.join(unknown)}; choose from {', '.join(BACKENDS)}")
    return settings, backends, not args.no_readme


def main(argv: Sequence[str] | None = None) -> int:
    settings, backends, write_readme = parse_args(argv)
    run = report.Run(
        date=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"), settings=settings, machine=machine()
    )
    for backend in backends:
        try:
            bench_backend(backend, settings, run)
        except BackendUnavailableError as why:
            print(f"{backend}: skipped: {why}", flush=True)
            run.skipped[backend] = str(why)
    report.write(run, README if write_readme else None, RESULTS_JSON)
    print()
    print(report.results_table(run.results))
    print()
    print(report.details_table(run.results))
    print()
    print("\n".join(report.verdict(run.results)))
    errors = sum(r.real.errors + r.baseline.errors for r in run.results)
    if errors:
        print(f"warning: {errors} failed requests; the figures are suspect", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
