"""What the map paints while a perimeter is edited, read from the screen: after each step the
communes of the perimeter are filled with the edit colour in every loaded tile and on the
communes' canvas at their point, and a commune taken out returns to the colour it had. The
perimeter must show at once after « Commencer », after opening a CPTS from the chooser or from
the legend, and after « Rattacher… → Ouvrir en édition ». A rectangle whose drag ends over a
commune finishes and adds exactly the communes of its selection; clicks made while a shape is
drawn toggle nothing."""

from typing import Any

import pytest

from tests.browser.conftest import LiveServer
from tests.browser.pages import (
    EDIT_FILL,
    MapPage,
    commune_facts,
    is_edit_pixel,
)

MENTON, ROQUEBRUNE, SOSPEL = "06083", "06104", "06136"
RIVIERA = "CPTS DE LA RIVIERA FRANCAISE"
CAPTURE_DRAWN = ("() => { const map = window[window.cptsMap.config.names.map]; "
                 "window.drawnForTest = null; map.once('draw:created', (event) => { "
                 "window.drawnForTest = event.layer.toGeoJSON().geometry; }); }")


# The administrator's page, loaded again before each test (nothing open from the previous one).
pytestmark = [pytest.mark.page_as(accept_dialogs=True), pytest.mark.usefixtures("fresh_page")]


def cpts_communes(server: LiveServer, cpts_id: int) -> set[str]:
    with server.api() as api:
        answer = api.get(f"/api/cpts/{cpts_id}")
    assert answer.status_code == 200, answer.text
    return set(answer.json()["communes"])


def selection(server: LiveServer, geometry: dict[str, Any]) -> set[str]:
    with server.api() as api:
        answer = api.post("/api/map/selection", json={"geometry": geometry})
    assert answer.status_code == 200, answer.text
    return set(answer.json()["communes"])


def wait_opened(ui: MapPage, cpts_id: int) -> None:
    ui.wait_until(f"document.querySelector('#edit-session').dataset.opened === '{cpts_id}'")
    ui.tiles_drawn()


def assert_all_painted(ui: MapPage, codes: set[str]) -> None:
    fills = ui.edit_fills(codes)
    assert fills, "none of the perimeter's communes is in the loaded tiles"
    wrong = {code: sorted(values) for code, values in fills.items() if values != {EDIT_FILL}}
    assert wrong == {}, f"communes of the perimeter not painted in the edit colour: {wrong}"


def test_communes_clicked_after_commencer_are_painted_at_once(ui: MapPage) -> None:
    page = ui.page
    ui.start_new("CPTS Essai peinture")
    ui.view(43.79, 7.49, 12)
    before = {code: ui.paint(code) for code in (MENTON, ROQUEBRUNE)}
    assert before[MENTON]["pixel"] and not is_edit_pixel(before[MENTON]["pixel"])
    ui.figures_after(lambda: ui.click_commune(MENTON))
    assert ui.painted_in_edit_colour(MENTON), ui.paint(MENTON)
    ui.figures_after(lambda: ui.click_commune(ROQUEBRUNE))
    assert ui.painted_in_edit_colour(ROQUEBRUNE), ui.paint(ROQUEBRUNE)
    assert ui.painted_in_edit_colour(MENTON)
    ui.shot("20-edition-communes-peintes")
    ui.figures_after(lambda: ui.click_commune(MENTON))  # taken out again
    ui.page.wait_for_timeout(100)
    assert ui.paint(MENTON) == before[MENTON], "Menton returns to its coverage colour"
    assert ui.painted_in_edit_colour(ROQUEBRUNE)
    page.focus("#edit-undo")
    ui.figures_after(lambda: page.keyboard.press("Control+z"))
    assert ui.painted_in_edit_colour(MENTON), "undo paints Menton again"
    page.click("#edit-close")  # (the confirmation is accepted)
    page.wait_for_selector("#edit-chooser:not([hidden])")
    ui.page.wait_for_timeout(100)
    assert not is_edit_pixel(ui.paint(MENTON)["pixel"])
    assert not is_edit_pixel(ui.paint(ROQUEBRUNE)["pixel"])


