"""repairs timers

Data only: the repairs' pending deadlines and auto-confirmations become rows of ``timers``. Before, a repair's next deadline and its auto-confirmation were RQ jobs of their own; now they
are ``app.core.timers`` timers: kind ``repairs.deadline`` (subject: the repair; due at the deadline that
can escalate next) and ``repairs.auto_confirm`` (subject: the repair; due 7 days after completion). This
writes the rows for the repairs that need one:

* open and not on hold (on hold nothing escalates; resuming arms the timer): the earliest of the current
  round's deadlines that are neither met, voided nor escalated, of level 1 or of level 2 once the level 1
  of the same kind escalated;
* completed and not yet confirmed: ``completed_at`` + 7 days (``AUTO_CONFIRM_DAYS``; as 168 hours, which
  no session time zone's daylight saving can stretch).

Idempotent (``ON CONFLICT DO NOTHING``: a timer the application already wrote stays as it is). Rows due
in the past are fired by the timers' sweep within ``TIMER_SWEEP_SECONDS``; jobs still scheduled under the
old paths run too and find done what is done. The downgrade drops the rows of the two kinds.

Revision ID: 5ff28cb77f1c
Revises: 4f372ee2587b
Create Date: 2026-12-04 20:28:09.532121

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '5ff28cb77f1c'
down_revision = '4f372ee2587b'
branch_labels = None
depends_on = None

DEADLINE_TIMERS = """
INSERT INTO timers (kind, subject_id, due_at, attempts, created_at)
SELECT 'repairs.deadline', r.id, min(d.due_at), 0, now()
FROM repairs r
JOIN repair_deadlines d ON d.repair_id = r.id AND d.round = r.sla_round
WHERE r.status IN ('submitted', 'assigned', 'accepted', 'in_progress')
  AND d.met_at IS NULL AND d.voided_at IS NULL AND d.escalated_at IS NULL
  AND (d.level = 1 OR EXISTS (
      SELECT 1 FROM repair_deadlines lvl1
      WHERE lvl1.repair_id = d.repair_id AND lvl1.round = d.round AND lvl1.kind = d.kind
        AND lvl1.level = 1 AND lvl1.escalated_at IS NOT NULL))
GROUP BY r.id
ON CONFLICT (kind, subject_id) DO NOTHING
"""

AUTO_CONFIRM_TIMERS = """
INSERT INTO timers (kind, subject_id, due_at, attempts, created_at)
SELECT 'repairs.auto_confirm', r.id, r.completed_at + interval '168 hours', 0, now()
FROM repairs r
WHERE r.status = 'completed' AND r.completed_at IS NOT NULL
ON CONFLICT (kind, subject_id) DO NOTHING
"""


def upgrade():
    op.execute(DEADLINE_TIMERS)
    op.execute(AUTO_CONFIRM_TIMERS)


def downgrade():
    op.execute("DELETE FROM timers WHERE kind IN ('repairs.deadline', 'repairs.auto_confirm')")
