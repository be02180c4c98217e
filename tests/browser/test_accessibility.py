"""Accessibility (RGAA, i.e. WCAG 2.1 AA) checked by axe-core in the real page: every view and
every box or form that opens over the panel, as each role (administrator, ARS agent, carrier,
observer), in both themes (UI_THEME cpts and dsfr), plus the login page, the API documentation
and the accessibility statement. axe-core comes from npm (a devDependency) and is injected by
the test only, never served by the app. No violation of impact « serious » or « critical » is
allowed; every result is written next to the screenshots (tests/output/screenshots/axe-*.json),
with a summary per theme and role. The map's own controls are checked in French (zoom,
layers, drawing tools, attribution, a metric-only scale)."""

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from app.settings import PROJECT_ROOT
from tests.browser.conftest import VIEWPORT, LiveServer, Recorder
from tests.browser.pages import MapPage, commune_facts, make_user, sign_in, signed_in

AXE = PROJECT_ROOT / "node_modules" / "axe-core" / "axe.min.js"
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
BLOCKING = {"serious", "critical"}
# Swagger UI's own markup on /docs (swagger-ui-dist, not the app's): its grey texts and its
# operation headers (a button holding buttons) fail these rules whatever the app does; the
# results are written like the others, and any other serious rule there fails the test.
SWAGGER_UI_KNOWN = frozenset({"color-contrast", "nested-interactive"})
MENTON = "06083"
RIVIERA = "CPTS DE LA RIVIERA FRANCAISE"

_RUN_AXE = """async (tags) => {
  const result = await axe.run(document, { runOnly: { type: "tag", values: tags },
                                           resultTypes: ["violations"] });
  return {
    url: result.url, engine: result.testEngine.version,
    passes: result.passes.length, incomplete: result.incomplete.length,
    violations: result.violations.map((v) => ({
      id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl, tags: v.tags,
      nodes: v.nodes.map((n) => ({ target: n.target, html: n.html.slice(0, 300),
                                   summary: n.failureSummary })),
    })),
  };
}"""


def theme_of(server: LiveServer) -> str:
    return str(server.settings.ui_theme)


def run_axe(page: Any, screenshots: Path, theme: str, role: str, view: str) -> dict[str, Any]:
    """axe-core on the page as it is now; the result written to axe-<role>-<view>[-dsfr].json."""
    if not AXE.exists():
        pytest.fail(f"{AXE} is missing: `make assets` installs the npm devDependencies")
    if not page.evaluate("() => Boolean(window.axe)"):
        page.add_script_tag(path=str(AXE))
    result = dict(page.evaluate(_RUN_AXE, TAGS))
    result |= {"theme": theme, "role": role, "view": view}
    suffix = "" if theme == "cpts" else f"-{theme}"
    (screenshots / f"axe-{role}-{view}{suffix}.json").write_text(
        json.dumps(result, ensure_ascii=False, indent=1), encoding="utf-8")
    page.screenshot(path=str(screenshots / f"axe-{role}-{view}{suffix}.png"))
    return result


def blocking(result: dict[str, Any], known: frozenset[str] = frozenset()) -> list[str]:
    return [f"{v['id']} ({v['impact']}, {len(v['nodes'])}) {v['help']}: "
            f"{[n['target'] for n in v['nodes'][:4]]}"
            for v in result["violations"] if v["impact"] in BLOCKING and v["id"] not in known]


def counts(result: dict[str, Any]) -> dict[str, int]:
    found: dict[str, int] = {}
    for violation in result["violations"]:
        found[violation["impact"]] = found.get(violation["impact"], 0) + len(violation["nodes"])
    return found


# --- the views ---------------------------------------------------------------------------------

def _fresh(ui: MapPage) -> None:
    ui.page.goto(ui.server.base_url + "/#vue=couverture")
    ui.page.reload()
    ui.page.wait_for_selector("body[data-ready=true]", timeout=30_000)
    ui.tiles_drawn()


def _search(ui: MapPage) -> None:
    ui.page.fill("#search-input", "Ment")
    ui.page.wait_for_selector("#search-results:not([hidden]) [role=option]")


