"""The stall wait follows the measured batch latency (issue 16); the result tick follows
the landing rate (issue 17)."""

from __future__ import annotations

import time
import uuid
from typing import Any, cast

from hypothesis import given
from hypothesis import strategies as st

from seedbank.services.seeding.dispatch import (
    POLL_FULL_S,
    POLL_S,
    REFILL_SHARE,
    STALL_FLOOR_S,
    Dispatcher,
    DispatchTarget,
    tick_seconds,
)


def _dispatcher(stall_s: float) -> Dispatcher:
    target = DispatchTarget(run_id=uuid.uuid4(), tenant_id=uuid.uuid4(), database="d", queue="q")
    return Dispatcher(cast(Any, None), target, stall_s=stall_s, expires_s=600)


def test_configured_until_enough_batches_have_landed() -> None:
    d = _dispatcher(60)
    d._latencies.extend([1.0] * 3)
    assert d.stall_wait() == 60


def test_then_a_multiple_of_the_slowest_recent_batch_within_bounds() -> None:
    d = _dispatcher(60)
    d._latencies.extend([1.0] * 7 + [5.0])
    assert d.stall_wait() == 20.0
    fast = _dispatcher(60)
    fast._latencies.extend([0.2] * 8)
    assert fast.stall_wait() == STALL_FLOOR_S
    slow = _dispatcher(60)
    slow._latencies.extend([30.0] * 8)
    assert slow.stall_wait() == 60


def test_the_tick_is_short_until_the_window_is_full() -> None:
    # A free slot means the schedule had nothing more to send: a landing may release some.
    assert tick_seconds(16, 15, 11.0) == POLL_S
    # No rate measured yet: short.
    assert tick_seconds(16, 16, None) == POLL_S


def test_a_full_window_waits_while_a_quarter_of_it_lands() -> None:
    assert tick_seconds(16, 16, 11.0) == POLL_FULL_S  # the bench: 4 / 11 s, capped
    assert tick_seconds(16, 16, 40.0) == 0.1  # 4 batches land in 0.1 s
    assert tick_seconds(16, 16, 1000.0) == POLL_S  # 7-row batches: never below the floor


@given(
    window=st.integers(min_value=1, max_value=1000),
    in_flight=st.integers(min_value=0, max_value=1000),
    rate=st.one_of(st.none(), st.floats(min_value=0.0, max_value=1e6)),
)
def test_the_tick_stays_within_its_bounds_and_never_lets_the_queue_run_dry(
    window: int, in_flight: int, rate: float | None
) -> None:
    tick = tick_seconds(window, in_flight, rate)
    assert POLL_S <= tick <= POLL_FULL_S
    if tick > POLL_S and rate:
        assert tick * rate <= window / REFILL_SHARE + 1e-9


def test_the_landing_rate_is_measured_over_the_recent_batches() -> None:
    d = _dispatcher(60)
    assert d.landed_per_s() is None
    now = time.monotonic()
    d._landed.extend([now - 2.0, now - 1.0, now])
    rate = d.landed_per_s()
    assert rate is not None
    assert 0.9 < rate <= 1.0
