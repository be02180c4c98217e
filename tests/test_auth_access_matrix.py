"""The access-control matrix: every route × every role × own and other resources.

The routes come from the application itself, so a new route fails here until it has a rule in
`app/auth/policy.py` (ROUTE_RULES) and a row in CASES below saying what each role gets on each
kind of resource. The expectations are written out by hand, independently of the policy they
check. Every successful write must leave its entry in the audit log; a POST that writes nothing
(a simulation, a dry run) must leave none.

Actors: an administrator, an agency user (ars) and a task-force member (observer) of region 93,
a carrier, and an anonymous visitor; each request comes from a fresh browser session (cookie and
CSRF header). Resources, made fresh for every request that could change them:
- tokens: `own` (the caller's) and `other` (another user's);
- audit: `own` (region 93) and `other` (region 84);
- CPTS: `own_draft` (the carrier's pre-project, not submitted, region 93), `own` (the carrier's
  CPTS at letter of intent, region 93), `other_draft` (another carrier's pre-project, region 93)
  and `other` (another carrier's CPTS at letter of intent, region 84).
"""

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient

from app.auth import api_tokens
from app.auth.audit import Actor
from app.auth.deps import enforce_access
from app.auth.policy import FRONTEND, ROUTE_RULES, SIGNED_IN, rule_for
from app.auth.sessions import SESSION_COOKIE, open_session
from app.db import connect
from app.main import create_app
from app.settings import Settings
from tests.auth_fixtures import Account, MakeAccount

ROLES = ("admin", "ars", "carrier", "observer")
ACTORS = ("anonymous", *ROLES)
ALLOWED = "allowed"  # any answer but 401 and 403: the route's own tests check the rest
WRITES = {"POST", "PUT", "PATCH", "DELETE"}
NONE = "-"  # routes without a resource
CPTS_KINDS = ("own_draft", "own", "other_draft", "other")
COMMUNES = {"own_draft": "06083", "own": "06083", "other_draft": "06029", "other": "42218",
            "region_93": "06085", "region_84": "42095"}  # Menton, Cannes, Saint-Étienne…
Expected = int | str


def serves_frontend(app: FastAPI) -> bool:
    """Whether `app.frontend(…)` was used (its files are not in `app.routes`)."""
    group = getattr(app.router, "_frontend_routes", None)
    return bool(getattr(group, "routes", None))


def app_routes(app: FastAPI) -> list[tuple[str, str]]:
    routes = {(method, str(context.path_format))
              for context in iter_route_contexts(app.routes)
              for method in context.methods or ()}
    if serves_frontend(app):
        routes.add(("GET", FRONTEND))
    return sorted(routes)


APP_ROUTES = app_routes(create_app(Settings()))


@dataclass(frozen=True)
class Call:
    method: str
    url: str
    options: dict[str, Any] = field(default_factory=dict)


@dataclass
class World:
    database: str
    settings: Settings
    app: FastAPI
    accounts: dict[str, Account]
    other: Account  # another carrier: owns the "other" tokens and CPTS
    login_target: Account  # whose credentials the login routes receive
    admin_client: TestClient  # prepares resources through the API

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

    def cpts(self, kind: str, *, then: str | None = None) -> tuple[int, int]:
        """A fresh CPTS of one kind; `then`: "pending" (a stage is requested) or "archived".
        Returns its id and version."""
        status = "pre_projet" if kind.endswith("draft") else "lettre_intention"
        response = self.admin_client.post("/api/cpts", json={
            "name": f"Matrice {kind}", "status": status, "communes": [COMMUNES[kind]]})
        assert response.status_code == 201, response.text
        cpts_id, version = int(response.json()["id"]), int(response.json()["version"])
        member = self.accounts["carrier"] if kind.startswith("own") else self.other
        with connect(self.database) as conn:
            conn.execute("INSERT INTO user_cpts (user_id, cpts_id) VALUES (%s, %s)",
                         (member.id, cpts_id))
        if then == "pending":
            assert self.admin_client.post(f"/api/cpts/{cpts_id}/stage-request",
                                          json={}).status_code == 204
        elif then == "archived":
            archived = self.admin_client.post(f"/api/cpts/{cpts_id}/archive", json={},
                                              headers={"If-Match": f'"{version}"'})
            assert archived.status_code == 200, archived.text
            version += 1
        return cpts_id, version

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
    build: Builder  # (world, actor, resource) -> the request
    expect: dict[str, dict[str, Expected]]  # resource -> actor -> status
    audit: str | None = None  # action logged by a successful write
    audit_by_target: bool = False  # the entry's actor is the login target, not the caller
    writes_nothing: bool = False  # a POST that must leave no audit entry
    anonymous_writes_nothing: bool = False


