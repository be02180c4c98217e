"""The smaller holes of the attack-minded review (issue 12, §4), each reproduced as it was found:
imports racing on a new name, login CSRF from another origin, English in answers, control and
bidirectional characters in names, loose If-Match, forged X-Forwarded-For, raw files under
/static/, documentation pages from a CDN, sessions of locked or disabled accounts."""

import json
import re
import threading
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from app.auth.audit import Actor
from app.auth.csrf import TOKEN_LENGTH, origin_of
from app.auth.sessions import CSRF_COOKIE
from app.auth.users import set_disabled
from app.cli import server_options
from app.db import Conn
from app.domain.etag import parse_if_match
from app.domain.names import clean_name, refused_characters
from app.errors import MAX_ERRORS, ProblemError, problem_response
from app.main import create_app
from app.services import docs_assets
from app.settings import Settings
from app.validation_fr import french_validation_message
from tests.auth_fixtures import Account, ClientAs, MakeAccount, sign_in
from tests.serving import serving

NICE_EST = ["06088", "06059", "06134"]  # Nice, La Trinité, Saint-André-de-la-Roche
ENGLISH = re.compile(r"\b(Input should|Field required|Expecting value|field larger|"
                     r"There was an error|Not Found|Method Not Allowed|valid integer)\b")


def tag() -> str:
    return uuid.uuid4().hex[:8]


def problem_of(response: Any) -> dict[str, Any]:
    """The problem+json body of an answer (of httpx or of the test client's httpx2)."""
    assert response.headers["content-type"].startswith("application/problem+json"), response.text
    problem: dict[str, Any] = response.json()
    return problem


def assert_french(problem: dict[str, Any]) -> None:
    """No English sentence from a library anywhere in the answer."""
    assert not ENGLISH.search(str(problem)), problem


@contextmanager
def live_server(settings: Settings) -> Iterator[str]:
    """The application served by uvicorn with the options of `cpts serve`, on a free local
    port, in a thread: requests arrive over a real socket from 127.0.0.1."""
    with serving(settings, **server_options(settings)) as base_url:
        yield base_url


# --- 1. Parallel imports of one new name create one CPTS ------------------------------------------

def test_five_parallel_imports_of_a_new_name_create_one_cpts(
        make_account: MakeAccount, settings: Settings, conn: Conn) -> None:
    agent = make_account("ars", regions=["93"])
    name = f"CPTS Course Parallele {tag()}"
    body = ("cpts;code_commune\n" + "".join(f"{name};{code}\n" for code in NICE_EST)).encode()
    with live_server(settings) as base, httpx.Client(
            base_url=base, headers={"Authorization": f"Bearer {agent.token}"},
            timeout=60) as http:
        start = threading.Barrier(5)

        def post(_: int) -> httpx.Response:
            start.wait()
            return http.post("/api/imports/cpts",
                             files={"file": ("cpts.csv", body, "text/csv")})

        with ThreadPoolExecutor(5) as pool:
            answers = list(pool.map(post, range(5)))
    assert [a.status_code for a in answers] == [200] * 5, [a.text[:300] for a in answers]
    actions = sorted(a.json()["cpts"][0]["action"] for a in answers)
    assert actions == ["created", "unchanged", "unchanged", "unchanged", "unchanged"]
    rows = conn.execute("SELECT id FROM cpts WHERE name = %s", (name,)).fetchall()
    assert len(rows) == 1
    assert {a.json()["cpts"][0]["id"] for a in answers} == {rows[0]["id"]}


# --- 2. Login CSRF: origin checked, tokens of full length -----------------------------------------

def _login(client: TestClient, account: Account, token: str,
           headers: dict[str, str] | None = None) -> Any:
    return client.post(
        "/api/auth/login", json={"email": account.email, "password": account.password},
        headers={"X-CSRF-Token": token, **(headers or {})})


