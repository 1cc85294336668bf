"""`make faults`: the campaign, its table, and reports/faults/last.json.

    python -m faults.run [--kills N] [--quick]

Every scenario is followed by an immediate re-run and the data check (counts =
manifest, no row twice, the clean run's digest, `seed_data verify` passes, the
re-run's evidence sealed once). Exit 0 only when every check held.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from faults.scenarios import Campaign, Outcome
from faults.stack import FaultStack
from faults.world import make_world
from seedbank.adapters.migrations import scratch_database

REPORTS = Path(__file__).resolve().parents[1] / "reports" / "faults"
MAX_KILL_RUNS = 10
"""Pool-kill runs at most, to reach `--kills` SIGKILLs (each run takes what it lasts)."""


def arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="faults", description=__doc__)
    parser.add_argument("--kills", type=int, default=24, help="pool SIGKILLs in all (≥ 20)")
    parser.add_argument("--quick", action="store_true", help="kills, lock takeover, S3 only")
    parser.add_argument(
        "--only", choices=["lock", "prefect"], help="the clean run and one scenario"
    )
    return parser.parse_args(argv)


def campaign(c: Campaign, args: argparse.Namespace) -> None:
    stack = c.world.stack
    proxies = stack.proxies
    c.clean()
    if args.only == "lock":
        c.lock_takeover()
        return
    if args.only == "prefect":
        c.outage(
            "Prefect API down mid-run",
            down=proxies["prefect"].cut,
            up=proxies["prefect"].restore,
            down_s=None,
        )
        return
    # Runs end sooner than the kills (a dev seed takes ~4.5 s since session 7, ~5 kills):
    # go on until the count is reached, a bounded number of runs.
    for _ in range(MAX_KILL_RUNS):
        if c.worker_kills >= args.kills:
            break
        c.worker_sigkills(args.kills - c.worker_kills)
    c.lock_takeover()
    c.outage(
        "S3 down at evidence time",
        down=proxies["s3"].cut,
        up=proxies["s3"].restore,
        at=c.world.batches(),
        down_s=None,
    )
    if args.quick:
        return
    c.worker_sigkills(1, whole_tree=True)
    c.outage("Redis down 10 s mid-run", down=stack.stop_redis, up=stack.start_redis)
    c.outage(
        "PostgreSQL restarted mid-run",
        down=lambda: stack.restart_postgres(down_s=3.0),
        up=lambda: None,
        down_s=0.0,
    )
    c.outage(
        "Vault down mid-run", down=proxies["vault"].cut, up=proxies["vault"].restore, down_s=None
    )
    c.outage(
        "Prefect API down mid-run",
        down=proxies["prefect"].cut,
        up=proxies["prefect"].restore,
        down_s=None,
    )
    c.cli_sigkill()


FUZZ_TESTS = ("tests/unit/test_fuzz_cli.py", "tests/unit/test_fuzz_manifest.py",
              "tests/unit/test_fuzz_settings.py")  # fmt: skip
PASSING = re.compile(r"- (\d+) passing\b")  # hypothesis: "- 200 passing, 0 failing, ..."


def run_fuzz() -> tuple[int, bool]:
    """The bad-input fuzzing (issue 15) once more: cases run, and whether every one held."""
    done = subprocess.run(  # noqa: S603  our own interpreter and test files
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
         "--hypothesis-show-statistics", *FUZZ_TESTS],
        capture_output=True, text=True, check=False, timeout=900,
    )  # fmt: skip
    return sum(int(n) for n in PASSING.findall(done.stdout)), done.returncode == 0


def report(c: Campaign, started: float) -> dict[str, Any]:
    tracebacks = sum("Traceback" in r.stderr or "Traceback" in r.stdout for r in c.world.runs)
    return {
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "seconds": round(time.monotonic() - started, 1),
        "scenarios": [o.as_dict() for o in c.results],
        "worker_kills": c.worker_kills,
        "fuzz_cases": 0,
        "rows_lost": sum(o.rows_lost for o in c.results),
        "rows_duplicated": sum(o.rows_duplicated for o in c.results),
        "digest_mismatches": sum(1 for o in c.results if o.digest_mismatch),
        "tracebacks": tracebacks,
        "cli_runs": len(c.world.runs),
    }


def table(results: list[Outcome]) -> str:
    head = f"{'scenario':<36} {'outcome':<26} {'exit':>4} {'fail s':>7} {'recover s':>9} data"
    lines = [head, "-" * len(head)]
    for o in results:
        data = (
            "held"
            if o.rerun_exit_code == 0
            and not (o.rows_lost or o.rows_duplicated or o.digest_mismatch)
            and o.verify_exit_code == 0
            and o.evidence_sealed == 1
            else "NOT HELD"
        )
        fail = "" if o.seconds_to_fail_closed is None else f"{o.seconds_to_fail_closed:.1f}"
        rec = "" if o.seconds_to_recover is None else f"{o.seconds_to_recover:.1f}"
        code = "" if o.exit_code is None else str(o.exit_code)
        lines.append(f"{o.name:<36} {o.outcome[:26]:<26} {code:>4} {fail:>7} {rec:>9} {data}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = arguments(argv)
    started = time.monotonic()
    stack = FaultStack.from_env()
    stack.up()
    try:
        with scratch_database(stack.pg_server_url, prefix="seedbank_faults") as db:
            world = make_world(stack, db)
            stack.start_worker(world.env)
            c = Campaign(world)
            try:
                campaign(c, args)
            finally:
                result = report(c, started)
                if not (args.only or args.quick):
                    result["fuzz_cases"], result["fuzz_passed"] = run_fuzz()
                REPORTS.mkdir(parents=True, exist_ok=True)
                # A reduced campaign never overwrites the full one's figures.
                name = "last.json" if not (args.only or args.quick) else "last-partial.json"
                result["campaign"] = "full" if name == "last.json" else (args.only or "quick")
                (REPORTS / name).write_text(json.dumps(result, indent=2, default=str))
                print(table(c.results))
                print(
                    f"worker kills {result['worker_kills']}, rows lost {result['rows_lost']},"
                    f" duplicated {result['rows_duplicated']}, digest mismatches"
                    f" {result['digest_mismatches']}, tracebacks {result['tracebacks']}"
                    f" -> {REPORTS / name}"
                )
                for o in c.results:
                    if o.message:
                        print(f"  {o.name}: {o.message}")
    finally:
        stack.down()
    held = all(o.outcome != "DATA NOT HELD" and "BOTH" not in o.outcome for o in c.results)
    clean = not (result["rows_lost"] or result["rows_duplicated"] or result["digest_mismatches"])
    enough = result["worker_kills"] >= args.kills or bool(args.only)
    fuzz_ok = result.get("fuzz_passed", True)
    return 0 if held and clean and enough and fuzz_ok and result["tracebacks"] == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
