"""An indicator on the map, read on the screen: per commune from zoom 8 on (the colour of each
commune's class in the tiles' styles), per CPTS below (the pixel of each CPTS outline on the
overview's canvas), the legend of the level shown as a list (classes, « Sans donnée », source
and vintage), the level switching when the zoom crosses 8, a share of the population by
category chosen in the same list; and the national overview naming the CPTS under the pointer
(the claimants of an overlap) without ever naming a draft the user may not see."""

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import LiveServer, Recorder, fixture_perimeters
from tests.browser.pages import (
    MapPage,
    commune_facts,
    create_cpts,
    inner_codes,
    make_user,
    signed_in,
)
from tests.browser.test_map_manage import archive

VALUES = {"06083": 30, "06104": 5, "06150": 12, "06088": 800, "06123": 2, "06159": 9}
NICE = "06088"
BIG, SMALL, EMPTY = "H3VE", "CPTS TINEE VESUBIE", "CPTS PAYS GRASSOIS"

def _zoomed_in_on(ui: MapPage, commune: str, query: dict[str, str]) -> dict[str, Any]:
    """The map zoomed in on `commune` until the legend is the communes'; the indicator's map by
    commune as the API gives it (`query`: GET /api/indicators/map's parameters)."""
    _, lat, lon = commune_facts(ui.server, commune)
    ui.view(lat, lon, 10)
    ui.wait_until("document.querySelector('#choropleth-legend').dataset.level === 'commune'")
    with ui.server.api() as api:
        return dict(api.get("/api/indicators/map", params=query).json())


def _upload(live_server: LiveServer, definition: dict[str, Any], body: str) -> None:
    with live_server.api() as api:
        answer = api.post("/api/indicators/tables", data={"definition": json.dumps(definition)},
                          files={"file": ("t.csv", body.encode(), "text/csv")})
        assert answer.status_code == 200, answer.text


def _rgb(colour: str) -> tuple[int, int, int]:
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)


def _close(pixel: list[int] | None, colour: str) -> bool:
    return pixel is not None and pixel[3] == 255 and max(
        abs(a - b) for a, b in zip(pixel[:3], _rgb(colour), strict=True)) <= 2


def _inner_commune(live_server: LiveServer, name: str) -> tuple[float, float]:
    """A point of a commune of the CPTS `name` all of whose neighbours are in it too (far from
    the outline's border), claimed by no other CPTS."""
    _, lat, lon = commune_facts(live_server, _inner_code(live_server, name))
    return lat, lon


def _inner_code(live_server: LiveServer, name: str) -> str:
    inner = inner_codes(live_server, name)
    assert inner, name
    return inner[0]


def _legend(page: Any) -> list[str]:
    return [str(t).strip() for t in page.eval_on_selector_all(
        "#choropleth-legend li", "items => items.map((item) => item.textContent)")]


def _choose(ui: MapPage, value: str, level: str) -> None:
    page = ui.page
    if not page.is_visible("#choropleth-indicator"):
        page.click("#choropleth-box > summary")
    page.wait_for_selector(f"#choropleth-indicator option[value='{value}']", state="attached")
    page.select_option("#choropleth-indicator", value)
    ui.wait_until(f"document.querySelector('#choropleth-legend').dataset.indicator === '{value}' "
                  f"&& document.querySelector('#choropleth-legend').dataset.level === '{level}'")
    page.wait_for_timeout(100)


def _tables(live_server: LiveServer) -> None:
    """The tables of the tests: counts on a few communes; one value on the communes of two CPTS
    (their sums fall in two classes), none for the others; the communes of one CPTS in ZIP,
    the others in ZAC (its ZIP share 100 %, theirs 0 %)."""
    perimeters = fixture_perimeters()
    _upload(live_server, {
        "table": "essai_choroplethe", "title": "Essai choroplèthe", "vintage": "2024",
        "source": "tests", "match": {"code": "codgeo"},
        "columns": [{"header": "pharmacies", "label": "Pharmacies", "unit": "pharmacies",
                     "aggregation": "sum"}]},
        "codgeo;pharmacies\n" + "".join(f"{c};{v}\n" for c, v in VALUES.items()))
    values = {code: 100 for code in perimeters[BIG]} | {code: 1 for code in perimeters[SMALL]}
    _upload(live_server, {
        "table": "essai_cpts", "title": "Essai par CPTS", "vintage": "2025",
        "source": "ARS PACA", "match": {"code": "codgeo"},
        "columns": [{"header": "lits", "label": "Lits", "unit": "lits", "aggregation": "sum"}]},
        "codgeo;lits\n" + "".join(f"{c};{v}\n" for c, v in sorted(values.items())))
    zones = {code: "ZAC" for codes in perimeters.values() for code in codes if code != NICE}
    zones |= {code: "ZIP" for code in perimeters[SMALL]}
    _upload(live_server, {
        "table": "essai_zonage", "title": "Essai zonage", "vintage": "2024",
        "source": "ARS", "match": {"code": "codgeo"},
        "columns": [{"header": "zonage", "label": "Zonage médecins", "aggregation": "share",
                     "categories": [{"value": "ZIP", "label": "ZIP"},
                                    {"value": "ZAC", "label": "ZAC"}]}]},
        "codgeo;zonage\n" + "".join(f"{c};{z}\n" for c, z in sorted(zones.items())))


