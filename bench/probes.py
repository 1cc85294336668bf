"""Probes sampled during a phase: the Celery worker tree's memory, the machine's CPU and
the WAL the server wrote."""

from __future__ import annotations

import threading
from dataclasses import dataclass

import psutil  # type: ignore[import-untyped]  # no stubs pinned; comes with Prefect
import psycopg


@dataclass
class MemoryPeak:
    """Peaks over the samples: one process's RSS, and the whole worker tree's RSS / PSS;
    and the CPU seconds (user + system) the tree used over the window."""

    process_rss_mb: float = 0.0
    tree_rss_mb: float = 0.0
    tree_pss_mb: float = 0.0
    samples: int = 0
    cpu_s: float = 0.0


PSS_EVERY = 4
"""PSS (a walk of every mapping) and the worker's children (a pass over the process
table) are read at every PSS_EVERY-th sample only; RSS (one read of `statm`) at each.
Reading all of it every 0.5 s cost 0.026 cores, out of the two cores a 2-worker run needs
(measured with the bench idle); now ~0.007."""


class MemorySampler(threading.Thread):
    """Samples the worker's main process and its pool children every `interval_s`."""

    def __init__(self, pid: int, interval_s: float = 0.5) -> None:
        super().__init__(name="rss-sampler", daemon=True)
        self._root = psutil.Process(pid)
        self._interval = interval_s
        self._stop_event = threading.Event()
        self._lock = threading.Lock()
        self._cpu: dict[int, float] = {}
        self._cpu_base = 0.0
        self._procs: list[psutil.Process] = []
        self.peak = MemoryPeak()

    def run(self) -> None:
        while not self._stop_event.wait(self._interval):
            self.sample()

    def sample(self) -> None:
        with self._lock:
            self._sample()

    def _sample(self) -> None:
        with_pss = self.peak.samples % PSS_EVERY == 0
        if with_pss or not self._procs:  # the pool's children, found with the PSS pass
            try:
                self._procs = [self._root, *self._root.children(recursive=True)]
            except psutil.NoSuchProcess:
                return
        rss = pss = 0.0
        for proc in self._procs:
            try:
                info = proc.memory_full_info() if with_pss else proc.memory_info()
                times = proc.cpu_times()
            except (psutil.NoSuchProcess, psutil.AccessDenied):
                continue
            self._cpu[proc.pid] = times.user + times.system
            mb = info.rss / 2**20
            rss += mb
            pss += getattr(info, "pss", info.rss) / 2**20
            self.peak.process_rss_mb = max(self.peak.process_rss_mb, mb)
        self.peak.tree_rss_mb = max(self.peak.tree_rss_mb, rss)
        if with_pss:
            self.peak.tree_pss_mb = max(self.peak.tree_pss_mb, pss)
        self.peak.samples += 1

    def take(self) -> MemoryPeak:
        """The peaks since the last `take` (one measured run), then start afresh."""
        with self._lock:
            self._sample()
            used = sum(self._cpu.values())
            peak, self.peak = self.peak, MemoryPeak()
            peak.cpu_s, self._cpu_base = round(used - self._cpu_base, 2), used
        return peak

    def stop(self) -> MemoryPeak:
        self._stop_event.set()
        self.join(timeout=5)
        return self.peak


class CpuMeter:
    """Share of the machine's CPU time that was busy between `start` and `busy`."""

    def __init__(self) -> None:
        self._start = psutil.cpu_times()

    def start(self) -> None:
        self._start = psutil.cpu_times()

    def busy(self) -> float:
        end = psutil.cpu_times()
        total = sum(end) - sum(self._start)
        idle = (end.idle + end.iowait) - (self._start.idle + self._start.iowait)
        return 1.0 - idle / total if total > 0 else 0.0


class WalMeter:
    """Bytes of WAL the server inserted since construction (server-wide: the stack's
    other databases are idle during a phase). More WAL per row means more time in the
    WAL locks two writers share, and more for the WAL writer and checkpointer to do."""

    def __init__(self, server_url: str) -> None:
        self._url = server_url
        self._start = self._lsn()

    def _lsn(self) -> str:
        with psycopg.connect(self._url, autocommit=True) as conn:
            row = conn.execute("SELECT pg_current_wal_insert_lsn()::text").fetchone()
        return str(row[0]) if row else "0/0"

    def written(self) -> int:
        with psycopg.connect(self._url, autocommit=True) as conn:
            row = conn.execute(
                "SELECT pg_wal_lsn_diff(pg_current_wal_insert_lsn(), %s::pg_lsn)::bigint",
                (self._start,),
            ).fetchone()
        return int(row[0]) if row else 0
