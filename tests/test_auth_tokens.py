"""Personal API tokens for scripts: shown once, stored hashed, listed with their last use,
revocable, refused once revoked or expired, and unable to mint other tokens."""

from fastapi.testclient import TestClient

from app.auth.tokens import digest
from app.db import connect
from tests.auth_fixtures import ClientAs, MakeAccount


def _bearer(test_client: TestClient, token: str) -> TestClient:
    script = TestClient(test_client.app)
    script.headers["Authorization"] = f"Bearer {token}"
    return script


def test_a_token_is_shown_once_and_only_its_digest_is_stored(
        client_as: ClientAs, make_account: MakeAccount, database: str) -> None:
    observer = make_account("observer", regions=["84"])
    browser = client_as(observer, via="session")
    created = browser.post("/api/tokens", json={"name": "export QGIS", "expires_in_days": 30})
    assert created.status_code == 201
    token = created.json()["token"]
    assert token.startswith("cpts_") and created.json()["prefix"] == token[:11]
    listed = browser.get("/api/tokens").json()
    assert [t["name"] for t in listed][:1] == ["export QGIS"]
    assert all("token" not in t for t in listed)
    with connect(database) as conn:
        row = conn.execute("SELECT * FROM api_token WHERE id = %s",
                           (created.json()["id"],)).fetchone()
    assert row is not None and bytes(row["secret_hash"]) == digest(token)
    assert token not in repr(row)


def test_a_script_uses_its_token_and_the_list_shows_when(client_as: ClientAs,
                                                         make_account: MakeAccount) -> None:
    carrier = make_account("carrier")
    browser = client_as(carrier, via="session")
    token = browser.post("/api/tokens", json={"name": "script"}).json()
    assert browser.get("/api/tokens").json()[0]["last_used_at"] is None
    me = _bearer(browser, token["token"]).get("/api/me").json()
    assert me["email"] == carrier.email and me["authenticated_via"] == "token"
    used = next(t for t in browser.get("/api/tokens").json() if t["id"] == token["id"])
    assert used["last_used_at"] is not None


def test_a_revoked_token_is_refused(client_as: ClientAs, make_account: MakeAccount) -> None:
    carrier = make_account("carrier")
    browser = client_as(carrier, via="session")
    token = browser.post("/api/tokens", json={"name": "ancien script"}).json()
    script = _bearer(browser, token["token"])
    assert script.get("/api/communes", params={"q": "nice"}).status_code == 200
    assert browser.delete(f"/api/tokens/{token['id']}").status_code == 204
    refused = script.get("/api/communes", params={"q": "nice"})
    assert refused.status_code == 401
    assert refused.json()["code"] == "token_revoked"
    assert "révoqué le" in refused.json()["detail"]
    assert refused.headers["www-authenticate"].startswith("Bearer")
    listed = next(t for t in browser.get("/api/tokens").json() if t["id"] == token["id"])
    assert listed["revoked_at"] is not None
    assert browser.delete(f"/api/tokens/{token['id']}").status_code == 204  # idempotent


def test_an_expired_or_unknown_token_is_refused(client: TestClient, make_account: MakeAccount,
                                                database: str) -> None:
    observer = make_account("observer", regions=["93"])
    with connect(database) as conn:
        conn.execute("UPDATE api_token SET expires_at = now() - interval '1 day' "
                     "WHERE user_id = %s", (observer.id,))
    assert _bearer(client, observer.token).get("/api/me").json()["code"] == "token_expired"
    assert _bearer(client, "cpts_" + "x" * 43).get("/api/me").json()["code"] == "invalid_token"


def test_a_token_cannot_mint_new_tokens(client: TestClient, make_account: MakeAccount) -> None:
    carrier = make_account("carrier")
    response = _bearer(client, carrier.token).post("/api/tokens", json={"name": "rebond"})
    assert response.status_code == 403 and response.json()["code"] == "session_required"


def test_carrier_cannot_revoke_another_users_token_but_an_admin_can(
        client_as: ClientAs, make_account: MakeAccount) -> None:
    carrier, other = make_account("carrier"), make_account("carrier")
    other_token_id = client_as(other).get("/api/tokens").json()[0]["id"]
    refused = client_as(carrier).delete(f"/api/tokens/{other_token_id}")
    assert refused.status_code == 404 and refused.json()["code"] == "unknown_token"
    assert client_as(other).get("/api/me").status_code == 200
    assert client_as(make_account("admin")).delete(
        f"/api/tokens/{other_token_id}").status_code == 204
    assert client_as(other).get("/api/me").json()["code"] == "token_revoked"
