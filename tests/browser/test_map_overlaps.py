"""Overlaps as a user sees them: Nice, claimed by three CPTS of the Alpes-Maritimes fixture,
is hatched in three colours that differ (read on the communes' canvas), each stripe opened by
the palette's separator line and no pixel left unpainted, and the pointer over it names the
three CPTS. On the national overview, a commune of a signed CPTS that a carrier's private draft
claims too: whoever may not see the draft reads the count the commune card gives (never its
name) and sees no hatching, on the overview and on the communes' tiles; the administrator
reads its name."""

import json
import uuid
from pathlib import Path
from typing import Any

from app.domain.cpts_colours import PALETTE
from tests.browser.conftest import LiveServer, Recorder, fixture_perimeters
from tests.browser.pages import MapPage, commune_facts, inner_codes, make_user, sign_in, signed_in
from tests.browser.test_map_manage import archive

NICE = "06088"

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
    pixels = ui.tile_pixels(int(x) - 48, int(y), 96, 1)
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


RIVIERA = "CPTS DE LA RIVIERA FRANCAISE"

def _overview_hover(ui: MapPage, code: str) -> tuple[str, list[int] | None]:
    """The national overview (zoom 7.5) around a commune: the pointer's text over it, and the
    overview's pixel there."""
    _, lat, lon = commune_facts(ui.server, code)
    ui.map_call(f"(map.setView([{lat}, {lon}], 7.5, {{animate: false}}), null)")
    assert not ui.map_call("map.hasLayer(communes)"), "the overview is shown"
    x, y = ui.screen_point(lat, lon)
    pixel = ui.overview_pixel(x, y)
    ui.page.mouse.move(x - 3, y - 3)
    ui.page.mouse.move(x, y)
    ui.wait_until("!document.querySelector('#hover-name').hidden", timeout_s=5)
    return str(ui.page.text_content("#hover-name")), pixel


def _commune_hover(ui: MapPage, code: str) -> str:
    """The pointer's text over a commune on the communes' tiles (zoom 12)."""
    _, lat, lon = commune_facts(ui.server, code)
    ui.map_call(f"(map.setView([{lat}, {lon}], 12, {{animate: false}}), null)")
    ui.wait_until("!window[window.cptsMap.config.names.layers.communes].isLoading()",
                  timeout_s=15)
    x, y = ui.screen_point(lat, lon)
    ui.page.mouse.move(x - 3, y - 3)
    ui.page.mouse.move(x, y)
    ui.wait_until(f"document.querySelector('#hover-name').textContent.includes('({code})')",
                  timeout_s=10)
    return str(ui.page.text_content("#hover-name"))


def test_a_private_draft_on_a_signed_cpts_is_counted_on_the_overview_never_named(
        browser: Any, live_server: LiveServer, screenshots: Path, recorder: Recorder) -> None:
    inner, elsewhere = inner_codes(live_server, RIVIERA)[:2]
    secret = f"Brouillon du porteur B {uuid.uuid4().hex[:6]}"
    with live_server.api() as api:
        created = api.post("/api/cpts", json={"name": secret, "status": "pre_projet",
                                              "communes": [inner]})
        assert created.status_code == 201, created.text
    draft_id = created.json()["id"]
    make_user(live_server, "carrier", cpts_ids=(draft_id,))  # carrier B's, not submitted
    people = {"porteur A": make_user(live_server, "carrier"),
              "ARS PACA": make_user(live_server, "ars", regions=("93",))}
    try:
        for label, email in people.items():
            with signed_in(browser, live_server, recorder, screenshots, email) as ui:
                page = ui.page
                card = page.evaluate(
                    f"() => fetch('/api/communes/{inner}').then((r) => r.json())")
                notice = card["hidden_cpts"]["detail"]
                assert notice.endswith(("recouvre cette commune.", "recouvrent cette commune."))
                text, pixel = _overview_hover(ui, inner)
                # the card's sentence after the one CPTS this user may see there: no overlap
                assert text == f"{RIVIERA} — {notice}", (label, text)
                ui.shot(f"79-survol-brouillon-compte-{label.split()[0].lower()}")
                # not hatched: painted as another commune of the Riviera nobody else claims
                _, other = _overview_hover(ui, elsewhere)
                assert pixel is not None and other is not None
                assert max(abs(a - b) for a, b in zip(pixel, other, strict=True)) <= 2, \
                    (label, pixel, other)
                # at the communes' zoom, the pointer over the commune says the same
                assert _commune_hover(ui, inner).endswith(f"{RIVIERA} — {notice}"), label
                assert secret not in str(page.evaluate("() => document.body.innerText"))
                seen = page.evaluate("() => fetch('/api/map/overview').then((r) => r.text())")
                assert secret not in seen and f'"id":{draft_id},' not in seen, label
        # the administrator sees the draft named as a claimant of an overlap
        admin = make_user(live_server, "admin")
        with signed_in(browser, live_server, recorder, screenshots, admin) as ui:
            text, _ = _overview_hover(ui, inner)
            assert text.endswith(" — chevauchement"), text
            assert secret in text and RIVIERA in text, text
            assert "projet non publié" not in text, text
            ui.shot("80-survol-brouillon-nomme-admin")
            text = _commune_hover(ui, inner)
            assert secret in text and " — chevauchement" in text, text
        assert not recorder.errors, recorder.errors
    finally:
        with live_server.api() as api:
            archive(api, draft_id)
