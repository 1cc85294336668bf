"""CPU core-seconds per component of a phase, so the budget can be read off any machine.

Components: the bench's Celery worker tree; the PostgreSQL backends serving the phase's
scratch database (named in their process title); the bench's other descendants (the
`seed_data` CLI and its flow, or the ceiling's loaders); and the rest of the machine
(PostgreSQL's shared background processes, the stack's services, other users' load).
Processes are sampled every 0.5 s. The process table is kept between samples: a sample
lists /proc and reads the parent and name of the new processes only (a PostgreSQL
process's command line until it names its database), then the CPU times of the processes
placed in a component. The sampler runs on the same cores as the run it measures: at
0.25 s with a command-line read per process per sample it cost ~0.1 core, 5 % of a
CPU-bound 2-worker run; a full pass over the table every 0.5 s still cost 0.02 core, this
~0.005. A backend that starts and ends between two samples is missed, so the backends'
figure is a lower bound (the sink keeps one per worker).
"""

from __future__ import annotations

import bisect
import os
import threading
import time
from dataclasses import asdict, dataclass, field

import psutil  # type: ignore[import-untyped]  # no stubs pinned; comes with Prefect


@dataclass
class ComponentCpu:
    """Core-seconds (user + system) of each component over one phase."""

    workers: float = 0.0
    postgres: float = 0.0
    flow: float = 0.0
    rest: float = 0.0
    machine: float = 0.0
    steal: float = 0.0  # of `machine`: time the hypervisor gave our vCPUs to others

    def line(self, label: str, flow_name: str = "flow process") -> str:
        return (
            f"CPU by component, {label} (core-s): workers {self.workers:.1f}, PostgreSQL"
            f" backends {self.postgres:.1f}, {flow_name} {self.flow:.1f}, rest of the machine"
            f" {self.rest:.1f} (shared PostgreSQL processes, stack services, other load,"
            f" hypervisor steal {self.steal:.1f}); machine busy {self.machine:.1f}"
        )

    def cores_line(self, label: str, seconds: float) -> str:
        """The same figures as cores in use over `seconds` (a stage of the phase)."""
        return (
            f"cores in use, {label} seeding stage ({seconds:.1f} s): workers"
            f" {self.workers / seconds:.2f}, PostgreSQL backends {self.postgres / seconds:.2f},"
            f" flow process {self.flow / seconds:.2f}, rest {self.rest / seconds:.2f} (steal"
            f" {self.steal / seconds:.2f}); machine {self.machine / seconds:.2f}"
        )


def _busy_core_s() -> float:
    t = psutil.cpu_times()
    return float(sum(t) - t.idle - getattr(t, "iowait", 0.0))


def _steal_core_s() -> float:
    return float(getattr(psutil.cpu_times(), "steal", 0.0))


@dataclass
class _Seen:
    base: dict[int, float] = field(default_factory=dict)
    last: dict[int, float] = field(default_factory=dict)

    def note(self, pid: int, used: float, *, before: bool) -> None:
        # A process already running when the phase starts counts from then; one started
        # during the phase counts whole.
        self.base.setdefault(pid, used if before else 0.0)
        self.last[pid] = used

    def total(self) -> float:
        return sum(self.last[p] - self.base[p] for p in self.last)