# --- helpers to write the table ---------------------------------------------------------------

def everyone(status: Expected) -> dict[str, Expected]:
    return dict.fromkeys(ACTORS, status)


def signed_in(status: Expected) -> dict[str, Expected]:
    return {"anonymous": 401, **dict.fromkeys(ROLES, status)}


def row(anonymous: Expected, admin: Expected, ars: Expected, carrier: Expected,
        observer: Expected) -> dict[str, Expected]:
    return {"anonymous": anonymous, "admin": admin, "ars": ars, "carrier": carrier,
            "observer": observer}


def plain(table: dict[str, Expected]) -> dict[str, dict[str, Expected]]:
    return {NONE: table}


def get(url: str) -> Builder:
    return lambda world, actor, resource: Call("GET", url)


def post(url: str, **options: Any) -> Builder:
    return lambda world, actor, resource: Call("POST", url, options)


def on_cpts(method: str, suffix: str = "", *, then: str | None = None,
            body: dict[str, Any] | None = None, if_match: bool = False,
            params: dict[str, str] | None = None) -> Builder:
    def build(world: World, actor: str, resource: str) -> Call:
        cpts_id, version = world.cpts(resource, then=then)
        options: dict[str, Any] = {}
        if body is not None:
            options["json"] = body
        if if_match:
            options["headers"] = {"If-Match": f'"{version}"'}
        if params:
            options["params"] = params
        return Call(method, f"/api/cpts/{cpts_id}{suffix}", options)
    return build


def _login_form(world: World, actor: str, resource: str) -> Call:
    target = world.login_target
    return Call("POST", "/login", {"data": {"email": target.email, "password": target.password},
                                   "follow_redirects": False})


def _login_json(world: World, actor: str, resource: str) -> Call:
    target = world.login_target
    return Call("POST", "/api/auth/login",
                {"json": {"email": target.email, "password": target.password}})


def _revoke(world: World, actor: str, resource: str) -> Call:
    owner = world.other if resource == "other" or actor == "anonymous" else world.accounts[actor]
    return Call("DELETE", f"/api/tokens/{world.token_of(owner)}")


def _audit(world: World, actor: str, resource: str) -> Call:
    return Call("GET", "/api/audit", {"params": {"region": "93" if resource == "own" else "84"}})


def _create_cpts(world: World, actor: str, resource: str) -> Call:
    """Each role creates what it normally creates: carriers a draft, agencies a CPTS at the
    letter-of-intent stage (recording an existing project)."""
    status = "pre_projet" if actor in ("carrier", "anonymous") else "lettre_intention"
    return Call("POST", "/api/cpts", {"json": {
        "name": "Matrice création", "status": status, "communes": [COMMUNES[resource]]}})


def _simulate(world: World, actor: str, resource: str) -> Call:
    cpts_id, _ = world.cpts(resource)
    return Call("POST", "/api/simulations/perimeter",
                {"json": {"cpts_id": cpts_id, "add": [COMMUNES["region_93"]]}})


def _proposal(world: World, actor: str, resource: str) -> Call:
    return Call("POST", "/api/proposals", {"json": {"units": [COMMUNES[resource]]}})


def _proposal_scenario(world: World, actor: str, resource: str) -> Call:
    return Call("POST", "/api/proposals/scenarios",
                {"json": {"groups": [{"communes": [COMMUNES[resource]]}]}})