def test_a_cpts_opened_from_the_chooser_is_painted(ui: MapPage,
                                                   live_server: LiveServer) -> None:
    page = ui.page
    riviera = live_server.cpts_ids[RIVIERA]
    page.click("#tab-edit")
    page.select_option("#edit-cpts-select", str(riviera))
    page.click("#edit-open")
    wait_opened(ui, riviera)
    assert_all_painted(ui, cpts_communes(live_server, riviera))
    assert ui.painted_in_edit_colour(MENTON)
    ui.shot("21-edition-depuis-la-liste")
    page.click("#edit-close")


def test_a_cpts_opened_from_the_legend_is_painted(ui: MapPage,
                                                  live_server: LiveServer) -> None:
    page = ui.page
    name, cpts_id = next((name, cpts_id) for name, cpts_id in sorted(live_server.cpts_ids.items())
                         if name != RIVIERA)
    page.click("#tab-coverage")
    assert not page.is_visible("#legend"), "the legend is folded: the card comes first"
    page.click("#legend-box summary")
    page.click(f"#legend button:text-is('{name}')")
    wait_opened(ui, cpts_id)
    assert page.get_attribute("#tab-edit", "aria-selected") == "true"
    members = cpts_communes(live_server, cpts_id)
    assert_all_painted(ui, members)
    assert ui.painted_in_edit_colour(max(members, key=lambda c: commune_facts(live_server, c)[0]))
    ui.shot("22-edition-depuis-la-legende")
    page.click("#edit-close")


def test_attach_then_open_in_edit_paints_the_cpts_with_the_zone(
        ui: MapPage, live_server: LiveServer) -> None:
    page = ui.page
    with live_server.api() as api:
        report = api.get("/api/coverage", params={"scope": "departement:06"}).json()
    zone = max(report["white_zones"], key=lambda z: (len(z["adjacent_cpts"]) > 0, z["population"]))
    neighbour = next(n for n in zone["adjacent_cpts"] if n["named"])
    page.click("#tab-white")
    page.select_option("#white-scope-kind", "departement")
    page.fill("#white-scope-code", "06")
    page.click("#white-form button[type=submit]")
    page.wait_for_selector(f"#white-table tr[data-zone='{zone['id']}']", timeout=20_000)
    page.click(f"#white-table tr[data-zone='{zone['id']}']")
    page.click(f"[data-attach='{neighbour['id']}']")
    page.click(f"[data-simulation='{neighbour['id']}'] button.primary")
    wait_opened(ui, neighbour["id"])
    expected = cpts_communes(live_server, neighbour["id"]) | set(zone["communes"])
    ui.wait_until(f"document.querySelectorAll('#edit-members-list li').length === {len(expected)}")
    assert ui.members() == expected
    assert_all_painted(ui, expected)
    for code in zone["communes"][:3]:
        _, lat, lon = commune_facts(live_server, code)
        ui.map_call(f"(map.setView([{lat}, {lon}], 12, {{animate: false}}), null)")
        ui.tiles_drawn()
        assert ui.painted_in_edit_colour(code), (code, ui.paint(code))
    ui.shot("23-rattachement-ouvert-en-edition")
    page.click("#edit-discard")
    page.click("#edit-close")