def test_a_planted_csrf_cookie_does_not_sign_in_from_another_origin(
        client: TestClient, make_account: MakeAccount) -> None:
    victim_account = make_account("carrier")
    planted = "A" * TOKEN_LENGTH  # a full-length token the attacker chose and planted
    browser = TestClient(client.app, cookies={CSRF_COOKIE: planted})
    refused = _login(browser, victim_account, planted, {"Origin": "https://evil.example"})
    assert refused.status_code == 403
    problem = problem_of(refused)
    assert problem["code"] == "cross_origin_request"
    assert "origine" in problem["detail"]
    assert "cpts_session" not in refused.headers.get("set-cookie", "")
    referer = _login(browser, victim_account, planted,
                     {"Referer": "https://evil.example/page.html"})
    assert referer.status_code == 403 and problem_of(referer)["code"] == "cross_origin_request"
    null = _login(browser, victim_account, planted, {"Origin": "null"})
    assert null.status_code == 403 and problem_of(null)["code"] == "cross_origin_request"
    # the service's own origin signs in
    own = _login(browser, victim_account, planted, {"Origin": "http://testserver"})
    assert own.status_code == 200, own.text


def test_a_short_planted_csrf_token_is_refused_and_replaced(
        client: TestClient, make_account: MakeAccount) -> None:
    account = make_account("carrier")
    browser = TestClient(client.app, cookies={CSRF_COOKIE: "a"})
    refused = _login(browser, account, "a")
    assert refused.status_code == 403 and problem_of(refused)["code"] == "csrf_failed"
    fresh = browser.get("/api/auth/csrf").json()["csrf_token"]
    assert fresh != "a" and len(fresh) == TOKEN_LENGTH
    assert _login(browser, account, fresh).status_code == 200


def test_a_session_write_from_another_origin_is_refused(
        client_as: ClientAs, make_account: MakeAccount, settings: Settings) -> None:
    browser = client_as(make_account("carrier"), via="session")
    evil = browser.post("/api/tokens", json={"name": "script"},
                        headers={"Origin": "https://evil.example"})
    assert evil.status_code == 403 and problem_of(evil)["code"] == "cross_origin_request"
    same = browser.post("/api/tokens", json={"name": "script"},
                        headers={"Origin": "http://testserver"})
    assert same.status_code == 201, same.text
    # a configured origin (a front end served from another host) is accepted
    trusting = create_app(settings.model_copy(
        update={"trusted_origins": "https://carte.ars.example, https://autre.example:8443"}))
    with TestClient(trusting) as other:
        account = make_account("carrier")
        sign_in(other, account.email, account.password)
        trusted = other.post("/api/tokens", json={"name": "script"},
                             headers={"Origin": "https://carte.ars.example"})
        assert trusted.status_code == 201, trusted.text
        assert other.post("/api/tokens", json={"name": "script"},
                          headers={"Origin": "https://carte.ars.example:444"}
                          ).status_code == 403


def test_origins_are_compared_without_default_ports_and_case() -> None:
    assert origin_of("HTTPS://Carte.Example:443/chemin?x=1") == "https://carte.example"
    assert origin_of("http://127.0.0.1:8000") == "http://127.0.0.1:8000"
    assert origin_of("http://[::1]:8000/") == "http://[::1]:8000"
    assert origin_of("null") is None
    assert origin_of("javascript:alert(1)") is None
    assert origin_of("http://hôte:99999") is None


# --- 3. Every message in French, every error body bounded -----------------------------------------

