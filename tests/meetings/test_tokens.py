"""The rotating token: signature, slots, purpose — pure functions, no database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from app.meetings import tokens
from app.meetings.states import SLOT_SECONDS

SECRET = "a-secret-that-is-long-enough-for-the-tests-0001"
T = datetime(2027, 3, 15, 6, 0, 7, tzinfo=UTC)


def test_round_trip_in_the_current_and_previous_slot_only():
    token = tokens.make_token(SECRET, 42, tokens.slot_of(T))
    assert tokens.verify(SECRET, token, T) == tokens.Verified(42, "check_in", None)
    assert tokens.verify(SECRET, token, T + timedelta(seconds=SLOT_SECONDS)).problem is None
    assert tokens.verify(SECRET, token, T + timedelta(seconds=2 * SLOT_SECONDS)).problem == "expired"
    assert tokens.verify(SECRET, token, T - timedelta(seconds=SLOT_SECONDS)).problem == "invalid"  # from the future


def test_slots_are_fifteen_seconds():
    start = datetime(2027, 3, 15, 6, 0, 0, tzinfo=UTC)
    assert tokens.slot_of(start) == tokens.slot_of(start + timedelta(seconds=14.9))
    assert tokens.slot_of(start + timedelta(seconds=15)) == tokens.slot_of(start) + 1
    assert tokens.slot_ends(tokens.slot_of(start)) == int(start.timestamp()) + 15


def test_purpose_is_signed():
    out = tokens.make_token(SECRET, 42, tokens.slot_of(T), "sign_out")
    assert tokens.verify(SECRET, out, T).purpose == "sign_out"
    assert tokens.verify(SECRET, out.replace(".o.", ".i."), T).problem == "invalid"


@pytest.mark.parametrize("token", [
    "", "42", "42.1.i.short", "x.1.i.AAAAAAAAAAAAAAAA", "42.1.z.AAAAAAAAAAAAAAAA", "42.1.i.AAAAAAAAAAAAAAAA",
    "42.1.i.AAAAAAAAAAAAAAAA.extra", "42.1.i.AAAAAAAAAAAAAA==",
])
def test_garbage_is_invalid(token):
    assert tokens.verify(SECRET, token, T) == tokens.Verified(None, None, "invalid")


def test_another_secret_or_meeting_is_invalid():
    token = tokens.make_token(SECRET, 42, tokens.slot_of(T))
    assert tokens.verify(SECRET + "x", token, T).problem == "invalid"
    assert tokens.verify(SECRET, "43" + token[2:], T).problem == "invalid"


def test_token_is_short_and_url_safe():
    token = tokens.make_token(SECRET, 123456, tokens.slot_of(T))
    assert len(token) < 45
    assert all(c.isalnum() or c in "._-" for c in token)
