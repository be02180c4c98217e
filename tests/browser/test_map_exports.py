"""The exports as a user gets them from the map: the CSV downloaded from the edit panel names
the CPTS on every row and ends with its total, in one table Excel reads as it is."""

import csv
import io
from pathlib import Path
from typing import Any

from tests.browser.conftest import LiveServer, Recorder, fixture_perimeters
from tests.browser.pages import MapPage, make_user, sign_in
from tests.browser.test_map_manage import open_in_edit

RIVIERA = "CPTS DE LA RIVIERA FRANCAISE"


def test_the_csv_downloaded_from_the_panel_carries_the_cpts_and_its_total(
        browser: Any, live_server: LiveServer, screenshots: Path, tmp_path: Path) -> None:
    recorder = Recorder(live_server.base_url)
    email = make_user(live_server, "ars", regions=("93",))
    ui = MapPage(sign_in(browser, live_server, recorder, email), live_server, screenshots)
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
