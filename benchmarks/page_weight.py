"""The weight of the map page on first load, in each theme (setting UI_THEME), and the first render
of the national view in the DSFR theme.

`cpts serve` is started once per theme (`UI_THEME=cpts`, then `UI_THEME=dsfr`) on the national
scenario database of `benchmarks.coverage` (France and its ~800 CPTS). A headless Chromium signs
in, then opens the map in a fresh browser context (empty cache) and waits until the national
coverage view is drawn; the browser's own resource timings (`performance.getEntriesByType(
"resource")`) give, for every file it loaded, the bytes that crossed the wire for its body
(`encodedBodySize`: gzip-compressed as the server sent it) and once decoded (`decodedBodySize`).
Counted: the JavaScript, the style sheets and the fonts (not the page's HTML, the API's JSON or
the tiles). Target: ≤ 1.5 MB compressed in each theme; the ratio is the same files uncompressed
over compressed (what the static files' gzip saves).

The first render of the national view in the DSFR theme is `map_render`'s measurement (the same
code, `benchmarks.map_render._first_render`: navigation start to the coverage view painted,
fresh browsers; the first visit, which measures the weight, finds the server's tile cache cold),
target ≤ 1.5 s; the default theme's
is measured in the same run for comparison.
"""

import statistics
from typing import Any

from benchmarks import Figure, running_server
from benchmarks.map_render import (
    CHROMIUM,
    CHROMIUM_ARGS,
    READY,
    VIEWPORT,
    _first_render,
    _wait,
    account,
    signed_in_state,
)

THEMES = ("cpts", "dsfr")
WEIGHT_TARGET_KB = 1500.0  # 1.5 MB, compressed, per theme
FIRST_RENDER_MS = 1500.0
VISITS = 5
ASSET_SUFFIXES = (".js", ".css", ".woff2", ".woff", ".ttf")

# Every resource the page loaded: its URL and body sizes on the wire and decoded.
_RESOURCES = """() => performance.getEntriesByType("resource").map((entry) => ({
  url: entry.name, encoded: entry.encodedBodySize, decoded: entry.decodedBodySize,
  transfer: entry.transferSize,
}))"""


def first_load(browser: Any, base: str, state: Any) -> dict[str, Any]:
    """The JS, CSS and fonts a fresh browser loads with the map page: bytes compressed and
    decoded, and the files (path: compressed bytes)."""
    context = browser.new_context(viewport=VIEWPORT, storage_state=state)
    try:
        page = context.new_page()
        page.goto(base + "/")
        _wait(page, READY)
        page.evaluate("document.fonts.ready.then(() => true)")
        page.wait_for_timeout(300)  # fonts and late style sheets settle
        resources = page.evaluate(_RESOURCES)
        first_render = float(page.evaluate("window.cptsMap.metrics.firstRender"))
    finally:
        context.close()
    assets = [entry for entry in resources
              if entry["url"].split("?")[0].endswith(ASSET_SUFFIXES)]
    return {
        "encoded": sum(entry["encoded"] for entry in assets),
        "decoded": sum(entry["decoded"] for entry in assets),
        "files": {entry["url"].removeprefix(base): entry["encoded"] for entry in assets},
        "first_render": first_render,
    }


def run() -> list[Figure]:
    from playwright.sync_api import sync_playwright

    from benchmarks.coverage import prepare

    url = prepare()
    email, password = account(url)
    figures: list[Figure] = []
    renders: dict[str, list[float]] = {}
    cold: dict[str, float] = {}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            for theme in THEMES:
                with running_server(url, UI_THEME=theme) as base:
                    state = signed_in_state(browser, base, email, password)
                    load = first_load(browser, base, state)
                    cold[theme] = load["first_render"]
                    renders[theme] = [_first_render(browser, base, state)
                                      for _ in range(VISITS)]
                fonts = sum(size for path, size in load["files"].items()
                            if path.endswith((".woff2", ".woff", ".ttf")))
                figures.append(Figure(
                    f"page_weight.{theme}.js_css_fonts", round(load["encoded"] / 1000, 1), "kB",
                    WEIGHT_TARGET_KB,
                    baseline_ratio=round(load["decoded"] / max(load["encoded"], 1), 2),
                    note=f"UI_THEME={theme}: {len(load['files'])} files, gzip as served "
                         f"(uncompressed {load['decoded'] / 1000:.0f} kB; fonts "
                         f"{fonts / 1000:.0f} kB)"))
        finally:
            browser.close()
    for theme in THEMES:
        figures.append(Figure(
            f"page_weight.{theme}.first_render.p50", statistics.median(renders[theme]), "ms",
            FIRST_RENDER_MS if theme == "dsfr" else None,
            note=f"UI_THEME={theme}: national coverage view, {VISITS} fresh browsers, "
                 "server tile cache warm"))
    figures.append(Figure("page_weight.dsfr.first_render.max", max(renders["dsfr"]), "ms",
                          FIRST_RENDER_MS))
    figures.append(Figure("page_weight.dsfr.first_render.cold_server", cold["dsfr"], "ms",
                          FIRST_RENDER_MS, note="the first visit: server tile cache cold"))
    return figures
