"""A client told that its write succeeded has it committed: the request's transaction ends
before the first byte of the response is sent, not after (a crash in between would lose an
acknowledged write, and a client reading right after its write could miss it)."""

import asyncio
import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.db import Conn
from tests.auth_fixtures import RUN, Account


def call(app: Any, method: str, path: str, body: dict[str, Any], token: str,
         events: list[str]) -> int:
    """One request straight through the ASGI interface, noting when the response starts."""
    payload = json.dumps(body).encode()
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method,
        "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": b"",
        "root_path": "", "client": ("127.0.0.1", 50000), "server": ("testserver", 80),
        "headers": [(b"host", b"testserver"), (b"content-type", b"application/json"),
                    (b"content-length", str(len(payload)).encode()),
                    (b"authorization", f"Bearer {token}".encode())],
    }
    received = False
    status = 0

    async def receive() -> dict[str, Any]:
        nonlocal received
        if not received:
            received = True
            return {"type": "http.request", "body": payload, "more_body": False}
        await asyncio.sleep(3600)  # the client stays connected
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
            events.append("response started")

    # Its own thread and event loop: other tests may leave one running in this thread.
    with ThreadPoolExecutor(1) as runner:
        runner.submit(lambda: asyncio.run(app(scope, receive, send))).result()
    return status


def test_a_write_is_committed_before_its_response_starts(
    client: TestClient, admin_account: Account, monkeypatch: pytest.MonkeyPatch,
) -> None:
    pool = client.app.state.pool  # type: ignore[attr-defined]
    borrowed = pool.connection
    events: list[str] = []

    @contextmanager
    def watched(*args: Any, **kwargs: Any) -> Iterator[Conn]:
        with borrowed(*args, **kwargs) as conn:  # commits on a clean exit
            events.append("transaction started")
            yield conn
        events.append("transaction ended")

    monkeypatch.setattr(pool, "connection", watched)
    status = call(client.app, "POST", "/api/cpts",
                  {"name": f"CPTS engagement {RUN}", "status": "lettre_intention",
                   "communes": ["06088"]}, admin_account.token, events)
    assert status == 201
    assert "response started" in events and events.count("transaction ended") >= 2
    assert events[-1] == "response started", events