def _map_actions(world: World, actor: str, resource: str) -> Call:
    cpts_id, _ = world.cpts(resource)
    return Call("GET", f"/api/map/cpts/{cpts_id}/actions")


def _import(world: World, actor: str, resource: str) -> Call:
    rows = f"cpts;code_commune\nMatrice import;{COMMUNES['region_93']}\n"
    return Call("POST", "/api/imports/cpts", {
        "params": {"dry_run": "true"},
        "files": {"file": ("perimetres.csv", rows.encode("utf-8"), "text/csv")}})


def _indicator_table(world: World, actor: str, resource: str) -> Call:
    definition = {"table": "matrice", "title": "Matrice", "vintage": "2024", "source": "tests",
                  "match": {"code": "codgeo"},
                  "columns": [{"header": "n", "label": "N", "aggregation": "sum"}]}
    return Call("POST", "/api/indicators/tables", {
        "params": {"dry_run": "true"}, "data": {"definition": json.dumps(definition)},
        "files": {"file": ("table.csv", f"codgeo;n\n{COMMUNES['region_93']};1\n".encode(),
                           "text/csv")}})


# Who reads a CPTS (404 hides what one may not see): drafts are their carriers' until submitted;
# the agency and task force read their region past the draft; carriers read others from the
# letter of intent on.
READ_CPTS = {
    "own_draft": row(401, 200, 404, 200, 404),
    "own": row(401, 200, 200, 200, 200),
    "other_draft": row(401, 200, 404, 404, 404),
    "other": row(401, 200, 404, 200, 404),
}

