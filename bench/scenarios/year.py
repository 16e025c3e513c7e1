"""A school year of history: the console's report pages with a month and with a year of data; the export's RSS.

Seeds, with bulk ``INSERT … SELECT generate_series`` (never the ORM per row), a school of 3,000 people
and the last complete month of their history: ~1,700 repairs with their deadlines and timelines, ~33
meetings with their invitations and scans, ~42,000 notifications with their deliveries. ``run``
signs in to the console as the demo admin (a one-time link, as ``flask console-link`` prints it) and
times, one request after another, 首页, 月报 of that month, the repairs statistics API and the meetings
term report API (an admin reading a person's term); then it adds the eleven months before (to 20,000
repairs, 400 meetings with 150,000 invitations and their scans, 500,000 notifications), runs
``VACUUM ANALYZE`` and times the same pages again: the table shows p50/p95 per page with a month and with a
year, and the growth. Last, it streams the year's repairs .xlsx (``GET /api/v1/repairs/stats/export``)
and prints the peak RSS of the web worker that served it (``VmHWM``; target < 300 MB).

The RESULT line quotes the year's requests. ``--smoke`` (and ``YEAR_SCALE``, a fraction of the full
size) seeds a tiny school so the test suite runs it in seconds.
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass
from datetime import date, datetime
from datetime import time as dtime

import psutil
import requests
from sqlalchemy import text

from app.auth import service as auth_service
from app.console import service as console_service
from app.core import clock
from app.core.db import commit_scope, db
from app.users import seed as users_seed
from bench import report

PEOPLE, REPAIRS, MEETINGS, INVITATIONS, NOTIFICATIONS = 3_000, 20_000, 400, 150_000, 500_000
MONTHS = 12
RSS_TARGET_MB = 300
SMOKE_SCALE = 0.005
EXPORT_TIMEOUT = 300


@dataclass(frozen=True)
class Size:
    people: int
    repairs_per_month: int
    meetings_per_month: int
    invited_per_meeting: int
    notifications_per_month: int
    requests_per_page: int

    @classmethod
    def of(cls, ctx) -> Size:
        """The full school, or ``YEAR_SCALE`` of it (``--smoke``: 0.5 %, with 3 requests per page)."""
        scale = float(os.environ.get("YEAR_SCALE") or (SMOKE_SCALE if ctx.smoke else 1))
        people = max(50, round(PEOPLE * scale))
        meetings = max(1, round(MEETINGS * scale / MONTHS))
        return cls(people=people, repairs_per_month=max(10, round(REPAIRS * scale / MONTHS)),
                   meetings_per_month=meetings,
                   invited_per_meeting=min(people, max(10, round(INVITATIONS / MEETINGS * min(1.0, scale * 10)))),
                   notifications_per_month=max(20, round(NOTIFICATIONS * scale / MONTHS)),
                   requests_per_page=3 if scale < 0.1 else 20)


def _months() -> list[console_service.Month]:
    """The twelve months up to the last complete one, oldest first (the app runs on the real clock)."""
    last = console_service.parse_month("").previous
    months = [last]
    while len(months) < MONTHS:
        months.insert(0, months[0].previous)
    return months


# --- seed: one month at a time, in SQL ---------------------------------------------------------------------


def _scalar(sql: str, **params):
    return db.session.execute(text(sql), params).scalar()


def _people(n: int) -> None:
    db.session.execute(text("INSERT INTO users (openid, active) SELECT 'bench-year-' || g, true "
                            "FROM generate_series(1, :n) g"), {"n": n})


def _ids(sql: str) -> list[int]:
    return [r[0] for r in db.session.execute(text(sql))]


REPAIRS_SQL = """
INSERT INTO repairs (reporter_id, category_id, place_id, place_name, building_id, description, urgency,
    contact_phone, status, step, sla, sla_round, round_started_at, due_at, assignee_id, assigned_at,
    accepted_at, started_at, completed_at, closed_at, labour_minutes, material_cost_fen, rating, rating_auto,
    rated_at, created_at, updated_at)
