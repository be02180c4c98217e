"""The map page as a user drives it, step by step in one browser tab: sign in, see the
coverage, draw a perimeter by clicking communes, undo, save a version, meet someone else's
save, list the zones blanches of the fixture, open the standalone HTML export from disk.
A screenshot of each step is saved in tests/output/screenshots/."""

import re
from pathlib import Path
from typing import Any

from app.db import connect
from tests.browser.conftest import VIEWPORT, LiveServer, Recorder, fixture_white_communes
from tests.browser.pages import MapPage, commune_facts, people

MENTON, ROQUEBRUNE, GORBIO = "06083", "06104", "06067"
NEW_CPTS = "CPTS Essai navigateur"


def test_the_page_loads_in_french_with_no_failed_and_no_external_request(
        ui: MapPage, recorder: Recorder, live_server: LiveServer) -> None:
    ui.view(43.85, 7.2, 9)
    ui.shot("01-couverture")
    page = ui.page
    assert page.get_attribute("html", "lang") == "fr"
    assert page.text_content("#tab-coverage") == "Couverture"
    assert page.text_content(".role-badge") == "administrateur"
    assert "16\u00a0CPTS affichées" in str(page.text_content("#coverage-status"))
    assert recorder.requests, "the page made no request at all?"
    assert recorder.external() == []
    assert recorder.failed == []
    assert recorder.errors == []
    tiles = [url for url in recorder.requests if "/api/tiles/communes/" in url]
    assert tiles, "the communes are drawn from the vector tiles"


def test_a_click_on_a_commune_opens_its_card(ui: MapPage) -> None:
    ui.view(43.79, 7.49, 12)
    ui.click_commune(MENTON)
    ui.page.wait_for_selector("#commune-card h3")
    card = str(ui.page.text_content("#commune-card"))
    assert "Menton (06083)" in card
    assert "CPTS DE LA RIVIERA FRANCAISE" in card
    ui.shot("02-fiche-commune")


def test_in_edit_mode_a_click_adds_a_commune_and_the_panel_shows_its_population(
        ui: MapPage, live_server: LiveServer) -> None:
    page = ui.page
    ui.start_new(NEW_CPTS)
    ui.view(43.79, 7.49, 12)
    menton, _, _ = commune_facts(live_server, MENTON)
    assert ui.figures_after(lambda: ui.click_commune(MENTON)) == people(menton)
    assert "1\u00a0commune" in str(page.text_content("[data-figure=units]"))
    assert "population municipale 2023" in str(page.text_content("#edit-figures"))
    assert "taille 1" in str(page.text_content("[data-figure=size-class]"))
    roquebrune, _, _ = commune_facts(live_server, ROQUEBRUNE)
    assert ui.figures_after(lambda: ui.click_commune(ROQUEBRUNE)) == people(menton + roquebrune)
    assert "Chevauchement" in str(page.text_content("#edit-warnings")), "overlap with Riviera"
    ui.shot("03-edition-clic")


def test_undo_restores_the_perimeter_and_redo_replays_it(
        ui: MapPage, live_server: LiveServer) -> None:
    menton, _, _ = commune_facts(live_server, MENTON)
    roquebrune, _, _ = commune_facts(live_server, ROQUEBRUNE)
    ui.page.focus("#edit-undo")
    assert ui.figures_after(lambda: ui.page.keyboard.press("Control+z")) == people(menton)
    ui.shot("04-annuler")
    assert ui.figures_after(lambda: ui.page.click("#edit-redo")) == people(menton + roquebrune)


def _cpts_row(server: LiveServer, name: str) -> dict[str, Any]:
    with connect(server.settings.database_url) as conn:
        row = conn.execute("SELECT id, version FROM cpts WHERE name = %s", (name,)).fetchone()
    assert row is not None
    return dict(row)


def test_saving_creates_a_version_shown_in_the_history(ui: MapPage,
                                                       live_server: LiveServer) -> None:
    page = ui.page
    page.click("#edit-save")
    page.wait_for_selector("#edit-message .notice.ok", timeout=15_000)
    assert "créée (version 1)" in str(page.text_content("#edit-message"))
    created = _cpts_row(live_server, NEW_CPTS)
    assert created["version"] == 1
    ui.view(43.79, 7.47, 12)
    ui.figures_after(lambda: ui.click_commune(GORBIO))
    page.fill("#edit-reason", "Ajout de Gorbio")
    page.click("#edit-save")
    page.wait_for_selector("#edit-message .notice.ok >> text=Version 2 enregistrée",
                           timeout=15_000)
    assert _cpts_row(live_server, NEW_CPTS)["version"] == 2
    page.click("#edit-history summary")
    page.wait_for_selector(".history-version[data-version='2']")
    history = str(page.text_content("#history-list"))
    assert "Motif : Ajout de Gorbio" in history and "Gorbio (06067)" in history
    ui.shot("05-enregistrement-historique")