def _card(ui: MapPage) -> None:
    ui.page.fill("#search-input", "")
    ui.page.keyboard.press("Escape")
    _, lat, lon = commune_facts(ui.server, MENTON)
    ui.view(lat, lon, 12)
    ui.click_commune(MENTON)
    ui.page.wait_for_selector("#commune-card h3:text('Menton (06083)')")


def _box(selector: str, ready: str) -> Callable[[MapPage], None]:
    def open_box(ui: MapPage) -> None:
        ui.page.click(f"{selector} > summary")
        ui.wait_until(ready)
        ui.page.wait_for_timeout(200)
    return open_box


def _edit_chooser(ui: MapPage) -> None:
    ui.page.click("#tab-edit")
    ui.page.wait_for_selector("#edit-chooser:not([hidden])")


def _edit_open(ui: MapPage) -> None:
    riviera = ui.server.cpts_ids[RIVIERA]
    ui.page.select_option("#edit-cpts-select", str(riviera))
    ui.page.click("#edit-open")
    ui.wait_until(f"document.querySelector('#edit-session').dataset.opened === '{riviera}'")
    ui.tiles_drawn()


def _new_form(ui: MapPage) -> None:
    ui.page.click("#edit-close")
    ui.page.wait_for_selector("#edit-chooser:not([hidden])")
    ui.page.click("#edit-new")
    ui.page.wait_for_selector("#edit-new-form:not([hidden])")


def _new_drawn(ui: MapPage) -> None:
    ui.page.fill("#edit-new-name", "CPTS Essai accessibilité")
    ui.page.click("#edit-new-form button[type=submit]")
    ui.page.wait_for_selector("#edit-session:not([hidden])")
    _, lat, lon = commune_facts(ui.server, MENTON)
    ui.view(lat, lon, 12)
    ui.figures_after(lambda: ui.click_commune(MENTON))
    ui.page.click("#edit-box")  # a rectangle being drawn (Leaflet.draw's tooltip on the map)
    ui.page.wait_for_selector(".leaflet-draw-tooltip")


def _white(ui: MapPage) -> None:
    page = ui.page
    page.keyboard.press("Escape")  # the rectangle, if any, is dropped
    page.click("#tab-white")
    page.select_option("#white-scope-kind", "departement")
    page.fill("#white-scope-code", "06")
    page.click("#white-form button[type=submit]")
    page.wait_for_selector("#white-table:not([hidden]) tbody tr")
    page.wait_for_timeout(300)


def _plan(ui: MapPage) -> None:
    ui.page.click("#white-proposals details > summary")  # its options (sliders) shown
    ui.page.click("#plan-propose")
    ui.page.wait_for_selector("#plan-table tbody tr", timeout=30_000)


# (name, applies to these roles (None: all), how to get there from the previous view)
VIEWS: list[tuple[str, set[str] | None, Callable[[MapPage], None]]] = [
    ("couverture", None, _fresh),
    ("recherche", None, _search),
    ("fiche-commune", None, _card),
    ("legende", None, _box("#legend-box", "document.querySelector('#legend li')")),
    ("carte-indicateur", None,
     _box("#choropleth-box", "document.querySelector('#choropleth-panel').children.length")),
    ("import", {"admin", "ars", "carrier"},
     _box("#import-box", "document.querySelector('#import-panel').children.length")),
    ("jetons", None,
     _box("#tokens-box", "document.querySelector('#tokens-panel').children.length")),
    ("edition", None, _edit_chooser),
    ("edition-perimetre", None, _edit_open),
    ("historique", None, _box("#edit-history", "document.querySelector('#history-list "
                                               ".history-version, #history-list .notice')")),
    ("communes-du-perimetre", None,
     _box("#edit-members", "document.querySelector('#edit-members-list li')")),
    ("nouvelle-cpts", {"admin", "carrier"}, _new_form),
    ("nouvelle-cpts-trace", {"admin", "carrier"}, _new_drawn),
    ("zones-blanches", None, _white),
    ("plan-propose", {"admin", "ars", "observer"}, _plan),
]


def account(server: LiveServer, role: str) -> str:
    if role == "admin":
        return server.admin_email
    if role == "carrier":  # the carrier of the Riviera: may edit it and start new projects
        return make_user(server, "carrier", cpts_ids=(server.cpts_ids[RIVIERA],))
    return make_user(server, role, regions=("93",))