SELECT s.reporter, s.category, s.place, '压测楼 › 房间', s.building, '压测：灯不亮了', 'normal', '13800000000',
    s.status, 0, '{}'::jsonb, 1, s.t, s.t + interval '1 day', :worker, s.t + interval '2 minutes',
    s.accepted, s.accepted, s.completed, s.closed,
    CASE WHEN s.completed IS NOT NULL THEN 30 + (s.r3 * 90)::int END,
    CASE WHEN s.completed IS NOT NULL THEN (s.r3 * 20000)::int ELSE 0 END,
    CASE WHEN s.status = 'confirmed' THEN CASE WHEN s.r2 < 0.6 THEN 5 WHEN s.r2 < 0.85 THEN 4
                                          WHEN s.r2 < 0.95 THEN 3 ELSE 2 END END,
    s.status = 'confirmed' AND s.r3 < 0.3, s.closed, s.t, coalesce(s.closed, s.completed, s.t)
FROM (
    SELECT x.*,
        CASE WHEN x.status IN ('in_progress', 'completed', 'confirmed')
             THEN x.t + (5 + x.r2 * 240) * interval '1 minute' END AS accepted,
        CASE WHEN x.status IN ('completed', 'confirmed')
             THEN x.t + (60 + x.r3 * 2880) * interval '1 minute' END AS completed,
        CASE WHEN x.status = 'confirmed' THEN x.t + (60 + x.r3 * 2880 + 1440) * interval '1 minute' END AS closed
    FROM (
        SELECT g, r2, r3,
            CAST(:start AS timestamptz) + (CAST(:end AS timestamptz) - CAST(:start AS timestamptz)) * ((g - 0.5) / :n)
                AS t,
            (CAST(:users AS bigint[]))[1 + (g * 31) % cardinality(CAST(:users AS bigint[]))] AS reporter,
            (CAST(:categories AS bigint[]))[1 + g % cardinality(CAST(:categories AS bigint[]))] AS category,
            (CAST(:rooms AS bigint[]))[1 + (g * 7) % cardinality(CAST(:rooms AS bigint[]))] AS place,
            (CAST(:buildings AS bigint[]))[1 + (g * 7) % cardinality(CAST(:rooms AS bigint[]))] AS building,
            CASE WHEN r1 < 0.02 THEN 'cancelled' WHEN r1 < 0.04 THEN 'submitted' WHEN r1 < 0.07 THEN 'in_progress'
                 WHEN r1 < 0.15 THEN 'completed' ELSE 'confirmed' END AS status
        FROM (SELECT g, random() AS r1, random() AS r2, random() AS r3 FROM generate_series(1, :n) g) AS draws
    ) AS x
) AS s
"""

DEADLINES_SQL = """
INSERT INTO repair_deadlines (repair_id, round, kind, level, due_at, met_at, voided_at)
SELECT id, 1, 'accept', 1, created_at + interval '2 hours', accepted_at,
       CASE WHEN status = 'cancelled' THEN created_at + interval '1 hour' END
FROM repairs WHERE id > :after
UNION ALL
SELECT id, 1, 'finish', 1, created_at + interval '2 days', completed_at,
       CASE WHEN status = 'cancelled' THEN created_at + interval '1 hour' END
FROM repairs WHERE id > :after
"""

TIMELINE_SQL = """
INSERT INTO audit_events (entity_type, entity_id, action, actor_id, before, after, created_at)
SELECT 'repairs', r.id, step.action, step.actor,
    CASE WHEN step.was IS NOT NULL THEN jsonb_build_object('status', step.was) END,
    jsonb_build_object('status', step.now), step.at
FROM repairs r CROSS JOIN LATERAL (VALUES
    ('submit', r.reporter_id, NULL, 'submitted', r.created_at),
    ('assign', NULL, 'submitted', 'assigned', r.assigned_at),
    ('accept', r.assignee_id, 'assigned', 'accepted', r.accepted_at),
    ('complete', r.assignee_id, 'in_progress', 'completed', r.completed_at),
    ('confirm', r.reporter_id, 'completed', 'confirmed', r.closed_at)
) AS step (action, actor, was, now, at)
WHERE r.id > :after AND step.at IS NOT NULL
"""

MEETINGS_SQL = """
INSERT INTO meetings (code, detached, organiser_id, title, description, location, starts_at, ends_at,
    opens_before_minutes, late_after_minutes, closes_after_end_minutes, checkin_opens_at, late_at,
    checkin_closes_at, allow_static_code, sign_out_enabled, audience, status, created_at, updated_at)
SELECT 'Y' || :key || lpad(g::text, 3, '0'), false, :organiser, '压测例会 ' || g, '', '报告厅', t,
    t + interval '1 hour', 30, 5, 0, t - interval '30 minutes', t + interval '5 minutes', t + interval '1 hour',
    false, false, '{}'::jsonb, 'scheduled', t - interval '3 days', t - interval '3 days'