def test_validation_errors_are_said_in_french(auth_client: TestClient) -> None:
    wrong_types = auth_client.post("/api/cpts", json={"name": 5, "status": "inconnu",
                                                      "communes": "06088"})
    assert wrong_types.status_code == 422
    problem = problem_of(wrong_types)
    assert_french(problem)
    by_field = {tuple(e["loc"]): e for e in problem["errors"]}
    assert by_field[("body", "name")]["detail"] == "Une chaîne de caractères est attendue."
    assert by_field[("body", "name")]["code"] == "string_type"
    assert by_field[("body", "communes")]["detail"] == "Une liste est attendue."
    assert by_field[("body", "status")]["detail"].startswith("Valeur non prévue ; valeurs "
                                                             "permises : 'pre_projet'")
    assert " ou " in by_field[("body", "status")]["detail"]
    missing = auth_client.post("/api/cpts", json={})
    assert {e["detail"] for e in problem_of(missing)["errors"]} == {
        "Valeur obligatoire absente."}
    not_json = auth_client.post("/api/cpts", content=b"{nom: ",
                                headers={"Content-Type": "application/json"})
    problem = problem_of(not_json)
    assert_french(problem)
    assert problem["errors"][0]["detail"] == "Le corps de la requête n'est pas du JSON valide."
    bad_query = auth_client.get("/api/cpts/abc")
    assert bad_query.status_code == 422
    assert problem_of(bad_query)["errors"][0]["detail"] == "Un nombre entier est attendu."


def test_framework_refusals_are_said_in_french(auth_client: TestClient) -> None:
    unknown = auth_client.get("/api/nulle-part")
    assert unknown.status_code == 404
    assert problem_of(unknown)["detail"] == "Cette adresse ne correspond à aucune ressource."
    wrong_method = auth_client.put("/api/health")
    assert wrong_method.status_code == 405
    assert_french(problem_of(wrong_method))
    assert problem_of(wrong_method)["code"] == "method_not_allowed"
    no_boundary = auth_client.post("/api/imports/cpts", content=b"x",
                                   headers={"Content-Type": "multipart/form-data"})
    assert no_boundary.status_code in {400, 422}
    assert_french(problem_of(no_boundary))


def test_french_messages_fill_in_the_limits() -> None:
    assert french_validation_message(
        {"type": "greater_than", "ctx": {"gt": 0}}) == "La valeur doit être supérieure à 0."
    assert french_validation_message(
        {"type": "string_too_long", "ctx": {"max_length": 200}}
    ) == "Au plus 200 caractère(s) permis."
    assert french_validation_message({"type": "a_new_pydantic_type"}) == "Valeur invalide."
    # a value_error's text may come from a library: never copied
    assert french_validation_message(
        {"type": "value_error", "ctx": {"error": "value is not valid"}}) == "Valeur invalide."


def test_an_error_body_does_not_grow_with_the_input() -> None:
    long_text, long_loc = "é" * 10_000, list(range(1000))
    errors = [{"line": n, "code": "x", "detail": long_text, "loc": long_loc}
              for n in range(100_000)]
    response = problem_response(422, "invalid", "d" * 100_000, errors=errors)
    assert len(response.body) < 200_000
    body = json.loads(bytes(response.body))
    assert len(body["errors"]) == MAX_ERRORS + 1
    assert body["errors"][-1] == {"code": "more_errors", "count": 100_000 - MAX_ERRORS,
                                  "detail": "… et 99900 autre(s) erreur(s) non listée(s)."}
    assert len(body["detail"]) <= 2000
    assert len(body["errors"][0]["detail"]) <= 500 and len(body["errors"][0]["loc"]) == 21


def test_a_csv_header_of_a_million_columns_gets_a_small_answer(auth_client: TestClient) -> None:
    header = ";".join(f"c{n}" for n in range(1_000_000))  # 6.9 MB, under the upload limit
    response = auth_client.post("/api/imports/cpts", files={
        "file": ("large.csv", (header + "\nCPTS;06088\n").encode(), "text/csv")})
    assert response.status_code in {413, 422}
    assert len(response.content) < 100_000
    assert_french(problem_of(response))


def test_csv_and_json_reader_messages_are_french(auth_client: TestClient) -> None:
    long_field = ("cpts;code_commune\n\"" + "x" * 200_000 + "\";06088\n").encode()
    response = auth_client.post("/api/imports/cpts",
                                files={"file": ("long.csv", long_field, "text/csv")})
    assert response.status_code == 422
    assert_french(problem_of(response))
    truncated = auth_client.post("/api/imports/cpts", files={
        "file": ("cpts.geojson", b'{"type": "FeatureCollection", "features": [', "text/plain")})
    assert truncated.status_code == 422
    assert_french(problem_of(truncated))


