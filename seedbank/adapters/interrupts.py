"""SIGINT/SIGTERM as a request to stop at the next batch boundary (issue 16).

A purge deletes entity by entity, each in its own transaction; a signal arriving
mid-transaction must not tear it (or the audit row that follows) down, so the handler
only records the request and the loop asks `check()` between entities.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

from seedbank.domain.errors import Interrupted


class StopRequest:
    def __init__(self) -> None:
        self.signal: str | None = None

    def check(self) -> None:
        if self.signal is not None:
            raise Interrupted(
                f"stopped by {self.signal} at a batch boundary",
                fix="re-run the same command to finish",
            )


_active: list[StopRequest] = []


def check() -> None:
    """Raise `Interrupted` when a signal arrived inside the innermost `stop_at_boundary`."""
    if _active:
        _active[-1].check()


@contextmanager
def stop_at_boundary() -> Iterator[StopRequest]:
    """Within the block SIGINT/SIGTERM set a flag instead of raising (main thread only)."""
    request = StopRequest()
    if threading.current_thread() is not threading.main_thread():
        yield request  # signals reach the main thread only: nothing to install
        return
    _active.append(request)

    def handler(signum: int, _frame: FrameType | None) -> None:
        if request.signal is not None:  # a second Ctrl-C: stop now, like before
            raise KeyboardInterrupt
        request.signal = signal.Signals(signum).name

    previous = {s: signal.signal(s, handler) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield request
    finally:
        _active.remove(request)
        for s, old in previous.items():
            signal.signal(s, old)