class ComponentSampler(threading.Thread):
    """Samples the components of one phase until `stop`; use as a context manager.

    Processes alive at `start` count from that moment, so time spent before the phase is
    not charged to it; processes started later count from their birth.
    """

    def __init__(self, database: str, worker_pid: int | None, interval_s: float = 0.5) -> None:
        super().__init__(name="component-cpu", daemon=True)
        self._title = f" {database} "
        self._worker_pid = worker_pid
        self._interval = interval_s
        self._halt = threading.Event()
        self._seen = {"workers": _Seen(), "postgres": _Seen(), "flow": _Seen()}
        self._backends: set[int] = set()  # this phase's database's backends
        self._settled: set[int] = set()  # processes that are not (and will not become) one
        self._machine0 = _busy_core_s()
        self._steal0 = _steal_core_s()
        self.result = ComponentCpu()
        self._before = True
        self._series: list[tuple[float, ComponentCpu]] = []
        """(wall clock, core-s so far) per sample: what any window of the phase used."""
        self._table: dict[int, tuple[int, psutil.Process]] = {}
        """Every process seen alive at the last sample: its parent id and handle."""

    def __enter__(self) -> ComponentSampler:
        self._sample()
        self._before = False
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._halt.set()
        self.join(timeout=5)
        self._sample()
        self.result = self._series[-1][1]

    def window(self, start: float, stop: float) -> ComponentCpu:
        """Core-seconds used between two wall-clock instants of the phase (a stage),
        interpolated between the samples around each (0.5 s apart)."""
        at_start, at_stop = self._at(start), self._at(stop)
        return ComponentCpu(
            **{k: round(v - getattr(at_start, k), 2) for k, v in asdict(at_stop).items()}
        )

    def _at(self, when: float) -> ComponentCpu:
        stamps = [t for t, _ in self._series]
        i = bisect.bisect_left(stamps, when)
        if i == 0:
            return self._series[0][1]
        if i == len(stamps):
            return self._series[-1][1]
        (t0, a), (t1, b) = self._series[i - 1], self._series[i]
        share = (when - t0) / (t1 - t0) if t1 > t0 else 1.0
        return ComponentCpu(**{k: v + (getattr(b, k) - v) * share for k, v in asdict(a).items()})

    def _so_far(self) -> ComponentCpu:
        w, p, f = (self._seen[k].total() for k in ("workers", "postgres", "flow"))
        machine = _busy_core_s() - self._machine0
        return ComponentCpu(
            workers=round(w, 2),
            postgres=round(p, 2),
            flow=round(f, 2),
            rest=round(max(machine - w - p - f, 0.0), 2),
            machine=round(machine, 2),
            steal=round(_steal_core_s() - self._steal0, 2),
        )

    def run(self) -> None:
        while not self._halt.wait(self._interval):
            self._sample()

    def _sample(self) -> None:
        for name, procs in self._placed().items():
            for proc in procs:
                self._note(name, proc)
        self._series.append((time.time(), self._so_far()))

    def _placed(self) -> dict[str, list[psutil.Process]]:
        """The processes of each component now (new ones read once, gone ones dropped)."""
        alive = set(psutil.pids())
        for pid in self._table.keys() - alive:
            del self._table[pid]
        for pid in alive - self._table.keys():
            try:
                proc = psutil.Process(pid)
                self._table[pid] = (proc.ppid(), proc)
                if proc.name() != "postgres":
                    self._settled.add(pid)
            except (psutil.NoSuchProcess, psutil.AccessDenied):
                continue
        for pid, (_, proc) in self._table.items():
            if pid not in self._settled and pid not in self._backends:
                self._classify(proc)
        parent = {pid: ppid for pid, (ppid, _) in self._table.items()}
        workers = _descendants(self._worker_pid, parent)
        flow = _descendants(os.getpid(), parent) - workers - {os.getpid()}
        backends = self._backends & parent.keys()
        return {
            name: [self._table[pid][1] for pid in pids]
            for name, pids in (("workers", workers), ("flow", flow), ("postgres", backends))
        }

    def _classify(self, proc: psutil.Process) -> None:
        """A PostgreSQL process: this phase's backend, another's, or not titled yet."""
        try:
            title = " ".join(proc.cmdline())
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            return
        if self._title in f"{title} ":
            self._backends.add(proc.pid)
        elif ":" in title and " " in title.split(":", 2)[-1].strip():
            # A backend of another database (a starting one has no user/db title yet).
            self._settled.add(proc.pid)

    def _note(self, name: str, proc: psutil.Process) -> None:
        try:
            times = proc.cpu_times()
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            return
        self._seen[name].note(proc.pid, times.user + times.system, before=self._before)


def _descendants(root: int | None, parent: dict[int, int]) -> set[int]:
    """`root` and every process below it, from one snapshot of parent ids."""
    if root is None or root not in parent:
        return set()
    children: dict[int, list[int]] = {}
    for pid, ppid in parent.items():
        children.setdefault(ppid, []).append(pid)
    found, todo = {root}, [root]
    while todo:
        for child in children.get(todo.pop(), ()):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


@dataclass(frozen=True)
class PhaseFigures:
    """What one phase used: its CPU by component, and the WAL the server wrote for its rows."""

    cpu: ComponentCpu
    wal_bytes: int
    rows: int


MEASURED: dict[str, PhaseFigures] = {}
"""Per phase label, filled by the phases (kept here so the phases' signatures stay put)."""


def report() -> dict[str, dict[str, float]]:
    """Print one CPU line per measured phase and one line of their WAL; return the figures
    for last.json."""
    for label, phase in MEASURED.items():
        loaders = label.startswith("ceiling")
        flow = "loaders (incl. untimed generation)" if loaders else "flow process (CLI)"
        print(phase.cpu.line(label, flow))
    if MEASURED:
        wal = [
            f"{label} {p.wal_bytes / 1e6:,.0f} MB ({p.wal_bytes / max(p.rows, 1):.0f} B/row)"
            for label, p in MEASURED.items()
        ]
        print("WAL written per phase (server-wide): " + "; ".join(wal))
    return {
        label: asdict(p.cpu) | {"wal_bytes": p.wal_bytes, "rows": p.rows}
        for label, p in MEASURED.items()
    }
