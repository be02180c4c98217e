"""The panel as a carrier drives it with the keyboard: focus stays in the panel after
« Commencer », a commune added by name is shown on the map, Ctrl+Z works from the empty add
field, a new CPTS shows no « Avant : 0 habitant », the zoom buttons speak French and the
commune card comes before the folded legend."""


import pytest

from tests.browser.conftest import LiveServer
from tests.browser.pages import MapPage, commune_facts

MENTON = "06083"


pytestmark = pytest.mark.page_as("carrier")


def test_zoom_buttons_in_french_and_the_card_before_the_folded_legend(ui: MapPage) -> None:
    page = ui.page
    assert page.get_attribute(".leaflet-control-zoom-in", "title") == "Zoom avant"
    assert page.get_attribute(".leaflet-control-zoom-out", "aria-label") == "Zoom arrière"
    order = page.evaluate("() => [...document.querySelectorAll('#view-coverage > *')]"
                          ".map(e => e.id).filter(Boolean)")
    assert order.index("commune-card") < order.index("legend-box")
    assert page.get_attribute("#legend-box", "open") is None


def test_a_carrier_composes_a_new_cpts_with_the_keyboard(ui: MapPage,
                                                         live_server: LiveServer) -> None:
    page = ui.page
    page.click("#tab-edit")
    page.click("#edit-new")
    page.fill("#edit-new-name", "CPTS clavier")
    page.keyboard.press("Enter")
    page.wait_for_selector("#edit-session:not([hidden])")
    assert page.evaluate("() => document.activeElement.id") == "edit-add-input"
    ui.map_call("(map.setView([46.6, 2.4], 6, {animate: false}), null)")
    population, lat, lon = commune_facts(live_server, MENTON)
    page.keyboard.type("06083")
    ui.figures_after(lambda: page.keyboard.press("Enter"))
    assert ui.members() == {MENTON}
    center = ui.map_call("[map.getCenter().lat, map.getCenter().lng, map.getZoom()]")
    assert abs(center[0] - lat) < 0.1 and abs(center[1] - lon) < 0.1 and center[2] >= 11
    figures = str(page.text_content("#edit-figures"))
    assert "Avant" not in figures, "a new CPTS has no « before »"
    ui.shot("40-ajout-au-clavier")
    page.focus("#edit-add-input")
    assert page.input_value("#edit-add-input") == ""
    page.keyboard.press("Control+z")
    ui.wait_until("document.querySelectorAll('#edit-members-list li').length === 0")
    assert ui.members() == set()
    assert population > 0
