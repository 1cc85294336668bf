"""The reference API served by a real uvicorn on a free loopback port, in a thread."""

from __future__ import annotations

import secrets
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn
from pydantic import SecretStr

from seedbank.api.service import create_app
from seedbank.api.settings import ApiSettings
from seedbank.settings import Settings


def api_settings(**changes: object) -> ApiSettings:
    """Settings with a fresh random token key (never the stack's)."""
    values: dict[str, object] = {"token_key": SecretStr(secrets.token_urlsafe(32))}
    values.update(changes)
    return ApiSettings.model_validate(values)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def serve_api(api: ApiSettings, settings: Settings | None = None) -> Iterator[str]:
    """Base URL of a running service; settings default to the (monkeypatched) env."""
    port = _free_port()
    app = create_app(settings or Settings(), api)
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name=f"api-{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the API server did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
