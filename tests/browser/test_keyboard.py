"""The map from the keyboard, read from the screen: the map's controls (zoom, drawing tools,
layer box) are reached in under ten Tab presses from the page's load through « Aller à la
carte »; on the map, the arrow keys move a focus ring (drawn on its own canvas above the
communes) from the commune under the centre to its neighbour in that direction, and its name is
said in the page's polite live region; Enter opens its fiche in the coverage view and puts it in
or out of the perimeter in the edit mode (painted in the edit colour); every change of the
edited perimeter is said once (one mutation of the live region per click)."""

from functools import partial

import pytest

from app.db import connect
from tests.browser.conftest import server_in_each_theme
from tests.browser.pages import MapPage, commune_facts, is_edit_pixel

MENTON, CASTELLAR = "06083", "06035"
MAX_TABS = 9  # « under 10 Tab presses »

# What has the focus, in words a failure message can show.
_ACTIVE = """() => {
  const e = document.activeElement;
  if (!e || e === document.body) return "body";
  const control = e.closest(".leaflet-control");
  const kind = !control ? "" : control.classList.contains("leaflet-control-zoom") ? "zoom"
    : control.classList.contains("leaflet-draw-toolbar") || e.closest(".leaflet-draw") ? "draw"
    : control.classList.contains("leaflet-control-layers") ? "layers" : "control";
  const name = e.getAttribute("title") || e.getAttribute("aria-label")
    || e.textContent.trim().slice(0, 40);
  return [kind, e.tagName, e.className || "", name].join("|");
}"""

# Dark pixels of the focus ring's canvas (its own pane, above the communes).
_RING_PIXELS = """() => {
  const pane = window[window.cptsMap.config.names.map].getPane("keyboard-focus");
  let dark = 0, white = 0;
  for (const canvas of pane.querySelectorAll("canvas")) {
    const data = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
    for (let i = 0; i < data.length; i += 4) {
      if (data[i + 3] < 250) continue;
      if (data[i] < 40 && data[i + 1] < 40 && data[i + 2] < 40) dark += 1;
      else if (data[i] > 245 && data[i + 1] > 245 && data[i + 2] > 245) white += 1;
    }
  }
  return [dark, white];
}"""

_COUNT_LIVE = """() => {
  const region = document.getElementById("live-announcer");
  window.liveChanges = 0;
  window.liveObserver?.disconnect();
  window.liveObserver = new MutationObserver((records) => {
    window.liveChanges += records.length;
  });
  window.liveObserver.observe(region, { childList: true, subtree: true, characterData: true });
}"""


# The page in each theme (UI_THEME cpts, then dsfr), signed in as the administrator, loaded
# again before each test.
pytestmark = [pytest.mark.page_as(accept_dialogs=True), pytest.mark.usefixtures("fresh_page")]
server = server_in_each_theme


def active(ui: MapPage) -> str:
    return str(ui.page.evaluate(_ACTIVE))


def live_text(ui: MapPage) -> str:
    return str(ui.page.text_content("#live-announcer") or "")


def ring_on(ui: MapPage, code: str) -> None:
    ui.wait_until(f"document.querySelector('.folium-map').dataset.keyboardCommune === '{code}'")
    ui.page.wait_for_timeout(100)


def neighbours(ui: MapPage, code: str) -> dict[str, tuple[str, float, float]]:
    """The units sharing a border with `code`: name and point (the reference geography)."""
    with connect(ui.server.settings.database_url) as conn:
        rows = conn.execute("SELECT n.code, n.nom, ST_Y(n.point) AS lat, ST_X(n.point) AS lon "
                            "FROM unit_adjacency a JOIN commune n ON n.code = a.neighbour "
                            "WHERE a.code = %s", (code,)).fetchall()
    return {r["code"]: (r["nom"], float(r["lat"]), float(r["lon"])) for r in rows}


