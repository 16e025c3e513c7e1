"""A locustfile without users, loaded beside every scenario (``-f scenario.py,bench/final_stats.py``):
it writes the run's final statistics, in locust's own CSV format, once every user has stopped.

Why: the ``--csv`` files are snapshots that a background greenlet takes once a second, and its last
one predates the end of the run, so up to a second of requests — failures included — never reaches
``PREFIX_stats.csv`` (seen: the CSV said 2 failures, locust's closing summary 4). ``test_stop``
fires after the users are stopped, when the figures no longer change.
"""

from __future__ import annotations

import csv
from collections.abc import Callable

from locust import events
from locust.env import Environment
from locust.stats import PERCENTILES_TO_REPORT, StatsCSV

from bench.report import final_csv


def _write(path: str, rows: Callable) -> None:
    with open(path, "w", newline="", encoding="utf-8") as out:
        rows(csv.writer(out))


@events.test_stop.add_listener
def write_final_stats(environment: Environment, **_kwargs) -> None:
    prefix = environment.parsed_options.csv_prefix if environment.parsed_options else None
    if not prefix:
        return
    writer = StatsCSV(environment, PERCENTILES_TO_REPORT)
    _write(final_csv(prefix, "stats"), writer.requests_csv)
    _write(final_csv(prefix, "failures"), writer.failures_csv)
    _write(final_csv(prefix, "exceptions"), writer.exceptions_csv)
