"""The exports as a user gets them from the map: the CSV downloaded from the edit panel names
the CPTS on every row and ends with its total, in one table Excel reads as it is."""

import csv
import io
from pathlib import Path
from typing import Any

from tests.browser.conftest import VIEWPORT, LiveServer, Recorder, fixture_perimeters
from tests.browser.pages import open_as
from tests.browser.test_map_manage import open_in_edit

RIVIERA = "CPTS DE LA RIVIERA FRANCAISE"


def test_the_csv_downloaded_from_the_panel_carries_the_cpts_and_its_total(
        browser: Any, live_server: LiveServer, screenshots: Path, tmp_path: Path) -> None:
    recorder = Recorder(live_server.base_url)
    ui = open_as(browser, live_server, recorder, screenshots, "ars", regions=("93",))
    page = ui.page
    cpts_id = live_server.cpts_ids[RIVIERA]
    open_in_edit(ui, cpts_id)
    with page.expect_download() as info:
        page.click("#edit-exports a[data-format=csv]")
    target = tmp_path / info.value.suggested_filename
    info.value.save_as(target)
    assert target.name.startswith(f"cpts-{cpts_id}-") and target.suffix == ".csv"
    content = target.read_bytes()
    assert content.startswith(b"\xef\xbb\xbf")
    table = list(csv.reader(io.StringIO(content.decode("utf-8-sig")), delimiter=";"))
    assert table[0][:5] == ["cpts_id", "cpts_nom", "cpts_stade", "cpts_version", "code_commune"]
    assert {len(row) for row in table} == {9}
    assert {(row[0], row[1], row[2]) for row in table[1:]} == {
        (str(cpts_id), RIVIERA, "ACI signé")}
    communes = table[1:-1]
    assert sorted(row[4] for row in communes) == sorted(fixture_perimeters()[RIVIERA])
    total = table[-1]
    assert total[4] == "Total" and total[5] == f"{len(communes)} communes"
    assert int(total[7]) == sum(int(row[7]) for row in communes)
    # the figure the panel shows for the CPTS
    shown = str(page.text_content("[data-figure=population]")).replace("\u202f", "")
    assert total[7] in shown
    page.context.close()


def test_the_html_export_shows_the_whole_perimeter_beside_its_summary_with_a_metric_scale(
        browser: Any, live_server: LiveServer, screenshots: Path, tmp_path: Path) -> None:
    cpts_id = live_server.cpts_ids[RIVIERA]
    with live_server.api() as api:
        answer = api.get(f"/api/cpts/{cpts_id}/export", params={"format": "html"})
    assert answer.status_code == 200, answer.text
    saved = tmp_path / "perimetre.html"
    saved.write_bytes(answer.content)
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    page.goto(saved.as_uri())
    page.wait_for_selector(".leaflet-interactive")
    page.wait_for_timeout(300)
    summary = page.eval_on_selector(".cpts-summary", "e => e.getBoundingClientRect().toJSON()")
    shown = page.eval_on_selector(".folium-map", "e => e.getBoundingClientRect().toJSON()")
    perimeter = page.evaluate("""() => {
      const boxes = [...document.querySelectorAll('path.leaflet-interactive')]
        .map((p) => p.getBoundingClientRect());
      const edge = (pick, side) => pick(...boxes.map((b) => b[side]));
      return { left: edge(Math.min, 'left'), right: edge(Math.max, 'right'),
               top: edge(Math.min, 'top'), bottom: edge(Math.max, 'bottom') };
    }""")
    # the summary is beside the map, not over it, and the whole perimeter is in the map
    assert shown["right"] <= summary["left"] + 0.5, (shown, summary)
    assert perimeter["right"] <= summary["left"], (perimeter, summary)
    assert shown["left"] <= perimeter["left"] and perimeter["right"] <= shown["right"]
    assert shown["top"] <= perimeter["top"] and perimeter["bottom"] <= shown["bottom"]
    assert RIVIERA in str(page.text_content(".cpts-summary"))
    # one scale line, in metres or kilometres
    lines = page.eval_on_selector_all(".leaflet-control-scale-line",
                                      "ls => ls.map(l => l.textContent)")
    assert len(lines) == 1 and lines[0].split()[-1] in ("m", "km"), lines
    page.screenshot(path=str(screenshots / "79-export-html-cote-a-cote.png"))
    context.close()
