"""API fuzzing with Schemathesis against the application's own OpenAPI schema.

Every operation of `/openapi.json` is called with generated requests (valid and invalid bodies,
parameters and headers) by a signed-in administrator (API token), and two properties are checked
on every answer:
- no server error: `not_a_server_error`, no 5xx at all;
- every error is `application/problem+json` with its `status`, a stable `code` and a `detail`
  in French.

Bounded and reproducible: at most `MAX_EXAMPLES` generated requests per operation in the fuzzing
phase (plus Schemathesis' explicit-example and deterministic coverage phases), a per-request
deadline, `derandomize=True` and no example database (the same requests on every run). About a
minute in all. `FUZZ_MAX_EXAMPLES=300 pytest tests/test_fuzz_api.py` digs deeper by hand.

The requests write (CPTS changed, archived, stages requested…): they run against a scratch
database of their own, `cpts_test_fuzz_<pid>`, created here and dropped at the end, holding the
Alpes-Maritimes and the 16 CPTS of the fixture, so ids 1 to 16 exist and fuzzed changes reach
real perimeters without touching the shared test database. The fuzz administrator exists only
in that scratch database (an administrator has no scope: it reaches every route).

Nothing is excluded: every operation is fuzzed. Two things keep the session alive while
fuzzing: `POST /api/auth/logout` with a token is refused (400, tokens are revoked by id), and a
generated `DELETE /api/tokens/{id}` aimed at the fuzz user's own token is sent to a spare token
of the same user instead (`test_fuzz_user_stayed_signed_in` checks it worked).
"""

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import hypothesis
import pytest
import schemathesis
from schemathesis.checks import not_a_server_error
from schemathesis.python import asgi as schemathesis_asgi

from app.auth import api_tokens
from app.auth.audit import Actor
from app.auth.policy import Role
from app.auth.users import create_user
from app.db import connect
from app.dbadmin import drop_database, ensure_database, with_database
from app.main import create_app
from app.migrations import upgrade
from app.settings import Settings
from tests import conftest
from tests.coverage_support import load_fixture

MAX_EXAMPLES = int(os.environ.get("FUZZ_MAX_EXAMPLES", "15"))
DEADLINE_MS = 10_000  # per generated request: catches a hang, not a busy machine
FRENCH_LETTERS = "àâçéèêëîïôûùüÿœ"
FRENCH_WORDS = frozenset((
    "le", "la", "les", "l", "de", "des", "du", "d", "un", "une", "est", "sont", "n", "ne", "pas",
    "ce", "cette", "ces", "au", "aux", "en", "et", "ou", "sur", "dans", "pour", "par", "avec",
    "sans", "que", "qui", "plus", "aucun", "aucune", "votre", "vous", "cet", "seul", "seule",
    "seuls", "inconnu", "inconnue", "inconnus", "inconnues", "stade", "stades"))
OWN_TOKEN_PATH = "/api/tokens/{token_id}"

# The application under test, built at import time (no database needed for that) so that pytest
# collects one test per operation; its connection pool opens with the first request, once the
# `fuzz_user` fixture has created and filled the scratch database.
SETTINGS = Settings(
    database_url=with_database(conftest.database_url_for_tests(), f"cpts_test_fuzz_{os.getpid()}"),
    log_level="WARNING")
APP = create_app(SETTINGS)
schema = schemathesis.openapi.from_dict(APP.openapi())
schema.app = APP


@dataclass(frozen=True)
class FuzzUser:
    headers: dict[str, str]
    token_id: int
    spare_token_id: int


@pytest.fixture(scope="module")
def fuzz_user() -> Iterator[FuzzUser]:
    """The scratch database (06 and its 16 CPTS) and its administrator; dropped afterwards."""
    from geodata.pipeline import load_geodata

    url = SETTINGS.database_url
    drop_database(url)
    ensure_database(url)
    try:
        with connect(url) as conn:
            upgrade(conn, SETTINGS.migrations_dir)
        load_geodata(SETTINGS, departements=["06"], show_progress=False)
        load_fixture(url)
        with connect(url) as conn, conn.transaction():
            admin = create_user(conn, email="fuzz-admin@test.cpts.fr", role=Role.ADMIN,
                                regions=(), cpts_ids=(), password=None,
                                actor=Actor.command_line())
            issued = api_tokens.issue(conn, admin, name="fuzz", expires_in_days=1,
                                      actor=Actor.command_line())
            spare = api_tokens.issue(conn, admin, name="fuzz (révocable)", expires_in_days=1,
                                     actor=Actor.command_line())
        yield FuzzUser({"Authorization": f"Bearer {issued.token}"}, int(issued.row["id"]),
                       int(spare.row["id"]))
    finally:
        schemathesis_asgi.shutdown_lifespans()
        drop_database(url)


