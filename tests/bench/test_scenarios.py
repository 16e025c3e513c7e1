"""The bench harness: every scenario smoke-runs end to end, and its figures are read and printed right.

The smoke runs are not timed tests (docs/architecture.md): they prove that each scenario starts, drives
load, verifies and stops everything it started, on the test session's PostgreSQL and Redis.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys

import psutil
import pytest
from sqlalchemy import select

from app.config import ROOT_DIR
from app.core import audit
from app.core.db import db
from app.lockers import service as lockers
from app.lockers.models import LockerCompartment, Parcel
from app.places.models import Place
from app.users.models import User
from bench import report, scenarios
from bench.scenarios import parcels

RESULT = re.compile(
    r"^RESULT scenario=(?P<scenario>\S+) rps=(?P<rps>\d+\.\d) p50_ms=(?P<p50>\d+(\.\d)?) "
    r"p95_ms=(?P<p95>\d+(\.\d)?) p99_ms=(?P<p99>\d+(\.\d)?) errors=(?P<errors>\d+) "
    r"baseline_rps=(?P<baseline>\d+\.\d) ratio=(?P<ratio>\d+\.\d\d)$"
)
WEB_URL = re.compile(r"^web: http://127\.0\.0\.1:(\d+) ", re.MULTILINE)
# What a scenario prints beside its RESULT line, where that is the point of it.
PRINTED = {
    "lunch": [  # nothing oversold, and the winners' checkouts (the prepay at the simulator) all answered
        re.compile(r"^lunch: 红烧排骨 10 portions, 40 contenders: 10 held by orders, stock left 0, oversold 0$",
                   re.MULTILINE),
        re.compile(r"^lunch: then 10 winners of 红烧排骨 check out: .* 0 without payment parameters$", re.MULTILINE),
        re.compile(r"^lunch: while 红烧排骨 lasted \(\d+\.\d s, \d+ orders\): ", re.MULTILINE),
    ],
    "year": [  # a page's p95 with a month and with a year of history, and the export's peak RSS
        re.compile(r"^month: GET /console/report +3 +0 ", re.MULTILINE),
        re.compile(r"^year: GET /api/v1/meetings/history +3 +0 ", re.MULTILINE),
        re.compile(r"^GET /console/ +\d+ +\d+ +\d+\.\dx$", re.MULTILINE),
        re.compile(r"^export: the year's repairs \.xlsx, .* \(status 200\); web worker peak RSS \d+ MB", re.MULTILINE),
    ],
}

# A real locust 2.47 PREFIX_stats.csv (header and column order as locust writes them).
STATS_CSV = """\
Type,Name,Request Count,Failure Count,Median Response Time,Average Response Time,Min Response Time,\
Max Response Time,Average Content Size,Requests/s,Failures/s,50%,66%,75%,80%,90%,95%,98%,99%,99.9%,99.99%,100%
GET,/api/v1/health,8000,0,5,5.9,0.8,80.1,16.0,800.5,0.0,5,6,7,7,9,12,15,20,60,80,80
POST,/api/v1/meetings/checkin,1500,2,40,45.2,8.1,400.0,120.0,150.25,0.2,40,48,52,55,70,90,120,180,390,400,400
GET,/api/v1/never,0,0,0,0.0,0,0,0.0,0.0,0.0,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A
,Aggregated,9500,2,6,11.9,0.8,400.0,32.4,950.75,0.2,6,7,8,9,14,50,85,110,300,400,400
"""

EXCEPTIONS_CSV = """\
Count,Message,Traceback,Nodes
3,boom,"  File ""x.py"", line 1, in task
",local
2,other,"  File ""y.py"", line 2, in task
",local
"""


def test_aggregated_row_is_the_default_measure():
    stats = report.parse_stats_csv(STATS_CSV, "load")
    assert stats.total == report.PhaseResult("load", 9500, 2, 950.75, 6, 50, 110)
    assert stats.measured == stats.total


def test_measure_picks_named_requests():
    stats = report.parse_stats_csv(STATS_CSV, "load", ["POST /api/v1/meetings/checkin"])
    assert stats.total.requests == 9500
    assert stats.measured == report.PhaseResult("load: measured", 1500, 2, 150.25, 40, 90, 180)


def test_several_measured_names_add_up_and_quote_the_slowest_percentiles():
    stats = report.parse_stats_csv(STATS_CSV, "load", ["GET /api/v1/health", "POST /api/v1/meetings/checkin"])
    assert stats.measured == report.PhaseResult("load: measured", 9500, 2, 950.75, 40, 90, 180)


def test_a_name_without_requests_reads_as_zero_and_an_unknown_name_matches_nothing():
    assert report.parse_stats_csv(STATS_CSV, "load", ["GET /api/v1/never"]).measured.p99_ms == 0
    assert report.parse_stats_csv(STATS_CSV, "load", ["GET /api/v1/typo"]).measured.requests == 0


def test_a_csv_without_aggregated_row_is_rejected():
    with pytest.raises(ValueError, match="Aggregated"):
        report.parse_stats_csv(STATS_CSV.rsplit(",Aggregated", 1)[0], "load")


def test_exceptions_are_counted_by_occurrence():
    assert report.count_exceptions(EXCEPTIONS_CSV) == 5
    assert report.count_exceptions("Count,Message,Traceback,Nodes\n") == 0


def test_result_line_format():
    result = report.PhaseResult("load", 1500, 0, 150.25, 40, 90, 180.5)
    line = report.format_result("checkin", result, baseline_rps=800.5, errors=0)
    assert line == ("RESULT scenario=checkin rps=150.2 p50_ms=40 p95_ms=90 p99_ms=180.5 errors=0 "
                    "baseline_rps=800.5 ratio=0.19")
    assert RESULT.match(line)


def test_result_line_without_a_baseline_has_ratio_zero():
    line = report.format_result("x", report.PhaseResult("load", 1, 0, 10.0, 1, 1, 1), baseline_rps=0.0, errors=1)
    assert line.endswith("errors=1 baseline_rps=0.0 ratio=0.00")


def test_run_figures_are_checked():
    assert report.from_run("run", {"rps": 1234.56, "p50_ms": 2.25}).p50_ms == 2.25
    with pytest.raises(ValueError, match="rsp"):
        report.from_run("run", {"rsp": 1})


def test_table_lists_every_phase():
    table = report.format_table([report.PhaseResult("baseline", 8000, 0, 800.5, 5, 12, 20),
                                 report.PhaseResult("load: measured", 1500, 2, 150.25, 40, 90, 180)])
    lines = table.splitlines()
    assert lines[0].split() == ["phase", "requests", "failures", "rps", "p50", "ms", "p95", "ms", "p99", "ms"]
    assert lines[2].split() == ["baseline", "8000", "0", "800.5", "5", "12", "20"]
    assert lines[3].split() == ["load:", "measured", "1500", "2", "150.2", "40", "90", "180"]


def _leftovers(port: int) -> list[psutil.Process]:
    """gunicorn and locust carry the port in their command line, RQ workers in their name."""
    marks = (f"127.0.0.1:{port}", f"bench-{port}-")
    found = []
    for proc in psutil.process_iter(["cmdline"]):
        cmdline = " ".join(proc.info["cmdline"] or [])
        if any(mark in cmdline for mark in marks):
            found.append(proc)
    _gone, alive = psutil.wait_procs(found, timeout=1)
    return [p for p in alive if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]


@pytest.mark.slow
@pytest.mark.parametrize("name", scenarios.names())
def test_scenario_smoke_run(name, app, service_urls):
    """``app`` truncates the tables first; the schema is already at head, so the bench's migration is
    a no-op and its seeds start from an empty database."""
    env = {**os.environ, **service_urls}
    done = subprocess.run([sys.executable, "-m", "bench", name, "--smoke"], cwd=ROOT_DIR, env=env,
                          capture_output=True, text=True, timeout=300)
    output = f"--- stdout\n{done.stdout[-4000:]}\n--- stderr\n{done.stderr[-4000:]}"
    assert done.returncode == 0, output
    last = done.stdout.strip().splitlines()[-1]
    match = RESULT.match(last)
    assert match, output
    assert match["scenario"] == name
    assert match["errors"] == "0", output
    assert float(match["rps"]) > 0 and float(match["baseline"]) > 0, output
    for printed in PRINTED.get(name, []):
        assert printed.search(done.stdout), (printed.pattern, output)
    port = WEB_URL.search(done.stdout)
    assert port, output
    assert _leftovers(int(port[1])) == [], "processes left behind by the bench"



def test_the_parcels_checks_catch_a_double_allocation_and_a_state_that_disagrees(app, demo):
    """The parcels scenario's ``verify`` can fail: a compartment reserved for a second parcel while the first
    still held it, and a compartment whose state does not match the parcel inside, are both reported."""
    place_id = db.session.scalar(select(Place.id).order_by(Place.id).limit(1))
    bank = lockers.create_bank(actor=None, code="CHK", name="校验柜", place_id=place_id, device_code="locker-chk",
                               secret="s" * 32, base_url="http://127.0.0.1:9/", compartments=[("A01", "M")])
    unit = db.session.scalar(select(LockerCompartment).where(LockerCompartment.bank_id == bank.id))
    assert parcels.double_allocations() == [] and parcels.states_agree() == []
    for action, parcel in (("reserve", 1), ("fill", 1), ("empty", 1), ("reserve", 2), ("reserve", 3)):
        audit.record("locker_compartment", unit.id, action, actor_id=None, data={"parcel": parcel})
    assert parcels.double_allocations() == [f"compartment {unit.id} reserved for parcel 3 while parcel 2 held it"]
    user = db.session.scalar(select(User.id).order_by(User.id).limit(1))
    stored = Parcel(tracking_no="CHK1", bank_id=bank.id, compartment_id=unit.id, size="M", storage="locker",
                    status="stored", recipient_id=user, courier_id=user)
    db.session.add(stored)
    db.session.flush()
    assert parcels.states_agree() == [f"compartment {unit.id} is free held by None, parcel {stored.id} is stored"]