@pytest.fixture(scope="module")
def agent(browser: Any, live_server: LiveServer, screenshots: Path,
          recorder: Recorder) -> Iterator[MapPage]:
    """An ARS agent of Provence-Alpes-Côte d'Azur on the map, the tables loaded."""
    _tables(live_server)
    email = make_user(live_server, "ars", regions=("93",))
    with signed_in(browser, live_server, recorder, screenshots, email) as ui:
        located: list[str] = []
        ui.page.on("console", lambda message: located.append(
            f"{message.text} {message.location}") if message.type == "error" else None)
        yield ui
        assert not recorder.errors, (located, recorder.errors)
        assert not recorder.external(), recorder.external()


def test_an_indicator_paints_the_communes_in_their_class_colour(agent: MapPage) -> None:
    ui, page, live_server = agent, agent.page, agent.server
    with live_server.api() as api:
        expected = api.get("/api/indicators/map",
                           params={"indicator": "essai_choroplethe.pharmacies"}).json()
    assert set(expected["classes"]) == set(VALUES)
    _, lat, lon = commune_facts(live_server, "06083")
    ui.view(lat, lon, 11)
    before = ui.paint("06083")["fills"]
    _choose(ui, "essai_choroplethe.pharmacies", "commune")
    for code in ("06083", "06104", "06150"):
        fills = set(ui.paint(code)["fills"])
        assert fills == {expected["classes"][code].lower()}, (code, fills)
    legend = _legend(page)
    assert len(legend) == len(expected["legend"]) + 1 and legend[-1] == "Sans donnée"
    assert legend[0].startswith(expected["legend"][0]["label"]) and "commune" in legend[0]
    assert "Pharmacies (pharmacies)" in str(page.text_content("#choropleth-legend"))
    assert "Source : tests, millésime 2024" in str(page.text_content("#choropleth-legend"))
    ui.shot("80-indicateur-sur-la-carte")
    page.select_option("#choropleth-indicator", "")
    page.wait_for_timeout(200)
    assert ui.paint("06083")["fills"] == before


def test_below_zoom_8_each_cpts_is_painted_in_its_class_and_the_legend_follows(
        agent: MapPage) -> None:
    ui, page, live_server = agent, agent.page, agent.server
    perimeters = fixture_perimeters()
    with live_server.api() as api:
        expected = api.get("/api/indicators/map",
                           params={"indicator": "essai_cpts.lits", "level": "cpts"}).json()
    ids = live_server.cpts_ids
    big, small = (expected["classes"][str(ids[name])] for name in (BIG, SMALL))
    assert big != small and str(ids[EMPTY]) not in expected["classes"]
    points = {name: _inner_commune(live_server, name) for name in (BIG, SMALL, EMPTY)}
    ui.map_call("(map.setView([43.95, 7.1], 7.5, {animate: false}), null)")
    assert ui.map_call("map.getZoom()") < 8
    before = ui.overview_pixel(*ui.screen_point(*points[BIG]))
    _choose(ui, "essai_cpts.lits", "cpts")
    legend = _legend(page)
    colours = page.eval_on_selector_all("#choropleth-legend li[data-colour]",
                                        "items => items.map((item) => item.dataset.colour)")
    assert colours[:2] == [e["colour"] for e in expected["legend"]] and len(legend) == 4
    assert legend[0].startswith(expected["legend"][0]["label"]) and legend[0].endswith("1 CPTS")
    assert legend[2] == "Sans donnée" and legend[3] == "Hors des CPTS affichées"
    for name, colour in ((BIG, big), (SMALL, small), (EMPTY, colours[2])):
        pixel = ui.overview_pixel(*ui.screen_point(*points[name]))
        assert _close(pixel, colour), (name, pixel, colour)
    assert not _close(before, big), "the coverage colours before"
    # the pointer reads the CPTS's name and value
    total = f"{int(expected['values'][str(ids[BIG])]):,}".replace(",", "\u202f")
    assert _hover(ui, *points[BIG]) == f"{BIG} — {total} lits"
    assert _hover(ui, *points[EMPTY]) == f"{EMPTY} — sans donnée"
    assert "Lits (lits)" in str(page.text_content("#choropleth-legend"))
    assert "Source : ARS PACA, millésime 2025" in str(page.text_content("#choropleth-legend"))
    ui.shot("81-indicateur-par-cpts")
    # zooming in: the communes in their own classes, the legend of the communes
    commune = perimeters[BIG][0]
    communes = _zoomed_in_on(ui, commune, {"indicator": "essai_cpts.lits"})
    ui.tiles_drawn()
    assert set(ui.paint(commune)["fills"]) == {communes["classes"][commune].lower()}
    assert _legend(page)[-1] == "Sans donnée" and "commune" in _legend(page)[0]
    # and back to the national overview
    ui.map_call("(map.setView([43.95, 7.1], 7.5, {animate: false}), null)")
    ui.wait_until("document.querySelector('#choropleth-legend').dataset.level === 'cpts'")
    pixel = ui.overview_pixel(*ui.screen_point(*points[SMALL]))
    assert _close(pixel, small), pixel
    page.select_option("#choropleth-indicator", "")
    page.wait_for_timeout(150)
    assert _close(ui.overview_pixel(*ui.screen_point(*points[BIG])),
                  "#" + "".join(f"{value:02x}" for value in before[:3]))


