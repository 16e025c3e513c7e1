from datetime import UTC, datetime

import pytest

from app.core import clock as app_clock


def test_now_is_utc_aware_and_movable(app, clock):
    clock.move_to(datetime(2026, 9, 1, 0, 30, tzinfo=UTC))
    assert app_clock.now() == datetime(2026, 9, 1, 0, 30, tzinfo=UTC)
    clock.shift(hours=2)
    assert app_clock.now() == datetime(2026, 9, 1, 2, 30, tzinfo=UTC)


def test_local_now_uses_school_zone(app, clock):
    clock.move_to(datetime(2026, 9, 1, 16, 0, tzinfo=UTC))
    local = app_clock.local_now()
    assert (local.day, local.hour) == (2, 0)  # Asia/Shanghai is UTC+8
    assert local.utcoffset().total_seconds() == 8 * 3600


def test_to_local_refuses_naive():
    with pytest.raises(ValueError):
        app_clock.to_local(datetime(2026, 1, 1))
