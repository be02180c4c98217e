"""The application served for real by uvicorn in a thread, on a free local port, for the tests
whose client talks over a socket (Chromium, GDAL, httpx from several threads)."""

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn

from app.main import create_app
from app.settings import Settings
from tests.conftest import free_port


@contextmanager
def serving(settings: Settings, **options: Any) -> Iterator[str]:
    """`create_app(settings)` served by uvicorn with `options` (uvicorn's), on 127.0.0.1 and a
    free port; yields its base URL and stops the server at the end."""
    port = free_port()
    config = uvicorn.Config(create_app(settings), **options | {"host": "127.0.0.1", "port": port})
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)
