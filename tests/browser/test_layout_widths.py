"""The map page on the screens it meets: 1920, 1366, 1024 and 800 px wide (768 px high) and a
phone (390×844), in each theme (UI_THEME). Nothing is wider than the window, the top bar is
whole (search box usable, « Se déconnecter » on screen), the layer box folds into its button
below 1366 px, the panel is a drawer below 1024 px (its toggle and Escape open and close it,
Leaflet follows the map's new size), and a phone reads a commune's fiche and the coverage with
editing off. Screenshots: tests/output/screenshots/layout-<width>.png (the DSFR theme:
layout-dsfr-<width>.png)."""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import LiveServer, Recorder, server_in_each_theme
from tests.browser.pages import MapPage, commune_facts, make_user, signed_in
from tests.browser.test_accessibility import blocking, run_axe

HEIGHT = 768
WIDTHS = (1920, 1366, 1024, 800)
PHONE = {"width": 390, "height": 844}
MIN_SEARCH_WIDTH = 180
MENTON, ROQUEBRUNE = "06083", "06104"

# What the screen shows at one width: the document's widths, the boxes that matter, and every
# control and name of the top bar drawn on screen (screen-reader-only text, 1 px wide, left out).
_MEASURE = """() => {
  const box = (element) => {
    if (!element) return null;
    const r = element.getBoundingClientRect();
    return { left: r.left, right: r.right, top: r.top, bottom: r.bottom,
             width: r.width, height: r.height };
  };
  const map = window[window.cptsMap.config.names.map];
  const bar = document.querySelector(".topbar");
  const drawn = [...bar.querySelectorAll("button, input, a, h1, .role-badge, .user-email")]
    .filter((element) => {
      const r = element.getBoundingClientRect();
      return r.width > 1 && r.height > 1 && getComputedStyle(element).visibility !== "hidden";
    });
  const logout = document.querySelector(".logout button");
  return {
    innerWidth: window.innerWidth,
    scrollWidth: document.documentElement.scrollWidth,
    clientWidth: document.documentElement.clientWidth,
    bodyScrollWidth: document.body.scrollWidth,
    barScrollWidth: bar.scrollWidth, barClientWidth: bar.clientWidth, bar: box(bar),
    barItems: drawn.map((element) => ({ name: element.className || element.tagName,
                                         ...box(element) })),
    logout: box(logout), logoutClipped: logout.scrollWidth > logout.clientWidth,
    search: box(document.querySelector("#search-input")),
    badge: box(document.querySelector(".role-badge")),
    map: box(map.getContainer()), leafletWidth: map.getSize().x,
    layers: box(document.querySelector(".leaflet-control-layers")),
    layersListShown: getComputedStyle(
      document.querySelector(".leaflet-control-layers-list")).display !== "none",
    panel: box(document.querySelector("#panel")),
    panelShown: getComputedStyle(document.querySelector("#panel")).visibility === "visible",
  };
}"""


# The administrator's page in each theme (axe-core injected at 800 px: the page's CSP
# bypassed, as in test_accessibility.py).
pytestmark = pytest.mark.page_as(bypass_csp=True)
server = server_in_each_theme


def shot_name(ui: MapPage, name: str) -> str:
    """layout-<name>.png in the default theme, layout-dsfr-<name>.png in the DSFR's."""
    theme = str(ui.server.settings.ui_theme)
    return f"layout-{name}" if theme == "cpts" else f"layout-{theme}-{name}"


def measure(ui: MapPage, width: int, height: int = HEIGHT) -> dict[str, Any]:
    ui.page.set_viewport_size({"width": width, "height": height})
    ui.wait_until(f"window.innerWidth === {width} && document.body.dataset.layout")
    ui.page.wait_for_timeout(350)  # the drawer's slide (0.18 s) and Leaflet's resize
    return dict(ui.page.evaluate(_MEASURE))


def inside(box: dict[str, float], width: float, height: float) -> bool:
    return (box["left"] >= 0 and box["top"] >= 0 and box["right"] <= width + 0.5
            and box["bottom"] <= height + 0.5)


