"""A minimal HTTP/1.1 keep-alive load generator over asyncio streams.

Client and server share two cores, so a general-purpose client (httpx, aiohttp) would spend
as much CPU per request as the server and make the server look slower than it is. This one
pre-encodes every request, reads only the status line, ``Content-Length`` and the body, and
speaks only to the loopback address.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from array import array
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

HOST = "127.0.0.1"
MAX_HEAD_BYTES = 64 * 1024
MAX_BODY_BYTES = 16 * 1024 * 1024
# A hung server must not hang the benchmark: the whole load may overrun its planned time by
# at most this much before it is cancelled.
GRACE_SECONDS = 30.0
# After a failed request a worker waits this long before it reconnects, so a dead server
# costs a bounded number of attempts rather than a busy loop.
RECONNECT_PAUSE_SECONDS = 0.05


class ProtocolError(Exception):
    """The answer is not the plain ``Content-Length`` HTTP/1.1 this client understands."""


@dataclass(frozen=True)
class Response:
    status: int
    body: bytes


def encode_request(
    method: str, path: str, headers: Mapping[str, str], body: bytes | None = None
) -> bytes:
    """The bytes of one request, built once and sent as often as needed."""
    lines = [f"{method} {path} HTTP/1.1", f"Host: {HOST}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    if body is not None:
        lines += ["Content-Type: application/json", f"Content-Length: {len(body)}"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + (body or b"")


def _parse_head(head: bytes) -> tuple[int, int, bool]:
    """Status, body length and whether the server will close the connection."""
    lines = head[:-4].split(b"\r\n")
    parts = lines[0].split(b" ", 2)
    if len(parts) < 2 or not parts[0].startswith(b"HTTP/1."):
        raise ProtocolError(f"bad status line {lines[0]!r}")
    status = int(parts[1])
    length: int | None = None
    closing = False
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            length = int(value)
        elif name == b"transfer-encoding":
            raise ProtocolError("chunked responses are not supported")
        elif name == b"connection" and value.strip().lower() == b"close":
            closing = True
    if length is None:
        if status in (204, 304) or 100 <= status < 200:
            length = 0
        else:
            raise ProtocolError("response without Content-Length")
    if length > MAX_BODY_BYTES:
        raise ProtocolError(f"body of {length} bytes is over the limit")
    return status, length, closing


class Connection:
    """One keep-alive connection to the server on the loopback address."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._reader = reader
        self._writer = writer
        self.open = True

    @classmethod
    async def connect(cls, port: int) -> Connection:
        reader, writer = await asyncio.open_connection(HOST, port, limit=MAX_HEAD_BYTES)
        return cls(reader, writer)

    async def send(self, request: bytes) -> Response:
        """Send pre-encoded request bytes and read the whole response."""
        self._writer.write(request)
        head = await self._reader.readuntil(b"\r\n\r\n")
        status, length, closing = _parse_head(head)
        body = await self._reader.readexactly(length) if length else b""
        if closing:
            await self.close()
        return Response(status, body)

    async def close(self) -> None:
        if not self.open:
            return
        self.open = False
        self._writer.close()
        with contextlib.suppress(OSError):
            await self._writer.wait_closed()


async def fetch(port: int, request: bytes) -> Response:
    """One request on its own connection (probes and health checks)."""
    connection = await Connection.connect(port)
    try:
        return await connection.send(request)
    finally:
        await connection.close()


@dataclass(frozen=True)
class LoadResult:
    """What one load run measured inside its measurement window."""

    requests: int  # answered with the expected status inside the window
    errors: int  # wrong status, broken connections or protocol errors inside the window
    seconds: float
    latencies_ns: Sequence[int]  # sorted, one per counted request
    client_cpu_seconds: float  # CPU the load generator used inside the window
    server_cpu_seconds: float  # CPU the server used inside the window (NaN if not measured)

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def percentile_ms(self, percent: float) -> float:
        """Nearest-rank percentile of the latencies, in milliseconds."""
        if not self.latencies_ns:
            return math.nan
        rank = max(1, math.ceil(percent / 100 * len(self.latencies_ns)))
        return self.latencies_ns[rank - 1] / 1e6


