"""The `cpts users` and `cpts tokens` commands, as an administrator runs them on the server."""

import io
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from app.cli import main
from app.settings import get_settings
from tests.auth_fixtures import new_email


@pytest.fixture
def cli(database: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("DATABASE_URL", database)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def _run(monkeypatch: pytest.MonkeyPatch, *argv: str, stdin: str = "") -> int:
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    return main(list(argv))


def test_admin_creates_an_agency_user_who_can_then_sign_in(
        cli: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
        client: TestClient) -> None:
    email = new_email("cli-ars")
    assert _run(monkeypatch, "users", "create", "--email", email, "--role", "ars",
                "--region", "93", "84", "--password-stdin",
                stdin="un mot de passe solide\n") == 0
    assert f"compte créé : {email} (ars)" in capsys.readouterr().out
    assert _run(monkeypatch, "users", "list") == 0
    line = next(row for row in capsys.readouterr().out.splitlines() if email in row)
    assert "84,93" in line and "actif" in line and "jamais" in line

    browser = TestClient(client.app)
    csrf = browser.get("/api/auth/csrf").json()["csrf_token"]
    response = browser.post("/api/auth/login", headers={"X-CSRF-Token": csrf},
                            json={"email": email, "password": "un mot de passe solide"})
    assert response.status_code == 200 and response.json()["scopes"]["regions"] == ["84", "93"]


def test_scopes_that_do_not_fit_the_role_are_refused(
        cli: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    email = new_email("cli-bad")
    assert _run(monkeypatch, "users", "create", "--email", email, "--role", "observer",
                "--password-stdin", stdin="un mot de passe solide\n") == 1
    assert "invalid_scope" in capsys.readouterr().err
    assert _run(monkeypatch, "users", "create", "--email", email, "--role", "carrier",
                "--scope", "cpts:987654321", "--password-stdin",
                stdin="un mot de passe solide\n") == 1
    assert "unknown_cpts" in capsys.readouterr().err
    assert _run(monkeypatch, "users", "create", "--email", email, "--role", "admin",
                "--password-stdin", stdin="court\n") == 1
    assert "weak_password" in capsys.readouterr().err
    assert _run(monkeypatch, "users", "list") == 0
    assert email not in capsys.readouterr().out


def test_a_token_is_printed_once_works_and_can_be_revoked(
        cli: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
        client: TestClient) -> None:
    email = new_email("cli-script")
    _run(monkeypatch, "users", "create", "--email", email, "--role", "observer", "--scope",
         "region:93", "--password-stdin", stdin="un mot de passe solide\n")
    capsys.readouterr()
    assert _run(monkeypatch, "tokens", "create", "--email", email, "--name", "export") == 0
    printed = capsys.readouterr()
    token = printed.out.strip()
    assert token.startswith("cpts_") and "il ne sera plus affiché" in printed.err
    script = TestClient(client.app, headers={"Authorization": f"Bearer {token}"})
    assert script.get("/api/me").json()["email"] == email

    assert _run(monkeypatch, "tokens", "list", "--email", email) == 0
    listing = capsys.readouterr().out
    assert token[:11] in listing and token not in listing
    token_id = listing.split()[0]
    assert _run(monkeypatch, "tokens", "revoke", token_id) == 0
    assert script.get("/api/me").json()["code"] == "token_revoked"


def test_disabling_a_user_closes_its_sessions_and_enabling_restores_access(
        cli: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
        client: TestClient) -> None:
    email = new_email("cli-leaver")
    _run(monkeypatch, "users", "create", "--email", email, "--role", "carrier",
         "--password-stdin", stdin="un mot de passe solide\n")
    _run(monkeypatch, "tokens", "create", "--email", email)
    token = capsys.readouterr().out.strip().splitlines()[-1]
    script = TestClient(client.app, headers={"Authorization": f"Bearer {token}"})
    assert _run(monkeypatch, "users", "disable", "--email", email) == 0
    assert script.get("/api/me").json()["code"] == "account_disabled"
    _run(monkeypatch, "users", "list")
    assert "désactivé" in next(r for r in capsys.readouterr().out.splitlines() if email in r)
    assert _run(monkeypatch, "users", "enable", "--email", email) == 0
    assert script.get("/api/me").status_code == 200
    assert _run(monkeypatch, "users", "disable", "--email", new_email("nobody")) == 1
    assert "unknown_user" in capsys.readouterr().err
