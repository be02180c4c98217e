"""Passwords and tokens never reach the logs: every record is captured and searched."""

import argparse
import io
import logging

import pytest
from fastapi.testclient import TestClient

from app.auth.cli import add_auth_commands
from app.logs import JsonLineFormatter
from app.settings import get_settings
from tests.auth_fixtures import MakeAccount, new_email


def _everything_logged(records: list[logging.LogRecord]) -> str:
    formatter = JsonLineFormatter()
    return "\n".join(f"{formatter.format(r)} {r.args!r}" for r in records)


def test_passwords_and_tokens_never_appear_in_the_logs(
        client: TestClient, make_account: MakeAccount, database: str,
        caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch) -> None:
    carrier = make_account("carrier")
    wrong_password = "mauvais-mot-de-passe-tres-reconnaissable"
    new_password = "mot-de-passe-cree-en-ligne-de-commande"
    caplog.set_level(logging.DEBUG)

    browser = TestClient(client.app)
    csrf = browser.get("/api/auth/csrf").json()["csrf_token"]
    refused = browser.post("/api/auth/login", headers={"X-CSRF-Token": csrf},
                           json={"email": carrier.email, "password": wrong_password})
    assert refused.status_code == 401 and wrong_password not in refused.text
    too_long = browser.post("/api/auth/login", headers={"X-CSRF-Token": csrf},
                            json={"email": carrier.email, "password": wrong_password * 40})
    assert too_long.status_code == 422 and wrong_password not in too_long.text
    signed_in = browser.post("/api/auth/login", headers={"X-CSRF-Token": csrf},
                             json={"email": carrier.email, "password": carrier.password})
    session_csrf = signed_in.json()["csrf_token"]
    created = browser.post("/api/tokens", json={"name": "journal"},
                           headers={"X-CSRF-Token": session_csrf}).json()
    script = TestClient(client.app, headers={"Authorization": f"Bearer {created['token']}"})
    assert script.get("/api/communes", params={"q": "nice"}).status_code == 200
    assert script.get("/api/me").status_code == 200
    form = TestClient(client.app)
    form.get("/login")
    form.post("/login", data={"email": carrier.email, "password": wrong_password,
                              "csrf_token": form.cookies["cpts_csrf"]})

    # the command line, without its logging set-up (which would remove pytest's capture)
    monkeypatch.setenv("DATABASE_URL", database)
    get_settings.cache_clear()
    monkeypatch.setattr("sys.stdin", io.StringIO(new_password + "\n"))
    parser = argparse.ArgumentParser()
    add_auth_commands(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["users", "create", "--email", new_email("log"), "--role",
                              "admin", "--password-stdin"])
    assert args.func(args) == 0
    get_settings.cache_clear()

    logged = _everything_logged(caplog.records)
    assert '"path": "/api/auth/login"' in logged and '"path": "/api/me"' in logged
    secrets = {
        "password": carrier.password,
        "wrong password": wrong_password,
        "CLI password": new_password,
        "API token (fixture)": carrier.token,
        "API token (created)": created["token"],
        "session cookie": browser.cookies["cpts_session"],
        "CSRF token": session_csrf,
    }
    leaked = [name for name, value in secrets.items() if value in logged]
    assert not leaked, f"found in the logs: {leaked}"
