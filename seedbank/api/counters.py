"""The service's own log of requests per env/tenant, so rates are measured server-side.

In memory, per process: the reference service runs as one uvicorn process. Only
requests with valid credentials to resource endpoints are logged (429s included);
the meta endpoints are not, so reading the log does not change it.
"""

from __future__ import annotations

import threading
from collections import Counter, deque
from typing import Any

MAX_ENTRIES = 10_000


class RequestLog:
    def __init__(self, max_entries: int = MAX_ENTRIES) -> None:
        self._lock = threading.Lock()
        self._max = max_entries
        self._log: dict[tuple[str, str], deque[tuple[float, int]]] = {}

    def record(self, *, env: str, tenant: str, status: int, at: float) -> None:
        with self._lock:
            entries = self._log.setdefault((env, tenant), deque(maxlen=self._max))
            entries.append((at, status))

    def snapshot(self, *, env: str, tenant: str, since: float) -> dict[str, Any]:
        with self._lock:
            entries = [e for e in self._log.get((env, tenant), ()) if e[0] >= since]
        entries.sort()
        by_status = Counter(str(status) for _, status in entries)
        times = [at for at, _ in entries]
        return {
            "env": env,
            "tenant": tenant,
            "since": since,
            "count": len(entries),
            "by_status": dict(sorted(by_status.items())),
            "first_at": times[0] if times else None,
            "last_at": times[-1] if times else None,
            "timestamps": times,
        }
