"""Signals the repairs domain emits (handlers run in the same transaction)."""

from blinker import Namespace

_signals = Namespace()

repair_submitted = _signals.signal("repair-submitted")
"""A new repair was reported (not a report linked to an open one). Sender: the repair id;
kwargs: ``category_id``, ``place_id``."""

deadline_missed = _signals.signal("repair-deadline-missed")
"""A deadline escalated. Sender: the repair id; kwargs: ``kind`` (accept/arrive/finish), ``level`` (1: the
dispatchers were told, 2: the admins — 督办)."""
