"""Overlaps as a user sees them: Nice, claimed by three CPTS of the Alpes-Maritimes fixture,
is hatched in three colours that differ (read on the communes' canvas), each stripe opened by
the palette's separator line and no pixel left unpainted, and the pointer over it names the
three CPTS."""

import json
from pathlib import Path
from typing import Any

from app.domain.cpts_colours import PALETTE
from tests.browser.conftest import LiveServer, Recorder, fixture_perimeters
from tests.browser.pages import MapPage, commune_facts, make_user, sign_in

NICE = "06088"

# The RGBA pixels of the communes' tile canvases along a horizontal line of screen pixels.
_ROW = """([x0, y, count]) => {
  const config = window.cptsMap.config;
  const map = window[config.names.map];
  const layer = window[config.names.layers.communes];
  const level = layer._levels && layer._levels[layer._tileZoom];
  const pixels = [];
  for (let x = x0; x < x0 + count; x += 1) {
    let found = null;
    for (const canvas of level ? level.el.querySelectorAll("canvas") : []) {
      const rect = canvas.getBoundingClientRect();
      if (x < rect.left || x >= rect.right || y < rect.top || y >= rect.bottom) continue;
      found = [...canvas.getContext("2d").getImageData(
        Math.floor((x - rect.left) * canvas.width / rect.width),
        Math.floor((y - rect.top) * canvas.height / rect.height), 1, 1).data];
    }
    pixels.push(found);
  }
  return pixels;
}"""


def _distance(a: tuple[int, ...], b: tuple[int, ...]) -> float:
    return float(sum((x - y) ** 2 for x, y in zip(a, b, strict=True)) ** 0.5)


def test_three_claimants_of_nice_read_as_three_and_are_named(
        browser: Any, live_server: LiveServer, screenshots: Path) -> None:
    claimants = sorted(name for name, codes in fixture_perimeters().items() if NICE in codes)
    assert len(claimants) == 3
    recorder = Recorder(live_server.base_url)
    email = make_user(live_server, "ars", regions=("93",))
    ui = MapPage(sign_in(browser, live_server, recorder, email), live_server, screenshots)
    page = ui.page
    _, lat, lon = commune_facts(live_server, NICE)
    ui.view(lat, lon, 13)
    x, y = ui.screen_point(lat, lon)
    pixels = page.evaluate(_ROW, [int(x) - 48, int(y), 96])
    assert all(pixel is not None for pixel in pixels)
    # no seam: every pixel of the hatching is painted (alpha of the fill)
    assert min(pixel[3] for pixel in pixels) >= 200, pixels
    colours = [tuple(pixel[:3]) for pixel in pixels]
    separator = tuple(int(PALETTE.raw["overlap"]["separator"][i:i + 2], 16) for i in (1, 3, 5))
    lines = sum(1 for c in colours if c == separator)
    # three colours, each a stripe of several pixels, pairwise far apart, with separator lines
    counts: dict[tuple[int, ...], int] = {}
    for colour in colours:
        if colour != separator:
            counts[colour] = counts.get(colour, 0) + 1
    stripes = sorted((c for c, n in counts.items() if n >= 10), key=lambda c: -counts[c])
    assert len(stripes) == 3, counts
    assert sum(counts[c] for c in stripes) + lines >= 0.95 * len(colours), (counts, lines)
    assert lines >= 6, f"the separator line between stripes: {lines} pixels"
    # the stripes are the claimants' colours, as the server assigned them
    listing = json.loads(page.evaluate(
        "() => fetch('/api/map/perimeters').then((r) => r.text())"))["cpts"]
    assigned = [tuple(int(hex_[i:i + 2], 16) for i in (1, 3, 5)) for hex_ in
                {PALETTE.colour(c["colour"], c["id"]) for c in listing if c["name"] in claimants}]
    assert len(assigned) == 3
    for stripe in stripes:  # (the canvas keeps colours premultiplied by the opacity: ±2)
        assert min(_distance(stripe, colour) for colour in assigned) <= 4, (stripe, assigned)
    for i, first in enumerate(stripes):
        for second in stripes[i + 1:]:
            assert _distance(first, second) >= 60, (first, second)
    ui.shot("77-nice-trois-cpts")

    page.mouse.move(x, y)
    page.mouse.move(x + 2, y + 2)
    page.wait_for_selector("#hover-name:not([hidden])")
    hover = str(page.text_content("#hover-name"))
    assert f"Nice ({NICE})" in hover and "— chevauchement" in hover
    for name in claimants:
        assert name in hover, hover
    ui.shot("78-nice-survol")
    assert not recorder.errors, recorder.errors
    page.context.close()