def combine(results: Sequence[LoadResult]) -> LoadResult:
    """Several loads of the same requests as one: their windows end to end."""
    return LoadResult(
        requests=sum(r.requests for r in results),
        errors=sum(r.errors for r in results),
        seconds=sum(r.seconds for r in results),
        latencies_ns=sorted(latency for r in results for latency in r.latencies_ns),
        client_cpu_seconds=sum(r.client_cpu_seconds for r in results),
        server_cpu_seconds=sum(r.server_cpu_seconds for r in results),
    )


_FAILURES = (
    OSError,
    asyncio.IncompleteReadError,
    asyncio.LimitOverrunError,
    ProtocolError,
    ValueError,
)


async def run_load(
    port: int,
    requests: Sequence[bytes],
    *,
    connections: int,
    warmup: float,
    duration: float,
    expect_status: int = 200,
    server_cpu: Callable[[], float] | None = None,
) -> LoadResult:
    """Keep ``connections`` connections busy with ``requests`` (taken in turn) for
    ``warmup + duration`` seconds; count what completes in the last ``duration`` seconds.

    Each connection has one request in flight, like a client pool of that size, and takes
    every ``connections``-th request from its own offset: no two connections send the same
    request in one pass (each order request creates its own order). A request
    counts when its response completes inside the window, so the rate is completions per
    second; what the warm-up leaves in flight is not counted. ``server_cpu`` reads the
    server's CPU clock, sampled at the window's edges like the client's own.
    """
    if not requests or connections < 1 or duration <= 0:
        raise ValueError("need requests, at least one connection and a positive duration")
    clock = time.perf_counter_ns
    window_start = clock() + int(warmup * 1e9)
    window_end = window_start + int(duration * 1e9)
    latencies: array[int] = array("q")
    errors = 0
    cpu_marks: list[tuple[float, float]] = []

    def mark() -> None:
        cpu_marks.append((time.process_time(), server_cpu() if server_cpu else math.nan))

    async def worker(offset: int) -> None:
        nonlocal errors
        index = offset
        connection: Connection | None = None
        try:
            while clock() < window_end:
                try:
                    if connection is None or not connection.open:
                        connection = await Connection.connect(port)
                    started = clock()
                    response = await connection.send(requests[index % len(requests)])
                    finished = clock()
                except _FAILURES:
                    if window_start <= clock() < window_end:
                        errors += 1
                    if connection is not None:
                        await connection.close()
                        connection = None
                    await asyncio.sleep(RECONNECT_PAUSE_SECONDS)
                    continue
                index += connections
                if window_start <= finished < window_end:
                    if response.status == expect_status:
                        latencies.append(finished - started)
                    else:
                        errors += 1
        finally:
            if connection is not None:
                await connection.close()

    async def cpu_marker() -> None:
        # CPU time at the window's edges shows which side, client or server, was the
        # bottleneck, and what one request costs the server.
        await asyncio.sleep(max(0.0, (window_start - clock()) / 1e9))
        mark()
        await asyncio.sleep(max(0.0, (window_end - clock()) / 1e9))
        mark()

    async with asyncio.timeout(warmup + duration + GRACE_SECONDS):
        await asyncio.gather(cpu_marker(), *(worker(n) for n in range(connections)))
    if len(cpu_marks) == 2:
        (client_from, server_from), (client_to, server_to) = cpu_marks
        client_cpu, server_cpu_used = client_to - client_from, server_to - server_from
    else:
        client_cpu = server_cpu_used = math.nan
    return LoadResult(
        requests=len(latencies),
        errors=errors,
        seconds=duration,
        latencies_ns=sorted(latencies),
        client_cpu_seconds=client_cpu,
        server_cpu_seconds=server_cpu_used,
    )