# --- 4. Control and bidirectional characters refused in names -------------------------------------

@pytest.mark.parametrize("bad", ["\u202e", "\x07", "\x1b", "\u200b", "\x00"])
def test_a_cpts_name_with_a_control_or_bidi_character_is_refused(
        auth_client: TestClient, conn: Conn, bad: str) -> None:
    marker = tag()
    name = f"CPTS pi{bad}ege {marker}"
    response = auth_client.post("/api/cpts", json={
        "name": name, "status": "lettre_intention", "communes": NICE_EST,
        "siege_commune": "06088"})
    assert response.status_code == 422, response.text
    problem = problem_of(response)
    assert problem["code"] == "invalid_name_characters"
    assert f"U+{ord(bad):04X}" in problem["detail"]
    assert conn.execute("SELECT count(*) AS n FROM cpts WHERE name LIKE %s",
                        (f"%{marker}",)).fetchone() == {"n": 0}


def test_an_imported_name_with_a_bidi_override_is_refused(auth_client: TestClient) -> None:
    body = f"cpts;code_commune\nCPTS \u202eesioN {tag()};06088\n".encode()
    response = auth_client.post("/api/imports/cpts",
                                files={"file": ("cpts.csv", body, "text/csv")})
    assert response.status_code == 422
    assert "invalid_name_characters" in {e.get("code") for e in problem_of(response)["errors"]}


def test_token_names_and_emails_refuse_control_characters(
        client_as: ClientAs, make_account: MakeAccount, conn: Conn) -> None:
    browser = client_as(make_account("carrier"), via="session")
    token = browser.post("/api/tokens", json={"name": "script\x1b[31m"})
    assert token.status_code == 422
    assert problem_of(token)["code"] == "invalid_name_characters"
    from app.auth.policy import Role
    from app.auth.users import create_user

    with pytest.raises(ProblemError) as refused:
        create_user(conn, email=f"agent\u202e{tag()}@ars.fr", role=Role.CARRIER, regions=[],
                    cpts_ids=[], password=None, actor=Actor.command_line())
    assert refused.value.code == "invalid_name_characters"


def test_comments_keep_line_breaks_but_refuse_bidi_overrides(auth_client: TestClient) -> None:
    created = auth_client.post("/api/cpts", json={
        "name": f"CPTS Commentaire {tag()}", "status": "lettre_intention",
        "communes": NICE_EST, "siege_commune": "06088"})
    assert created.status_code == 201, created.text
    cpts_id = created.json()["id"]
    refused = auth_client.post(f"/api/cpts/{cpts_id}/archive",
                               json={"reason": "fusion\u202e avec la voisine"},
                               headers={"If-Match": created.headers["etag"]})
    assert refused.status_code == 422
    assert problem_of(refused)["code"] == "invalid_name_characters"
    assert "Le commentaire" in problem_of(refused)["detail"]
    archived = auth_client.post(f"/api/cpts/{cpts_id}/archive",
                                json={"reason": "Fusion avec la voisine.\nVoir le courrier."},
                                headers={"If-Match": created.headers["etag"]})
    assert archived.status_code == 200, archived.text


def test_names_keep_letters_and_tidy_spaces() -> None:
    assert clean_name("  CPTS  de\tl'Estérel\n", "Le nom") == "CPTS de l'Estérel"
    assert refused_characters("Nice\u2066 \u200f \x85 \ue000") == [
        "U+2066", "U+200F", "U+0085", "U+E000"]
    assert refused_characters("ligne 1\nligne 2", keep_line_breaks=True) == []


# --- 5. If-Match read strictly --------------------------------------------------------------------

@pytest.mark.parametrize("header", ['"1', "1_0", "1", '"1_0"', '""', "*", '"1", "2"',
                                    'W/1', '"01"', '"+1"', '" 1"', '"1" x'])
def test_a_malformed_if_match_is_refused(header: str) -> None:
    with pytest.raises(ProblemError) as refused:
        parse_if_match(header)
    assert (refused.value.status, refused.value.code) == (400, "invalid_if_match")


