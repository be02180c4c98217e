"""Browser sessions: the French login and logout pages, cookies, CSRF, expiry, lock-out."""

import re
import uuid
from collections.abc import Iterator

import httpx
import pytest
from fastapi.testclient import TestClient

from app.auth.audit import Actor
from app.auth.users import set_disabled, unlock
from app.db import connect
from app.main import create_app
from app.settings import Settings
from tests.auth_fixtures import Account, ClientAs, MakeAccount, new_email


def _form_token(page: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert match, "no CSRF token in the form"
    return match.group(1)


def _api_login(test_client: TestClient, email: str, password: str,
               csrf: str | None = "fetch") -> httpx.Response:
    headers = {}
    if csrf == "fetch":
        headers["X-CSRF-Token"] = test_client.get("/api/auth/csrf").json()["csrf_token"]
    elif csrf is not None:
        headers["X-CSRF-Token"] = csrf
    return test_client.post("/api/auth/login", json={"email": email, "password": password},
                            headers=headers)


@pytest.fixture
def carrier(make_account: MakeAccount) -> Account:
    return make_account("carrier")


@pytest.fixture
def browser(client_as: ClientAs) -> TestClient:
    return client_as(None)


# --- pages ----------------------------------------------------------------------------------

def test_anonymous_visitor_gets_a_french_login_page_with_a_csrf_token(browser: TestClient) -> None:
    page = browser.get("/login")
    assert page.status_code == 200
    assert '<html lang="fr">' in page.text and "Se connecter" in page.text
    assert _form_token(page.text) == browser.cookies.get("cpts_csrf")
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    assert browser.get("/login.css").headers["content-type"].startswith("text/css")


def test_carrier_signs_in_with_the_form_and_lands_on_the_page_asked_for(
        browser: TestClient, carrier: Account) -> None:
    token = _form_token(browser.get("/login").text)
    response = browser.post("/login", data={"email": carrier.email.upper(),
                                            "password": carrier.password,
                                            "csrf_token": token, "next": "/docs"},
                            follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/docs"
    cookie = response.headers["set-cookie"]
    assert "cpts_session=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie
    assert browser.get("/api/me").json()["email"] == carrier.email
    assert "Vous êtes connecté" in browser.get("/login").text


def test_login_form_never_redirects_to_another_site(browser: TestClient, carrier: Account) -> None:
    token = _form_token(browser.get("/login").text)
    response = browser.post("/login", data={"email": carrier.email, "password": carrier.password,
                                            "csrf_token": token,
                                            "next": "//evil.example/phish"},
                            follow_redirects=False)
    assert response.headers["location"] == "/"


def test_wrong_password_in_the_form_is_told_in_french(browser: TestClient,
                                                      carrier: Account) -> None:
    token = _form_token(browser.get("/login").text)
    response = browser.post("/login", data={"email": carrier.email, "password": "pas le bon",
                                            "csrf_token": token})
    assert response.status_code == 401
    assert "Adresse électronique ou mot de passe incorrect." in response.text
    assert f'value="{carrier.email}"' in response.text
    assert "cpts_session" not in browser.cookies


def test_login_form_without_its_csrf_token_is_refused(browser: TestClient,
                                                      carrier: Account) -> None:
    browser.get("/login")
    forged = browser.post("/login", data={"email": carrier.email, "password": carrier.password})
    assert forged.status_code == 403 and forged.json()["code"] == "csrf_failed"
    # another site's form cannot know the visitor's cookie either
    other = browser.post("/login", data={"email": carrier.email, "password": carrier.password,
                                         "csrf_token": "a" * 43})
    assert other.status_code == 403
    assert "cpts_session" not in browser.cookies


def test_api_login_without_csrf_token_is_refused(browser: TestClient, carrier: Account) -> None:
    response = _api_login(browser, carrier.email, carrier.password, csrf=None)
    assert response.status_code == 403
    assert response.json()["code"] == "csrf_failed"


def test_cookies_are_secure_with_host_prefix_over_https(client: TestClient,
                                                        carrier: Account) -> None:
    secure = TestClient(client.app, base_url="https://testserver")
    response = _api_login(secure, carrier.email, carrier.password)
    cookie = response.headers["set-cookie"]
    assert "__Host-cpts_session=" in cookie and "Secure" in cookie and "HttpOnly" in cookie
    assert secure.get("/api/me").status_code == 200


# --- CSRF on writes ---------------------------------------------------------------------------

def test_a_write_with_the_session_cookie_but_no_csrf_token_is_refused(
        client_as: ClientAs, carrier: Account) -> None:
    browser = client_as(carrier, via="session")
    good_token = browser.headers.pop("X-CSRF-Token")
    missing = browser.post("/api/tokens", json={"name": "sans jeton"})
    assert missing.status_code == 403 and missing.json()["code"] == "csrf_failed"
    wrong = browser.post("/api/tokens", json={"name": "mauvais jeton"},
                         headers={"X-CSRF-Token": "x" * 43})
    assert wrong.status_code == 403
    assert browser.get("/api/tokens").json()[0]["name"] == "tests"  # nothing was created
    ok = browser.post("/api/tokens", json={"name": "bon jeton"},
                      headers={"X-CSRF-Token": good_token})
    assert ok.status_code == 201


def test_an_upload_must_send_the_csrf_token_in_the_header(client_as: ClientAs,
                                                          carrier: Account) -> None:
    browser = client_as(carrier, via="session")
    token = browser.headers.pop("X-CSRF-Token")
    upload = browser.post("/api/tokens", data={"csrf_token": token},
                          files={"file": ("a.csv", b"cpts;code_commune\n", "text/csv")})
    assert upload.status_code == 403 and upload.json()["code"] == "csrf_failed"


def test_me_gives_the_session_csrf_token_and_scripts_with_a_token_need_none(
        client_as: ClientAs, make_account: MakeAccount) -> None:
    agent = make_account("ars", regions=["93", "84"])
    me = client_as(agent, via="session").get("/api/me").json()
    assert me["role"] == "ars" and me["scopes"] == {"regions": ["84", "93"], "cpts": []}
    assert me["authenticated_via"] == "session" and len(me["csrf_token"]) >= 32
    script = client_as(agent, via="token")
    assert script.get("/api/me").json()["csrf_token"] is None
    tokens = script.get("/api/tokens").json()
    assert script.delete(f"/api/tokens/{tokens[0]['id']}").status_code == 204


# --- answers to wrong credentials, logout, expiry -------------------------------------------

def test_unknown_account_and_wrong_password_get_the_same_answer(browser: TestClient,
                                                                carrier: Account) -> None:
    wrong = _api_login(browser, carrier.email, "pas-le-bon-mot-de-passe")
    unknown = _api_login(browser, new_email("nobody"), "pas-le-bon-mot-de-passe")
    for response in (wrong, unknown):
        assert response.status_code == 401
        assert response.json()["code"] == "invalid_credentials"
    assert wrong.json()["detail"] == unknown.json()["detail"]


def test_logout_ends_the_session_for_good(client_as: ClientAs, carrier: Account) -> None:
    browser = client_as(carrier, via="session")
    stolen_cookie = browser.cookies["cpts_session"]
    assert browser.post("/api/auth/logout").status_code == 204
    assert "cpts_session" not in browser.cookies
    replay = client_as(None)
    replay.cookies.set("cpts_session", stolen_cookie)
    response = replay.get("/api/me")
    assert response.status_code == 401 and response.json()["code"] == "session_expired"


def test_logout_page_signs_out_with_its_form(client_as: ClientAs, carrier: Account) -> None:
    browser = client_as(carrier, via="session")
    page = browser.get("/logout")
    assert "Se déconnecter" in page.text
    response = browser.post("/logout", data={"csrf_token": _form_token(page.text)},
                            follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/logout"
    browser.headers.pop("X-CSRF-Token")
    assert "Vous êtes déconnecté" in browser.get("/logout").text
    assert browser.get("/api/me").status_code == 401


def test_logout_form_from_another_site_is_refused(client_as: ClientAs, carrier: Account) -> None:
    browser = client_as(carrier, via="session")
    browser.headers.pop("X-CSRF-Token")
    forged = browser.post("/logout", follow_redirects=False)
    assert forged.status_code == 403 and forged.json()["code"] == "csrf_failed"
    assert browser.get("/api/me").status_code == 200


def test_an_idle_session_expires(client_as: ClientAs, carrier: Account, database: str) -> None:
    browser = client_as(carrier, via="session")
    with connect(database) as conn:
        conn.execute("UPDATE user_session SET last_seen_at = now() - interval '3 hours' "
                     "WHERE user_id = %s", (carrier.id,))
    response = browser.get("/api/me")
    assert response.status_code == 401 and response.json()["code"] == "session_expired"
    with connect(database) as conn:
        left = conn.execute("SELECT count(*) AS n FROM user_session WHERE user_id = %s",
                            (carrier.id,)).fetchone()
    assert left == {"n": 0}


def test_a_session_ends_after_its_lifetime_even_if_used(client_as: ClientAs, carrier: Account,
                                                        database: str) -> None:
    browser = client_as(carrier, via="session")
    with connect(database) as conn:
        conn.execute("UPDATE user_session SET expires_at = now() - interval '1 second' "
                     "WHERE user_id = %s", (carrier.id,))
    assert browser.get("/api/me").json()["code"] == "session_expired"


def test_a_browser_opening_a_protected_page_is_sent_to_the_login_page(browser: TestClient) -> None:
    response = browser.get("/docs", headers={"Accept": "text/html"}, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/docs"


def test_a_disabled_account_loses_its_session_and_cannot_sign_in(
        client_as: ClientAs, carrier: Account, database: str) -> None:
    browser = client_as(carrier, via="session")
    with connect(database) as conn, conn.transaction():
        set_disabled(conn, carrier.email, True, Actor.command_line())
    assert browser.get("/api/me").json()["code"] == "session_expired"
    script = client_as(carrier, via="token")
    assert script.get("/api/me").json()["code"] == "account_disabled"
    again = _api_login(client_as(None), carrier.email, carrier.password)
    assert again.status_code == 403
    assert again.json()["code"] == "account_disabled"


# --- slowing down and locking out -------------------------------------------------------------

def fresh_address() -> str:
    """An address no earlier run used (the test database keeps the journal of attempts)."""
    return f"2001:db8::{uuid.uuid4().hex[:4]}:{uuid.uuid4().hex[:4]}"


@pytest.fixture
def strict_app(settings: Settings, database: str) -> Iterator[TestClient]:
    """An app that slows down after 3 failures (without delay) and locks after 5."""
    strict = settings.model_copy(update={"login_delay_after_failures": 3,
                                         "login_delay_base_s": 0.0,
                                         "login_lockout_after_failures": 5,
                                         "login_ip_max_failures": 4})
    with TestClient(create_app(strict), client=(fresh_address(), 40000)) as test_client:
        yield test_client


def test_repeated_failures_lock_the_account_and_say_until_when(
        client: TestClient, make_account: MakeAccount, database: str) -> None:
    carrier = make_account("carrier")
    app = create_app(client.app.state.settings.model_copy(update={"login_delay_base_s": 0.0}))
    with TestClient(app) as browser:
        for attempt in range(1, 10):
            response = _api_login(browser, carrier.email, f"essai {attempt}")
            assert response.status_code == 401, attempt
        locked = _api_login(browser, carrier.email, "essai 10")
        assert locked.status_code == 423
        problem = locked.json()
        assert problem["code"] == "account_locked"
        assert re.search(r"verrouillé .* jusqu'à \d\d h \d\d \(heure de Paris\)", problem["detail"])
        assert problem["errors"][0]["locked_until"]
        assert 890 <= int(locked.headers["retry-after"]) <= 900
        # even the right password is refused while the lock lasts
        right = _api_login(browser, carrier.email, carrier.password)
        assert right.status_code == 423

        with connect(database) as conn, conn.transaction():
            unlock(conn, carrier.email, Actor.command_line())
        assert _api_login(browser, carrier.email,
                          carrier.password).status_code == 200
    with connect(database) as conn:
        actions = [row["action"] for row in conn.execute(
            "SELECT action FROM audit_log WHERE entity = 'user' AND entity_id = %s ORDER BY id",
            (str(carrier.id),)).fetchall()]
    assert actions[-3:] == ["user.lock", "user.unlock", "session.login"]


def test_after_five_failures_each_attempt_must_wait(browser: TestClient,
                                                    carrier: Account) -> None:
    for attempt in range(4):
        assert _api_login(browser, carrier.email,
                          f"essai {attempt}").status_code == 401
    fifth = _api_login(browser, carrier.email, "essai 5")
    assert "patientez 2 secondes" in fifth.json()["detail"]
    sixth = _api_login(browser, carrier.email, carrier.password)
    assert sixth.status_code == 429
    assert sixth.json()["code"] == "login_throttled"
    assert "Trop de tentatives" in sixth.json()["detail"]
    assert sixth.headers["retry-after"] in ("1", "2")


def test_an_address_trying_many_accounts_is_slowed_down(strict_app: TestClient,
                                                        make_account: MakeAccount,
                                                        client: TestClient) -> None:
    victims = [make_account("observer", regions=["93"]) for _ in range(2)]
    for victim in victims:
        for attempt in range(2):
            assert _api_login(strict_app, victim.email,
                              f"essai {attempt}").status_code == 401
    blocked = _api_login(strict_app, victims[0].email, victims[0].password)
    assert blocked.status_code == 429
    assert "depuis votre adresse" in blocked.json()["detail"]
    # the accounts themselves are not locked: their owners, elsewhere, still sign in
    elsewhere = TestClient(client.app, client=(fresh_address(), 40000))
    assert _api_login(elsewhere, victims[1].email,
                      victims[1].password).status_code == 200
