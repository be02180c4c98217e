"""Browser tests of the map page in a real headless Chromium (Debian's `chromium`, driven by
Playwright for Python): a scratch database holding the Alpes-Maritimes and the real CPTS of
the shared fixture, a real server (uvicorn in a thread) on a free local port, a user signed in
through the real login page, and every request the page makes recorded.

A module's page is its `ui` fixture (module-scoped: one sign-in per module and theme), on its
`server`, watched by its `recorder`; `pytest.mark.page_as(...)` names its user."""

import csv
import os
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from app.auth import api_tokens
from app.auth.audit import Actor
from app.auth.policy import Role, User
from app.auth.users import create_user
from app.db import connect
from app.dbadmin import database_name, drop_database, ensure_database, with_database
from app.migrations import upgrade
from app.repo import cpts as cpts_repo
from app.repo.reference import read_graph
from app.services import cpts as cpts_service
from app.services.map_assets import missing_files
from app.settings import PROJECT_ROOT, Settings
from tests.conftest import database_url_for_tests
from tests.serving import serving
from tests.shared_fixtures import ALPES_MARITIMES_LISTING

if TYPE_CHECKING:
    from tests.browser.pages import MapPage

CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
FIXTURE = ALPES_MARITIMES_LISTING
SCREENSHOTS = PROJECT_ROOT / "tests" / "output" / "screenshots"
VIEWPORT = {"width": 1366, "height": 768}  # a laptop screen
PASSWORD = "Carte-des-CPTS-2024"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/browser" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


def fixture_perimeters() -> dict[str, list[str]]:
    """The CPTS of the shared Alpes-Maritimes fixture (Nice, split at IRIS level, goes to each
    of its three CPTS); `HORS CPTS` is a zone blanche, not a CPTS."""
    perimeters: dict[str, list[str]] = {}
    with FIXTURE.open(encoding="utf-8") as source:
        for row in csv.DictReader(source, delimiter=";"):
            if row["cpts"] != "HORS CPTS":
                perimeters.setdefault(row["cpts"], []).append(row["code_commune"])
    return perimeters


def fixture_white_communes() -> set[str]:
    with FIXTURE.open(encoding="utf-8") as source:
        return {row["code_commune"] for row in csv.DictReader(source, delimiter=";")
                if row["cpts"] == "HORS CPTS"}


@dataclass
class LiveServer:
    base_url: str
    settings: Settings
    admin_email: str
    admin_token: str
    cpts_ids: dict[str, int] = field(default_factory=dict)

    def api(self) -> httpx.Client:
        return httpx.Client(base_url=self.base_url, timeout=30,
                            headers={"Authorization": f"Bearer {self.admin_token}"})


@pytest.fixture(scope="session")
def live_server() -> Iterator[LiveServer]:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: `make browser` installs Debian's chromium")
    if missing_files():
        pytest.fail("the map's vendor files are missing: run `make assets`")
    from geodata.pipeline import load_geodata

    base = database_url_for_tests()
    url = with_database(base, f"{database_name(base)}_browser_{uuid.uuid4().hex[:8]}")
    settings = Settings(database_url=url, log_level="WARNING")
    ensure_database(url)
    try:
        with connect(url) as conn:
            upgrade(conn, settings.migrations_dir)
        load_geodata(settings, departements=["06"], show_progress=False)
        email, token, ids = _seed(url)
        with serving(settings, log_level="warning") as base_url:
            yield LiveServer(base_url, settings, email, token, ids)
    finally:
        drop_database(url)


@pytest.fixture(scope="session")
def dsfr_server(live_server: LiveServer) -> Iterator[LiveServer]:
    """A second server on the same database and accounts, in the DSFR theme (UI_THEME=dsfr)."""
    settings = live_server.settings.model_copy(update={"ui_theme": "dsfr"})
    with serving(settings, log_level="warning") as base_url:
        yield LiveServer(base_url, settings, live_server.admin_email, live_server.admin_token,
                         live_server.cpts_ids)


@pytest.fixture(scope="session", params=["cpts", "dsfr"])
def themed_server(request: pytest.FixtureRequest, live_server: LiveServer) -> LiveServer:
    """The live server in each theme (UI_THEME): tests using it run once per theme."""
    if request.param == "cpts":
        return live_server
    server: LiveServer = request.getfixturevalue("dsfr_server")
    return server


