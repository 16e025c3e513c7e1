"""Signals the notifications domain emits (handlers run in the same transaction)."""

from blinker import Namespace

_signals = Namespace()

delivery_dead = _signals.signal("notification-delivery-dead")
"""A push gave up for good. Sender: the delivery id; kwargs: ``channel``, ``event``, ``user_id``."""
