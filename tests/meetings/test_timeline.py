"""A meeting's phase follows the clock."""

from __future__ import annotations

from datetime import timedelta

from app.meetings import service
from tests.meetings.conftest import END, START, make_meeting


def test_phase_follows_the_clock(at):
    meeting = make_meeting()
    for moment, expected in ((START - timedelta(minutes=31), "upcoming"), (START - timedelta(minutes=30), "open"),
                             (START, "in_progress"), (END, "ended")):
        at(moment)
        assert service.phase(meeting) == expected