def test_a_rectangle_ending_over_a_commune_adds_exactly_its_communes(
        ui: MapPage, live_server: LiveServer) -> None:
    page = ui.page
    ui.start_new("CPTS Essai rectangle")
    ui.view(43.82, 7.47, 11)
    start = ui.screen_point(*commune_facts(live_server, SOSPEL)[1:])
    end = ui.screen_point(*commune_facts(live_server, MENTON)[1:])
    page.evaluate(CAPTURE_DRAWN)
    page.click("#edit-box")
    page.mouse.move(*start)
    page.mouse.down()
    page.mouse.move(end[0], end[1], steps=15)
    page.wait_for_timeout(80)
    page.mouse.move(end[0] + 1, end[1] + 1)
    page.wait_for_timeout(80)
    page.mouse.move(*end)
    page.wait_for_timeout(80)
    page.mouse.up()  # over Menton
    page.wait_for_timeout(300)
    drawn = page.evaluate("() => window.drawnForTest")
    assert drawn is not None, "the rectangle did not finish when released over a commune"
    assert page.locator(".leaflet-draw-tooltip").count() == 0, "« Relâchez pour terminer » stays"
    corners = ui.map_call(f"[map.latLngToContainerPoint([{drawn['coordinates'][0][0][1]}, "
                          f"{drawn['coordinates'][0][0][0]}]), map.latLngToContainerPoint("
                          f"[{drawn['coordinates'][0][2][1]}, {drawn['coordinates'][0][2][0]}])]")
    box = page.evaluate("() => { const r = window[window.cptsMap.config.names.map]"
                        ".getContainer().getBoundingClientRect(); return [r.left, r.top]; }")
    xs = sorted(c["x"] + box[0] for c in corners)
    ys = sorted(c["y"] + box[1] for c in corners)
    assert abs(xs[0] - min(start[0], end[0])) < 4 and abs(xs[1] - max(start[0], end[0])) < 4
    assert abs(ys[0] - min(start[1], end[1])) < 4 and abs(ys[1] - max(start[1], end[1])) < 4
    expected = selection(live_server, drawn)
    assert len(expected) >= 2
    ui.wait_until(f"document.querySelectorAll('#edit-members-list li').length === {len(expected)}",
                  timeout_s=10)
    page.wait_for_timeout(300)
    assert ui.members() == expected, "the release over Menton toggled nothing"
    assert_all_painted(ui, expected)
    ui.shot("24-rectangle-termine")
    # the next click toggles one commune, and no rectangle follows the mouse any more
    outside = next(code for code in (ROQUEBRUNE, "06150", "06075", "06066")
                   if code not in expected)
    ui.figures_after(lambda: ui.click_commune(outside))
    assert ui.members() == expected | {outside}
    assert page.locator(".leaflet-draw-tooltip").count() == 0


def test_lasso_clicks_toggle_no_commune(ui: MapPage, live_server: LiveServer) -> None:
    page = ui.page
    ui.start_new("CPTS Essai lasso")
    ui.view(43.78, 7.45, 12)
    width, height = page.evaluate("() => { const r = window[window.cptsMap.config.names.map]"
                                  ".getContainer().getBoundingClientRect(); "
                                  "return [r.width, r.height]; }")
    left, top = page.evaluate("() => { const r = window[window.cptsMap.config.names.map]"
                              ".getContainer().getBoundingClientRect(); "
                              "return [r.left, r.top]; }")
    corners = [(left + width * fx, top + height * fy)
               for fx, fy in ((0.3, 0.3), (0.6, 0.28), (0.65, 0.6), (0.32, 0.62))]
    page.evaluate(CAPTURE_DRAWN)
    page.click("#edit-lasso")
    for x, y in corners:
        page.mouse.move(x, y, steps=4)
        page.wait_for_timeout(60)
        page.mouse.click(x, y)
        page.wait_for_timeout(120)
    page.mouse.move(*corners[0], steps=4)
    page.wait_for_timeout(60)
    page.mouse.click(*corners[0])
    ui.wait_until("window.drawnForTest !== null", timeout_s=5)
    expected = selection(live_server, page.evaluate("() => window.drawnForTest"))
    ui.wait_until(f"document.querySelectorAll('#edit-members-list li').length === {len(expected)}",
                  timeout_s=10)
    page.wait_for_timeout(300)
    assert ui.members() == expected
    assert_all_painted(ui, expected)
    ui.shot("25-lasso-termine")
