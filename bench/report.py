"""Figures of a benchmark run: read from locust's CSV files, printed as a table and a RESULT line.

Kept apart from the runner (no locust, no processes) so that the parsing and the format of the
machine-readable last line are unit-tested on their own.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

AGGREGATED = "Aggregated"
RUN_KEYS = frozenset({"requests", "failures", "rps", "p50_ms", "p95_ms", "p99_ms"})


@dataclass(frozen=True)
class PhaseResult:
    """One row of the table: a load phase (or the scenario's own ``run()`` measurement)."""

    label: str
    requests: int
    failures: int
    rps: float
    p50_ms: float
    p95_ms: float
    p99_ms: float


@dataclass(frozen=True)
class LoadStats:
    """A locust run: every request (``total``) and the requests the scenario measures."""

    total: PhaseResult
    measured: PhaseResult
    exceptions: int = 0


def _number(value: str) -> float:
    """Locust writes ``N/A`` for the percentiles of a name that saw no request."""
    try:
        return float(value)
    except ValueError:
        return 0.0


def _row_result(label: str, row: dict[str, str]) -> PhaseResult:
    return PhaseResult(
        label=label,
        requests=int(row["Request Count"]),
        failures=int(row["Failure Count"]),
        rps=_number(row["Requests/s"]),
        p50_ms=_number(row["50%"]),
        p95_ms=_number(row["95%"]),
        p99_ms=_number(row["99%"]),
    )


def combine(label: str, rows: list[PhaseResult]) -> PhaseResult:
    """Several request names measured together. Counts and rates add up; a percentile cannot be
    rebuilt from per-name percentiles, so the slowest name's is quoted (an upper bound, exact for a
    single name). A scenario that wants exact figures over several URLs gives them one locust
    ``name=``."""
    return PhaseResult(
        label=label,
        requests=sum(r.requests for r in rows),
        failures=sum(r.failures for r in rows),
        rps=sum(r.rps for r in rows),
        p50_ms=max((r.p50_ms for r in rows), default=0.0),
        p95_ms=max((r.p95_ms for r in rows), default=0.0),
        p99_ms=max((r.p99_ms for r in rows), default=0.0),
    )


def parse_stats_csv(text: str, label: str, measure: Iterable[str] | None = None) -> LoadStats:
    """Locust's ``PREFIX_stats.csv``: the ``Aggregated`` row, and the rows whose ``"<Type> <Name>"``
    (e.g. ``"POST /api/v1/meetings/checkin"``) is in ``measure`` (default: the aggregate)."""
    rows = list(csv.DictReader(io.StringIO(text)))
    aggregated = [r for r in rows if r["Name"] == AGGREGATED and not r["Type"]]
    if len(aggregated) != 1:
        raise ValueError("no Aggregated row in locust's stats CSV")
    total = _row_result(label, aggregated[0])
    if measure is None:
        return LoadStats(total=total, measured=total)
    wanted = set(measure)
    picked = [_row_result(label, r) for r in rows if r["Type"] and f"{r['Type']} {r['Name']}" in wanted]
    return LoadStats(total=total, measured=combine(f"{label}: measured", picked))


def count_exceptions(text: str) -> int:
    """Locust's ``PREFIX_exceptions.csv``: unhandled errors in the scenario's own task code."""
    return sum(int(row["Count"]) for row in csv.DictReader(io.StringIO(text)))


def final_csv(prefix: str | Path, kind: str) -> str:
    """Where ``bench/final_stats.py`` leaves the final ``stats`` / ``failures`` / ``exceptions``."""
    return f"{prefix}_final_{kind}.csv"


def read_load_stats(prefix: str | Path, label: str, measure: Iterable[str] | None = None) -> LoadStats:
    stats = parse_stats_csv(Path(final_csv(prefix, "stats")).read_text(encoding="utf-8"), label, measure)
    exceptions = count_exceptions(Path(final_csv(prefix, "exceptions")).read_text(encoding="utf-8"))
    return LoadStats(total=stats.total, measured=stats.measured, exceptions=exceptions)


def from_run(label: str, figures: dict) -> PhaseResult:
    """What a scenario's ``run(ctx)`` returned; a misspelt key is an error rather than a silent 0."""
    unknown = set(figures) - RUN_KEYS
    if unknown:
        raise ValueError(f"run() returned unknown keys {sorted(unknown)}; allowed: {sorted(RUN_KEYS)}")
    return PhaseResult(
        label=label,
        requests=int(figures.get("requests", 0)),
        failures=int(figures.get("failures", 0)),
        rps=float(figures.get("rps", 0.0)),
        p50_ms=float(figures.get("p50_ms", 0.0)),
        p95_ms=float(figures.get("p95_ms", 0.0)),
        p99_ms=float(figures.get("p99_ms", 0.0)),
    )


def format_ms(value: float) -> str:
    """Locust's percentiles are whole milliseconds; a ``run()`` may report finer ones."""
    return str(int(value)) if float(value).is_integer() else f"{value:.1f}"


def format_table(rows: list[PhaseResult]) -> str:
    width = max([len("phase"), *(len(r.label) for r in rows)])
    header = (f"{'phase':<{width}}  {'requests':>9}  {'failures':>8}  {'rps':>9}  "
              f"{'p50 ms':>7}  {'p95 ms':>7}  {'p99 ms':>7}")
    lines = [header, "-" * len(header)]
    for r in rows:
        lines.append(f"{r.label:<{width}}  {r.requests:>9}  {r.failures:>8}  {r.rps:>9.1f}  {format_ms(r.p50_ms):>7}  "
                     f"{format_ms(r.p95_ms):>7}  {format_ms(r.p99_ms):>7}")
    return "\n".join(lines)


def format_result(scenario: str, result: PhaseResult, baseline_rps: float, errors: int) -> str:
    """The last line of every run, for scripts (docs/architecture.md)."""
    ratio = result.rps / baseline_rps if baseline_rps > 0 else 0.0
    return (f"RESULT scenario={scenario} rps={result.rps:.1f} p50_ms={format_ms(result.p50_ms)} "
            f"p95_ms={format_ms(result.p95_ms)} p99_ms={format_ms(result.p99_ms)} errors={errors} "
            f"baseline_rps={baseline_rps:.1f} ratio={ratio:.2f}")