def looks_french(text: str) -> bool:
    """A French sentence has an accented letter or one of the commonest French words."""
    lowered = text.lower().replace("’", "'")
    if any(letter in lowered for letter in FRENCH_LETTERS):
        return True
    return bool(set(re.findall(r"[a-z]+", lowered)) & FRENCH_WORDS)


def problem_details(ctx: Any, response: Any, case: Any) -> bool | None:
    """An error answer is RFC 9457 problem+json with `status`, `code` and a French `detail`."""
    if response.status_code < 400:
        return None
    content_type = (response.headers.get("content-type") or [""])[0]
    assert content_type.startswith("application/problem+json"), (
        f"HTTP {response.status_code} in {content_type!r}, not application/problem+json")
    body = response.json()
    assert isinstance(body, dict), body
    assert isinstance(body.get("code"), str) and body["code"], body
    assert body.get("status") == response.status_code, body
    detail = body.get("detail")
    assert isinstance(detail, str) and detail, body
    assert looks_french(detail), f"detail not in French? {detail!r}"
    return None


@schema.parametrize()
@hypothesis.settings(max_examples=MAX_EXAMPLES, deadline=DEADLINE_MS, derandomize=True,
                     database=None, suppress_health_check=list(hypothesis.HealthCheck))
def test_api_answers_without_server_error_and_in_problem_json(
    case: Any, fuzz_user: FuzzUser
) -> None:
    if (case.operation.path == OWN_TOKEN_PATH
            and case.path_parameters.get("token_id") == fuzz_user.token_id):
        case.path_parameters["token_id"] = fuzz_user.spare_token_id
    case.call_and_validate(headers=dict(fuzz_user.headers),
                           checks=[not_a_server_error, problem_details])


def test_fuzz_user_stayed_signed_in(fuzz_user: FuzzUser) -> None:
    """Every fuzzed request above was made by a signed-in user; the schema fuzzed is the one
    `/openapi.json` serves to a signed-in user, and only to one."""
    with schemathesis_asgi.get_client(APP) as client:
        me = client.get("/api/me", headers=fuzz_user.headers)
        served = client.get("/openapi.json", headers=fuzz_user.headers)
        anonymous = client.get("/openapi.json")
    assert me.status_code == 200, me.text
    assert served.status_code == 200 and served.json() == APP.openapi()
    assert anonymous.status_code == 401
    assert anonymous.headers["content-type"].startswith("application/problem+json")


# What the fuzzing found, kept as plain regression tests (the fuzzing may not draw them again):
# a NUL character reached PostgreSQL (psycopg refuses it: a 500), and a body that is not UTF-8
# got the framework's English message.
NUL_REQUESTS = [
    ("POST", "/api/auth/login", {"email": "00\u0000", "password": "x"}),
    ("POST", "/api/map/units", {"codes": ["06\u0000088"]}),
    ("POST", "/api/cpts", {"name": "CPTS\u0000", "communes": ["06088"]}),
    ("GET", "/api/communes?q=Ni%00ce", None),
]


@pytest.mark.parametrize(("method", "path", "body"), NUL_REQUESTS,
                         ids=[f"{m} {p}" for m, p, _ in NUL_REQUESTS])
def test_a_nul_character_never_makes_a_server_error(
    fuzz_user: FuzzUser, method: str, path: str, body: dict[str, Any] | None
) -> None:
    with schemathesis_asgi.get_client(APP) as client:
        response = client.request(method, path, json=body, headers=fuzz_user.headers)
    assert response.status_code < 500, response.text
    if response.status_code >= 400:  # refused (the search just finds nothing, or Nice)
        assert response.headers["content-type"].startswith("application/problem+json")
        assert looks_french(response.json()["detail"])


def test_a_body_that_is_not_utf8_gets_a_french_problem(fuzz_user: FuzzUser) -> None:
    with schemathesis_asgi.get_client(APP) as client:
        response = client.post("/api/cpts", data=b'{"name": "\xe9\xff"}',
                               headers=fuzz_user.headers | {"Content-Type": "application/json"})
    assert response.status_code == 400
    problem = response.json()
    assert response.headers["content-type"].startswith("application/problem+json")
    assert problem["code"] == "http_400" and looks_french(problem["detail"])
    assert problem["errors"][0]["detail"] == "Le corps de la requête n'a pas pu être lu."