FROM (SELECT g, CAST(:start AS timestamptz)
             + (CAST(:end AS timestamptz) - CAST(:start AS timestamptz)) * ((g - 0.5) / :n) AS t
      FROM generate_series(1, :n) g) AS s
"""

INVITATIONS_SQL = """
INSERT INTO meeting_invitations (meeting_id, user_id, name, number, checked_in_at, late, check_in_via, excused,
    created_at)
SELECT id, uid, '压测人员' || k, 'Y' || k, checked_in_at, coalesce(checked_in_at > late_at, false),
    CASE WHEN checked_in_at IS NOT NULL THEN 'rotating' END, r >= 0.9 AND r < 0.95, created_at
FROM (
    SELECT m.id, m.late_at, m.created_at, k, r,
        (CAST(:users AS bigint[]))[1 + (m.id * 37 + k) % cardinality(CAST(:users AS bigint[]))] AS uid,
        CASE WHEN r < 0.9 THEN m.starts_at + (r * 22 - 15) * interval '1 minute' END AS checked_in_at
    FROM (SELECT m.*, k, random() AS r FROM meetings m CROSS JOIN generate_series(1, :per) k
          WHERE m.id > :after) AS m
) AS s
"""

SCANS_SQL = """
INSERT INTO meeting_scans (meeting_id, user_id, nonce, action, via, result, late, created_at)
SELECT meeting_id, user_id, 'year-' || id, 'check_in', 'rotating', 'ok', late, checked_in_at
FROM meeting_invitations WHERE meeting_id > :after AND checked_in_at IS NOT NULL
"""

NOTIFICATIONS_SQL = """
INSERT INTO notifications (user_id, event, title, body, data, urgency, idempotency_key, read_at, created_at)
SELECT (CAST(:users AS bigint[]))[1 + (g * 13) % cardinality(CAST(:users AS bigint[]))], 'notifications.notice',
    '压测通知', '', '{}'::jsonb, 'normal', 'year:' || :key || ':' || g,
    CASE WHEN g % 10 < 7 THEN t + interval '1 hour' END, t
FROM (SELECT g, CAST(:start AS timestamptz)
             + (CAST(:end AS timestamptz) - CAST(:start AS timestamptz)) * ((g - 0.5) / :n) AS t
      FROM generate_series(1, :n) g) AS s
"""

DELIVERIES_SQL = """
INSERT INTO notification_deliveries (notification_id, channel, status, attempts, next_attempt_at, sent_at,
    last_error, created_at, updated_at)
SELECT id, 'subscribe', status, CASE WHEN status = 'dead' THEN 5 ELSE 1 END, created_at,
    CASE WHEN status = 'sent' THEN created_at + interval '2 seconds' END,
    CASE WHEN status = 'dead' THEN 'errcode=43101 user refuse to accept the msg' END, created_at, created_at
FROM (SELECT id, created_at, CASE WHEN id % 100 < 85 THEN 'sent' WHEN id % 100 < 97 THEN 'skipped' ELSE 'dead' END
             AS status FROM notifications WHERE id > :after) AS s
"""


def _last_id(table: str) -> int:
    return int(_scalar(f"SELECT coalesce(max(id), 0) FROM {table}"))


def seed_month(month: console_service.Month, size: Size) -> None:
    """One month of history for the bench's school (its people were made by ``seed``)."""
    zone = clock.school_zone()
    start = datetime.combine(month.first, dtime(0), zone)
    end = datetime.combine(month.next.first, dtime(0), zone)
    people = _ids("SELECT id FROM users WHERE openid LIKE 'bench-year-%' ORDER BY id")
    rooms = db.session.execute(text(
        "SELECT r.id, f.parent_id FROM places r JOIN places f ON f.id = r.parent_id WHERE r.kind = 'room' "
        "ORDER BY r.id")).all()
    worker = users_seed.demo_user_ids()["worker"]
    admin = users_seed.demo_user_ids()["admin"]
    window = {"start": start, "end": end}
    after = _last_id("repairs")
    db.session.execute(text(REPAIRS_SQL), {
        **window, "n": size.repairs_per_month, "users": people, "worker": worker,
        "categories": _ids("SELECT id FROM repair_categories ORDER BY id"),
        "rooms": [r[0] for r in rooms], "buildings": [r[1] for r in rooms]})
    db.session.execute(text(DEADLINES_SQL), {"after": after})
    db.session.execute(text(TIMELINE_SQL), {"after": after})
    after = _last_id("meetings")
    db.session.execute(text(MEETINGS_SQL), {**window, "n": size.meetings_per_month, "organiser": admin,
                                            "key": f"{month.year % 100:02d}{month.month:02d}"})
    db.session.execute(text(INVITATIONS_SQL), {"after": after, "per": size.invited_per_meeting, "users": people})
    db.session.execute(text(SCANS_SQL), {"after": after})
    after = _last_id("notifications")
    db.session.execute(text(NOTIFICATIONS_SQL), {**window, "n": size.notifications_per_month, "users": people,
                                                 "key": month.key})
    db.session.execute(text(DELIVERIES_SQL), {"after": after})