def test_the_share_of_the_population_in_one_category_is_mapped(agent: MapPage) -> None:
    ui, page, live_server = agent, agent.page, agent.server
    perimeters = fixture_perimeters()
    option = "essai_zonage.zonage:ZIP"
    ui.map_call("(map.setView([43.95, 7.1], 7.5, {animate: false}), null)")
    if not page.is_visible("#choropleth-indicator"):
        page.click("#choropleth-box > summary")
    page.wait_for_selector(f"#choropleth-indicator option[value='{option}']", state="attached")
    page_options = page.eval_on_selector_all("#choropleth-indicator option",
                                             "items => items.map((item) => item.textContent)")
    label = next(text for text in page_options if "part de la population en ZIP" in text)
    assert label.startswith("Zonage médecins : part de la population en ZIP")
    _choose(ui, option, "cpts")
    ids = live_server.cpts_ids
    with live_server.api() as api:
        expected = api.get("/api/indicators/map", params={
            "indicator": "essai_zonage.zonage", "level": "cpts", "category": "ZIP"}).json()
    assert expected["values"][str(ids[SMALL])] == 1.0
    assert expected["values"][str(ids[BIG])] == 0.0
    pixel = ui.overview_pixel(*ui.screen_point(*_inner_commune(live_server, SMALL)))
    assert _close(pixel, expected["classes"][str(ids[SMALL])]), pixel
    text = str(page.text_content("#choropleth-legend"))
    assert "Zonage médecins : part de la population en ZIP" in text
    assert "100,0\u00a0%" in text, text
    ui.shot("82-part-en-zip-par-cpts")
    # per commune: 1 in ZIP, 0 elsewhere
    commune = perimeters[SMALL][0]
    communes = _zoomed_in_on(ui, commune, {"indicator": "essai_zonage.zonage", "category": "ZIP"})
    assert communes["values"][commune] == 1.0
    ui.tiles_drawn()
    assert set(ui.paint(commune)["fills"]) == {communes["classes"][commune].lower()}
    page.select_option("#choropleth-indicator", "")
    page.wait_for_timeout(100)


def _hover(ui: MapPage, lat: float, lon: float) -> str:
    x, y = ui.screen_point(lat, lon)
    ui.page.mouse.move(x - 3, y - 3)
    ui.page.mouse.move(x, y)
    ui.wait_until("!document.querySelector('#hover-name').hidden", timeout_s=5)
    return str(ui.page.text_content("#hover-name"))


def test_the_overview_names_the_cpts_under_the_pointer_never_a_hidden_draft(
        agent: MapPage, live_server: LiveServer) -> None:
    ui, page = agent, agent.page
    perimeters = fixture_perimeters()
    riviera = "CPTS DE LA RIVIERA FRANCAISE"
    secret = f"Brouillon confidentiel {uuid.uuid4().hex[:6]}"
    inner = _inner_code(live_server, riviera)
    with live_server.api() as api:  # an administrator's draft, not submitted: private
        draft_id = create_cpts(api, name=secret, status="pre_projet", communes=[inner])
        # positive control: the administrator's overview holds it, overlapping the Riviera
        mine = api.get("/api/map/overview").json()
    assert secret in {c["name"] for c in mine["cpts"]}
    assert any(draft_id in o["cpts"] for o in mine["overlaps"])
    try:
        page.reload()
        page.wait_for_selector("body[data-ready=true]", timeout=30_000)
        _, lat, lon = commune_facts(live_server, NICE)
        ui.map_call(f"(map.setView([{lat}, {lon}], 7.5, {{animate: false}}), null)")
        assert not ui.map_call("map.hasLayer(communes)"), "the overview is shown"
        text = _hover(ui, lat, lon)
        claimants = sorted(name for name, codes in perimeters.items() if NICE in codes)
        assert text.endswith(" — chevauchement"), text
        assert sorted(text.removesuffix(" — chevauchement").split(" · ")) == claimants, text
        ui.shot("83-survol-chevauchement-vue-nationale")
        # one CPTS: its name alone
        big = _inner_commune(live_server, BIG)
        assert _hover(ui, *big) == BIG
        # a commune of the Riviera the private draft claims too: the Riviera alone is named,
        # the draft counted as on the commune card (test_map_overlaps.py)
        _, lat, lon = commune_facts(live_server, inner)
        text = _hover(ui, lat, lon)
        assert text.startswith(f"{riviera} — ") and text.endswith(" cette commune."), text
        assert secret not in str(page.evaluate("() => document.body.innerText"))
        seen = page.evaluate("() => fetch('/api/map/overview').then((r) => r.text())")
        assert secret not in seen
    finally:
        with live_server.api() as api:
            archive(api, draft_id)
