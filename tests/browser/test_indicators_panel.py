"""The edit panel shows the indicators of the perimeter being edited, recomputed at each click,
beside the département, the région and France (a real Chromium, a real server)."""

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import LiveServer, Recorder
from tests.browser.pages import MapPage, signed_in

MENTON, ROQUEBRUNE = "06083", "06104"
TABLE = "essai_navigateur"


@pytest.fixture(scope="module")
def ui(browser: Any, live_server: LiveServer, screenshots: Path,
       recorder: Recorder) -> Iterator[MapPage]:
    definition = {
        "table": TABLE, "title": "Essai navigateur", "vintage": "2024", "source": "tests",
        "match": {"code": "codgeo"},
        "columns": [{"header": "medecins", "label": "Médecins généralistes",
                     "unit": "médecins", "aggregation": "sum"}]}
    with live_server.api() as api:
        answer = api.post("/api/indicators/tables", data={"definition": json.dumps(definition)},
                          files={"file": ("t.csv", f"codgeo;medecins\n{MENTON};12\n"
                                                   f"{ROQUEBRUNE};5\n".encode(), "text/csv")})
        assert answer.status_code == 200, answer.text
    with signed_in(browser, live_server, recorder, screenshots, live_server.admin_email) as ui:
        yield ui
        assert not recorder.external(), recorder.external()
        assert not recorder.errors, recorder.errors
        assert not [f for f in recorder.failed if "ERR_ABORTED" not in f], recorder.failed
        assert any("/api/indicators?units=" in url for url in recorder.requests)


def _indicator_text(ui: MapPage) -> str:
    return str(ui.page.text_content(f"[data-indicator='{TABLE}.medecins'] td.value"))


def test_each_click_updates_the_indicators_of_the_perimeter(ui: MapPage) -> None:
    page = ui.page
    ui.start_new("CPTS Diagnostic navigateur")
    ui.view(43.79, 7.49, 12)
    for code, expected in ((MENTON, "12 médecins"), (ROQUEBRUNE, "17 médecins"),
                           (ROQUEBRUNE, "12 médecins"), (ROQUEBRUNE, "17 médecins")):
        ui.click_commune(code)
        ui.wait_until(f"(document.querySelector(\"[data-indicator='{TABLE}.medecins'] "
                      f"td.value\")?.textContent || '').startsWith('{expected}')")
        assert _indicator_text(ui).startswith(expected)
    header = str(page.text_content("#edit-indicators tr"))
    assert "Alpes-Maritimes" in header and "France" in header
    assert "Diagnostic" in str(page.text_content("#edit-indicators h4"))
    ui.shot("indicateurs-panneau")
    # each click's time to the indicators drawn is kept by the page (benchmarks/indicators.py)
    assert page.evaluate("() => window.cptsMap.metrics.indicatorClicks.length") >= 4


def test_the_diagnostic_is_not_cut_by_the_panel_at_800_px(ui: MapPage) -> None:
    """At 800 px the panel is 360 px wide: the table's last column (France) stays reachable
    in a region that scrolls sideways, instead of running out of the panel."""
    page = ui.page
    page.reload()  # nothing open from the previous test
    page.wait_for_selector("body[data-ready=true]", timeout=30_000)
    page.set_viewport_size({"width": 800, "height": 768})
    try:
        ui.wait_until("window.innerWidth === 800")
        if page.is_visible("#drawer-toggle[aria-expanded='false']"):
            page.click("#drawer-toggle")
        ui.start_new("CPTS Diagnostic étroit")
        ui.view(43.79, 7.49, 12)
        ui.click_commune(MENTON)
        ui.wait_until(f"document.querySelector(\"[data-indicator='{TABLE}.medecins']\")")
        boxes = page.evaluate("""() => {
          const panel = document.querySelector('#panel').getBoundingClientRect();
          const region = document.querySelector('#edit-indicators .table-scroll');
          const shown = region.getBoundingClientRect();
          region.scrollLeft = region.scrollWidth;
          const last = [...document.querySelectorAll('#edit-indicators tr')][0].lastElementChild
            .getBoundingClientRect();
          return { panelRight: panel.right, regionRight: shown.right,
                   lastLeft: last.left, lastRight: last.right, focusable: region.tabIndex };
        }""")
        assert boxes["regionRight"] <= boxes["panelRight"] + 0.5, boxes
        # scrolled to its end, the France column is inside what the panel shows
        assert boxes["lastRight"] <= boxes["regionRight"] + 0.5, boxes
        assert boxes["lastLeft"] >= boxes["regionRight"] - 400, boxes
        assert boxes["focusable"] == 0, boxes
        ui.shot("indicateurs-panneau-800")
    finally:
        page.set_viewport_size({"width": 1366, "height": 768})