@pytest.mark.parametrize(("header", "version"), [('"1"', 1), ('W/"12"', 12), (' "3" ', 3)])
def test_an_entity_tag_gives_its_version(header: str, version: int) -> None:
    assert parse_if_match(header) == version


def test_patch_with_an_unbalanced_if_match_is_refused(auth_client: TestClient) -> None:
    created = auth_client.post("/api/cpts", json={
        "name": f"CPTS Etag {tag()}", "status": "lettre_intention", "communes": NICE_EST,
        "siege_commune": "06088"})
    assert created.status_code == 201, created.text
    cpts_id = created.json()["id"]
    for header in ('"1', "1_0"):
        refused = auth_client.patch(f"/api/cpts/{cpts_id}", json={"name": "Autre nom"},
                                    headers={"If-Match": header})
        assert refused.status_code == 400 and problem_of(refused)["code"] == "invalid_if_match"
    accepted = auth_client.patch(f"/api/cpts/{cpts_id}", json={"name": f"Autre nom {tag()}"},
                                 headers={"If-Match": created.headers["etag"]})
    assert accepted.status_code == 200, accepted.text


# --- 6. X-Forwarded-For believed only from configured proxies -------------------------------------

def _failed_logins_from(conn: Conn, ip: str) -> int:
    conn.rollback()
    row = conn.execute("SELECT count(*) AS n FROM login_attempt WHERE ip = %s AND "
                       "outcome = 'failure' AND attempted_at > now() - interval '1 hour'",
                       (ip,)).fetchone()
    assert row is not None
    return int(row["n"])


def _live_login(http: httpx.Client, email: str, password: str,
                forwarded_for: str) -> httpx.Response:
    token = http.get("/api/auth/csrf").json()["csrf_token"]
    return http.post("/api/auth/login", json={"email": email, "password": password},
                     headers={"X-CSRF-Token": token, "X-Forwarded-For": forwarded_for})


def test_a_forged_x_forwarded_for_is_ignored_and_the_real_address_counted(
        settings: Settings, make_account: MakeAccount, conn: Conn) -> None:
    assert server_options(settings)["proxy_headers"] is False
    account = make_account("carrier")
    already = _failed_logins_from(conn, "127.0.0.1")
    limited = settings.model_copy(update={"login_ip_max_failures": already + 3,
                                          "login_delay_after_failures": 100,
                                          "login_lockout_after_failures": 100})
    with live_server(limited) as base, httpx.Client(base_url=base) as http:
        for n in range(3):  # each from a « different » address
            answer = _live_login(http, account.email, "mauvais", f"198.51.100.{n + 1}")
            assert answer.status_code == 401, answer.text
        throttled = _live_login(http, account.email, account.password, "198.51.100.77")
        assert throttled.status_code == 429
        assert problem_of(throttled)["code"] == "login_throttled"
        assert "depuis votre adresse" in problem_of(throttled)["detail"]
    assert _failed_logins_from(conn, "127.0.0.1") == already + 3
    assert _failed_logins_from(conn, "198.51.100.1") == 0


def test_a_configured_proxy_gives_the_client_address(
        settings: Settings, make_account: MakeAccount, conn: Conn) -> None:
    account = make_account("carrier")
    behind_proxy = settings.model_copy(update={"forwarded_allow_ips": "127.0.0.1"})
    assert server_options(behind_proxy)["proxy_headers"] is True
    forwarded = f"203.0.113.{int(tag(), 16) % 250 + 1}"
    before = _failed_logins_from(conn, forwarded)
    with live_server(behind_proxy) as base, httpx.Client(base_url=base) as http:
        assert _live_login(http, account.email, "mauvais", forwarded).status_code == 401
        signed_in = _live_login(http, account.email, account.password, forwarded)
        assert signed_in.status_code == 200, signed_in.text
    assert _failed_logins_from(conn, forwarded) == before + 1
    row = conn.execute("SELECT host(ip) AS ip FROM audit_log WHERE action = 'session.login' "
                       "AND actor_id = %s ORDER BY id DESC LIMIT 1", (account.id,)).fetchone()
    assert row == {"ip": forwarded}


