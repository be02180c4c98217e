"""The map page in headless Chromium on the generated national scenario: first render of the
national coverage view, sign-in to painted map, the time from a click on a commune to the map
and the edit panel both updated, and a change of territory in the zones blanches view.

The database is the scratch `cpts_bench_coverage` of `benchmarks.coverage` (the whole of France
and the ~800 CPTS of `benchmarks.scenario`, loaded on first use). `cpts serve` is started on a
free port; Debian's Chromium is driven by Playwright for Python. The page signs in through the
login form once, then:
- first render: the page is opened in a fresh browser context (no browser cache) and timed from
  the start of navigation to the moment the national coverage view is drawn in its colours
  (`metrics.firstRender`, set by app/web/js/main.js: the CPTS outlines of the overview below
  zoom 8, the commune tiles from there on); the first visit finds the server's tile cache cold,
  the next ones warm;
- click to panel: in the edit mode of one scenario CPTS, 20 communes around it are clicked one by
  one; each is timed from the click handler to the panel redrawn with the server's figures
  (population, class, headroom, warnings: `POST /api/simulations/perimeter`), as measured in
  the page (`metrics.clicks`), and from Playwright's click to the panel seen changed; the map's
  side is the frame in which the tile canvases repainted the commune (`metrics.clickPaints`),
  and « both » the later of the two for each click;
- sign-in to painted map: the login form submitted (Playwright's click) until the first render
  of the map page it leads to, as an administrator (France) and as an ARS agent (their region);
  the baseline is the same sign-in on a server whose page loads its ES modules one by one
  (`MAP_BUNDLE=false`) instead of their bundle;
- territory change: in the zones blanches view, a département picked in the type-ahead until the
  map is zoomed to it and its figures, table and charts are drawn (`metrics.territories`).
"""

import statistics
import time
import uuid
from typing import Any

from app.auth.audit import Actor
from app.auth.policy import Role
from app.auth.users import create_user
from app.db import connect
from benchmarks import Figure, percentile, running_server

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
VIEWPORT: Any = {"width": 1366, "height": 768}  # playwright ViewportSize
FIRST_RENDER_MS = 2000.0
LOGIN_TO_MAP_MS = 1500.0
CLICK_TO_PANEL_MS = 100.0
TERRITORY_CHANGE_MS = 500.0
LOGINS = 3
TERRITORIES = ("13", "69", "33", "59", "35", "67")
WARM_VISITS = 5
CLICKS = 20
READY = "document.body && document.body.dataset.ready === 'true'"


def account(url: str, role: Role = Role.ADMIN, regions: tuple[str, ...] = ()
            ) -> tuple[str, str]:
    email = f"bench-carte-{uuid.uuid4().hex[:8]}@cpts.invalid"
    password = uuid.uuid4().hex
    with connect(url) as conn, conn.transaction():
        create_user(conn, email=email, role=role, regions=regions, cpts_ids=(),
                    password=password, actor=Actor.command_line())
    return email, password


def _login_to_map(browser: Any, base: str, email: str, password: str) -> float:
    """From the login form submitted to the map painted (fresh browser, ms)."""
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    page.goto(base + "/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", password)
    started = time.perf_counter()
    page.click("button[type=submit]")
    _wait(page, "window.cptsMap && window.cptsMap.metrics.firstRender !== null")
    elapsed = (time.perf_counter() - started) * 1000
    context.close()
    return elapsed


def _territory_changes(browser: Any, base: str, state: Any) -> list[float]:
    context = browser.new_context(viewport=VIEWPORT, storage_state=state)
    page = context.new_page()
    page.goto(base + "/")
    _wait(page, READY)
    page.click("#tab-white")
    for code in TERRITORIES:
        before = page.evaluate("() => window.cptsMap.metrics.territories.length")
        page.fill("#white-territory", code)
        page.wait_for_selector(f"#white-territory-results li[data-scope='departement:{code}']")
        page.keyboard.press("Enter")
        _wait(page, f"window.cptsMap.metrics.territories.length > {before}", timeout_s=30)
    changes = [float(v) for v in page.evaluate("() => window.cptsMap.metrics.territories")]
    context.close()
    return changes


