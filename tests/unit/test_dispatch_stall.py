"""The stall wait follows the measured batch latency (issue 16)."""

from __future__ import annotations

import uuid
from typing import Any, cast

from seedbank.services.seeding.dispatch import STALL_FLOOR_S, Dispatcher, DispatchTarget


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