def test_a_concurrent_save_shows_the_conflict_and_a_way_out(ui: MapPage,
                                                            live_server: LiveServer) -> None:
    page = ui.page
    cpts = _cpts_row(live_server, NEW_CPTS)
    with live_server.api() as api:  # someone else renames the CPTS meanwhile
        answer = api.patch(f"/api/cpts/{cpts['id']}", json={"name": NEW_CPTS + " (bis)"},
                           headers={"If-Match": f'"{cpts["version"]}"'})
        assert answer.status_code == 200, answer.text
    ui.view(43.79, 7.47, 12)
    ui.figures_after(lambda: ui.click_commune(GORBIO))  # remove Gorbio again
    page.click("#edit-save")
    page.wait_for_selector("[data-conflict=true]", timeout=15_000)
    message = str(page.text_content("#edit-message"))
    assert "Quelqu'un a enregistré cette CPTS avant vous" in message
    assert "la version actuelle est la 3" in message
    ui.shot("06-conflit")
    ui.figures_after(lambda: page.click("#conflict-rebase"))
    assert "réappliqués sur la version 3" in str(page.text_content("#edit-message"))
    page.click("#edit-save")
    page.wait_for_selector("#edit-message .notice.ok >> text=Version 4 enregistrée",
                           timeout=15_000)
    with connect(live_server.settings.database_url) as conn:
        row = conn.execute("SELECT c.name, c.version, v.removed FROM cpts c JOIN cpts_version v "
                           "ON v.cpts_id = c.id AND v.version = c.version WHERE c.id = %s",
                           (cpts["id"],)).fetchone()
    assert row is not None
    assert (row["name"], row["version"], row["removed"]) == (NEW_CPTS + " (bis)", 4, [GORBIO])
    ui.shot("07-conflit-resolu")


def test_the_zones_blanches_table_lists_the_zones_of_the_fixture(
        ui: MapPage, live_server: LiveServer) -> None:
    page = ui.page
    with live_server.api() as api:  # the page's own CPTS out of the way: the fixture alone
        cpts = _cpts_row(live_server, NEW_CPTS + " (bis)")
        archived = api.post(f"/api/cpts/{cpts['id']}/archive", json={},
                            headers={"If-Match": f'"{cpts["version"]}"'})
        assert archived.status_code == 200, archived.text
        expected = api.get("/api/coverage", params={"scope": "departement:06"}).json()
    zones = {zone["id"]: zone for zone in expected["white_zones"]}
    assert {c for zone in zones.values() for c in zone["communes"]} == fixture_white_communes()
    page.click("#tab-white")
    page.select_option("#white-scope-kind", "departement")
    page.fill("#white-scope-code", "06")
    page.click("#white-form button[type=submit]")
    page.wait_for_selector("#white-table tbody tr[data-zone]", timeout=20_000)
    listed = page.eval_on_selector_all("#white-table tbody tr[data-zone]",
                                       "rows => rows.map(r => r.dataset.zone)")
    assert sorted(listed) == sorted(zones)
    populations = [zones[zone]["population"] for zone in listed]
    assert populations == sorted(populations, reverse=True), "largest zone first"
    page.click("#white-table th button[data-sort=population]")
    listed = page.eval_on_selector_all("#white-table tbody tr[data-zone]",
                                       "rows => rows.map(r => r.dataset.zone)")
    assert [zones[zone]["population"] for zone in listed] == sorted(populations)
    assert "de la population couverte" in str(page.text_content("#white-summary"))
    ui.shot("08-zones-blanches")
    largest = max(zones.values(), key=lambda zone: zone["population"])
    row = page.locator(f"#white-table tr[data-zone='{largest['id']}']")
    row.focus()
    page.keyboard.press("Enter")
    page.wait_for_selector("#white-detail h3")
    neighbour = next(n for n in largest["adjacent_cpts"] if n["named"])
    page.click(f"[data-attach='{neighbour['id']}']")
    page.wait_for_selector(f"[data-simulation='{neighbour['id']}']")
    simulated = str(page.text_content(f"[data-simulation='{neighbour['id']}']"))
    assert people(neighbour["population_with_zone"]) in simulated
    assert f"taille {neighbour['size_class_with_zone']}" in simulated
    assert "rien n'est enregistré" in simulated
    ui.shot("09-zone-blanche-rattachement")


def test_the_standalone_html_export_opens_from_disk_without_network(
        browser: Any, live_server: LiveServer, screenshots: Path, tmp_path: Path) -> None:
    cpts_id = live_server.cpts_ids["CPTS DE LA RIVIERA FRANCAISE"]
    with live_server.api() as api:
        answer = api.get(f"/api/cpts/{cpts_id}/export", params={"format": "html"})
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/html")
    assert re.search(r'<(script|link|img)[^>]*(src|href)="https?://', answer.text) is None
    saved = tmp_path / "perimetre.html"
    saved.write_bytes(answer.content)
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    requests: list[str] = []
    errors: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(saved.as_uri())
    page.wait_for_selector(".leaflet-interactive")
    assert "CPTS DE LA RIVIERA FRANCAISE" in str(page.text_content(".cpts-summary"))
    page.screenshot(path=str(screenshots / "10-export-html-autonome.png"))
    context.close()
    assert [url for url in requests if not url.startswith(("file:", "data:"))] == []
    assert errors == []