# --- 7. /static/ serves what the pages load, nothing else -----------------------------------------

@pytest.mark.parametrize("path", [
    "/static/map_body.html", "/static/login.html", "/static/session.html",
    "/static/logout.html", "/static/login.css", "/static/js/tests/format.test.js",
    "/static/js/tests/store.test.js", "/static/vendor/.installed"])
def test_templates_and_tests_are_not_served(auth_client: TestClient, path: str) -> None:
    response = auth_client.get(path)
    assert response.status_code == 404, path
    assert problem_of(response)["code"] == "not_found"


def _static_references(text: str, path: str) -> set[str]:
    """The /static/ files a page, an app module (its imports) or a style sheet (its url())
    asks for."""
    folder = path.rsplit("/", 1)[0]
    if path.endswith(".css"):
        return {f"{folder}/{ref.strip(chr(39) + chr(34))}"
                for ref in re.findall(r"url\(([^)]+)\)", text)
                if not ref.strip("'\"").startswith(("data:", "#"))}
    if path.endswith(".js"):
        return ({f"{folder}/{ref.removeprefix('./')}"
                 for ref in re.findall(r'from\s+"(\./[^"]+)"', text)}
                if "/vendor/" not in path else set())
    return set(re.findall(r'(?:src|href)="(/static/[^"]+)"', text))


def test_every_asset_the_pages_load_is_served(
        client_as: ClientAs, make_account: MakeAccount) -> None:
    browser = client_as(make_account("ars", regions=["93"]), via="session")
    pending = set()
    for page in ("/", "/docs", "/redoc"):
        response = browser.get(page, headers={"Accept": "text/html"})
        assert response.status_code == 200, page
        pending |= _static_references(response.text, page)
    seen: set[str] = set()
    while pending:
        path = pending.pop()
        seen.add(path)
        response = browser.get(path)
        assert response.status_code == 200, path
        if path.endswith((".js", ".css")):
            pending |= _static_references(response.text, path) - seen
    # the modules' bundle when it is up to date (app.services.app_bundle), else the modules
    assert ("/static/build/app.js" in seen
            or {"/static/js/main.js", "/static/js/store.js"} <= seen), sorted(seen)
    assert "/static/vendor/leaflet/images/layers.png" in seen
    assert f"/static/vendor/{docs_assets.SWAGGER_JS}" in seen
    assert f"/static/vendor/{docs_assets.REDOC_JS}" in seen


# --- 8. API documentation without a CDN, with its security schemes --------------------------------

def test_docs_pages_load_nothing_from_another_site(
        client_as: ClientAs, make_account: MakeAccount) -> None:
    browser = client_as(make_account("observer", regions=["93"]), via="session")
    for page in ("/docs", "/redoc"):
        response = browser.get(page)
        assert response.status_code == 200
        assert not re.search(r"(?:src|href)=\"(?:https?:)?//", response.text), page
        assert not re.search(r"https?://", response.text), page
        csp = response.headers["content-security-policy"]
        assert "script-src 'self';" in csp and "default-src 'none'" in csp
        scripts = re.findall(r'<script src="([^"]+)"', response.text)
        assert len(scripts) == 2
        for script in scripts:
            assert browser.get(script).status_code == 200, script
    swagger = browser.get("/docs").text
    assert f'data-csrf-token="{browser.headers["X-CSRF-Token"]}"' in swagger


def test_openapi_declares_the_bearer_and_cookie_schemes(auth_client: TestClient) -> None:
    schema = auth_client.get("/openapi.json").json()
    schemes = schema["components"]["securitySchemes"]
    assert schemes["jeton"] == schemes["jeton"] | {"type": "http", "scheme": "bearer"}
    assert schemes["session"] | {"type": "apiKey", "in": "cookie",
                                 "name": "cpts_session"} == schemes["session"]
    assert schemes["csrf"]["in"] == "header" and schemes["csrf"]["name"] == "X-CSRF-Token"
    assert schema["security"] == [{"jeton": []}, {"session": [], "csrf": []}]


