"""The state-machine helper: table lookup, roles, compare-and-set and the audit row."""

from __future__ import annotations

from functools import partial

import pytest
from sqlalchemy import MetaData, String, select
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from app.core import audit
from app.core.db import db
from app.core.errors import Forbidden
from app.core.statemachine import ConcurrentChange, InvalidTransition, Labels, StateMachine, t
from tests.support import race


class _ProbeBase(DeclarativeBase):
    # A metadata of its own: this table is not part of the application schema.
    metadata = MetaData()


class Ticket(_ProbeBase):
    __tablename__ = "sm_probe_tickets"
    id: Mapped[int] = mapped_column(primary_key=True)
    status: Mapped[str] = mapped_column(String(20))
    owner: Mapped[int | None] = mapped_column(default=None)


TRANSITIONS = {
    ("new", "accept"): t("accepted", "worker"),
    ("new", "cancel"): t("cancelled"),
    ("accepted", "finish"): t("done", "worker"),
}
machine = StateMachine(Ticket, TRANSITIONS, entity="probe", messages={"invalid_transition": "工单当前状态不允许此操作"})


@pytest.fixture
def tickets(app):
    _ProbeBase.metadata.create_all(db.engine)
    yield
    db.session.remove()
    _ProbeBase.metadata.drop_all(db.engine)


def _new_ticket() -> Ticket:
    ticket = Ticket(status="new")
    db.session.add(ticket)
    db.session.commit()
    return ticket


def test_actions_for_roles(tickets):
    assert machine.actions_for("new", {"worker"}) == ["accept", "cancel"]
    assert machine.actions_for("new", {"student"}) == ["cancel"]
    assert machine.actions_for("done", {"worker", "admin"}) == []


def test_fire_moves_status_and_writes_audit(tickets):
    ticket = _new_ticket()
    assert machine.fire(ticket, "accept", actor_id=7, roles={"worker"}, data={"note": "on my way"}) == "accepted"
    db.session.commit()
    assert ticket.status == "accepted"
    [event] = audit.history("probe", ticket.id)
    assert (event.action, event.actor_id, event.before, event.after) == (
        "accept", 7, {"status": "new"}, {"status": "accepted"})
    assert event.data == {"note": "on my way"}


@pytest.mark.parametrize(("status", "action"), [("new", "finish"), ("accepted", "accept"), ("done", "cancel")])
def test_action_not_in_table_is_409(tickets, status, action):
    ticket = Ticket(status=status)
    db.session.add(ticket)
    db.session.flush()
    with pytest.raises(InvalidTransition) as exc:
        machine.fire(ticket, action, actor_id=1, roles={"worker"})
    assert exc.value.status == 409
    assert exc.value.error_code == "probe.invalid_transition"
    assert exc.value.message == "工单当前状态不允许此操作"
    assert audit.history("probe", ticket.id) == []


def test_role_not_allowed_is_403(tickets):
    ticket = _new_ticket()
    with pytest.raises(Forbidden):
        machine.fire(ticket, "accept", actor_id=1, roles={"student"})
    assert db.session.get(Ticket, ticket.id).status == "new"


def test_stale_object_loses_compare_and_set(tickets):
    ticket = _new_ticket()
    assert ticket.status == "new"  # loaded by this session
    with db.engine.begin() as other:  # someone else, on another connection, meanwhile
        other.execute(Ticket.__table__.update().values(status="cancelled"))
    with pytest.raises(ConcurrentChange) as exc:
        machine.fire(ticket, "accept", actor_id=1, roles={"worker"})
    assert exc.value.status == 409


def test_expect_adds_columns_to_the_compare_and_set(tickets):
    ticket = Ticket(status="new", owner=7)
    db.session.add(ticket)
    db.session.commit()
    with pytest.raises(ConcurrentChange):
        machine.fire(ticket, "accept", actor_id=8, roles={"worker"}, expect={"owner": 8})
    with pytest.raises(ConcurrentChange):
        machine.fire(ticket, "accept", actor_id=8, roles={"worker"}, expect={"owner": None})
    assert audit.history("probe", ticket.id) == []
    assert machine.fire(ticket, "accept", actor_id=7, roles={"worker"}, expect={"owner": 7}) == "accepted"


def test_two_workers_race_one_wins(app, tickets):
    """Two threads, two connections, both read `new` and fire `accept` at the same moment."""
    ticket_id = _new_ticket().id
    db.session.remove()

    def accept(worker_id: int, ticket: Ticket) -> str:
        try:
            machine.fire(ticket, "accept", actor_id=worker_id, roles={"worker"})
            db.session.commit()
            return "won"
        except ConcurrentChange:
            db.session.rollback()
            return "lost"

    outcomes = race([partial(accept, i) for i in (1, 2)], app=app, before=lambda: db.session.get(Ticket, ticket_id))
    assert sorted(outcomes) == ["lost", "won"]
    assert db.session.scalar(select(Ticket.status).where(Ticket.id == ticket_id)) == "accepted"
    assert len(audit.history("probe", ticket_id)) == 1


