"""The ARS agent's coverage workspace: a territory chosen by name, the charts of coverage by
stage and by département drawn from the figures `GET /api/coverage` gives (Chart.js served by
the app), the overlapping communes listed and opened with a click, and the exports."""


import pytest

from tests.browser.conftest import LiveServer, Recorder
from tests.browser.pages import MapPage

pytestmark = pytest.mark.page_as("ars", regions=("93",))


def test_charts_overlaps_and_exports_of_a_territory_chosen_by_name(
        ui: MapPage, live_server: LiveServer, recorder: Recorder) -> None:
    page = ui.page
    with live_server.api() as api:
        report = api.get("/api/coverage", params={"scope": "departement:06"}).json()
    page.click("#tab-white")
    page.fill("#white-territory", "alpes-mari")
    page.wait_for_selector("#white-territory-results li[data-scope='departement:06']")
    page.click("#white-territory-results li[data-scope='departement:06']")
    page.wait_for_selector("#white-charts[data-drawn]", timeout=20_000)
    stages = page.evaluate("() => window.Chart.getChart('chart-stages').data.datasets[0].data")
    assert stages == [round(s["coverage_rate"] * 1000) / 10 for s in report["by_stage"]]
    departements = page.evaluate(
        "() => window.Chart.getChart('chart-departements').data.labels")
    assert departements == [f"{d['nom']} ({d['departement']})" for d in report["by_departement"]]
    painted = page.evaluate("""() => {
      const canvas = document.getElementById('chart-departements');
      const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
      let ink = 0; for (let i = 3; i < data.length; i += 4) if (data[i] > 0) ink += 1;
      return ink; }""")
    assert painted > 500, "the département chart is drawn"
    ui.shot("50-couverture-graphiques")
    listed = page.eval_on_selector_all("[data-overlap-commune]",
                                       "items => items.map(i => i.dataset.overlapCommune)")
    assert listed == [o["commune"] for o in report["overlaps"]]
    if listed:
        if not page.is_visible(f"[data-overlap-commune='{listed[0]}']"):
            page.click("#overlap-communes summary")
        page.click(f"[data-overlap-commune='{listed[0]}']")
        ui.wait_until("window[window.cptsMap.config.names.map].getZoom() >= 10")
    formats = page.eval_on_selector_all("#white-exports a", "links => links.map(a => a.href)")
    assert any("format=xlsx" in href and "scope=departement%3A06" in href for href in formats)
    assert "XLSX" in str(page.text_content("#white-exports"))
    with live_server.api() as api:
        xlsx = api.get(next(h for h in formats if "format=xlsx" in h))
    assert xlsx.status_code == 200 and len(xlsx.content) > 1000
    chart_file = "/static/vendor/chartjs/chart.umd.min.js"
    assert any(url.endswith(chart_file) for url in recorder.requests)
    assert recorder.external() == [] and recorder.errors == []