def press(ui: MapPage, key: str) -> str:
    """Press an arrow key on the map; the code of the commune the ring moved to."""
    before = ui.page.evaluate("() => document.querySelector('.folium-map').dataset"
                              ".keyboardCommune || ''")
    ui.page.keyboard.press(key)
    ui.wait_until("(document.querySelector('.folium-map').dataset.keyboardCommune || '') "
                  f"!== '{before}'")
    ui.page.wait_for_timeout(100)
    return str(ui.page.evaluate("() => document.querySelector('.folium-map').dataset"
                                ".keyboardCommune"))


def focus_map_on(ui: MapPage, code: str) -> None:
    """The map centred on the commune's point, zoom 12, the keyboard's focus on the map."""
    _, lat, lon = commune_facts(ui.server, code)
    ui.view(lat, lon, 12)
    ui.page.focus(".folium-map")
    assert active(ui).endswith("|Carte des communes et des CPTS")


@pytest.mark.parametrize(("view", "controls"), [
    ("couverture", {"zoom", "layers"}),
    ("edition", {"zoom", "draw", "layers"}),  # the drawing tools show in the edit view only
])
def test_map_controls_are_reached_in_under_ten_tab_presses(ui: MapPage, view: str,
                                                           controls: set[str]) -> None:
    page = ui.page
    page.goto(f"{ui.server.base_url}/#vue={view}")
    page.reload()  # a fresh load of that view, the focus nowhere
    page.wait_for_selector("body[data-ready=true]", timeout=30_000)
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement.textContent") == "Aller à la carte"
    assert page.is_visible("a.skip-link[data-skip=map]"), "the skip link shows when focused"
    page.keyboard.press("Enter")
    assert active(ui).endswith("|Carte des communes et des CPTS"), active(ui)
    reached: dict[str, int] = {}
    walked = ["Aller à la carte"]
    for presses in range(2, MAX_TABS + 1):
        page.keyboard.press("Tab")
        where = active(ui)
        walked.append(where)
        kind = where.split("|", 1)[0]
        if kind in ("zoom", "draw", "layers"):
            reached.setdefault(kind, presses)
    assert set(reached) == controls, walked
    assert max(reached.values()) <= MAX_TABS, (reached, walked)
    titles = [w.split("|")[3] for w in walked if w.startswith(("zoom", "draw"))]
    assert titles[:2] == ["Zoom avant", "Zoom arrière"], walked
    if "draw" in controls:
        assert "Sélection par rectangle" in titles, walked
    ui.shot(f"clavier-controles-{view}-{ui.server.settings.ui_theme}")


def test_arrows_move_a_ring_across_neighbours_and_say_their_names(ui: MapPage) -> None:
    page = ui.page
    focus_map_on(ui, MENTON)
    centre = ui.map_call("map.getCenter()")
    assert ui.page.evaluate(_RING_PIXELS) == [0, 0], "no ring before a key"
    page.keyboard.press("ArrowUp")  # from Menton (under the centre) to Castellar, north
    ring_on(ui, CASTELLAR)
    assert live_text(ui).startswith("Castellar (06035) :"), live_text(ui)
    dark, white = ui.page.evaluate(_RING_PIXELS)
    assert dark > 200 and white > 200, (dark, white)  # a dark line on a white halo
    after = ui.map_call("map.getCenter()")
    assert abs(after["lat"] - centre["lat"]) < 0.02, "the arrow moved the ring, not the map"
    ui.shot("clavier-anneau-castellar")
    page.keyboard.press("ArrowDown")  # back to Menton
    ring_on(ui, MENTON)
    assert live_text(ui).startswith("Menton (06083) :"), live_text(ui)
    _, m_lat, m_lon = commune_facts(ui.server, MENTON)
    around = neighbours(ui, MENTON)
    west = press(ui, "ArrowLeft")
    name, lat, lon = around[west]  # a neighbour of Menton, to its west
    assert lon < m_lon and abs(lat - m_lat) < (m_lon - lon), (west, name)
    assert live_text(ui).startswith(f"{name} ({west}) :"), live_text(ui)
    page.keyboard.press("Enter")  # the coverage view: its fiche
    page.wait_for_selector(f"#commune-card h3:text('{name} ({west})')")
    ui.wait_until("document.getElementById('live-announcer').textContent"
                  f".startsWith('Fiche de {name} ({west})')")
    page.keyboard.press("Escape")
    ui.wait_until("!document.querySelector('.folium-map').dataset.keyboardCommune")
    ui.page.wait_for_timeout(100)
    assert ui.page.evaluate(_RING_PIXELS) == [0, 0]