@pytest.fixture(scope="module")
def server_in_each_theme(themed_server: LiveServer) -> LiveServer:
    """`server = server_in_each_theme` in a module: its page is signed in once per theme."""
    return themed_server


@pytest.fixture(scope="module")
def server(live_server: LiveServer) -> LiveServer:
    """The server a module's page is signed in to: the live server, unless the module says
    `server = server_in_each_theme` (its tests then run once per theme)."""
    return live_server


def _seed(url: str) -> tuple[str, str, dict[str, int]]:
    """An administrator with a password and a token, and the fixture's CPTS (signed)."""
    email = f"carte-{uuid.uuid4().hex[:8]}@test.cpts.fr"
    with connect(url) as conn, conn.transaction():
        user = create_user(conn, email=email, role=Role.ADMIN, regions=(), cpts_ids=(),
                           password=PASSWORD, actor=Actor.command_line())
        token = api_tokens.issue(conn, user, name="browser tests", expires_in_days=1,
                                 actor=Actor.command_line()).token
        graph = read_graph(conn)
        ctx = cpts_service.Context(conn=conn, graph=graph, rules=cpts_repo.size_rules(conn),
                                   user=User(id=user.id, email=email, role=Role.ADMIN),
                                   actor=Actor.command_line())
        ids = {name: cpts_service.create(ctx, name=name, status="aci_signe", communes=codes,
                                         reason="Jeu d'essai des Alpes-Maritimes")
               for name, codes in sorted(fixture_perimeters().items())}
    return email, token, ids


@dataclass
class Recorder:
    """Every request of the page, the failed ones and the console errors."""

    base_url: str
    requests: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def attach(self, page: Any) -> None:
        page.on("request", lambda request: self.requests.append(request.url))
        page.on("requestfailed", lambda request: self.failed.append(
            f"{request.url} {request.failure}"))
        page.on("response", lambda response: self.failed.append(
            f"{response.url} {response.status}") if response.status >= 400 else None)
        page.on("console", lambda message: self.errors.append(message.text)
                if message.type == "error" else None)
        page.on("pageerror", lambda error: self.errors.append(str(error)))

    def external(self) -> list[str]:
        return [url for url in self.requests
                if not url.startswith((self.base_url + "/", "data:", "blob:"))]


@pytest.fixture(scope="module")
def recorder(server: LiveServer) -> Recorder:
    """What the module's page requested and the errors it met (one per module and server)."""
    return Recorder(server.base_url)


def _page_as(role: str = "admin", *, bypass_csp: bool = False, accept_dialogs: bool = False,
             **scope: Any) -> tuple[str, dict[str, bool], dict[str, Any]]:
    """The arguments of a module's mark `pytest.mark.page_as(...)`: the role, the options of
    `pages.signed_in`, the regions or CPTS of the new account."""
    return role, {"bypass_csp": bypass_csp, "accept_dialogs": accept_dialogs}, scope


@pytest.fixture(scope="module")
def ui(request: pytest.FixtureRequest, browser: Any, server: LiveServer, recorder: Recorder,
       screenshots: Path) -> Iterator["MapPage"]:
    """The module's page, the map signed in on `server` as the module's mark
    `pytestmark = pytest.mark.page_as(role, bypass_csp=…, accept_dialogs=…, regions=…)` says:
    the administrator by default, else a new account of `role` (with its regions or CPTS);
    `bypass_csp` for a script the test injects (axe-core), `accept_dialogs` to answer
    « OK » to every confirm()."""
    from tests.browser.pages import make_user, signed_in

    mark = request.node.get_closest_marker("page_as")
    role, options, scope = _page_as(*mark.args, **mark.kwargs) if mark else _page_as()
    email = server.admin_email if role == "admin" else make_user(server, role, **scope)
    with signed_in(browser, server, recorder, screenshots, email, **options) as page:
        yield page


@pytest.fixture
def fresh_page(ui: "MapPage") -> None:
    """The module's page (its `ui` fixture) loaded again: a test using it starts with nothing
    open from the previous one (`pytestmark = pytest.mark.usefixtures("fresh_page")`)."""
    ui.page.reload()
    ui.page.wait_for_selector("body[data-ready=true]", timeout=30_000)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture(scope="session")
def screenshots() -> Path:
    shutil.rmtree(SCREENSHOTS, ignore_errors=True)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS
