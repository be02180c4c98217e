"""An indicator on the map: the user picks an indicator column, the communes are painted in
the colour of their class (read in the tiles' styles), the legend lists the classes, and
« Aucun » brings the coverage colours back."""

import json
from pathlib import Path
from typing import Any

from tests.browser.conftest import LiveServer, Recorder
from tests.browser.pages import MapPage, commune_facts, make_user, sign_in

VALUES = {"06083": 30, "06104": 5, "06150": 12, "06088": 800, "06123": 2, "06159": 9}


def test_an_indicator_paints_the_communes_in_their_class_colour(
        browser: Any, live_server: LiveServer, screenshots: Path) -> None:
    definition = {
        "table": "essai_choroplethe", "title": "Essai choroplèthe", "vintage": "2024",
        "source": "tests", "match": {"code": "codgeo"},
        "columns": [{"header": "pharmacies", "label": "Pharmacies", "unit": "pharmacies",
                     "aggregation": "sum"}]}
    body = "codgeo;pharmacies\n" + "".join(f"{c};{v}\n" for c, v in VALUES.items())
    with live_server.api() as api:
        answer = api.post("/api/indicators/tables", data={"definition": json.dumps(definition)},
                          files={"file": ("t.csv", body.encode(), "text/csv")})
        assert answer.status_code == 200, answer.text
        expected = api.get("/api/indicators/map",
                           params={"indicator": "essai_choroplethe.pharmacies"}).json()
    assert set(expected["classes"]) == set(VALUES)
    recorder = Recorder(live_server.base_url)
    email = make_user(live_server, "ars", regions=("93",))
    ui = MapPage(sign_in(browser, live_server, recorder, email), live_server, screenshots)
    page = ui.page
    _, lat, lon = commune_facts(live_server, "06083")
    ui.view(lat, lon, 11)
    before = ui.paint("06083")["fills"]
    page.click("#choropleth-box > summary")
    page.wait_for_selector("#choropleth-indicator option[value='essai_choroplethe.pharmacies']",
                           state="attached")
    page.select_option("#choropleth-indicator", "essai_choroplethe.pharmacies")
    page.wait_for_selector("#choropleth-legend[data-indicator]")
    ui.page.wait_for_timeout(200)
    for code in ("06083", "06104", "06150"):
        fills = set(ui.paint(code)["fills"])
        assert fills == {expected["classes"][code].lower()}, (code, fills)
    legend = page.eval_on_selector_all("#choropleth-legend li", "ls => ls.map(l => l.textContent)")
    assert len(legend) == len(expected["legend"]) + 1 and legend[-1] == "Sans valeur"
    assert legend[0].startswith(expected["legend"][0]["label"])
    ui.shot("80-indicateur-sur-la-carte")
    page.select_option("#choropleth-indicator", "")
    ui.page.wait_for_timeout(200)
    assert ui.paint("06083")["fills"] == before
    assert not recorder.errors, recorder.errors
    page.context.close()
