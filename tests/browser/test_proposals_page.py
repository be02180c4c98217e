"""« Proposer un plan » in the zones blanches view, driven in headless Chromium on the
Alpes-Maritimes fixture: the plan's table lists every proposed CPTS and attachment of the API's
answer, each drawn on the map in the palette colour the server gave it — the swatch of its row
is the colour its shape is painted in on the map's canvas, and two neighbouring shapes are
painted differently — with the options' sliders; the agency's « Enregistrer comme scénario » is
offered (saving is tested in tests/test_proposals_api.py)."""

from typing import Any

import shapely
from shapely.geometry import shape
from shapely.ops import polylabel

from app.domain.cpts_colours import PALETTE
from tests.browser.conftest import LiveServer
from tests.browser.pages import MapPage

# What the screen shows of the plan: the computed background of each row's swatch, and the RGBA
# pixel of the plan's canvas (Leaflet's renderer of its shapes) at a point inside each shape.
_PLAN_PAINT = """async (points) => {
  await new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)));
  const map = window[window.cptsMap.config.names.map];
  let canvas = null;
  map.eachLayer((layer) => {
    if (layer.feature?.properties?.kind && layer._renderer) canvas = layer._renderer._container;
  });
  const swatches = {};
  for (const row of document.querySelectorAll("#plan-table tbody tr")) {
    swatches[row.dataset.plan] = getComputedStyle(row.querySelector(".swatch")).backgroundColor;
  }
  const box = map.getContainer().getBoundingClientRect();
  const rect = canvas.getBoundingClientRect();
  const context = canvas.getContext("2d");
  const pixels = {};
  for (const [key, lat, lon] of points) {
    const point = map.latLngToContainerPoint([lat, lon]);
    const x = (point.x + box.left - rect.left) * (canvas.width / rect.width);
    const y = (point.y + box.top - rect.top) * (canvas.height / rect.height);
    pixels[key] = [...context.getImageData(Math.floor(x), Math.floor(y), 1, 1).data];
  }
  return { swatches, pixels };
}"""


def rgb_of(css: str) -> tuple[int, ...]:
    """`rgb(r, g, b)` (a computed colour) as numbers."""
    return tuple(int(part) for part in css[css.index("(") + 1:css.index(")")].split(",")[:3])


def plan_key(properties: dict[str, Any]) -> str:
    return properties["id"] if properties["kind"] == "group" else f"cpts-{properties['cpts_id']}"


def shown_as_listed(ui: MapPage, server: LiveServer, body: dict[str, Any], keys: list[str]
                    ) -> list[tuple[str, str]]:
    """Each shape of the plan `body` (as the API draws it) is painted on the map's canvas, at
    a point well inside it, in the palette colour its row's swatch shows, at the CPTS'
    opacity; shapes that touch are painted in two colours. Returns the pairs that touch."""
    with server.api() as api:
        features = api.post("/api/proposals", params={"format": "geojson"},
                            json=body).json()["features"]
    shapes = {plan_key(f["properties"]): shape(f["geometry"]) for f in features}
    assert sorted(shapes) == sorted(keys)
    points = []
    for key, geometry in shapes.items():
        largest = max(getattr(geometry, "geoms", [geometry]), key=lambda part: part.area)
        inside = polylabel(largest, tolerance=1e-4)  # the point farthest from its edges
        points.append([key, inside.y, inside.x])
    ui.page.wait_for_timeout(400)  # fitBounds' animation
    painted = ui.page.evaluate(_PLAN_PAINT, points)
    palette = {tuple(int(c[i:i + 2], 16) for i in (1, 3, 5)) for c in PALETTE.cpts}
    for key in keys:
        swatch = rgb_of(painted["swatches"][key])
        *pixel, alpha = painted["pixels"][key]
        assert swatch in palette, (key, swatch)
        assert max(abs(a - b) for a, b in zip(pixel, swatch, strict=True)) <= 3, (
            key, pixel, swatch)
        assert abs(alpha - round(255 * PALETTE.cpts_opacity)) <= 3, (key, alpha)
    neighbours = [(a, b) for i, a in enumerate(keys) for b in keys[i + 1:]
                  if shapely.intersects(shapes[a], shapes[b])]
    for a, b in neighbours:
        assert painted["pixels"][a][:3] != painted["pixels"][b][:3], (a, b)
    return neighbours


def test_a_plan_is_proposed_drawn_and_listed_for_the_chosen_territory(
        ui: MapPage, live_server: LiveServer) -> None:
    page = ui.page
    with live_server.api() as api:
        expected = api.post("/api/proposals", json={"scope": "departement:06"}).json()
    page.click("#tab-white")
    page.select_option("#white-scope-kind", "departement")
    page.fill("#white-scope-code", "06")
    page.click("#white-form button[type=submit]")
    page.wait_for_selector("#white-table tbody tr[data-zone]", timeout=20_000)
    page.wait_for_selector("#plan-propose", timeout=10_000)
    assert page.locator("#white-proposals input[type=range]").count() == 7
    page.click("#plan-propose")
    page.wait_for_selector("#plan-table tbody tr", timeout=30_000)
    keys = page.eval_on_selector_all("#plan-table tbody tr",
                                     "rows => rows.map(r => r.dataset.plan)")
    assert keys == [g["id"] for g in expected["groups"]] + [
        f"cpts-{a['cpts_id']}" for a in expected["attachments"]]
    summary = str(page.text_content("#plan-result"))
    assert "→ 100.0 %" in summary and "rattachement" in summary
    # one shape per row on the map, painted in its row's swatch colour
    drawn = page.locator("#white-proposals")
    assert drawn.get_attribute("data-shapes") == str(len(keys))
    shown_as_listed(ui, live_server, {"scope": "departement:06"}, keys)
    assert page.locator("#plan-save").is_visible()
    ui.shot("20-proposer-un-plan")
    # Counting only the CPTS at lower stages (the fixture's are all signed), the whole
    # département is to plan: new CPTS side by side, each apart from its neighbours on screen.
    page.uncheck("fieldset[data-filters=white] input[value=aci_signe]")
    page.click("#plan-propose")
    ui.wait_until("document.querySelector('#plan-table tbody tr[data-plan=\"P4\"]')", 90)
    statuses = page.eval_on_selector_all("fieldset[data-filters=white] input:checked",
                                         "boxes => boxes.map(b => b.value)")
    keys = page.eval_on_selector_all("#plan-table tbody tr",
                                     "rows => rows.map(r => r.dataset.plan)")
    neighbours = shown_as_listed(ui, live_server,
                                 {"scope": "departement:06", "statuses": statuses}, keys)
    assert neighbours, "des CPTS proposées côte à côte"
    ui.shot("21-plan-couleurs-voisines")
