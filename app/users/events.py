"""Signals the users domain emits (handlers run in the same transaction)."""

from blinker import Namespace

_signals = Namespace()

user_bound = _signals.signal("user-bound")
"""A user bound to the roster. Sender: the user id; kwargs: ``kind`` ('staff'|'student'|'parent')."""

roles_changed = _signals.signal("roles-changed")
"""An admin changed a staff member's roles. Sender: the staff member id; kwargs: ``before``, ``after``."""
