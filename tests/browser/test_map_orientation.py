"""Finding one's way on the map, as each role sees it: an ARS agent opens on their region,
names are written on the map (région, CPTS, communes), the regions outside one's territory
are muted rather than red, a commune's name and CPTS show under the pointer, a place without
a commune says what lies there, a territory is chosen by name or code, and the address
carries the view so that a link opens the same map."""

from pathlib import Path
from typing import Any

from tests.browser.conftest import LiveServer, Recorder
from tests.browser.pages import commune_facts, is_edit_pixel, open_as

MENTON = "06083"
RIVIERA = "CPTS DE LA RIVIERA FRANCAISE"
RED = (0xD7, 0x19, 0x1C)


def test_an_ars_agent_opens_on_their_region_with_names_written(
        browser: Any, live_server: LiveServer, recorder: Recorder, screenshots: Path) -> None:
    ui = open_as(browser, live_server, recorder, screenshots, "ars", regions=("93",))
    center = ui.map_call("[map.getCenter().lat, map.getCenter().lng, map.getZoom()]")
    lat, lon, zoom = center
    assert 43.0 < lat < 45.2 and 4.3 < lon < 7.7, "the map opens on the agent's region"
    assert zoom >= 7
    ui.tiles_drawn()
    written = ui.page.evaluate("() => window.cptsMap.labels.written()")
    assert RIVIERA in {label["text"] for label in written if label["kind"] == "cpts"}
    ui.view(43.75, 7.4, 11)
    ui.page.wait_for_timeout(600)  # the commune names of the view are asked for on moveend
    written = ui.page.evaluate("() => window.cptsMap.labels.written()")
    assert "Menton" in {label["text"] for label in written if label["kind"] == "commune"}
    ui.shot("30-ars-region-noms")
    ui.map_call("(map.setView([43.9, 7.0], 6, {animate: false}), null)")
    ui.page.wait_for_timeout(200)
    written = ui.page.evaluate("() => window.cptsMap.labels.written()")
    assert "Provence-Alpes-Côte d'Azur" in {label["text"] for label in written}
    ui.page.context.close()


def test_regions_outside_the_agents_territory_are_muted_not_red(
        browser: Any, live_server: LiveServer, recorder: Recorder, screenshots: Path) -> None:
    # an agent of Auvergne-Rhône-Alpes looks at the Alpes-Maritimes (not theirs)
    ui = open_as(browser, live_server, recorder, screenshots, "ars", regions=("84",))
    with live_server.api() as api:
        zones = api.get("/api/coverage", params={"scope": "departement:06"}).json()
    code = max((z for z in zones["white_zones"]), key=lambda z: z["population"])["communes"][0]
    _, lat, lon = commune_facts(live_server, code)
    ui.view(lat, lon, 11)
    pixel = ui.paint(code)["pixel"]
    assert pixel is not None
    r, g, b, _ = pixel
    assert abs(r - g) < 12 and abs(g - b) < 12, f"uncovered {code} drawn muted grey: {pixel}"
    assert "Hors de votre territoire" in str(ui.page.text_content("#legend"))
    ui.shot("31-hors-territoire-grise")
    ui.page.context.close()


def test_hover_place_territory_and_a_shareable_link(
        browser: Any, live_server: LiveServer, recorder: Recorder, screenshots: Path) -> None:
    ui = open_as(browser, live_server, recorder, screenshots, "admin")
    page = ui.page
    ui.view(43.79, 7.49, 12)
    _, lat, lon = commune_facts(live_server, MENTON)
    page.mouse.move(*ui.screen_point(lat, lon))
    page.mouse.move(*ui.screen_point(lat + 0.001, lon + 0.001))
    page.wait_for_selector("#hover-name:not([hidden])")
    hover = str(page.text_content("#hover-name"))
    assert "Menton (06083)" in hover and RIVIERA in hover
    ui.shot("32-survol-commune")
    # the sea off Nice: no commune there, and the page says so
    ui.view(43.55, 7.3, 10)
    page.mouse.click(*ui.screen_point(43.55, 7.3))
    page.wait_for_selector("#commune-card [data-place]")
    place = str(page.text_content("#commune-card"))
    assert "aucune commune" in place.lower() and "La commune la plus proche est" in place
    # a territory by its code typed as « 6 »
    page.click("#tab-white")
    page.fill("#white-territory", "6")
    page.wait_for_selector("#white-territory-results li[data-scope='departement:06']")
    page.keyboard.press("Enter")
    page.wait_for_selector("#white-table tbody tr[data-zone]", timeout=20_000)
    zoom = ui.map_call("map.getZoom()")
    assert zoom >= 8, "the map zooms to the Alpes-Maritimes"
    assert "territoire=departement:06" in page.url and "vue=zones-blanches" in page.url
    ui.shot("33-territoire-par-code")
    # a link to a CPTS open in the edit mode opens it, painted
    riviera = live_server.cpts_ids[RIVIERA]
    page.click("#tab-edit")
    page.select_option("#edit-cpts-select", str(riviera))
    page.click("#edit-open")
    ui.wait_until(f"document.querySelector('#edit-session').dataset.opened === '{riviera}'")
    ui.page.wait_for_timeout(300)
    link = page.url
    assert f"cpts={riviera}" in link and "vue=edition" in link
    page.context.close()
    other = open_as(browser, live_server, recorder, screenshots, "admin",
                    path="/" + link.split("/", 3)[3])
    other.wait_until(f"document.querySelector('#edit-session').dataset.opened === '{riviera}'")
    assert other.page.get_attribute("#tab-edit", "aria-selected") == "true"
    other.tiles_drawn()
    assert other.painted_in_edit_colour(MENTON) or is_edit_pixel(other.paint(MENTON)["pixel"])
    other.shot("34-lien-partage")
    other.page.context.close()
