"""The garbage collector around one `seed_data` process.

A command imports Prefect and its flow lazily: millions of objects that all live until
the process ends. The collector's full passes during those imports find nothing to free
(~0.5 s), every later full pass walks them again, and at exit the interpreter's teardown
walks the whole heap once more: a dev seed spent 1.1 s between `main` returning and the
process ending, 0.07-0.13 s with the heap frozen (`gc.freeze`; threads, atexit handlers
and log flushes run as before). Only the console script's own process does this: a
caller of `main(argv)` in a longer-lived process (the tests) keeps its collector as is.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

_own_process = False


def own_process() -> None:
    """This process is the command: it ends when the command does."""
    global _own_process  # noqa: PLW0603  (one flag per process, set by the entry point)
    _own_process = True


@contextmanager
def importing() -> Iterator[None]:
    """Import without collecting, then freeze what was imported (later passes skip it)."""
    if not _own_process:
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        gc.enable()


def before_exit() -> None:
    """Freeze what lives now, so the interpreter's teardown does not collect it again."""
    if _own_process:
        gc.freeze()