CASES: dict[tuple[str, str], Case] = {
    # service and reference data
    ("GET", "/api/health"): Case(get("/api/health"), plain(everyone(200))),
    ("GET", "/api/communes"): Case(get("/api/communes?q=nice"), plain(signed_in(200))),
    ("GET", "/api/communes/{code}"): Case(get("/api/communes/06088"), plain(signed_in(200))),
    ("GET", "/api/tiles/{layer}/{z}/{x}/{y}.pbf"):
        Case(get("/api/tiles/communes/9/268/187.pbf"), plain(signed_in(ALLOWED))),
    ("GET", "/api/size-rules"): Case(get("/api/size-rules"), plain(signed_in(200))),
    # documentation
    ("GET", "/openapi.json"): Case(get("/openapi.json"), plain(signed_in(200))),
    ("GET", "/docs"): Case(get("/docs"), plain(signed_in(200))),
    ("GET", "/docs/oauth2-redirect"): Case(get("/docs/oauth2-redirect"), plain(signed_in(200))),
    ("GET", "/redoc"): Case(get("/redoc"), plain(signed_in(200))),
    # signing in and out
    ("GET", "/login"): Case(get("/login"), plain(everyone(200))),
    ("GET", "/logout"): Case(get("/logout"), plain(everyone(200))),
    ("GET", "/login.css"): Case(get("/login.css"), plain(everyone(200))),
    ("GET", "/accessibilite"): Case(get("/accessibilite"), plain(everyone(200))),
    # public, but the DSFR's files are served only with UI_THEME=dsfr (test_themes_pages.py)
    ("GET", "/theme/{path}"): Case(get("/theme/css/theme-dsfr.css"), plain(everyone(404))),
    ("GET", "/api/auth/csrf"): Case(get("/api/auth/csrf"), plain(everyone(200))),
    ("POST", "/login"): Case(_login_form, plain(everyone(303)), audit="session.login",
                             audit_by_target=True),
    ("POST", "/api/auth/login"): Case(_login_json, plain(everyone(200)), audit="session.login",
                                      audit_by_target=True),
    ("POST", "/logout"): Case(post("/logout", follow_redirects=False), plain(everyone(303)),
                              audit="session.logout", anonymous_writes_nothing=True),
    ("POST", "/api/auth/logout"): Case(post("/api/auth/logout"), plain(signed_in(204)),
                                       audit="session.logout"),
    ("GET", "/api/me"): Case(get("/api/me"), plain(signed_in(200))),
    # tokens
    ("GET", "/api/tokens"): Case(get("/api/tokens"), plain(signed_in(200))),
    ("POST", "/api/tokens"): Case(post("/api/tokens", json={"name": "matrice"}),
                                  plain(signed_in(201)), audit="token.create"),
    ("DELETE", "/api/tokens/{token_id}"): Case(_revoke, {
        "own": signed_in(204),
        "other": row(401, 204, 404, 404, 404),
    }, audit="token.revoke"),
    # audit log
    ("GET", "/api/audit"): Case(_audit, {
        "own": row(401, 200, 200, 403, 403),
        "other": row(401, 200, 403, 403, 403),
    }),
    # CPTS
    ("GET", "/api/cpts"): Case(get("/api/cpts"), plain(signed_in(200))),
    ("POST", "/api/cpts"): Case(_create_cpts, {
        "region_93": row(401, 201, 201, 201, 403),
        "region_84": row(401, 201, 403, 201, 403),
    }, audit="cpts.create"),
    ("GET", "/api/cpts/{cpts_id}"): Case(on_cpts("GET"), READ_CPTS),
    ("GET", "/api/cpts/{cpts_id}/versions"): Case(on_cpts("GET", "/versions"), READ_CPTS),
    ("GET", "/api/cpts/{cpts_id}/history"): Case(on_cpts("GET", "/history"), READ_CPTS),
    ("GET", "/api/cpts/{cpts_id}/export"):
        Case(on_cpts("GET", "/export", params={"format": "csv"}), READ_CPTS),
    ("POST", "/api/simulations/perimeter"): Case(_simulate, READ_CPTS, writes_nothing=True),
    # carriers edit their draft; the agency in charge edits from the letter of intent on
    ("PATCH", "/api/cpts/{cpts_id}"): Case(
        on_cpts("PATCH", body={"name": "Matrice renommée"}, if_match=True), {
            "own_draft": row(401, 200, 404, 200, 403),
            "own": row(401, 200, 200, 403, 403),
            "other_draft": row(401, 200, 404, 404, 403),
            "other": row(401, 200, 404, 403, 403),
        }, audit="cpts.update"),
    # carriers ask for the next stage of their own CPTS
    ("POST", "/api/cpts/{cpts_id}/stage-request"): Case(
        on_cpts("POST", "/stage-request", body={}), {
            "own_draft": row(401, 204, 403, 204, 403),
            "own": row(401, 204, 403, 204, 403),
            "other_draft": row(401, 204, 403, 404, 403),
            "other": row(401, 204, 403, 403, 403),
        }, audit="cpts.stage_request"),
    # the agency in charge accepts a requested stage or sends it back (drafts are submitted)
    ("POST", "/api/cpts/{cpts_id}/stage-request/accept"): Case(
        on_cpts("POST", "/stage-request/accept", then="pending", body={}, if_match=True), {
            "own_draft": row(401, 200, 200, 403, 403),
            "own": row(401, 200, 200, 403, 403),
            "other_draft": row(401, 200, 200, 403, 403),
            "other": row(401, 200, 404, 403, 403),
        }, audit="cpts.update"),
    ("POST", "/api/cpts/{cpts_id}/stage-request/changes"): Case(
        on_cpts("POST", "/stage-request/changes", then="pending",
                body={"comment": "Précisez le périmètre."}), {
            "own_draft": row(401, 204, 204, 403, 403),
            "own": row(401, 204, 204, 403, 403),
            "other_draft": row(401, 204, 204, 403, 403),
            "other": row(401, 204, 404, 403, 403),
        }, audit="cpts.changes_requested"),
    # archiving: carriers their draft, the agency its region, admins everything
    ("POST", "/api/cpts/{cpts_id}/archive"): Case(
        on_cpts("POST", "/archive", body={}, if_match=True), {
            "own_draft": row(401, 200, 404, 200, 403),
            "own": row(401, 200, 200, 403, 403),
            "other_draft": row(401, 200, 404, 404, 403),
            "other": row(401, 200, 404, 403, 403),
        }, audit="cpts.archive"),
    ("POST", "/api/cpts/{cpts_id}/restore"): Case(
        on_cpts("POST", "/restore", then="archived", body={}, if_match=True), {
            "own_draft": row(401, 200, 404, 200, 403),
            "own": row(401, 200, 200, 403, 403),
            "other_draft": row(401, 200, 404, 404, 403),
            "other": row(401, 200, 404, 403, 403),
        }, audit="cpts.restore"),
    # coverage figures (CPTS named only when readable: the coverage tests check it)
    ("GET", "/api/coverage"): Case(get("/api/coverage"), plain(signed_in(ALLOWED))),
    # proposed plans: agencies and task forces for their regions; saved as agency scenarios
    ("POST", "/api/proposals"): Case(_proposal, {
        "region_93": row(401, 200, 200, 403, 200),
        "region_84": row(401, 200, 403, 403, 403),
    }, writes_nothing=True),
    ("POST", "/api/proposals/scenarios"): Case(_proposal_scenario, {
        "region_93": row(401, 201, 201, 403, 403),
        "region_84": row(401, 201, 403, 403, 403),
    }, audit="cpts.create"),
    # bulk import (a dry run writes nothing)
    ("POST", "/api/imports/cpts"): Case(
        _import, plain(row(401, ALLOWED, ALLOWED, ALLOWED, 403)), writes_nothing=True),
    # indicator tables (a dry run writes nothing; which tables: app.domain.indicator_access)
    ("POST", "/api/indicators/tables"): Case(
        _indicator_table, plain(row(401, 200, 200, 403, 403)), writes_nothing=True),
    ("GET", "/api/indicators/tables"): Case(get("/api/indicators/tables"), plain(signed_in(200))),
    ("GET", "/api/indicators"): Case(get("/api/indicators?units=06083"), plain(signed_in(200))),
    ("GET", "/api/indicators/map"): Case(get("/api/indicators/map?indicator=absente.x"),
                                         plain(signed_in(404))),
    # the map page, its static files and what it reads (the selection and units write nothing)
    ("GET", "/"): Case(get("/"), plain(signed_in(200))),
    ("GET", FRONTEND): Case(get("/static/js/main.js"), plain(signed_in(200))),
    ("GET", "/api/map/perimeters"): Case(get("/api/map/perimeters"), plain(signed_in(200))),
    ("GET", "/api/map/overview"): Case(get("/api/map/overview"), plain(signed_in(200))),
    ("GET", "/api/map/unit-at"): Case(get("/api/map/unit-at?lat=43.7764&lon=7.5048"),
                                      plain(signed_in(200))),
    ("GET", "/api/map/neighbours/{code}"): Case(get("/api/map/neighbours/06083"),
                                                plain(signed_in(200))),
    ("GET", "/api/map/cpts/{cpts_id}/actions"): Case(_map_actions, READ_CPTS),
    ("GET", "/api/map/groups/{kind}/{code}"):
        Case(get("/api/map/groups/epci/240600551"), plain(signed_in(200))),
    ("POST", "/api/map/selection"): Case(
        post("/api/map/selection", json={"geometry": {"type": "Polygon", "coordinates": [
            [[7.49, 43.77], [7.54, 43.77], [7.54, 43.82], [7.49, 43.82], [7.49, 43.77]]]}}),
        plain(signed_in(200)), writes_nothing=True),
    ("POST", "/api/map/units"): Case(post("/api/map/units", json={"codes": ["06083"]}),
                                     plain(signed_in(200)), writes_nothing=True),
    ("GET", "/api/map/orientation"): Case(get("/api/map/orientation"), plain(signed_in(200))),
    ("GET", "/api/map/labels"): Case(get("/api/map/labels?bbox=7.2,43.6,7.6,43.9"),
                                     plain(signed_in(200))),
    ("GET", "/api/map/place"): Case(get("/api/map/place?lat=43.7764&lon=7.5048"),
                                    plain(signed_in(200))),
    ("GET", "/api/territories"): Case(get("/api/territories?q=06"), plain(signed_in(200))),
    # OGC API – Features: same rules as the API; a CPTS feature as its detail read
    ("GET", "/ogc"): Case(get("/ogc"), plain(signed_in(200))),
    ("GET", "/ogc/"): Case(get("/ogc/"), plain(signed_in(200))),
    ("GET", "/ogc/api"): Case(get("/ogc/api"), plain(signed_in(200))),
    ("GET", "/ogc/conformance"): Case(get("/ogc/conformance"), plain(signed_in(200))),
    ("GET", "/ogc/collections"): Case(get("/ogc/collections"), plain(signed_in(200))),
    ("GET", "/ogc/collections/{collection_id}"): Case(get("/ogc/collections/cpts"),
                                                      plain(signed_in(200))),
    ("GET", "/ogc/collections/{collection_id}/items"): Case(
        get("/ogc/collections/communes/items?departement=06&limit=5"), plain(signed_in(200))),
    ("GET", "/ogc/collections/{collection_id}/items/{feature_id}"): Case(
        lambda world, actor, resource: Call(
            "GET", f"/ogc/collections/cpts/items/{world.cpts(resource)[0]}"), READ_CPTS),
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
    preparer = TestClient(client.app,
                          headers={"Authorization": f"Bearer {make_account('admin').token}"})
    return World(database, settings, client.app, accounts,
                 other=make_account("carrier", label="other"),
                 login_target=make_account("observer", regions=["84"], label="target"),
                 admin_client=preparer)


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
    for resource, table in case.expect.items():
        for actor in ACTORS:
            expected = table[actor]
            call = case.build(world, actor, resource)
            before = world.last_audit_id()
            response = world.client(actor).request(call.method, call.url, **call.options)
            if not _matches(response.status_code, expected):
                wrong.append(f"{actor} on {resource}: {response.status_code} instead of "
                             f"{expected} ({response.text[:120]})")
                continue
            if method in WRITES and response.status_code < 400:
                wrong.extend(_audit_problems(case, world, actor, resource, before))
    assert not wrong, f"{method} {path}:\n" + "\n".join(wrong)


def _audit_problems(case: Case, world: World, actor: str, resource: str,
                    before: int) -> list[str]:
    logged = world.audit_actions_since(before)
    if case.writes_nothing or (actor == "anonymous" and case.anonymous_writes_nothing):
        return [] if not logged else [f"{actor} on {resource}: nothing written, yet {logged}"]
    if case.audit is None:
        return [f"{actor} on {resource}: a write route must say which audit entry it leaves"]
    who = (world.login_target.email if case.audit_by_target
           else world.accounts[actor].email if actor != "anonymous" else None)
    if (case.audit, who) not in logged:
        return [f"{actor} on {resource}: no audit entry {case.audit} by {who} (got {logged})"]
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


def test_a_static_front_end_needs_a_rule_and_sends_visitors_to_the_login_page(
        database: str, settings: Settings, make_account: MakeAccount, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "carte.html").write_text("<h1>La carte</h1>", encoding="utf-8")
    app = create_app(settings)
    app.frontend("/essai", directory=tmp_path, fallback=None)
    assert ("GET", FRONTEND) in app_routes(app)
    carrier = make_account("carrier")
    monkeypatch.delitem(ROUTE_RULES, ("GET", FRONTEND), raising=False)
    with TestClient(app) as browser:
        assert browser.get("/essai/carte.html").json()["code"] == "no_access_rule"
        monkeypatch.setitem(ROUTE_RULES, ("GET", FRONTEND), SIGNED_IN)
        visit = browser.get("/essai/carte.html", headers={"Accept": "text/html"},
                            follow_redirects=False)
        assert visit.status_code == 303
        assert visit.headers["location"] == "/login?next=/essai/carte.html"
        browser.headers["Authorization"] = f"Bearer {carrier.token}"
        assert "La carte" in browser.get("/essai/carte.html").text