def click_targets(url: str) -> tuple[int, list[tuple[str, float, float]], tuple[float, float]]:
    """A mid-sized signed CPTS, and up to CLICKS units bordering it (with a point inside)."""
    with connect(url) as conn:
        cpts = conn.execute(
            """SELECT c.id FROM cpts c JOIN cpts_version v ON v.cpts_id = c.id
                   AND v.version = c.version
               WHERE c.status = 'aci_signe' AND c.archived_at IS NULL AND NOT c.is_scenario
                 AND cardinality(v.units) BETWEEN 20 AND 60
               ORDER BY c.id LIMIT 1""").fetchone()
        assert cpts is not None, "the scenario has no mid-sized signed CPTS"
        rows = conn.execute(
            """SELECT DISTINCT u.code, ST_Y(u.point) AS lat, ST_X(u.point) AS lon
               FROM cpts_member m JOIN unit_adjacency a ON a.code = m.code
               JOIN commune u ON u.code = a.neighbour AND u.is_unit AND u.point IS NOT NULL
               WHERE m.cpts_id = %s AND a.neighbour NOT IN (
                   SELECT code FROM cpts_member WHERE cpts_id = %s)
               ORDER BY u.code LIMIT %s""", (cpts["id"], cpts["id"], CLICKS)).fetchall()
        centre = conn.execute(
            """SELECT ST_Y(ST_Centroid(v.outline)) AS lat, ST_X(ST_Centroid(v.outline)) AS lon
               FROM cpts c JOIN cpts_version v ON v.cpts_id = c.id AND v.version = c.version
               WHERE c.id = %s""", (cpts["id"],)).fetchone()
    assert centre is not None
    return (int(cpts["id"]), [(r["code"], float(r["lat"]), float(r["lon"])) for r in rows],
            (float(centre["lat"]), float(centre["lon"])))