@pytest.mark.parametrize("role", ["admin", "ars", "carrier", "observer"])
def test_every_view_has_no_serious_or_critical_violation(
        browser: Any, themed_server: LiveServer, screenshots: Path, role: str) -> None:
    server = themed_server
    theme = theme_of(server)
    failures: dict[str, list[str]] = {}
    summary: dict[str, dict[str, int]] = {}
    with signed_in(browser, server, Recorder(server.base_url), screenshots, account(server, role),
                   bypass_csp=True, accept_dialogs=True) as ui:
        try:
            for view, roles, reach in VIEWS:
                if roles is not None and role not in roles:
                    continue
                reach(ui)
                result = run_axe(ui.page, screenshots, theme, role, view)
                summary[view] = counts(result) | {"passes": result["passes"]}
                if blocking(result):
                    failures[view] = blocking(result)
        finally:
            (screenshots / f"axe-summary-{theme}-{role}.json").write_text(
                json.dumps(summary, ensure_ascii=False, indent=1), encoding="utf-8")
    assert len(summary) >= 11, summary
    assert not failures, json.dumps(failures, ensure_ascii=False, indent=1)


@pytest.mark.parametrize("path", ["/login", "/accessibilite", "/docs", "/redoc"])
def test_pages_around_the_map_have_no_serious_or_critical_violation(
        browser: Any, themed_server: LiveServer, screenshots: Path, path: str) -> None:
    server = themed_server
    if path in ("/docs", "/redoc"):  # the API documentation, for the signed-in
        recorder = Recorder(server.base_url)
        page = sign_in(browser, server, recorder, server.admin_email, bypass_csp=True)
        page.goto(server.base_url + path)
        page.wait_for_selector(".swagger-ui .opblock" if path == "/docs" else "redoc h1, h1",
                               timeout=30_000)
    else:
        page = browser.new_context(viewport=VIEWPORT, locale="fr-FR",
                                   bypass_csp=True).new_page()
        answer = page.goto(server.base_url + path)
        assert answer is not None and answer.status == 200
    try:
        view = path.strip("/") or "accueil"
        result = run_axe(page, screenshots, theme_of(server), "visiteur", view)
        # the known rules of Swagger UI: each of their nodes inside its widget
        targets = [n["target"][0] for v in result["violations"] if v["id"] in SWAGGER_UI_KNOWN
                   for n in v["nodes"]] if path == "/docs" else []
        outside = page.evaluate("(targets) => targets.filter((t) => "
                                "!document.querySelector(t)?.closest('.swagger-ui'))", targets)
    finally:
        page.context.close()
    known = SWAGGER_UI_KNOWN if path == "/docs" else frozenset()
    assert outside == [], f"violations outside Swagger UI's widget: {outside}"
    failures = blocking(result, known)
    assert not failures, json.dumps(failures, ensure_ascii=False, indent=1)


def test_leaflet_controls_speak_french_and_the_scale_is_metric(
        browser: Any, themed_server: LiveServer, screenshots: Path) -> None:
    server = themed_server
    with signed_in(browser, server, Recorder(server.base_url), screenshots,
                   server.admin_email) as ui:
        page = ui.page
        page.click("#tab-edit")  # the drawing tools show in the edit view
        titles = page.eval_on_selector_all(
            ".leaflet-control a[title], .leaflet-control button[title]",
            "links => links.map(l => l.title)")
        assert {"Zoom avant", "Zoom arrière", "Sélection par rectangle",
                "Sélection au lasso (polygone)", "Couches"} <= set(titles), titles
        english = re.compile(r"\b(zoom in|zoom out|layers|draw a|a javascript library)\b", re.I)
        controls = page.evaluate("() => [...document.querySelectorAll('.leaflet-control')]"
                                 ".map(c => c.innerText + ' ' + [...c.querySelectorAll('[title]')]"
                                 ".map(e => e.title).join(' ')).join(' | ')")
        assert not english.search(controls), controls
        assert "Bibliothèque JavaScript de cartes interactives" in str(page.get_attribute(
            ".leaflet-control-attribution a[href='https://leafletjs.com']", "title"))
        scales = page.eval_on_selector_all(".leaflet-control-scale-line",
                                           "lines => lines.map(l => l.textContent)")
        assert len(scales) == 1 and re.fullmatch(r"\d+ k?m", scales[0]), scales