@pytest.mark.parametrize("width", WIDTHS)
def test_nothing_is_wider_than_the_window_and_the_top_bar_is_whole(
        ui: MapPage, width: int) -> None:
    screen = measure(ui, width)
    ui.shot(shot_name(ui, str(width)))
    assert screen["innerWidth"] == width
    assert screen["scrollWidth"] == screen["clientWidth"] == width
    assert screen["bodyScrollWidth"] == width
    assert screen["barScrollWidth"] == screen["barClientWidth"], "the top bar overflows"
    outside = [item for item in screen["barItems"] if not inside(item, width, HEIGHT)]
    assert outside == [], f"drawn outside the window: {outside}"
    assert inside(screen["logout"], width, HEIGHT) and not screen["logoutClipped"]
    assert inside(screen["search"], width, HEIGHT)
    assert screen["search"]["width"] >= MIN_SEARCH_WIDTH
    # the search box, the role badge and the logout button side by side, not on one another
    assert screen["search"]["right"] <= screen["badge"]["left"] <= screen["logout"]["left"]
    assert screen["badge"]["width"] > 20, "the role badge is kept"


def test_no_width_in_between_scrolls_sideways(ui: MapPage) -> None:
    """From a small tablet to a wide screen, every 40 to 160 px."""
    problems = {}
    for width in (600, 640, 700, 768, 850, 900, 960, 1100, 1200, 1280, 1440, 1600):
        screen = measure(ui, width)
        outside = [item["name"] for item in screen["barItems"] if not inside(item, width, HEIGHT)]
        if (screen["scrollWidth"] != width or outside or screen["logoutClipped"]
                or screen["search"]["width"] < MIN_SEARCH_WIDTH):
            problems[width] = (screen["scrollWidth"], outside, screen["search"]["width"])
    assert problems == {}


@pytest.mark.parametrize(("width", "map_width"), [(1920, 1500), (1366, 960), (1024, 660),
                                                  (800, 800)])
def test_the_map_keeps_most_of_the_width_and_leaflet_knows_its_size(
        ui: MapPage, width: int, map_width: int) -> None:
    screen = measure(ui, width)
    assert screen["map"]["width"] >= map_width
    assert screen["leafletWidth"] == round(screen["map"]["width"])
    if width >= 1024:  # the panel beside the map
        assert screen["panelShown"] and inside(screen["panel"], width, HEIGHT)
        assert screen["map"]["right"] <= screen["panel"]["left"] + 1


@pytest.mark.parametrize("width", WIDTHS)
def test_the_layer_box_is_a_button_below_1366_px_and_open_above(
        ui: MapPage, width: int) -> None:
    screen = measure(ui, width)
    layers, map_box = screen["layers"], screen["map"]
    share = layers["width"] * layers["height"] / (map_box["width"] * map_box["height"])
    if width >= 1366:
        assert screen["layersListShown"]
        assert ui.page.is_visible(".leaflet-control-layers-overlays >> text=Départements")
        assert share < 0.05
    else:
        assert not screen["layersListShown"]
        assert layers["width"] <= 50 and layers["height"] <= 50
        assert ui.page.get_attribute(".leaflet-control-layers-toggle", "title") not in (
            None, "", "Layers"), "the button is named in French"
        ui.page.focus(".leaflet-control-layers-toggle")  # the keyboard opens it and closes it
        ui.page.keyboard.press("Enter")
        ui.wait_until("getComputedStyle(document.querySelector('.leaflet-control-layers-list'))"
                      ".display !== 'none'")
        ui.wait_until("document.activeElement.matches('.leaflet-control-layers-list input')")
        ui.page.keyboard.press("Escape")
        ui.wait_until("getComputedStyle(document.querySelector('.leaflet-control-layers-list'))"
                      ".display === 'none'")
        ui.wait_until("document.activeElement.matches('.leaflet-control-layers-toggle')")


def _drawer_state(ui: MapPage) -> dict[str, Any]:
    return dict(ui.page.evaluate("""() => {
      const map = window[window.cptsMap.config.names.map];
      const panel = document.querySelector("#panel").getBoundingClientRect();
      return {
        expanded: document.querySelector("#drawer-toggle").getAttribute("aria-expanded"),
        shown: getComputedStyle(document.querySelector("#panel")).visibility === "visible",
        panelLeft: panel.left, panelRight: panel.right,
        mapWidth: map.getContainer().getBoundingClientRect().width, leafletWidth: map.getSize().x,
        focus: document.activeElement && document.activeElement.id,
      };
    }"""))