def seed(ctx) -> None:
    size = Size.of(ctx)
    _people(size.people)
    started = time.perf_counter()
    seed_month(_months()[-1], size)
    print(f"seed: {size.people} people and one month ({_months()[-1].key}) in {time.perf_counter() - started:.1f} s",
          flush=True)


# --- run: the pages with a month, then with a year ---------------------------------------------------------


def _console(ctx) -> requests.Session:
    """A console session of the demo admin: the one-time link ``flask console-link`` prints."""
    with commit_scope():
        link = console_service.create_link(staff_number=users_seed.DEMO_STAFF["admin"][0])
    browser = requests.Session()
    resp = browser.get(f"{ctx.base_url}/console/link/{link.token}", allow_redirects=False, timeout=30)
    if resp.status_code != 302 or "/console/" not in resp.headers.get("Location", ""):
        raise RuntimeError(f"console sign-in answered {resp.status_code}")
    return browser


def _pages(month: console_service.Month, term_from: date, person: int) -> dict[str, str]:
    return {
        "GET /console/": "/console/",
        "GET /console/report": f"/console/report?month={month.key}",
        "GET /api/v1/repairs/stats": f"/api/v1/repairs/stats?by=category&from={term_from}&to={month.last}",
        "GET /api/v1/meetings/history": f"/api/v1/meetings/history?user_id={person}&start={term_from}"
                                        f"&end={month.last}",
    }


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))]


def _measure(ctx, label: str, browser: requests.Session, api: dict[str, str], pages: dict[str, str],
             n: int) -> tuple[list[report.PhaseResult], list[float], int]:
    rows, every, failures = [], [], 0
    for name, path in pages.items():
        session_headers = api if name.startswith("GET /api/") else {}
        times, failed = [], 0
        browser.get(f"{ctx.base_url}{path}", headers=session_headers, timeout=120)  # warm the worker
        started = time.perf_counter()
        for _ in range(n):
            t0 = time.perf_counter()
            resp = browser.get(f"{ctx.base_url}{path}", headers=session_headers, timeout=120)
            times.append((time.perf_counter() - t0) * 1000)
            if resp.status_code != 200:
                failed += 1
                print(f"{label} {name}: {resp.status_code} {resp.text[:200]}", flush=True)
        elapsed = time.perf_counter() - started
        rows.append(report.PhaseResult(f"{label}: {name}", n, failed, n / elapsed, _percentile(times, 0.5),
                                       _percentile(times, 0.95), _percentile(times, 0.99)))
        every += times
        failures += failed
    return rows, every, failures


def _web_workers(ctx) -> list[psutil.Process]:
    """The gunicorn workers serving ``ctx.base_url`` (children of the master with that bind)."""
    bind = ctx.base_url.removeprefix("http://")
    masters = [p for p in psutil.process_iter(["cmdline"])
               if "wsgi:app" in (p.info["cmdline"] or []) and bind in (p.info["cmdline"] or [])
               and not (p.parent() and bind in " ".join(p.parent().cmdline()))]
    return [child for master in masters for child in master.children()]


