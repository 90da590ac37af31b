"""``python -m bench.licenses``: FlexLicense's ``GET /license-status`` requests per second
beside the same-stack static baseline, measured in one run.

For each backend, a fresh database and the real server (``flexbill bootstrap``,
``flexbill serve`` with ``FLEXBILL_BENCH_BASELINE``): a Time limited product, one product
API key and ``--licenses`` licenses made through ``/v1``; then the baseline (a static body
of the same size, ``GET /bench/static/{size}``) and ``/license-status`` (the licenses in
turn) under the same load, one right after the other.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from bench import aio
from bench.backends import BACKENDS, BackendUnavailableError, database
from bench.loadgen import LoadResult, encode_request, fetch, run_load
from bench.server import Credentials, Server, ServerError, bootstrap


@dataclass(frozen=True)
class Settings:
    licenses: int = 200
    connections: int = 16
    warmup_seconds: float = 1.0
    duration_seconds: float = 5.0


@dataclass(frozen=True)
class Figures:
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int

    @classmethod
    def of(cls, result: LoadResult) -> Figures:
        return cls(
            rps=result.rps, p50_ms=result.percentile_ms(50), p99_ms=result.percentile_ms(99),
            errors=result.errors,
        )  # fmt: skip


@dataclass(frozen=True)
class Result:
    backend: str
    body_bytes: int
    baseline: Figures
    license_status: Figures

    @property
    def ratio(self) -> float:
        return self.license_status.rps / self.baseline.rps if self.baseline.rps else 0.0


def _post(server: Server, credentials: Credentials, path: str, body: object) -> dict[str, object]:
    request = encode_request("POST", path, credentials.headers(), json.dumps(body).encode())
    response = aio.run(fetch(server.port, request))
    if response.status not in (200, 201):
        raise ServerError(f"POST {path} answered {response.status}: {response.body[:300]!r}")
    answer: dict[str, object] = json.loads(response.body)
    return answer


def prepare(server: Server, credentials: Credentials, licenses: int) -> tuple[str, list[str]]:
    """A product with one API key and ``licenses`` licenses: the key and the license keys."""
    product = _post(server, credentials, "/v1/license-products",
                    {"name": "Bench", "type": "Time limited"})["licenseProduct"]  # fmt: skip
    assert isinstance(product, dict)
    key = _post(server, credentials, f"/v1/license-products/{product['id']}/api-keys", {})
    api_key = key["apiKey"]
    assert isinstance(api_key, dict)
    keys = []
    for number in range(licenses):
        made = _post(server, credentials, "/v1/licenses",
                     {"productId": product["id"], "email": f"user{number}@example.com",
                      "balance": 365})["license"]  # fmt: skip
        assert isinstance(made, dict)
        keys.append(str(made["key"]))
    return str(api_key["key"]), keys


def _load(server: Server, requests: Sequence[bytes], settings: Settings) -> LoadResult:
    return aio.run(
        run_load(
            server.port, requests, connections=settings.connections,
            warmup=settings.warmup_seconds, duration=settings.duration_seconds,
            server_cpu=server.cpu_seconds,
        )
    )  # fmt: skip


def bench_backend(backend: str, settings: Settings, logs: Path) -> Result:
    with database(backend) as url:
        credentials = bootstrap(url)
        with Server(url, logs / f"{backend}.log") as server:
            api_key, license_keys = prepare(server, credentials, settings.licenses)
            requests = [
                encode_request("GET", f"/license-status?apikey={api_key}&licensekey={k}", {})
                for k in license_keys
            ]
            probe = aio.run(fetch(server.port, requests[0]))
            if probe.status != 200 or json.loads(probe.body).get("valid") is not True:
                raise ServerError(f"/license-status answered {probe.status}: {probe.body!r}")
            size = len(probe.body)
            baseline = [encode_request("GET", f"/bench/static/{size}", {})]
            if aio.run(fetch(server.port, baseline[0])).status != 200:
                raise ServerError("the baseline did not answer 200")
            base = _load(server, baseline, settings)
            real = _load(server, requests, settings)
    return Result(backend, size, Figures.of(base), Figures.of(real))


def table(results: Sequence[Result]) -> str:
    lines = [
        "| backend | body (B) | baseline rps | /license-status rps | ratio | p50 ms | p99 ms |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        lines.append(
            f"| {r.backend} | {r.body_bytes} | {r.baseline.rps:,.0f} | "
            f"{r.license_status.rps:,.0f} | {r.ratio:.2f} | {r.license_status.p50_ms:.2f} | "
            f"{r.license_status.p99_ms:.2f} |"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--backends", default=",".join(BACKENDS))
    parser.add_argument("--licenses", type=int, default=Settings.licenses)
    parser.add_argument("--connections", type=int, default=Settings.connections)
    parser.add_argument("--duration", type=float, default=Settings.duration_seconds)
    parser.add_argument("--warmup", type=float, default=Settings.warmup_seconds)
    parser.add_argument("--json", dest="as_json", action="store_true")
    args = parser.parse_args(argv)
    settings = Settings(args.licenses, args.connections, args.warmup, args.duration)
    results: list[Result] = []
    with tempfile.TemporaryDirectory(prefix="flexbill-bench-licenses-") as directory:
        for backend in args.backends.split(","):
            try:
                results.append(bench_backend(backend, settings, Path(directory)))
            except BackendUnavailableError as reason:
                print(f"{backend}: skipped ({reason})", file=sys.stderr)
    if args.as_json:
        print(json.dumps([{**asdict(r), "ratio": r.ratio} for r in results]))
    else:
        print(table(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
