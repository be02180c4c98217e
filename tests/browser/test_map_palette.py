"""The colours as a user sees them (pixels of the communes' canvas): two neighbouring CPTS of
the Alpes-Maritimes fixture painted in the two different colours the server assigned them, a
zone blanche commune painted with its texture (dark dots on a pale ground, not a flat red), an
overlap commune in stripes of at least two colours, and the legend showing the same textures."""

import json
from pathlib import Path
from typing import Any

from app.db import connect
from app.domain.cpts_colours import PALETTE, neighbours
from app.repo.reference import read_graph
from tests.browser.conftest import LiveServer, Recorder, fixture_white_communes
from tests.browser.pages import commune_facts, open_as

NICE = "06088"

def _rgb(colour: str) -> tuple[int, int, int]:
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)


def _near(pixel: list[int] | tuple[int, ...], colour: str, tolerance: int = 4) -> bool:
    return max(abs(a - b) for a, b in zip(pixel[:3], _rgb(colour), strict=True)) <= tolerance


def _listing(page: Any) -> list[dict[str, Any]]:
    return list(json.loads(page.evaluate(
        "() => fetch('/api/map/perimeters').then((r) => r.text())"))["cpts"])


def _bordering_pair(server: LiveServer, listing: list[dict[str, Any]]) -> tuple[
        dict[str, Any], dict[str, Any], str, str]:
    """Two neighbouring CPTS and a commune of each (claimed by it alone) on their border."""
    with connect(server.settings.database_url) as conn:
        graph = read_graph(conn)
    units_of = {c["id"]: c["communes"] for c in listing}
    owners: dict[str, list[int]] = {}
    for cpts_id, codes in units_of.items():
        for code in codes:
            owners.setdefault(code, []).append(cpts_id)
    by_id = {c["id"]: c for c in listing}
    touching = neighbours(units_of, graph.neighbours)
    for first in sorted(touching):
        for code in sorted(units_of[first]):
            if owners[code] != [first] or code == NICE:
                continue
            for other in sorted(graph.neighbours.get(code, ())):
                second = owners.get(other)
                if second and len(second) == 1 and second[0] in touching[first]:
                    return by_id[first], by_id[second[0]], code, other
    raise AssertionError("no two bordering CPTS in the fixture")


def test_neighbours_zones_blanches_and_overlaps_as_painted(
        browser: Any, live_server: LiveServer, screenshots: Path) -> None:
    recorder = Recorder(live_server.base_url)
    ui = open_as(browser, live_server, recorder, screenshots, "ars", regions=("93",))
    page = ui.page
    listing = _listing(page)
    assert listing and all(c["colour"] is not None for c in listing)

    # two neighbouring CPTS: two different colours, each the one the server assigned
    first, second, here, there = _bordering_pair(live_server, listing)
    colours = [PALETTE.cpts[first["colour"]], PALETTE.cpts[second["colour"]]]
    assert colours[0] != colours[1], (first["name"], second["name"])
    alpha = round(255 * PALETTE.cpts_opacity)
    _, lat, lon = commune_facts(live_server, here)
    ui.view(lat, lon, 12)
    for code, colour in zip((here, there), colours, strict=True):
        paint = ui.paint(code)
        assert paint["fills"] and set(paint["fills"]) == {colour}, (code, paint["fills"])
        pixel = paint["pixel"]
        assert pixel is not None and _near(pixel, colour) and abs(pixel[3] - alpha) <= 3, (
            code, pixel, colour)
    ui.shot("90-palette-voisines")

    # a zone blanche: the texture's two colours around its point, the dots a minority
    white = sorted(fixture_white_communes())[0]
    _, lat, lon = commune_facts(live_server, white)
    ui.view(lat, lon, 13)
    assert set(ui.paint(white)["fills"]) == {"pattern"}
    x, y = ui.screen_point(lat, lon)
    block = ui.tile_pixels(int(x) - 8, int(y) - 8, 16, 16)
    assert all(pixel is not None and pixel[3] >= 200 for pixel in block), block
    zone = PALETTE.raw["zone_blanche"]
    ground = sum(1 for p in block if _near(p, zone["ground"]))
    ink = sum(1 for p in block if _near(p, zone["ink"]))
    assert ground + ink == len(block), "only the ground and the dots"
    assert 0.08 * len(block) <= ink <= 0.3 * len(block), (ink, ground)
    assert not any(_near(p, "#d7191c", 30) for p in block), "no flat red any more"
    ui.shot("91-palette-zone-blanche")

    # an overlap: stripes of at least two palette colours, with the separator line
    _, lat, lon = commune_facts(live_server, NICE)
    ui.view(lat, lon, 13)
    x, y = ui.screen_point(lat, lon)
    row = ui.tile_pixels(int(x) - 48, int(y), 96, 1)
    separator = PALETTE.raw["overlap"]["separator"]
    stripes = {c for c in PALETTE.cpts if sum(1 for p in row if p and _near(p, c)) >= 8}
    assert len(stripes) >= 2, row
    assert sum(1 for p in row if p and _near(p, separator)) >= 4
    ui.shot("92-palette-chevauchement")

    # the legend shows the map's own textures
    page.wait_for_selector("#legend .swatch.white-zone", state="attached")
    for selector in ("#legend .swatch.white-zone", "#legend .swatch.overlap"):
        image = page.eval_on_selector(selector, "s => getComputedStyle(s).backgroundImage")
        assert image.startswith('url("data:image/png'), (selector, image[:40])
    assert not recorder.errors, recorder.errors
    page.context.close()
