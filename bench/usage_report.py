"""The usage benchmark's records and report: its settings and figures, the markdown
tables, and the "Usage" section of ``bench/README.md`` (see ``bench/usage.py``).

The section's figures are rewritten by every run; what people wrote about them below
``FINDINGS_MARK`` is kept.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

SECTION_START = "<!-- usage: written by bench/usage.py -->"
SECTION_END = "<!-- end of usage -->"
FINDINGS_MARK = "<!-- usage findings: written by people, kept by bench/usage.py -->"


@dataclass(frozen=True)
class Settings:
    batches: int = 100
    batch_size: int = 1000
    rating_records: int = 1_000_000


FULL = Settings()
QUICK = Settings(batches=10, rating_records=50_000)


@dataclass(frozen=True)
class Ingestion:
    records: int
    seconds: float
    server_cpu_seconds: float
    baseline_records: int
    baseline_seconds: float

    @property
    def per_second(self) -> float:
        return self.records / self.seconds

    @property
    def baseline_per_second(self) -> float:
        return self.baseline_records / self.baseline_seconds

    @property
    def ratio(self) -> float:
        return self.per_second / self.baseline_per_second


@dataclass(frozen=True)
class Rating:
    records: int
    seed_seconds: float
    totals_seconds: float
    rate_seconds: float
    mark_seconds: float  # the UPDATE and the commit
    marked: int
    count_seconds: float

    @property
    def seconds(self) -> float:
        return self.totals_seconds + self.rate_seconds + self.mark_seconds

    @property
    def ratio(self) -> float:
        return self.seconds / self.count_seconds


@dataclass(frozen=True)
class UsageResult:
    backend: str
    settings: Settings
    ingestion: Ingestion
    rating: Rating
    load_before: tuple[float, float, float]
    load_after: tuple[float, float, float]


# --- the report ---------------------------------------------------------------------


def _load(values: tuple[float, float, float]) -> str:
    return " / ".join(f"{value:.1f}" for value in values)


def markdown(results: Sequence[UsageResult]) -> str:
    lines = [
        "| backend | records | API s | API records/s | server CPU µs/record | plain s "
        "| plain records/s | ratio API ÷ plain |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        i = r.ingestion
        lines.append(
            f"| {r.backend} | {i.records:,} | {i.seconds:,.1f} | {i.per_second:,.0f} "
            f"| {i.server_cpu_seconds / i.records * 1e6:,.0f} | {i.baseline_seconds:,.1f} "
            f"| {i.baseline_per_second:,.0f} | {i.ratio:.3f} |"
        )
    lines += [
        "",
        "| backend | records in the period | usage_totals s | rate s | mark_rated + commit s "
        "| rating s | count(*) s | rating ÷ count(*) | totals ÷ count(*) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        g = r.rating
        lines.append(
            f"| {r.backend} | {g.records:,} | {g.totals_seconds:,.2f} | {g.rate_seconds:,.4f} "
            f"| {g.mark_seconds:,.2f} | {g.seconds:,.2f} | {g.count_seconds:,.3f} "
            f"| {g.ratio:,.1f} | {g.totals_seconds / g.count_seconds:,.1f} |"
        )
    lines.append("")
    for r in results:
        lines.append(
            f"- {r.backend}: load average (1/5/15 min) {_load(r.load_before)} before, "
            f"{_load(r.load_after)} after; the rating's records seeded in "
            f"{r.rating.seed_seconds:,.0f} s."
        )
    return "\n".join(lines)


def section(results: Sequence[UsageResult], findings: str = "") -> str:
    """The README's usage section: the figures of ``results``, then ``findings`` (what
    people wrote about them, kept from one run to the next)."""
    settings = results[0].settings if results else FULL
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return f"""{SECTION_START}
## Usage

Run of {when} (`python -m bench.usage`; {os.cpu_count()} cores): {settings.batches:,}
batches of {settings.batch_size:,} records through `POST /v1/usage/batch` over one
keep-alive connection to `flexbill serve`, beside plain `executemany` inserts of the same
rows (a transaction per batch, half before and half after); then the rating of one
period of {settings.rating_records:,} records (`usage_totals` + `charge_models.rate` +
`mark_rated` and the commit), beside a bare `SELECT count(*)` of the same rows. See the
description in `bench/usage.py`.

{markdown(results)}

{FINDINGS_MARK}
{findings.strip()}
{SECTION_END}"""


def _parts(readme: Path) -> tuple[str, str, str] | None:
    """The README before, inside and after its usage section, if it has one."""
    current = readme.read_text() if readme.exists() else ""
    if SECTION_START not in current or SECTION_END not in current:
        return None
    head, _, rest = current.partition(SECTION_START)
    inside, _, tail = rest.partition(SECTION_END)
    return head, SECTION_START + inside + SECTION_END, tail


def current_section(readme: Path) -> str | None:
    """The usage section ``readme`` holds now (to put back after a run rewrites it)."""
    parts = _parts(readme)
    return None if parts is None else parts[1]


def findings_of(text: str | None) -> str:
    """The people's part of a usage section."""
    if text is None or FINDINGS_MARK not in text:
        return ""
    return text.partition(FINDINGS_MARK)[2].partition(SECTION_END)[0]


def write_section(readme: Path, text: str) -> None:
    """Put the usage section ``text`` into ``readme``: in place of the one there, else
    before the latest results."""
    parts = _parts(readme)
    if parts is not None:
        head, _, tail = parts
        readme.write_text(head + text + tail)
        return
    current = readme.read_text() if readme.exists() else ""
    head, marker, tail = current.partition("## Latest results")
    if marker:
        readme.write_text(head + text + "\n\n" + marker + tail)
    else:
        readme.write_text(current.rstrip("\n") + "\n\n" + text + "\n")
