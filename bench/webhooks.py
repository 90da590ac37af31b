"""``python -m bench.webhooks``: webhook deliveries per second to a local receiver, and the
API's read latency while a large backlog of deliveries drains, beside the same latency
with no backlog, measured in one run.

For each backend, a fresh database and the real processes an operator runs:

1. ``flexbill bootstrap``; a receiver process on a free loopback port (asyncio, answers
   every POST ``200`` at once, counts them); ``flexbill serve``.
2. Customers (for the reads) and ``--endpoints`` endpoints pointing at the receiver, both
   through the API.
3. **No backlog:** ``GET /v1/customers/{id}`` under load with no delivery pending.
4. For each worker layout: the server is stopped and a backlog written straight into the
   database with ``events.service.emit_many`` (500 events per transaction; every event
   fans out to every endpoint, ``--deliveries`` deliveries in all); the server is started
   again and the worker drains the backlog at once, while the same reads run under the
   same load; then we wait until every delivery has succeeded. The layouts:
   **in process** (``flexbill serve`` with its worker in the API's process and event loop,
   the default) and **separate worker** (``flexbill serve --no-worker`` and a
   ``flexbill worker`` process).
5. **No backlog** again, after the first drain: both quiet loads count as one, so that a
   machine that slows down during the run weighs on both sides alike.

Deliveries per second are counted from the attempts the server recorded: all of a
layout's between its first and last attempt, and separately those inside and after the
draining load's window. The receiver's count must equal every delivery written.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from sqlalchemy import func, select

from bench import aio
from bench.backends import BACKENDS, BackendUnavailableError, database
from bench.loadgen import LoadResult, combine, encode_request, fetch, run_load
from bench.seed import seed_customers
from bench.server import (
    Credentials,
    Server,
    _flexbill_command,
    bootstrap,
    free_port,
    server_environment,
)
from flexbill.core.db import Database
from flexbill.events import service as events
from flexbill.events.models import EventType
from flexbill.tenancy.service import environment_context
from flexbill.webhooks.models import DeliveryStatus, WebhookAttempt, WebhookDelivery

EVENTS_PER_TRANSACTION = 500
IN_PROCESS = "in process"
SEPARATE = "separate process"
DRAIN_TIMEOUT_SECONDS = 1800.0
POLL_SECONDS = 0.5


@dataclass(frozen=True)
class Settings:
    deliveries: int = 20_000
    endpoints: int = 4
    customers: int = 200
    connections: int = 16
    warmup_seconds: float = 1.0
    duration_seconds: float = 5.0


@dataclass(frozen=True)
class Latency:
    rps: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    errors: int

    @classmethod
    def of(cls, result: LoadResult) -> Latency:
        return cls(
            rps=result.rps, p50_ms=result.percentile_ms(50), p95_ms=result.percentile_ms(95),
            p99_ms=result.percentile_ms(99), errors=result.errors,
        )  # fmt: skip


@dataclass(frozen=True)
class Drain:
    """One worker layout draining one backlog."""

    layout: str
    deliveries: int
    backlog_seconds: float  # writing the events (and their deliveries)
    draining: Latency  # the reads while it drained
    drain_seconds: float  # first attempt to last
    per_second: float  # deliveries over the whole drain
    per_second_under_load: float  # inside the draining load's window
    per_second_alone: float  # after it
    pending_after_load: int  # deliveries still pending when the load ended (> 0: it overlapped)


@dataclass(frozen=True)
class WebhookResult:
    backend: str
    endpoints: int
    quiet: Latency  # the reads with no backlog, before and after the first drain
    drains: list[Drain]
    deliveries: int  # written in all
    received: int  # what the receiver counted


# --- the receiver -------------------------------------------------------------------


async def _serve_receiver(port: int) -> None:
    received = 0

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal received
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n")[1:]:
                    name, _, value = line.partition(b":")
                    if name.strip().lower() == b"content-length":
                        length = int(value)
                if length:
                    await reader.readexactly(length)
                if head.startswith(b"GET /count"):
                    body = json.dumps({"received": received}).encode()
                else:
                    received += 1
                    body = b'{"ok":true}'
                writer.write(
                    b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n"
                    b"content-length: %d\r\n\r\n%s" % (len(body), body)
                )
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(answer, "127.0.0.1", port, backlog=512)
    async with server:
        await server.serve_forever()


class Receiver:
    """The receiver in its own process, so that its work is not the load generator's."""

    def __init__(self) -> None:
        self.port = free_port()
        self._process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Receiver:
        command = [sys.executable, "-m", "bench.webhooks", "--receiver", str(self.port)]
        self._process = subprocess.Popen(command, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                self.count()
                return self
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("the receiver did not start")

    def __exit__(self, *_: object) -> None:
        if self._process is not None:
            self._process.terminate()
            self._process.wait(timeout=10)

    def url(self, number: int) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/{number}"

    def count(self) -> int:
        response = aio.run(fetch(self.port, encode_request("GET", "/count", {})))
        return int(json.loads(response.body)["received"])


# --- the steps ----------------------------------------------------------------------


def _post(
    port: int, headers: dict[str, str], path: str, body: dict[str, object]
) -> dict[str, object]:
    request = encode_request("POST", path, headers, json.dumps(body).encode())
    response = aio.run(fetch(port, request))
    if response.status != 201:
        raise RuntimeError(f"POST {path} answered {response.status}: {response.body[:300]!r}")
    answer: dict[str, object] = json.loads(response.body)
    return answer


def _reads(customer_ids: Sequence[str], headers: dict[str, str]) -> list[bytes]:
    return [encode_request("GET", f"/v1/customers/{cid}", headers) for cid in customer_ids]


def _load(
    server: Server, requests: Sequence[bytes], settings: Settings
) -> tuple[LoadResult, datetime, datetime]:
    """The load, and the wall-clock bounds of its measured window."""
    started = datetime.now(UTC)
    result = aio.run(
        run_load(
            server.port, requests, connections=settings.connections,
            warmup=settings.warmup_seconds, duration=settings.duration_seconds,
        )
    )  # fmt: skip
    window_start = started + timedelta(seconds=settings.warmup_seconds)
    return result, window_start, window_start + timedelta(seconds=settings.duration_seconds)


def _payment_data(number: int) -> dict[str, object]:
    return {
        "paymentId": f"pay_bench_{number:06d}", "customerId": "cust_bench",
        "amount": Decimal("59.99"), "currency": "EUR", "dueDate": "2026-01-01",
    }  # fmt: skip


async def _write_backlog(url: str, tenant_id: str, events_count: int) -> float:
    db = Database(url)
    try:
        started = time.perf_counter()
        written = 0
        while written < events_count:
            batch = min(EVENTS_PER_TRANSACTION, events_count - written)
            happened = [
                (EventType.PAYMENT_SCHEDULED, _payment_data(written + n)) for n in range(batch)
            ]
            async with db.transaction() as session:
                ctx = await environment_context(session, tenant_id, "live")
                await events.emit_many(session, ctx, happened)
            written += batch
        return time.perf_counter() - started
    finally:
        await db.dispose()


async def _pending(url: str) -> int:
    db = Database(url)
    try:
        async with db.transaction(write=False) as session:
            count = await session.scalar(
                select(func.count())
                .select_from(WebhookDelivery)
                .where(WebhookDelivery.status == DeliveryStatus.PENDING)
            )
            return int(count or 0)
    finally:
        await db.dispose()


async def _attempt_times(url: str) -> list[datetime]:
    db = Database(url)
    try:
        async with db.transaction(write=False) as session:
            times = await session.scalars(
                select(WebhookAttempt.attempted_at).where(WebhookAttempt.succeeded.is_(True))
            )
            return sorted(times.all())
    finally:
        await db.dispose()


def _wait_for_drain(url: str) -> None:
    deadline = time.monotonic() + DRAIN_TIMEOUT_SECONDS
    while aio.run(_pending(url)):
        if time.monotonic() > deadline:
            raise RuntimeError("the backlog did not drain in time")
        time.sleep(POLL_SECONDS)


def _wait_until_draining(url: str, deliveries: int) -> None:
    """Until the worker has delivered its first messages (a separate worker process takes
    a few seconds to start): the load then meets a worker at work."""
    deadline = time.monotonic() + DRAIN_TIMEOUT_SECONDS
    while aio.run(_pending(url)) >= deliveries:
        if time.monotonic() > deadline:
            raise RuntimeError("the worker did not start delivering")
        time.sleep(POLL_SECONDS / 5)


def _rate(count: int, seconds: float) -> float:
    return count / seconds if seconds > 0 else float("nan")


class ApiOnlyServer(Server):
    """``flexbill serve --no-worker``: deliveries are left to a separate worker process."""

    def start(self) -> Server:
        command = [
            *_flexbill_command(), "serve", "--no-worker", "--host", "127.0.0.1",
            "--port", str(self.port),
        ]  # fmt: skip
        with self.log_path.open("wb") as log:
            self._process = subprocess.Popen(
                command, env=server_environment(self.database_url), stdout=log,
                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            )  # fmt: skip
        try:
            self._wait_until_healthy()
        except BaseException:
            self.stop()
            raise
        return self


class WorkerProcess:
    """``flexbill worker`` until the block ends."""

    def __init__(self, url: str, log_path: Path) -> None:
        self.url = url
        self.log_path = log_path
        self._process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> WorkerProcess:
        with self.log_path.open("wb") as log:
            self._process = subprocess.Popen(
                [*_flexbill_command(), "worker"], env=server_environment(self.url),
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            )  # fmt: skip
        return self

    def __exit__(self, *_: object) -> None:
        if self._process is not None:
            self._process.send_signal(signal.SIGINT)
            self._process.wait(timeout=30)


def _drain(
    layout: str, url: str, tenant_id: str, reads: Sequence[bytes], settings: Settings, log: Path
) -> Drain:
    events_count = -(-settings.deliveries // settings.endpoints)  # rounded up
    print(f"  {layout}: {events_count:,} events × {settings.endpoints} endpoints", flush=True)
    backlog_seconds = aio.run(_write_backlog(url, tenant_id, events_count))
    began = datetime.now(UTC)
    deliveries = events_count * settings.endpoints
    if layout == IN_PROCESS:
        with Server(url, log) as server:
            _wait_until_draining(url, deliveries)
            draining, window_start, window_end = _load(server, reads, settings)
            pending_after_load = aio.run(_pending(url))
            _wait_for_drain(url)
    else:
        with ApiOnlyServer(url, log) as server, WorkerProcess(url, log.with_suffix(".worker")):
            _wait_until_draining(url, deliveries)
            draining, window_start, window_end = _load(server, reads, settings)
            pending_after_load = aio.run(_pending(url))
            _wait_for_drain(url)
    times = [t for t in aio.run(_attempt_times(url)) if t >= began]
    drain_seconds = (times[-1] - times[0]).total_seconds() if times else float("nan")
    under_load = [t for t in times if window_start <= t < window_end]
    after = [t for t in times if t >= window_end]
    alone_seconds = (times[-1] - window_end).total_seconds() if after else 0.0
    return Drain(
        layout=layout, deliveries=deliveries,
        backlog_seconds=backlog_seconds, draining=Latency.of(draining),
        drain_seconds=drain_seconds, per_second=_rate(len(times), drain_seconds),
        per_second_under_load=_rate(len(under_load), settings.duration_seconds),
        per_second_alone=_rate(len(after), alone_seconds), pending_after_load=pending_after_load,
    )  # fmt: skip


def bench_webhooks(backend: str, settings: Settings, scratch: str) -> WebhookResult:
    """One backend's figures (see the module's description)."""
    print(f"{backend}: webhooks", flush=True)
    with database(backend) as url, Receiver() as receiver:
        credentials: Credentials = bootstrap(url)
        headers = credentials.headers()
        log = Path(scratch) / f"webhooks-{backend}.log"
        with Server(url, log) as server:
            customer_ids = aio.run(seed_customers(server.port, headers, settings.customers))
            for number in range(settings.endpoints):
                _post(server.port, headers, "/v1/webhook-endpoints", {"url": receiver.url(number)})
            reads = _reads(customer_ids, headers)
            quiet_before, _, _ = _load(server, reads, settings)
        drains = [_drain(IN_PROCESS, url, credentials.tenant_id, reads, settings, log)]
        with Server(url, log) as server:
            quiet_after, _, _ = _load(server, reads, settings)
        drains.append(_drain(SEPARATE, url, credentials.tenant_id, reads, settings, log))
        received = receiver.count()
    return WebhookResult(
        backend=backend, endpoints=settings.endpoints,
        quiet=Latency.of(combine([quiet_before, quiet_after])), drains=drains,
        deliveries=sum(d.deliveries for d in drains), received=received,
    )  # fmt: skip


# --- the report ---------------------------------------------------------------------


def _ms(value: float) -> str:
    return f"{value:,.2f}"


def markdown(results: Sequence[WebhookResult]) -> str:
    """The figures as markdown tables (what ``bench/README.md`` shows)."""
    lines = [
        "| backend | worker | deliveries | endpoints | deliveries/s (whole drain) | "
        "deliveries/s under API load | deliveries/s alone | writing the backlog s |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        for d in r.drains:
            lines.append(
                f"| {r.backend} | {d.layout} | {d.deliveries:,} | {r.endpoints} | "
                f"{d.per_second:,.0f} | {d.per_second_under_load:,.0f} | "
                f"{d.per_second_alone:,.0f} | {d.backlog_seconds:,.1f} |"
            )
    lines += [
        "",
        "| backend | `GET /v1/customers/{id}` | rps | p50 ms | p95 ms | p99 ms | errors |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        rows = [("no backlog", r.quiet)]
        rows += [(f"backlog draining, worker {d.layout}", d.draining) for d in r.drains]
        for name, latency in rows:
            lines.append(
                f"| {r.backend} | {name} | {latency.rps:,.0f} | {_ms(latency.p50_ms)} | "
                f"{_ms(latency.p95_ms)} | {_ms(latency.p99_ms)} | {latency.errors} |"
            )
    lines.append("")
    for r in results:
        lines.append(f"- {r.backend}: the receiver got {r.received:,} of {r.deliveries:,}.")
        for d in r.drains:
            if d.pending_after_load == 0:
                lines.append(
                    f"- {r.backend}, {d.layout}: the backlog was gone before the load ended."
                )
    return "\n".join(lines)


def parse_args(argv: Sequence[str] | None) -> tuple[Settings, list[str], int | None]:
    parser = argparse.ArgumentParser(
        prog="python -m bench.webhooks", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--backends", default=",".join(BACKENDS))
    parser.add_argument("--deliveries", type=int, default=Settings.deliveries)
    parser.add_argument("--endpoints", type=int, default=Settings.endpoints)
    parser.add_argument("--duration", type=float, default=Settings.duration_seconds)
    parser.add_argument("--quick", action="store_true", help="2,000 deliveries, 2 s loads")
    parser.add_argument("--receiver", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    settings = Settings(
        deliveries=2_000 if args.quick else args.deliveries,
        endpoints=args.endpoints,
        duration_seconds=2.0 if args.quick else args.duration,
        warmup_seconds=0.5 if args.quick else Settings.warmup_seconds,
    )
    return settings, [b.strip() for b in args.backends.split(",") if b.strip()], args.receiver


def main(argv: Sequence[str] | None = None) -> int:
    settings, backends, receiver_port = parse_args(argv)
    if receiver_port is not None:
        aio.run(_serve_receiver(receiver_port))
        return 0
    results = []
    with tempfile.TemporaryDirectory(prefix="flexbill-bench-") as scratch:
        for backend in backends:
            try:
                results.append(bench_webhooks(backend, settings, scratch))
            except BackendUnavailableError as why:
                print(f"{backend}: skipped: {why}", flush=True)
    print(f"\nWebhooks ({os.cpu_count()} cores, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC):\n")
    print(markdown(results))
    lost = [r for r in results if r.received != r.deliveries]
    errors = sum(r.quiet.errors + sum(d.draining.errors for d in r.drains) for r in results)
    if lost or errors:
        print(
            "warning: deliveries lost or requests failed; the figures are suspect", file=sys.stderr
        )
    return 1 if lost or errors else 0


if __name__ == "__main__":
    sys.exit(main())
