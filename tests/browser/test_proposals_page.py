"""« Proposer un plan » in the zones blanches view, driven in headless Chromium on the
Alpes-Maritimes fixture: the plan's table lists every proposed CPTS and attachment of the API's
answer, each drawn on the map in its own colour, with the options' sliders; the agency's
« Enregistrer comme scénario » is offered (saving is tested in tests/test_proposals_api.py)."""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import PASSWORD, VIEWPORT, LiveServer
from tests.browser.pages import MapPage


@pytest.fixture(scope="module")
def ui(browser: Any, live_server: LiveServer, screenshots: Path) -> Iterator[MapPage]:
    context = browser.new_context(viewport=VIEWPORT, locale="fr-FR")
    page = context.new_page()
    page.goto(live_server.base_url + "/")
    page.fill("input[name=email]", live_server.admin_email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector("body[data-ready=true]", timeout=30_000)
    yield MapPage(page, live_server, screenshots)
    context.close()


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
    # one shape per row on the map, each in its own colour
    drawn = page.locator("#white-proposals")
    assert drawn.get_attribute("data-shapes") == str(len(keys))
    assert drawn.get_attribute("data-colours") == str(len(keys))
    assert page.locator("#plan-save").is_visible()
    ui.shot("20-proposer-un-plan")