# --- 9. Sessions of a locked or disabled account end ----------------------------------------------

def test_locking_an_account_ends_its_open_sessions(
        client: TestClient, client_as: ClientAs, make_account: MakeAccount,
        settings: Settings, conn: Conn) -> None:
    account = make_account("carrier")
    session = client_as(account, via="session")
    assert session.get("/api/me").status_code == 200
    quick = create_app(settings.model_copy(update={"login_delay_base_s": 0.0}))
    with TestClient(quick) as guesser:
        for attempt in range(settings.login_lockout_after_failures):
            token = guesser.get("/api/auth/csrf").json()["csrf_token"]
            answer = guesser.post("/api/auth/login", json={"email": account.email,
                                                           "password": f"essai {attempt}"},
                                  headers={"X-CSRF-Token": token})
        assert answer.status_code == 423
    after = session.get("/api/me")
    assert after.status_code == 401 and problem_of(after)["code"] == "session_expired"
    assert conn.execute("SELECT count(*) AS n FROM user_session WHERE user_id = %s",
                        (account.id,)).fetchone() == {"n": 0}
    summary = conn.execute("SELECT summary FROM audit_log WHERE action = 'user.lock' AND "
                           "entity_id = %s", (str(account.id),)).fetchone()
    assert summary is not None and "1 session(s) ouverte(s) fermée(s)" in summary["summary"]


def test_disabling_an_account_ends_its_sessions_and_tokens(
        client_as: ClientAs, make_account: MakeAccount, conn: Conn) -> None:
    account = make_account("carrier")
    session, script = client_as(account, via="session"), client_as(account, via="token")
    assert session.get("/api/me").status_code == 200 and script.get("/api/me").status_code == 200
    with conn.transaction():
        assert set_disabled(conn, account.email, True, Actor.command_line())
    assert session.get("/api/me").status_code == 401
    refused = script.get("/api/me")
    assert refused.status_code == 401 and problem_of(refused)["code"] == "account_disabled"
    assert conn.execute("SELECT count(*) AS n FROM user_session WHERE user_id = %s",
                        (account.id,)).fetchone() == {"n": 0}
    # a session opened before the flag was set (by hand, in the database) is refused too
    conn.commit()
    with conn.transaction():
        assert set_disabled(conn, account.email, False, Actor.command_line())
    again = client_as(account, via="session")
    with conn.transaction():
        conn.execute("UPDATE app_user SET disabled = true, disabled_at = now() WHERE id = %s",
                     (account.id,))
    assert again.get("/api/me").status_code == 401


def test_reasons_of_a_creation_or_a_change_refuse_bidi_overrides(
        auth_client: TestClient, conn: Conn) -> None:
    marker = tag()
    refused = auth_client.post("/api/cpts", json={
        "name": f"CPTS Raison {marker}", "status": "lettre_intention", "communes": NICE_EST,
        "siege_commune": "06088", "reason": "création\u202e"})
    assert refused.status_code == 422
    assert problem_of(refused)["code"] == "invalid_name_characters"
    assert conn.execute("SELECT count(*) AS n FROM cpts WHERE name = %s",
                        (f"CPTS Raison {marker}",)).fetchone() == {"n": 0}
    created = auth_client.post("/api/cpts", json={
        "name": f"CPTS Raison {marker}", "status": "lettre_intention", "communes": NICE_EST,
        "siege_commune": "06088", "reason": "Création.\nSuite à la réunion."})
    assert created.status_code == 201, created.text
    changed = auth_client.patch(f"/api/cpts/{created.json()['id']}",
                                json={"remove": ["06134"], "reason": "retrait\x1b[31m"},
                                headers={"If-Match": created.headers["etag"]})
    assert changed.status_code == 422
    assert problem_of(changed)["code"] == "invalid_name_characters"
