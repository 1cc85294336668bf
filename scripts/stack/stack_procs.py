"""Process plumbing: spawn in own session, pid files, liveness, group stop, probes."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

# Linux-only: process facts come straight from /proc (no untyped psutil needed).
PROC = Path("/proc")


def _stat_fields(pid: int) -> list[str] | None:
    try:
        raw = (PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    # The command name is in parentheses and may contain spaces: split after it.
    return raw[raw.rindex(")") + 2 :].split()


def is_alive(pid: int) -> bool:
    """True if the process exists and is not a zombie waiting to be reaped."""
    fields = _stat_fields(pid)
    return fields is not None and fields[0] not in ("Z", "X")


def cmdline(pid: int) -> str:
    try:
        return (PROC / str(pid) / "cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def group_members(pgid: int) -> list[int]:
    """Live processes whose process group is `pgid`."""
    members = []
    for entry in PROC.iterdir():
        if entry.name.isdigit():
            fields = _stat_fields(int(entry.name))
            if fields and fields[0] not in ("Z", "X") and int(fields[2]) == pgid:
                members.append(int(entry.name))
    return members


def pid_file(pids_dir: Path, service: str) -> Path:
    return pids_dir / f"{service}.pid"


def read_pid(pids_dir: Path, service: str) -> int | None:
    try:
        return int(pid_file(pids_dir, service).read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def running_pid(pids_dir: Path, service: str, marker: str) -> int | None:
    """Pid of our live process for `service`; the marker guards against pid reuse."""
    pid = read_pid(pids_dir, service)
    if pid is not None and is_alive(pid) and marker in cmdline(pid):
        return pid
    return None


def spawn(
    argv: list[str],
    *,
    env: dict[str, str],
    log: Path,
    cwd: Path,
    user: str | None = None,
    drop_stdout: bool = False,
) -> subprocess.Popen[bytes]:
    """Start `argv` as the leader of a new session, output appended to `log`."""
    fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    with os.fdopen(fd, "ab") as out:
        stamp = datetime.now(UTC).isoformat(timespec="seconds")
        out.write(f"=== {stamp} stack start: {' '.join(argv)}\n".encode())
        out.flush()
        return subprocess.Popen(
            argv,
            env=env,
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL if drop_stdout else out,
            stderr=out,
            start_new_session=True,  # own process group: `down` can kill it whole
            user=user,
            group=user,
            extra_groups=[] if user else None,
        )


def stop_group(pgid: int, sig: int, leader_only: bool, grace: float) -> bool:
    """Signal a process group, wait for it to empty, SIGKILL after `grace` seconds.

    Returns False if something survived even SIGKILL.
    """
    try:
        if leader_only:
            os.kill(pgid, sig)
        else:
            os.killpg(pgid, sig)
    except ProcessLookupError:
        pass
    if wait_until(lambda: not group_members(pgid), grace):
        return True
    try:
        os.killpg(pgid, signal.SIGKILL)
    except ProcessLookupError:
        return True
    return wait_until(lambda: not group_members(pgid), 5.0)


def wait_until(check: Callable[[], bool], timeout: float, step: float = 0.2) -> bool:
    deadline = time.monotonic() + timeout
    while True:
        if check():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(step)


def tcp_open(host: str, port: int, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def unix_open(path: Path, timeout: float = 0.5) -> bool:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(timeout)
        try:
            sock.connect(str(path))
            return True
        except OSError:
            return False


def redis_ping(host: str, port: int, timeout: float = 0.5) -> bool:
    """Raw RESP PING, so probing needs no client library."""
    try:
        with socket.create_connection((host, port), timeout=timeout) as sock:
            sock.sendall(b"*1\r\n$4\r\nPING\r\n")
            return sock.recv(64).startswith(b"+PONG")
    except OSError:
        return False


def http_ok(url: str, timeout: float = 1.0) -> bool:
    from urllib.error import URLError
    from urllib.request import urlopen

    try:
        with urlopen(url, timeout=timeout) as resp:  # noqa: S310 - fixed http://127.0.0.1 URLs
            return 200 <= int(resp.status) < 300
    except (URLError, OSError, ValueError):
        return False