def test_below_1024_px_the_panel_is_a_drawer_opened_by_its_button_closed_by_escape(
        ui: MapPage) -> None:
    page = ui.page
    measure(ui, 1024)
    assert not page.is_visible("#drawer-toggle"), "no drawer at 1024 px"
    measure(ui, 800)
    closed = _drawer_state(ui)
    assert page.text_content("#drawer-toggle") == "Panneau"
    assert page.get_attribute("#drawer-toggle", "aria-controls") == "panel"
    assert closed["expanded"] == "false" and not closed["shown"]
    assert closed["mapWidth"] == closed["leafletWidth"] == 800

    page.click("#drawer-toggle")
    page.wait_for_timeout(350)
    opened = _drawer_state(ui)
    ui.shot(shot_name(ui, "800-panneau"))
    axe = run_axe(page, ui.screenshots, str(ui.server.settings.ui_theme), "admin", "tiroir-800")
    assert blocking(axe) == []
    assert opened["expanded"] == "true" and opened["shown"]
    assert opened["panelRight"] == 800 and opened["panelLeft"] >= 0
    assert opened["mapWidth"] == opened["leafletWidth"] < closed["mapWidth"]
    assert opened["mapWidth"] >= 400
    assert page.is_visible("#coverage-status")

    page.keyboard.press("Escape")  # the focus on the toggle
    page.wait_for_timeout(350)
    after = _drawer_state(ui)
    assert after["expanded"] == "false" and not after["shown"]
    assert after["mapWidth"] == after["leafletWidth"] == 800, "the map grows back"
    assert after["focus"] == "drawer-toggle"

    page.click("#drawer-toggle")  # from inside the drawer, Escape gives the focus back
    page.focus("fieldset[data-filters=coverage] input")
    page.keyboard.press("Escape")
    page.wait_for_timeout(350)
    after = _drawer_state(ui)
    assert after["expanded"] == "false" and after["focus"] == "drawer-toggle"


def _search_and_choose(page: Any, query: str, text: str) -> None:
    page.fill("#search-input", query)
    option = page.wait_for_selector(f"#search-results li >> text={text}", timeout=10_000)
    option.click()


def test_a_commune_fiche_opens_the_drawer(ui: MapPage) -> None:
    page = ui.page
    measure(ui, 800)
    assert _drawer_state(ui)["expanded"] == "false"
    _search_and_choose(page, "Menton", "Menton")
    page.wait_for_selector("#commune-card h3 >> text=Menton (06083)")
    page.wait_for_timeout(350)
    state = _drawer_state(ui)
    assert state["expanded"] == "true" and state["shown"]
    assert page.is_visible("#commune-card h3")


def test_the_page_holds_at_every_width_without_errors(ui: MapPage, recorder: Recorder) -> None:
    measure(ui, 1366)
    assert recorder.errors == []
    assert recorder.failed == []


def test_the_longest_role_label_fits_at_800_px(browser: Any, themed_server: LiveServer,
                                               screenshots: Path) -> None:
    observer = make_user(themed_server, "observer", regions=("93",))
    with signed_in(browser, themed_server, Recorder(themed_server.base_url), screenshots,
                   observer) as ui:
        page = ui.page
        screen = measure(ui, 800)
        assert page.text_content(".role-badge") == "observateur (task force)"
        assert screen["scrollWidth"] == screen["clientWidth"] == 800
        assert inside(screen["logout"], 800, HEIGHT) and not screen["logoutClipped"]
        assert screen["search"]["width"] >= MIN_SEARCH_WIDTH
        title = str(page.get_attribute(".role-badge", "title"))
        assert "observateur (task force)" in title and observer in title, "the whole label"


# --- a phone ---------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def phone(browser: Any, server: LiveServer, screenshots: Path) -> Iterator[MapPage]:
    recorder = Recorder(server.base_url)
    with signed_in(browser, server, recorder, screenshots, server.admin_email, bypass_csp=True,
                   viewport=PHONE, is_mobile=True, has_touch=True, device_scale_factor=2) as ui:
        yield ui
        assert recorder.errors == []


