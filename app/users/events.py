"""Signals the users domain emits (handlers run in the same transaction)."""

from blinker import Namespace

_signals = Namespace()

user_bound = _signals.signal("user-bound")
"""A user bound to the roster. Sender: the user id; kwargs: ``kind`` ('staff'|'student'|'parent')."""

roles_changed = _signals.signal("roles-changed")
"""An admin changed a staff member's roles. Sender: the staff member id; kwargs: ``before``, ``after``."""

guardian_requested = _signals.signal("guardian-requested")
"""A parent asked to act for a student (a request that matched no student sends nothing). Sender: the
request id; kwargs: ``requester_id``, ``student_id``, ``student_name``, ``class_name``, ``relation``
(or None), ``requester`` (how to name them), ``decider_ids`` (the users who may decide: the student's,
the class teacher's)."""

guardian_request_closed = _signals.signal("guardian-request-closed")
"""A guardian request was approved, rejected or expired (not withdrawn: the requester did that).
Sender: the request id; kwargs: ``requester_id``, ``status``, ``student_name`` (as the requester
typed it)."""

guardian_removed = _signals.signal("guardian-removed")
"""A parent no longer acts for a student. Sender: the parent's user id; kwargs: ``student_id``, ``by``
(``requester``: the parent themselves; ``student``, ``class_teacher`` or ``admin``)."""
