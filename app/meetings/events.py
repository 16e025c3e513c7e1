"""Signals the meetings domain emits (handlers run in the same transaction)."""

from blinker import Namespace

_signals = Namespace()

meeting_created = _signals.signal("meeting-created")
"""A meeting was created (directly or as an occurrence of a series). Sender: the meeting id;
kwargs: ``organiser_id``."""

meeting_cancelled = _signals.signal("meeting-cancelled")
"""A meeting was cancelled by its organiser or an admin. Sender: the meeting id."""

meeting_closed = _signals.signal("meeting-closed")
"""Check-in closed and the organiser's summary went out. Sender: the meeting id; kwargs: the counts
(``invited``, ``checked_in``, ``on_time``, ``late``, ``excused``, ``absent``, ``signed_out``)."""