REPEATABLE = {**TRANSITIONS, ("new", "accept"): t("accepted", "worker", repeatable=True),
              ("new", "cancel"): t("cancelled", repeatable=True)}
LABELS = Labels("工单", {"new": "待接单", "accepted": "已接单", "done": "已完成", "cancelled": "已取消"},
                {"accept": "接单", "finish": "完工", "cancel": "取消"})
speaking = StateMachine(Ticket, REPEATABLE, entity="probe", labels=LABELS)


def test_an_invalid_event_names_the_current_status(tickets):
    ticket = Ticket(status="done")
    db.session.add(ticket)
    db.session.flush()
    with pytest.raises(InvalidTransition) as exc:
        speaking.fire(ticket, "accept", actor_id=1, roles={"worker"})
    assert (exc.value.status, exc.value.message) == (409, "工单已完成，不能接单")


def test_a_repeat_of_what_already_happened_is_ignored_not_invalid(tickets, caplog):
    """A double tap: the second accept by the same worker answers success and changes nothing."""
    ticket = Ticket(status="new", owner=7)
    db.session.add(ticket)
    db.session.commit()
    first = speaking.fire(ticket, "accept", actor_id=7, roles={"worker"}, repeat={"owner": 7})
    assert (first, first.ignored) == ("accepted", False)
    with caplog.at_level("INFO", logger="app.core.statemachine"):
        second = speaking.fire(ticket, "accept", actor_id=7, roles={"worker"}, repeat={"owner": 7})
    assert (second, second.ignored) == ("accepted", True)
    assert any("ignored" in r.getMessage() for r in caplog.records)
    assert len(audit.history("probe", ticket.id)) == 1  # the repeat wrote nothing


def test_a_repeat_by_someone_else_is_invalid(tickets):
    ticket = Ticket(status="accepted", owner=7)
    db.session.add(ticket)
    db.session.flush()
    with pytest.raises(InvalidTransition) as exc:  # another worker: not the same request
        speaking.fire(ticket, "accept", actor_id=8, roles={"worker"}, repeat={"owner": 8})
    assert exc.value.message == "工单已接单，不能接单"
    with pytest.raises(InvalidTransition):  # no role that could have done it
        speaking.fire(ticket, "accept", actor_id=7, roles={"student"}, repeat={"owner": 7})
    with pytest.raises(InvalidTransition):  # the caller did not ask for repeats to be ignored
        speaking.fire(ticket, "accept", actor_id=7, roles={"worker"})


def test_status_alone_can_make_a_repeat(tickets):
    ticket = Ticket(status="cancelled")
    db.session.add(ticket)
    db.session.flush()
    assert speaking.fire(ticket, "cancel", actor_id=None, repeat=True).ignored
    with pytest.raises(InvalidTransition):  # a different action is still invalid
        speaking.fire(ticket, "finish", actor_id=None, roles={"worker"}, repeat=True)


def test_only_events_the_table_marks_repeatable_are_ignored(tickets):
    ticket = Ticket(status="done")
    db.session.add(ticket)
    db.session.flush()
    with pytest.raises(InvalidTransition) as exc:  # finish is not repeatable: a second finish is a 409
        speaking.fire(ticket, "finish", actor_id=1, roles={"worker"}, repeat=True)
    assert exc.value.message == "工单已完成，不能完工"


def test_sources_and_leads_to_read_the_table():
    assert machine.sources("cancel") == ["new"]
    assert machine.sources("accept") == ["new"]
    assert machine.leads_to("finish", "done", {"worker"})
    assert not machine.leads_to("finish", "done", {"student"})
    assert not machine.leads_to("accept", "done")


def test_bulk_moves_only_rows_in_a_status_the_action_starts_from(tickets):
    rows = [Ticket(status=s) for s in ("new", "new", "accepted", "done")]
    db.session.add_all(rows)
    db.session.commit()
    moved = db.session.execute(machine.bulk("cancel", Ticket.id.in_([r.id for r in rows])).returning(Ticket.id))
    assert sorted(moved.scalars()) == sorted(r.id for r in rows[:2])
    db.session.commit()
    assert sorted(db.session.scalars(select(Ticket.status))) == ["accepted", "cancelled", "cancelled", "done"]
    two_ways = StateMachine(Ticket, {("new", "go"): t("a"), ("b", "go"): t("c")}, entity="probe")
    with pytest.raises(ValueError, match="2 targets"):
        two_ways.bulk("go")
