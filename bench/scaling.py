"""How much more work two busy processes get done here than one: the machine's own limit
on any "2 workers / 1 worker" figure.

A shared VM's two vCPUs need not be two cores' worth of work when both are busy (host
contention, hypervisor steal). Before reading seedbank's 2-worker/1-worker figure, the
bench measures the same ratio for seedbank-shaped work that shares nothing: the workers'
own columnar generator (financial_transaction batches, no database) in separate
processes, and a backend's row store (an `INSERT … SELECT` into a temporary table with a
primary key: local buffers, no lock or buffer shared with the other backend) on
separate connections. Solo and paired rounds alternate, so a drift of the machine hits
both; the figure is the pair's work per second over one's, 2.0 for two full cores.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

_PY_KERNEL = """
import time
from datetime import UTC, datetime
from factories.columnar import encoded_batch
from factories.planner import BatchSpec
from factories.spec import DatasetSpec
counts = dict(app_user=200, advisor=500, account_category=12, supplier=2000, customer=50000,
    address=50000, bank_account=75000, credit_limit=75000, contract=40000, loan=15000,
    installment=180000, financial_transaction=1000000)
spec = DatasetSpec(tenant="calibration", env="bench", mode="baseline",
    as_of=datetime(2025, 1, 1, tzinfo=UTC), counts=counts, loan_term_months=12,
    manifest_digest="0" * 64)
salt = b"machine-calibration-never-a-dataset"
tx = "financial_transaction"
encoded_batch(spec, BatchSpec(tx, 0, 1000), salt)  # the per-process id tables
while time.time() < {start_at}:  # paired processes start together, their cores awake
    pass
t, rows = time.perf_counter(), 0
while time.perf_counter() - t < {seconds}:
    start = rows % (counts[tx] - 10000)  # a fast machine goes round the 1 M rows again
    encoded_batch(spec, BatchSpec(tx, start, start + 10000), salt)
    rows += 10000
print(rows / (time.perf_counter() - t))
"""
_PY_SECONDS = 2.0
_PY_START_S = 3.0  # after the imports and the warm-up batch (~1.7 s)
_SQL_KERNEL = (
    "CREATE TEMPORARY TABLE calibration (id uuid PRIMARY KEY, amount numeric, note text)"
    " ON COMMIT DROP;"
    " INSERT INTO calibration SELECT gen_random_uuid(), g / 100.0, md5(g::text)"
    " FROM generate_series(1, 150000) g"
)
_ROOT = Path(__file__).resolve().parents[1]
ROUNDS = 3


@dataclass
class Scaling:
    """Per kernel and round, the pair's work over one process's (2.0 = two cores), and the
    solo figures beside them."""

    python: list[float] = field(default_factory=list)
    postgres: list[float] = field(default_factory=list)
    python_solo_rows_per_s: list[float] = field(default_factory=list)
    """One process's speed: how fast the machine was then (it drifts by tens of %)."""
    postgres_solo_s: list[float] = field(default_factory=list)

    def median(self) -> dict[str, float]:
        return {
            k: round(statistics.median(v), 2)
            for k, v in (("python", self.python), ("postgres", self.postgres))
            if v
        }

    def speed(self) -> str:
        """The solo kernels' medians: the machine's own speed at the time."""
        if not self.python_solo_rows_per_s:
            return "not measured"
        rows = statistics.median(self.python_solo_rows_per_s)
        return (
            f"one generator {rows:,.0f} rows/s, one backend's insert"
            f" {statistics.median(self.postgres_solo_s):.2f} s"
        )

    def extend(self, other: Scaling) -> None:
        self.python += other.python
        self.postgres += other.postgres
        self.python_solo_rows_per_s += other.python_solo_rows_per_s
        self.postgres_solo_s += other.postgres_solo_s


def _python(n: int) -> list[float]:
    """Rows per second of each of `n` generator processes running at once."""
    start_at = time.time() + _PY_START_S
    code = _PY_KERNEL.replace("{seconds}", repr(_PY_SECONDS)).replace("{start_at}", repr(start_at))
    procs = [
        subprocess.Popen(  # noqa: S603
            [sys.executable, "-c", code], stdout=subprocess.PIPE, text=True, cwd=_ROOT
        )
        for _ in range(n)
    ]
    speeds = []
    for proc in procs:
        out, _ = proc.communicate()
        if proc.returncode != 0:  # its traceback is on the bench's stderr already
            raise SystemExit(f"bench: the machine calibration's generator exited {proc.returncode}")
        speeds.append(float(out))
    return speeds


def _postgres(url: str, n: int) -> list[float]:
    conns = [psycopg.connect(url, autocommit=True) for _ in range(n)]
    out: list[float] = [0.0] * n
    start = threading.Barrier(n)

    def run(i: int) -> None:
        start.wait()
        t = time.perf_counter()
        with conns[i].transaction():
            conns[i].execute(_SQL_KERNEL)
        out[i] = time.perf_counter() - t

    try:
        threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
    finally:
        for c in conns:
            c.close()
    return out


def measure(url: str, rounds: int = ROUNDS) -> Scaling:
    """`rounds` solo/paired alternations per kernel (~12 s a round)."""
    result = Scaling()
    for _ in range(rounds):
        solo = _python(1)[0]
        result.python.append(sum(_python(2)) / solo)
        result.python_solo_rows_per_s.append(solo)
        solo = _postgres(url, 1)[0]
        result.postgres.append(2 * solo / statistics.mean(_postgres(url, 2)))
        result.postgres_solo_s.append(solo)
    return result