def test_a_phone_reads_a_commune_fiche_and_the_coverage(phone: MapPage) -> None:
    page = phone.page
    screen = dict(page.evaluate(_MEASURE))
    phone.shot(shot_name(phone, "390-carte"))
    assert screen["innerWidth"] == PHONE["width"]
    assert screen["scrollWidth"] == screen["clientWidth"] == PHONE["width"]
    outside = [item for item in screen["barItems"]
               if not inside(item, PHONE["width"], PHONE["height"])]
    assert outside == []
    assert inside(screen["logout"], PHONE["width"], PHONE["height"])
    assert screen["search"]["width"] >= 150
    assert screen["map"]["width"] == PHONE["width"]

    _search_and_choose(page, "Menton", "Menton")
    page.wait_for_selector("#commune-card h3 >> text=Menton (06083)")
    page.wait_for_timeout(350)
    phone.shot(shot_name(phone, "390"))
    fiche = page.evaluate("""() => {
      const panel = document.querySelector("#panel");
      const r = panel.getBoundingClientRect();
      return { left: r.left, right: r.right, scrollWidth: panel.scrollWidth,
               clientWidth: panel.clientWidth, page: document.documentElement.scrollWidth };
    }""")
    assert fiche["left"] == 0 and fiche["right"] == PHONE["width"]
    assert fiche["scrollWidth"] == fiche["clientWidth"], "the fiche scrolls sideways"
    assert fiche["page"] == PHONE["width"]
    assert page.is_visible("#commune-card h3")
    card = str(page.text_content("#commune-card"))
    assert "Population" in card and "CPTS DE LA RIVIERA FRANCAISE" in card
    assert page.is_visible("#coverage-status")
    assert "16\u00a0CPTS affichées" in str(page.text_content("#coverage-status"))
    axe = run_axe(page, phone.screenshots, str(phone.server.settings.ui_theme), "admin",
                  "telephone-fiche")
    assert blocking(axe) == []


def test_on_a_phone_a_tap_on_a_commune_opens_its_fiche(phone: MapPage) -> None:
    page = phone.page
    page.tap("#tab-coverage")  # a tab shows its view: the drawer is open
    assert page.get_attribute("#drawer-toggle", "aria-expanded") == "true"
    page.focus(".skip-link[data-skip=map]")  # the map's skip link uncovers the map
    page.keyboard.press("Enter")
    phone.wait_until("getComputedStyle(document.querySelector('#panel')).visibility === 'hidden'")
    assert page.get_attribute("#drawer-toggle", "aria-expanded") == "false"
    _, lat, lon = commune_facts(phone.server, ROQUEBRUNE)
    phone.view(lat, lon, 12)
    page.touchscreen.tap(*phone.screen_point(lat, lon))
    page.wait_for_selector("#commune-card h3 >> text=(06104)")
    phone.wait_until("getComputedStyle(document.querySelector('#panel')).visibility === 'visible'")
    assert page.get_attribute("#drawer-toggle", "aria-expanded") == "true"
    assert page.is_visible("#commune-card h3")


def test_a_phone_cannot_edit_and_the_edit_tab_says_why(phone: MapPage) -> None:
    page = phone.page
    page.click("#tab-edit")
    page.wait_for_selector("#edit-narrow", state="visible")
    phone.shot(shot_name(phone, "390-edition"))
    assert "L'édition demande un écran d'au moins 800 px" in str(
        page.text_content("#edit-narrow"))
    assert page.get_attribute("#tab-edit", "aria-describedby") == "edit-narrow"
    assert not page.is_visible("#edit-chooser")
    assert not page.is_visible("#edit-open")
    assert not page.is_visible(".leaflet-draw")
    # the legend's « open this perimeter » leads to the same explanation, no edit session
    page.click("#tab-coverage")
    page.click("#legend-box summary")
    page.click("#legend button.link >> nth=0")
    page.wait_for_selector("#edit-narrow", state="visible")
    assert page.evaluate("() => document.body.dataset.mode") == "edit"
    assert page.get_attribute("#edit-session", "hidden") is not None, "no edit session opened"
    assert page.evaluate("() => document.documentElement.scrollWidth") == PHONE["width"]


def test_a_phone_reads_the_coverage_figures_of_the_zones_blanches(phone: MapPage) -> None:
    page = phone.page
    page.tap("#tab-white")
    page.tap("#white-form button[type=submit]")
    page.wait_for_selector("#white-summary >> text=de la population couverte", timeout=20_000)
    page.wait_for_timeout(300)
    phone.shot(shot_name(phone, "390-zones-blanches"))
    summary = page.evaluate("""() => {
      const r = document.querySelector("#white-summary").getBoundingClientRect();
      return { left: r.left, right: r.right, top: r.top, width: r.width,
               page: document.documentElement.scrollWidth };
    }""")
    assert page.is_visible("#white-summary")
    assert summary["left"] >= 0 and summary["right"] <= PHONE["width"] and summary["width"] > 300
    assert summary["page"] == PHONE["width"]
    assert "communes non couvertes" in str(page.text_content("#white-summary"))