def test_the_map_pans_to_keep_the_ring_in_view(ui: MapPage) -> None:
    page = ui.page
    _, lat, lon = commune_facts(ui.server, MENTON)
    ui.view(lat, lon, 14)  # Menton fills the view: its neighbours lie at the edges or beyond
    page.focus(".folium-map")
    page.keyboard.press("ArrowUp")
    ring_on(ui, CASTELLAR)
    _, c_lat, c_lon = commune_facts(ui.server, CASTELLAR)
    ui.wait_until(f"window[window.cptsMap.config.names.map].getBounds().pad(-0.1)"
                  f".contains([{c_lat}, {c_lon}])")


def test_enter_in_the_edit_mode_toggles_the_commune_like_a_click(ui: MapPage) -> None:
    page = ui.page
    ui.start_new("CPTS Essai clavier")
    focus_map_on(ui, MENTON)
    west = press(ui, "ArrowLeft")
    name = neighbours(ui, MENTON)[west][0]
    assert live_text(ui) == f"{name} ({west}) : hors du périmètre. Entrée pour l'y ajouter."
    population = ui.figures_after(lambda: page.keyboard.press("Enter"))
    assert ui.members() == {west}
    assert population.replace("\u202f", "") == str(commune_facts(ui.server, west)[0])
    assert ui.painted_in_edit_colour(west), ui.paint(west)
    assert live_text(ui).startswith(f"{name} ajoutée. Population : "), live_text(ui)
    ui.shot("clavier-edition-ajout")
    assert press(ui, "ArrowRight") == MENTON  # back east to Menton, then in as well
    assert live_text(ui).startswith("Menton (06083) : hors du périmètre.")
    ui.figures_after(lambda: page.keyboard.press("Enter"))
    assert ui.members() == {west, MENTON}
    assert ui.painted_in_edit_colour(MENTON)
    assert press(ui, "ArrowLeft") == west
    assert live_text(ui).startswith(f"{name} ({west}) : dans le périmètre.")
    ui.figures_after(lambda: page.keyboard.press("Enter"))  # out again
    assert ui.members() == {MENTON}
    page.wait_for_timeout(100)
    assert not is_edit_pixel(ui.paint(west)["pixel"])


def test_each_change_of_the_perimeter_is_said_once(ui: MapPage) -> None:
    page = ui.page
    ui.start_new("CPTS Essai annonces")
    _, lat, lon = commune_facts(ui.server, MENTON)
    ui.view(lat, lon, 12)
    assert page.get_attribute("#edit-figures", "aria-live") is None, \
        "the panel's figures are redrawn in steps: they are not themselves a live region"
    gorbio = "06067"
    for count, code in enumerate((MENTON, gorbio, MENTON), start=1):
        page.evaluate(_COUNT_LIVE)
        ui.figures_after(partial(ui.click_commune, code))
        page.wait_for_timeout(600)  # names, warnings and indicators come after the figures
        assert page.evaluate("() => window.liveChanges") == 1, (count, live_text(ui))
    assert live_text(ui).startswith("Menton retirée. Population : "), live_text(ui)
    assert live_text(ui).endswith("1\u00a0commune."), live_text(ui)
