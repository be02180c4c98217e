"""The access-control matrix: every route × every role × own and other resources.

The routes come from the application itself, so a new route fails here until it has a rule in
`app/auth/policy.py` (ROUTE_RULES) and a row in CASES below saying what each role gets. The
expectations are written out by hand, independently of the policy table they check. Every
successful write must also leave an entry in the audit log.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient

from app.auth import api_tokens
from app.auth.audit import Actor
from app.auth.deps import enforce_access
from app.auth.policy import ROUTE_RULES, rule_for
from app.auth.sessions import SESSION_COOKIE, open_session
from app.db import connect
from app.main import create_app
from app.settings import Settings
from tests.auth_fixtures import Account, MakeAccount

ROLES = ("admin", "ars", "carrier", "observer")
ACTORS = ("anonymous", *ROLES)
ALLOWED = "allowed"  # any answer but 401 and 403: the route's own tests check the rest
WRITES = {"POST", "PUT", "PATCH", "DELETE"}
Expected = int | str


def app_routes(app: FastAPI) -> list[tuple[str, str]]:
    return sorted({(method, str(context.path_format))
                   for context in iter_route_contexts(app.routes)
                   for method in context.methods or ()})


APP_ROUTES = app_routes(create_app(Settings()))


@dataclass(frozen=True)
class Call:
    method: str
    url: str
    options: dict[str, Any] = field(default_factory=dict)


@dataclass
class World:
    """Accounts of every role (ars and observer on region 93), plus owners of other things."""

    database: str
    settings: Settings
    app: FastAPI
    accounts: dict[str, Account]
    other: Account  # owns the "other" resources
    login_target: Account  # whose credentials the login routes receive

    def client(self, actor: str) -> TestClient:
        """A fresh browser: a session opened directly (no password hashing), CSRF header set."""
        test_client = TestClient(self.app)
        if actor == "anonymous":
            test_client.headers["X-CSRF-Token"] = test_client.get("/api/auth/csrf").json()[
                "csrf_token"]
            return test_client
        with connect(self.database) as conn:
            session = open_session(conn, self.accounts[actor].id, ip=None, user_agent="matrix",
                                   settings=self.settings)
        test_client.cookies.set(SESSION_COOKIE, session.secret)
        test_client.headers["X-CSRF-Token"] = session.csrf_token
        return test_client

    def token_of(self, account: Account) -> int:
        with connect(self.database) as conn, conn.transaction():
            issued = api_tokens.issue(conn, account.user, name="matrix", expires_in_days=1,
                                      actor=Actor.command_line())
        return int(issued.row["id"])

    def last_audit_id(self) -> int:
        with connect(self.database) as conn:
            row = conn.execute("SELECT coalesce(max(id), 0) AS id FROM audit_log").fetchone()
        assert row is not None
        return int(row["id"])

    def audit_actions_since(self, audit_id: int) -> list[tuple[str, str | None]]:
        with connect(self.database) as conn:
            rows = conn.execute("SELECT action, actor_email FROM audit_log WHERE id > %s",
                                (audit_id,)).fetchall()
        return [(row["action"], row["actor_email"]) for row in rows]


Builder = Callable[[World, str, str], Call]


@dataclass(frozen=True)
class Case:
    build: Builder
    expect: dict[str, Expected]  # actor -> status, for routes without resources
    other: dict[str, Expected] | None = None  # actor -> status on someone else's resource
    audit: str | None = None  # action logged by a successful write
    audit_by_target: bool = False  # the entry's actor is the login target, not the caller
    anonymous_writes_nothing: bool = False

    @property
    def ownerships(self) -> tuple[str, ...]:
        return ("own", "other") if self.other is not None else ("own",)

    def expected(self, actor: str, ownership: str) -> Expected:
        table = self.other if ownership == "other" and self.other is not None else self.expect
        return table[actor]


def get(url: str) -> Builder:
    return lambda world, actor, ownership: Call("GET", url)


def everyone(status: Expected) -> dict[str, Expected]:
    return dict.fromkeys(ACTORS, status)


def signed_in(status: Expected) -> dict[str, Expected]:
    return {"anonymous": 401, **dict.fromkeys(ROLES, status)}


def _login_form(world: World, actor: str, ownership: str) -> Call:
    target = world.login_target
    return Call("POST", "/login", {"data": {"email": target.email, "password": target.password},
                                   "follow_redirects": False})


def _login_json(world: World, actor: str, ownership: str) -> Call:
    target = world.login_target
    return Call("POST", "/api/auth/login",
                {"json": {"email": target.email, "password": target.password}})


def _revoke(world: World, actor: str, ownership: str) -> Call:
    owner = world.other if ownership == "other" or actor == "anonymous" else world.accounts[actor]
    return Call("DELETE", f"/api/tokens/{world.token_of(owner)}")


def _audit(world: World, actor: str, ownership: str) -> Call:
    return Call("GET", "/api/audit", {"params": {"region": "93" if ownership == "own" else "84"}})


CASES: dict[tuple[str, str], Case] = {
    ("GET", "/api/health"): Case(get("/api/health"), everyone(200)),
    ("GET", "/api/communes"): Case(get("/api/communes?q=nice"), signed_in(200)),
    ("GET", "/api/communes/{code}"): Case(get("/api/communes/06088"), signed_in(200)),
    ("GET", "/api/tiles/{layer}/{z}/{x}/{y}.pbf"):
        Case(get("/api/tiles/communes/9/268/187.pbf"), signed_in(ALLOWED)),
    ("GET", "/openapi.json"): Case(get("/openapi.json"), signed_in(200)),
    ("GET", "/docs"): Case(get("/docs"), signed_in(200)),
    ("GET", "/docs/oauth2-redirect"): Case(get("/docs/oauth2-redirect"), signed_in(200)),
    ("GET", "/redoc"): Case(get("/redoc"), signed_in(200)),
    ("GET", "/login"): Case(get("/login"), everyone(200)),
    ("GET", "/logout"): Case(get("/logout"), everyone(200)),
    ("GET", "/login.css"): Case(get("/login.css"), everyone(200)),
    ("GET", "/api/auth/csrf"): Case(get("/api/auth/csrf"), everyone(200)),
    ("POST", "/login"): Case(_login_form, everyone(303), audit="session.login",
                             audit_by_target=True),
    ("POST", "/api/auth/login"): Case(_login_json, everyone(200), audit="session.login",
                                      audit_by_target=True),
    ("POST", "/logout"): Case(lambda w, a, o: Call("POST", "/logout",
                                                   {"follow_redirects": False}),
                              everyone(303), audit="session.logout",
                              anonymous_writes_nothing=True),
    ("POST", "/api/auth/logout"): Case(lambda w, a, o: Call("POST", "/api/auth/logout"),
                                       signed_in(204), audit="session.logout"),
    ("GET", "/api/me"): Case(get("/api/me"), signed_in(200)),
    ("GET", "/api/tokens"): Case(get("/api/tokens"), signed_in(200)),
    ("POST", "/api/tokens"): Case(lambda w, a, o: Call("POST", "/api/tokens",
                                                       {"json": {"name": "matrice"}}),
                                  signed_in(201), audit="token.create"),
    ("DELETE", "/api/tokens/{token_id}"): Case(
        _revoke, signed_in(204),
        other={"anonymous": 401, "admin": 204, "ars": 404, "carrier": 404, "observer": 404},
        audit="token.revoke"),
    ("GET", "/api/audit"): Case(
        _audit, {"anonymous": 401, "admin": 200, "ars": 200, "carrier": 403, "observer": 403},
        other={"anonymous": 401, "admin": 200, "ars": 403, "carrier": 403, "observer": 403}),
}


@pytest.fixture(scope="module")
def world(client: TestClient, database: str, settings: Settings,
          make_account: MakeAccount) -> World:
    accounts = {
        "admin": make_account("admin"),
        "ars": make_account("ars", regions=["93"]),
        "carrier": make_account("carrier"),
        "observer": make_account("observer", regions=["93"]),
    }
    return World(database, settings, client.app, accounts,
                 other=make_account("carrier", label="other"),
                 login_target=make_account("observer", regions=["84"], label="target"))


def _matches(status: int, expected: Expected) -> bool:
    return status not in (401, 403) if expected == ALLOWED else status == expected


@pytest.mark.parametrize(("method", "path"), APP_ROUTES, ids=[f"{m} {p}" for m, p in APP_ROUTES])
def test_access_matrix(method: str, path: str, world: World) -> None:
    assert rule_for(method, path) is not None, (
        f"{method} {path} has no access rule: add one to ROUTE_RULES in app/auth/policy.py")
    case = CASES.get((method, path))
    assert case is not None, (
        f"{method} {path} is not in the access matrix: add its row to CASES in {__name__}")
    wrong: list[str] = []
    for actor in ACTORS:
        for ownership in case.ownerships:
            expected = case.expected(actor, ownership)
            call = case.build(world, actor, ownership)
            before = world.last_audit_id()
            response = world.client(actor).request(call.method, call.url, **call.options)
            if not _matches(response.status_code, expected):
                wrong.append(f"{actor}/{ownership}: {response.status_code} instead of "
                             f"{expected} ({response.text[:120]})")
                continue
            if method in WRITES and response.status_code < 400:
                wrong.extend(_audit_problems(case, world, actor, ownership, before))
    assert not wrong, f"{method} {path}:\n" + "\n".join(wrong)


def _audit_problems(case: Case, world: World, actor: str, ownership: str,
                    before: int) -> list[str]:
    logged = world.audit_actions_since(before)
    if actor == "anonymous" and case.anonymous_writes_nothing:
        return [] if not logged else [f"{actor}: nothing done, yet audited {logged}"]
    if case.audit is None:
        return [f"{actor}/{ownership}: a write route must say which audit entry it leaves"]
    who = (world.login_target.email if case.audit_by_target
           else world.accounts[actor].email if actor != "anonymous" else None)
    if (case.audit, who) not in logged:
        return [f"{actor}/{ownership}: no audit entry {case.audit} by {who} (got {logged})"]
    return []


def test_every_route_goes_through_the_guard() -> None:
    """Mounts and plain routes would bypass the dependency: every route must be an APIRoute."""
    app = create_app(Settings())
    for context in iter_route_contexts(app.routes):
        assert isinstance(context.original_route, APIRoute), (
            f"{context.path_format} is not a FastAPI route: the access guard cannot see it")
        guards = [dep.call for dep in context.dependant.dependencies]
        assert enforce_access in guards, f"{context.path_format} bypasses enforce_access"


def test_every_rule_belongs_to_an_existing_route() -> None:
    stale = set(ROUTE_RULES) - set(APP_ROUTES)
    assert not stale, f"rules for routes that do not exist: {sorted(stale)}"


def test_a_route_without_rule_is_refused_even_to_an_admin(
        database: str, settings: Settings, make_account: MakeAccount) -> None:
    app = create_app(settings)

    @app.get("/api/forgotten")
    def forgotten() -> dict[str, str]:
        return {"secret": "should never be served"}

    admin = make_account("admin")
    with TestClient(app, headers={"Authorization": f"Bearer {admin.token}"}) as test_client:
        response = test_client.get("/api/forgotten")
    assert response.status_code == 403
    assert response.json()["code"] == "no_access_rule"
