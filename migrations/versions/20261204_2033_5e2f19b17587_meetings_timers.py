"""meetings timers

Data only: the meetings' reminder, absentee reminder and summary become ``app.core.timers`` kinds.
Scheduled meetings whose message has not gone out and is still due in the future get their
``timers`` rows (what ``arm_timers`` now writes when a meeting is created or moved), so their
messages are fired by the timers' sweep even if the RQ jobs the previous release scheduled are lost.
Those jobs, where they survive, still run (``app.meetings.jobs.remind`` …) and the handlers send each
message once. Idempotent: a row that exists is kept (``ON CONFLICT DO NOTHING``).

Revision ID: 5e2f19b17587
Revises: 5ff28cb77f1c
Create Date: 2026-12-04 20:33:44.720052

"""
from datetime import datetime, timezone

from alembic import op
import sqlalchemy as sa
from flask import current_app


# revision identifiers, used by Alembic.
revision = '5e2f19b17587'
down_revision = '5ff28cb77f1c'
branch_labels = None
depends_on = None

KINDS = ("meetings.reminder", "meetings.absentees", "meetings.summary")

# The rules as they are at this revision (app.meetings.states: the absentee reminder at start + 10 min,
# the summary 1 min after check-in closes; the reminder MEETING_REMINDER_MINUTES before the start).
BACKFILL = sa.text("""
    INSERT INTO timers (kind, subject_id, due_at, attempts, created_at)
    SELECT due.kind, due.id, due.due_at, 0, :now
    FROM (
        SELECT 'meetings.reminder' AS kind, id, starts_at - make_interval(mins => :lead) AS due_at
        FROM meetings WHERE status = 'scheduled' AND reminder_sent_at IS NULL
        UNION ALL
        SELECT 'meetings.absentees', id, starts_at + interval '10 minutes'
        FROM meetings WHERE status = 'scheduled' AND absentee_sent_at IS NULL
        UNION ALL
        SELECT 'meetings.summary', id, checkin_closes_at + interval '1 minute'
        FROM meetings WHERE status = 'scheduled' AND summary_sent_at IS NULL
    ) AS due
    WHERE due.due_at > :now
    ON CONFLICT (kind, subject_id) DO NOTHING
""")


def backfill(connection, *, now: datetime, lead_minutes: int) -> int:
    """Write the missing timers rows; returns how many were written."""
    return connection.execute(BACKFILL, {"now": now, "lead": lead_minutes}).rowcount


def upgrade():
    lead = current_app.config.get("MEETING_REMINDER_MINUTES", 30)
    backfill(op.get_bind(), now=datetime.now(timezone.utc), lead_minutes=lead)


def downgrade():
    # The release before kept its timers in RQ and found lost ones by the meetings' *_sent_at columns.
    op.get_bind().execute(sa.text("DELETE FROM timers WHERE kind IN :kinds")
                          .bindparams(sa.bindparam("kinds", expanding=True)), {"kinds": list(KINDS)})
