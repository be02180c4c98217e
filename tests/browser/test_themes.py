"""The two themes (setting UI_THEME): the project's own (`cpts`, default) and the DSFR (`dsfr`).

In each theme the three views are drawn at 1366 and 800 px (screenshots
tests/output/screenshots/theme-<theme>-<view>-<width>.png) without being wider than the window.
In the DSFR the brand block (« République Française » with the Marianne logo the DSFR's style
sheet draws) is on screen and the Marianne font is applied and loaded; in the default theme
neither is, no page names a DSFR file, and the browser never asks for one. The accessibility
statement is public and linked from the map and the login page in both themes.
"""

from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.browser.conftest import VIEWPORT, LiveServer, Recorder, server_in_each_theme
from tests.browser.pages import MapPage

VIEWS = {"coverage": "#tab-coverage", "edit": "#tab-edit", "white": "#tab-white"}
WIDTHS = (1366, 800)
DSFR_MARKS = ("dsfr", "Marianne", "fr-header__brand", "République")

# What the screen shows of the theme: the body's font, the fonts loaded, the brand block.
_LOOK = """async () => {
  await document.fonts.ready;
  const logo = document.querySelector(".fr-header__brand .fr-logo");
  const box = logo ? logo.getBoundingClientRect() : null;
  const before = logo ? getComputedStyle(logo, "::before") : null;
  return {
    bodyFont: getComputedStyle(document.body).fontFamily,
    loadedFonts: [...document.fonts].filter((font) => font.status === "loaded")
      .map((font) => font.family),
    marianneReady: document.fonts.check("16px Marianne"),
    logoText: logo ? logo.innerText.replace(/\\s+/g, " ").trim() : null,
    logoBox: box ? { width: box.width, height: box.height, top: box.top, left: box.left } : null,
    logoSymbol: before ? [before.backgroundImage, before.maskImage, before.content].join(" ")
      : null,
    scrollWidth: document.documentElement.scrollWidth,
    clientWidth: document.documentElement.clientWidth,
    accessibilityLink: Boolean(document.querySelector("a[href='/accessibilite']")),
  };
}"""


def is_dsfr(url: str) -> bool:
    return "dsfr" in url.lower() or "/theme/" in url or "marianne" in url.lower()


server = server_in_each_theme  # the administrator's page in each theme


def theme_of(server: LiveServer) -> str:
    return server.settings.ui_theme


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("view", list(VIEWS))
def test_each_view_is_drawn_in_the_theme_without_a_horizontal_scroll(
        ui: MapPage, view: str, width: int) -> None:
    ui.page.set_viewport_size({"width": width, "height": VIEWPORT["height"]})
    ui.wait_until(f"window.innerWidth === {width}")
    ui.page.click(VIEWS[view])
    ui.wait_until(f"document.querySelector('{VIEWS[view]}').getAttribute('aria-selected') "
                  "=== 'true'")
    ui.page.wait_for_timeout(300)
    look = ui.page.evaluate(_LOOK)
    ui.shot(f"theme-{theme_of(ui.server)}-{view}-{width}")
    assert look["scrollWidth"] == look["clientWidth"], look
    assert look["accessibilityLink"], "the footer links the accessibility statement"


def test_the_theme_is_applied_on_screen(ui: MapPage, recorder: Recorder) -> None:
    ui.page.set_viewport_size(VIEWPORT)
    look = ui.page.evaluate(_LOOK)
    html = ui.page.content()
    if theme_of(ui.server) == "dsfr":
        assert "Marianne" in look["bodyFont"], look
        assert look["marianneReady"], look
        assert any("Marianne" in family for family in look["loadedFonts"]), look
        assert look["logoText"].upper() == "RÉPUBLIQUE FRANÇAISE", look
        assert look["logoBox"]["width"] > 40 and look["logoBox"]["height"] > 40, look
        # the Marianne symbol above the words: drawn by the DSFR's style sheet
        assert "url(" in look["logoSymbol"], look
        assert any("/theme/vendor/dsfr/dsfr-parts.min.css" in url for url in recorder.requests)
        assert any(url.endswith(".woff2") and "Marianne" in url for url in recorder.requests)
        # the panel's controls carry the DSFR's classes, those built later too
        assert ui.page.evaluate("document.querySelector('#edit-open').classList.contains('fr-btn')")
        assert ui.page.evaluate(
            "document.querySelector('#edit-cpts-select').classList.contains('fr-select')")
    else:
        assert "Marianne" not in look["bodyFont"], look
        assert not any("Marianne" in family for family in look["loadedFonts"]), look
        assert look["logoText"] is None
        for mark in DSFR_MARKS:
            assert mark not in html, f"{mark!r} in the default theme's map page"
        assert not [url for url in recorder.requests if is_dsfr(url)]
        assert "fr-btn" not in html