def _peak_rss_mb(proc: psutil.Process) -> float:
    """VmHWM: the most resident memory the process ever had."""
    with open(f"/proc/{proc.pid}/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return proc.memory_info().rss / 2**20


def _export(ctx, api: dict[str, str], months: list[console_service.Month]) -> tuple[float, float, int, int]:
    """Stream the year's repairs export; the peak RSS of the worker that served it, before and after."""
    workers = _web_workers(ctx)
    before = {w.pid: _peak_rss_mb(w) for w in workers}
    sampled = {w.pid: 0.0 for w in workers}
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            for w in workers:
                try:
                    sampled[w.pid] = max(sampled[w.pid], w.memory_info().rss / 2**20)
                except psutil.NoSuchProcess:
                    pass
            time.sleep(0.05)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    size, status = 0, 0
    try:
        url = f"{ctx.base_url}/api/v1/repairs/stats/export?from={months[0].first}&to={months[-1].last}"
        with requests.get(url, headers=api, stream=True, timeout=EXPORT_TIMEOUT) as resp:
            status = resp.status_code
            for chunk in resp.iter_content(64 * 1024):
                size += len(chunk)
    finally:
        done.set()
        sampler.join(5)
    after = {w.pid: _peak_rss_mb(w) for w in workers}
    busiest = max(after, key=lambda pid: max(after[pid], sampled[pid]) - before[pid])
    return before[busiest], max(after[busiest], sampled[busiest]), size, status


def _counts() -> dict[str, int]:
    tables = ("repairs", "repair_deadlines", "meetings", "meeting_invitations", "meeting_scans", "notifications",
              "notification_deliveries", "audit_events")
    return {t: int(_scalar(f"SELECT count(*) FROM {t}")) for t in tables}


def run(ctx) -> dict:
    size = Size.of(ctx)
    months = _months()
    admin = users_seed.demo_user_ids()["admin"]
    person = _ids("SELECT id FROM users WHERE openid LIKE 'bench-year-%' ORDER BY id LIMIT 1")[0]
    api = {"Authorization": f"Bearer {auth_service.issue_tokens_for(admin).access_token}"}
    db.session.commit()
    browser = _console(ctx)
    pages = _pages(months[-1], months[0].first, person)

    month_rows, _month_times, failures = _measure(ctx, "month", browser, api, pages, size.requests_per_page)
    started = time.perf_counter()
    with commit_scope():
        for month in months[:-1]:
            seed_month(month, size)
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE"))  # what autovacuum would have done over a year
    print(f"seed: eleven more months in {time.perf_counter() - started:.1f} s; rows: {_counts()}", flush=True)
    db.session.commit()
    started = time.perf_counter()
    year_rows, year_times, year_failures = _measure(ctx, "year", browser, api, pages, size.requests_per_page)
    elapsed = time.perf_counter() - started
    failures += year_failures

    print("\npages, one request at a time (a month of history, then a year)")
    print(report.format_table(month_rows + year_rows))
    print(f"\n{'page':<30} {'p95 month ms':>13} {'p95 year ms':>12} {'growth':>7}")
    for m, y in zip(month_rows, year_rows, strict=True):
        name = m.label.split(": ", 1)[1]
        print(f"{name:<30} {m.p95_ms:>13.0f} {y.p95_ms:>12.0f} {y.p95_ms / max(m.p95_ms, 0.1):>6.1f}x")

    rss_before, rss_peak, exported, status = _export(ctx, api, months)
    print(f"\nexport: the year's repairs .xlsx, {exported / 2**20:.1f} MB streamed (status {status}); "
          f"web worker peak RSS {rss_peak:.0f} MB (before the export {rss_before:.0f} MB; "
          f"target < {RSS_TARGET_MB} MB)", flush=True)
    if status != 200:
        failures += 1
    if rss_peak >= RSS_TARGET_MB:
        print(f"problem: the export's worker peaked at {rss_peak:.0f} MB, over {RSS_TARGET_MB} MB", flush=True)
        failures += 1
    return {"rps": len(year_times) / elapsed, "p50_ms": _percentile(year_times, 0.5),
            "p95_ms": _percentile(year_times, 0.95), "p99_ms": _percentile(year_times, 0.99),
            "requests": len(year_times), "failures": failures}


BENCH_ROWS = {  # what the bench wrote, apart from the demo seed's rows
    "repairs": "SELECT count(*) FROM repairs WHERE description = '压测：灯不亮了'",
    "meetings": "SELECT count(*) FROM meetings WHERE title LIKE '压测例会 %'",
    "invitations": "SELECT count(*) FROM meeting_invitations WHERE name LIKE '压测人员%'",
    "notifications": "SELECT count(*) FROM notifications WHERE idempotency_key LIKE 'year:%'",
}


def verify(ctx) -> list[str]:
    """Twelve months of every kind of row, no more, no fewer."""
    size = Size.of(ctx)
    wanted = {"repairs": size.repairs_per_month * MONTHS, "meetings": size.meetings_per_month * MONTHS,
              "invitations": size.meetings_per_month * MONTHS * size.invited_per_meeting,
              "notifications": size.notifications_per_month * MONTHS}
    found = {kind: int(_scalar(sql)) for kind, sql in BENCH_ROWS.items()}
    return [f"expected {n} {kind}, found {found[kind]}" for kind, n in wanted.items() if found[kind] != n]
