"""The flexbill server under test, run as its own process exactly as an operator runs it.

A separate process keeps the client's work out of the server's event loop and lets us read
the server's own memory and CPU time from ``/proc``.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from bench import aio
from bench.loadgen import ProtocolError, encode_request, fetch

START_TIMEOUT_SECONDS = 90.0
STOP_TIMEOUT_SECONDS = 15.0
HEALTH_POLL_SECONDS = 0.1
# The benchmark sends far more than the fair-use ceiling allows per minute; a throttled
# answer would measure the rate limiter's refusal instead of the endpoint.
UNTHROTTLED = "100000000"


class ServerError(RuntimeError):
    """The server could not be bootstrapped, started or reached."""


@dataclass(frozen=True)
class Credentials:
    """The business unit (``Tenant-ID``) and its keys: the live key reads and writes the
    live tenant, the test key the test tenant, whose data is apart."""

    tenant_id: str
    api_key: str
    test_api_key: str

    def headers(self, *, test: bool = False) -> dict[str, str]:
        key = self.test_api_key if test else self.api_key
        return {"Authorization": f"Bearer {key}", "Tenant-ID": self.tenant_id}


@dataclass(frozen=True)
class Memory:
    """The server process's resident memory now (VmRSS) and at its peak (VmHWM), in KiB."""

    rss_kib: int
    hwm_kib: int

    @property
    def rss_mib(self) -> float:
        return self.rss_kib / 1024

    @property
    def hwm_mib(self) -> float:
        return self.hwm_kib / 1024


def _flexbill_command() -> list[str]:
    """The ``flexbill`` console script of the running interpreter's environment."""
    beside = Path(sys.executable).parent / "flexbill"
    if beside.exists():
        return [str(beside)]
    found = shutil.which("flexbill")
    if found is None:
        raise ServerError("the flexbill command is not installed (run `make install`)")
    return [found]


def server_environment(database_url: str) -> dict[str, str]:
    """The caller's environment without its own FLEXBILL_* settings, plus the benchmark's."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FLEXBILL_")}
    env.update(
        FLEXBILL_DATABASE_URL=database_url,
        FLEXBILL_BENCH_BASELINE="true",
        FLEXBILL_RATE_LIMIT_FAIR_USE_PER_MINUTE=UNTHROTTLED,
        FLEXBILL_RATE_LIMIT_ANONYMOUS_PER_MINUTE=UNTHROTTLED,
    )
    return env


def bootstrap(database_url: str) -> Credentials:
    """Migrate the database and issue a key with every permission."""
    done = subprocess.run(
        [*_flexbill_command(), "bootstrap", "--json"],
        env=server_environment(database_url),
        capture_output=True,
        text=True,
        timeout=START_TIMEOUT_SECONDS,
        check=False,
    )
    if done.returncode != 0:
        raise ServerError(f"flexbill bootstrap failed: {done.stderr.strip()[-2000:]}")
    data = json.loads(done.stdout.strip().splitlines()[-1])
    return Credentials(
        tenant_id=str(data["tenantId"]),
        api_key=str(data["apiKey"]),
        test_api_key=str(data["testApiKey"]),
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Server:
    """``flexbill serve`` on a free loopback port; use as a context manager."""

    def __init__(self, database_url: str, log_path: Path) -> None:
        self.database_url = database_url
        self.log_path = log_path
        self.port = free_port()
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int:
        if self._process is None:
            raise ServerError("the server is not running")
        return self._process.pid

    def start(self) -> Server:
        command = [*_flexbill_command(), "serve", "--host", "127.0.0.1", "--port", str(self.port)]
        # The server's output (including uvicorn's access log) goes to a file: a pipe nobody
        # reads would fill up and stall the server mid-benchmark.
        with self.log_path.open("wb") as log:
            self._process = subprocess.Popen(
                command,
                env=server_environment(self.database_url),
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        try:
            self._wait_until_healthy()
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_until_healthy(self) -> None:
        probe = encode_request("GET", "/v1/health", {})
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            if self._process is not None and self._process.poll() is not None:
                raise ServerError(f"the server exited early:\n{self.log_tail()}")
            try:
                if aio.run(fetch(self.port, probe)).status == 200:
                    return
            except (OSError, ProtocolError, EOFError):
                pass
            time.sleep(HEALTH_POLL_SECONDS)
        raise ServerError(f"the server did not become healthy:\n{self.log_tail()}")

    def log_tail(self, lines: int = 30) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return "(no server log)"
        return "\n".join(text.splitlines()[-lines:])

    def memory(self) -> Memory:
        fields: dict[str, int] = {}
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            name, _, value = line.partition(":")
            if name in ("VmRSS", "VmHWM"):
                fields[name] = int(value.split()[0])
        return Memory(rss_kib=fields.get("VmRSS", 0), hwm_kib=fields.get("VmHWM", 0))

    def cpu_seconds(self) -> float:
        """User plus system CPU time the server process has used so far."""
        stat = Path(f"/proc/{self.pid}/stat").read_text()
        # Fields after the command name, which is in parentheses and may hold spaces.
        after = stat.rsplit(")", 1)[1].split()
        utime, stime = int(after[11]), int(after[12])
        return (utime + stime) / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=STOP_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=STOP_TIMEOUT_SECONDS)

    def __enter__(self) -> Server:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