def test_the_charts_take_the_theme_font_and_colours(ui: MapPage) -> None:
    """Chart.js draws on a canvas: its text and bars follow the theme only if the page hands
    them over (Marianne and the DSFR's blue in the DSFR theme)."""
    page = ui.page
    page.set_viewport_size(VIEWPORT)
    page.click("#tab-white")
    page.fill("#white-territory", "alpes-mari")
    page.wait_for_selector("#white-territory-results li[data-scope='departement:06']")
    page.click("#white-territory-results li[data-scope='departement:06']")
    page.wait_for_selector("#white-charts[data-drawn]", timeout=20_000)
    drawn = page.evaluate("""() => {
      const chart = window.Chart.getChart('chart-stages');
      const style = getComputedStyle(document.querySelector('#white-charts'));
      return { font: window.Chart.defaults.font.family, pageFont: style.fontFamily,
               accent: style.getPropertyValue('--accent').trim(),
               bars: chart.data.datasets[0].backgroundColor,
               labels: chart.data.labels }; }""")
    assert drawn["font"] == drawn["pageFont"], drawn
    assert ("Marianne" in drawn["font"]) == (theme_of(ui.server) == "dsfr"), drawn
    counted = [bar for bar, label in zip(drawn["bars"], drawn["labels"], strict=True)
               if "non compté" not in label]
    assert counted and {bar.lower() for bar in counted} == {drawn["accent"].lower()}, drawn
    ui.shot(f"theme-{theme_of(ui.server)}-graphiques")


def test_the_login_and_accessibility_pages_follow_the_theme(
        browser: Any, themed_server: LiveServer, screenshots: Path) -> None:
    theme = theme_of(themed_server)
    recorder = Recorder(themed_server.base_url)
    context = browser.new_context(viewport=VIEWPORT, locale="fr-FR")
    page = context.new_page()
    recorder.attach(page)
    try:
        for path, name in (("/login", "login"), ("/accessibilite", "accessibilite")):
            response = page.goto(themed_server.base_url + path)
            assert response is not None and response.status == 200, path
            page.wait_for_load_state("load")
            look = page.evaluate(_LOOK)
            page.screenshot(path=str(screenshots / f"theme-{theme}-{name}-1366.png"))
            html = page.content()
            assert look["accessibilityLink"], f"{path} links the accessibility statement"
            if theme == "dsfr":
                assert "Marianne" in look["bodyFont"] and look["marianneReady"], look
                assert look["logoText"].upper() == "RÉPUBLIQUE FRANÇAISE", look
            else:
                assert "Marianne" not in look["bodyFont"], look
                for mark in DSFR_MARKS:
                    assert mark not in html, f"{mark!r} in the default theme's {path}"
        text = page.inner_text("main")
        assert page.inner_text("h1").strip() == "Déclaration d'accessibilité"
        for words in ("partiellement conforme", "RGAA", "version 4.1", "axe-core",
                      "Défenseur des droits", "canvas"):
            assert words in text, words
        assert recorder.failed == [] and recorder.errors == [], (recorder.failed,
                                                                  recorder.errors)
        assert recorder.external() == []
        if theme == "cpts":
            assert not [url for url in recorder.requests if is_dsfr(url)]
    finally:
        context.close()


def test_the_dsfr_files_are_public_and_compressed(themed_server: LiveServer) -> None:
    """In the DSFR theme, served to anyone (the login page needs them) and gzip-compressed;
    nothing else of app/web/ is reachable through /theme/. In the default theme, none."""
    with httpx.Client(base_url=themed_server.base_url) as client:
        if theme_of(themed_server) == "cpts":
            for path in ("/theme/vendor/dsfr/dsfr-parts.min.css", "/theme/css/theme-dsfr.css",
                         "/theme/vendor/dsfr/fonts/Marianne-Regular.woff2"):
                assert client.get(path).status_code == 404, path
            return
        css = client.get("/theme/vendor/dsfr/dsfr-parts.min.css",
                         headers={"Accept-Encoding": "gzip"})
        assert css.status_code == 200 and css.headers["content-encoding"] == "gzip"
        assert css.headers["content-type"].startswith("text/css")
        font = client.get("/theme/vendor/dsfr/fonts/Marianne-Regular.woff2")
        assert font.status_code == 200 and font.headers["content-type"] == "font/woff2"
        assert "content-encoding" not in font.headers  # already compressed
        for hidden in ("/theme/vendor/dsfr/dsfr.min.css", "/theme/login.html",
                       "/theme/map_body.html", "/theme/js/main.js",
                       "/theme/vendor/leaflet/leaflet.js", "/theme/../settings.py"):
            assert client.get(hidden).status_code == 404, hidden