def _wait(page: Any, expression: str, timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            if page.evaluate(f"() => Boolean({expression})"):
                return
        except Exception:  # the page is navigating: try again
            pass
        if time.monotonic() > deadline:
            raise TimeoutError(expression)
        time.sleep(0.005)


def signed_in_state(browser: Any, base: str, email: str, password: str) -> Any:
    """The storage state (session cookie) of `email` signed in through the login form."""
    login = browser.new_context(viewport=VIEWPORT)
    page = login.new_page()
    page.goto(base + "/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    _wait(page, READY)
    state = login.storage_state()
    login.close()
    return state


def _first_render(browser: Any, base: str, state: Any) -> float:
    context = browser.new_context(viewport=VIEWPORT, storage_state=state)
    page = context.new_page()
    page.goto(base + "/")
    _wait(page, READY)
    value = float(page.evaluate("window.cptsMap.metrics.firstRender"))
    context.close()
    return value


def run() -> list[Figure]:
    from playwright.sync_api import sync_playwright

    from benchmarks.coverage import prepare

    url = prepare()
    email, password = account(url)
    agent_email, agent_password = account(url, Role.ARS, ("93",))
    cpts_id, targets, centre = click_targets(url)
    with running_server(url) as base, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            state = signed_in_state(browser, base, email, password)
            cold = _first_render(browser, base, state)
            warm = [_first_render(browser, base, state) for _ in range(WARM_VISITS)]
            measured = edit_clicks(browser, base, state, cpts_id, targets, centre)
            in_page, paints, seen = measured["clicks"], measured["clickPaints"], measured["seen"]
            logins = [_login_to_map(browser, base, email, password) for _ in range(LOGINS)]
            agent_logins = [_login_to_map(browser, base, agent_email, agent_password)
                            for _ in range(LOGINS)]
            territories = _territory_changes(browser, base, state)
        finally:
            browser.close()
    # baseline: the same sign-ins on a server whose page loads the ~30 modules one by one
    with running_server(url, MAP_BUNDLE="false") as base, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            module_logins = [_login_to_map(browser, base, email, password)
                             for _ in range(LOGINS)]
        finally:
            browser.close()
    return [
        Figure("map.first_render.cold_server", cold, "ms", FIRST_RENDER_MS,
               note="national coverage view, fresh browser, server tile cache cold"),
        Figure("map.first_render.p50", statistics.median(warm), "ms", FIRST_RENDER_MS,
               note=f"{WARM_VISITS} fresh browsers, server tile cache warm"),
        Figure("map.first_render.max", max(warm), "ms", FIRST_RENDER_MS),
        Figure("map.click_to_panel.p50", statistics.median(in_page), "ms", CLICK_TO_PANEL_MS,
               note=f"{len(in_page)} clicks, click handler to panel redrawn (in the page)"),
        Figure("map.click_to_panel.p95", percentile(in_page, 0.95), "ms", CLICK_TO_PANEL_MS),
        Figure("map.click_to_panel.seen_p95", percentile(seen, 0.95), "ms",
               note="from Playwright's click to the panel seen changed (polling adds ~5 ms)"),
        Figure("map.click_to_map.p95", percentile(paints, 0.95), "ms", CLICK_TO_PANEL_MS,
               note="click handler to the frame that repainted the commune"),
        Figure("map.click_to_map_and_panel.p95",
               percentile([max(a, b) for a, b in zip(in_page, paints, strict=False)], 0.95),
               "ms", CLICK_TO_PANEL_MS, note="the later of map and panel, per click"),
        Figure("map.login_to_painted.admin.max", max(logins), "ms", LOGIN_TO_MAP_MS,
               baseline_ratio=max(module_logins) / max(logins),
               note=f"{LOGINS} sign-ins, form submitted to France painted, fresh browsers; "
                    "baseline: the modules loaded one by one (MAP_BUNDLE=false)"),
        Figure("map.login_to_painted.admin_modules.max", max(module_logins), "ms",
               note="the baseline server, same sign-ins"),
        Figure("map.login_to_painted.ars.max", max(agent_logins), "ms", LOGIN_TO_MAP_MS,
               note=f"{LOGINS} sign-ins of an ARS agent, to their region painted"),
        Figure("map.territory_change.p95", percentile(territories, 0.95), "ms",
               TERRITORY_CHANGE_MS, note=f"{len(territories)} départements picked by code: "
                                         "zoomed, figures, table and charts drawn"),
    ]


def edit_clicks(browser: Any, base: str, state: Any, cpts_id: int,
                targets: list[tuple[str, float, float]], centre: tuple[float, float], *,
                series: tuple[str, ...] = ("clicks",), ready: str = "true"
                ) -> dict[str, list[float]]:
    """Open the CPTS in the edit mode (then wait for the JavaScript `ready`), click each
    target, waiting after each for every named list of `window.cptsMap.metrics` (`series`) to
    grow; the page's lists (and `clickPaints`), and `seen`: from Playwright's click to the
    first series grown."""
    context = browser.new_context(viewport=VIEWPORT, storage_state=state)
    page = context.new_page()
    page.goto(base + "/")
    _wait(page, READY)
    page.click("#tab-edit")
    page.select_option("#edit-cpts-select", str(cpts_id))
    page.click("#edit-open")
    _wait(page, f"document.querySelector('#edit-session').dataset.opened === '{cpts_id}'")
    _wait(page, ready, timeout_s=30)
    names = "window.cptsMap.config.names"
    page.evaluate(f"() => {{ window[{names}.map].setView([{centre[0]}, {centre[1]}], 10, "
                  "{animate: false}); }")
    seen: list[float] = []
    lengths = ", ".join(f"window.cptsMap.metrics.{name}.length" for name in series)
    for _code, lat, lon in targets:
        page.evaluate(f"() => {{ window[{names}.map].panTo([{lat}, {lon}], {{animate: false}}); }}")
        _wait(page, f"!window[{names}.layers.communes].isLoading()")
        time.sleep(0.2)
        x, y = page.evaluate(
            f"() => {{ const map = window[{names}.map]; "
            f"const p = map.latLngToContainerPoint([{lat}, {lon}]); "
            f"const box = map.getContainer().getBoundingClientRect(); "
            f"return [p.x + box.left, p.y + box.top]; }}")
        before = page.evaluate(f"() => [{lengths}]")
        started = time.perf_counter()
        page.mouse.click(x, y)
        _wait(page, f"window.cptsMap.metrics.{series[0]}.length > {before[0]}", timeout_s=20)
        seen.append((time.perf_counter() - started) * 1000)
        for name, count in zip(series[1:], before[1:], strict=True):
            _wait(page, f"window.cptsMap.metrics.{name}.length > {count}", timeout_s=20)
    found = {name: [float(v) for v in page.evaluate(f"() => window.cptsMap.metrics.{name}")]
             for name in {*series, "clickPaints"}}
    context.close()
    return found | {"seen": seen}
