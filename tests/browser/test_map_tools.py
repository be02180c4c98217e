"""The map page's tools, as a user sees them: importing a listing (the dry run's report line
by line with every refusal on its line, then « Confirmer l'import », the chosen stage kept)
and personal API tokens (created and shown once, listed, usable, revoked)."""

import re
from pathlib import Path
from typing import Any

import httpx

from app.db import connect
from tests.browser.conftest import LiveServer, Recorder
from tests.browser.pages import MapPage, make_user, open_as, sign_in
from tests.browser.test_map_manage import archive


def _cpts_named(server: LiveServer, name: str) -> list[dict[str, Any]]:
    with connect(server.settings.database_url) as conn:
        return list(conn.execute("SELECT id, status FROM cpts WHERE name = %s", (name,)))


def _upload(page: Any, name: str, text: str) -> None:
    page.set_input_files("#import-file", files=[
        {"name": name, "mimeType": "text/csv", "buffer": text.encode("utf-8")}])


def test_an_agent_imports_a_listing_after_reading_its_dry_run(
        browser: Any, live_server: LiveServer, screenshots: Path) -> None:
    recorder = Recorder(live_server.base_url)
    ui = open_as(browser, live_server, recorder, screenshots, "ars", regions=("93",))
    page = ui.page
    assert page.is_visible("#import-box"), "an agency sees the import"
    page.click("#import-box > summary")
    page.wait_for_selector("#import-form")
    name = "CPTS Import depuis la carte"

    # a listing with an unknown commune on its third line: refused, the line named
    _upload(page, "refus.csv", f"cpts;code_commune\n{name};06150\n{name};99999\n")
    page.click("#import-check")
    page.wait_for_selector("#import-report[data-state=refused]", timeout=20_000)
    errors = page.eval_on_selector_all(
        "#import-report li.import-error",
        "items => items.map(i => [i.dataset.line, i.textContent])")
    assert errors, "the refusals are listed"
    line, text = next((line, text) for line, text in errors if "99999" in text)
    assert line == "3" and text.startswith("Ligne 3"), errors
    assert "rien n'a été enregistré" in str(page.text_content("#import-summary"))
    assert page.is_hidden("#import-confirm"), "nothing to confirm after a refusal"
    ui.shot("70-import-refuse")

    # a good listing at the stage « projet de santé »: checked, nothing written, then confirmed
    _upload(page, "liste.csv", f"cpts;code_commune\n{name};06150\n{name};06075\n")
    page.select_option("#import-stage", "projet_sante")
    page.click("#import-check")
    page.wait_for_selector("#import-report[data-state=checked]", timeout=20_000)
    lines = page.eval_on_selector_all(
        "#import-report li.import-cpts", "items => items.map(i => i.textContent)")
    assert len(lines) == 1
    assert re.match(rf"Ligne 2 : « {name} » créée \(projet de santé\), 2\u00a0communes, ", lines[0])
    assert "rien n'est encore enregistré" in str(page.text_content("#import-summary"))
    assert _cpts_named(live_server, name) == [], "a dry run writes nothing"
    assert page.is_visible("#import-confirm")
    assert "Confirmer l'import" in str(page.text_content("#import-confirm"))
    ui.shot("71-import-verifie")
    page.click("#import-confirm")
    page.wait_for_selector("#import-report[data-state=imported]", timeout=20_000)
    assert "Import enregistré" in str(page.text_content("#import-summary"))
    created = _cpts_named(live_server, name)
    assert [row["status"] for row in created] == ["projet_sante"]
    ui.wait_until(f"document.querySelector('#legend').textContent.includes({name!r})")
    with live_server.api() as api:
        archive(api, int(created[0]["id"]))
    ui.shot("72-import-enregistre")
    # (the refused dry run's 422 is logged by Chromium as a failed resource, nothing else)
    assert [e for e in recorder.errors if "status of 422" not in e] == [], recorder.errors
    page.context.close()


def test_an_observer_has_no_import(browser: Any, live_server: LiveServer,
                                   screenshots: Path) -> None:
    recorder = Recorder(live_server.base_url)
    ui = open_as(browser, live_server, recorder, screenshots, "observer", regions=("93",))
    assert ui.page.is_hidden("#import-box")
    ui.page.context.close()


def test_a_user_creates_uses_and_revokes_a_token(browser: Any, live_server: LiveServer,
                                                 screenshots: Path) -> None:
    recorder = Recorder(live_server.base_url)
    email = make_user(live_server, "ars", regions=("93",))
    ui = MapPage(sign_in(browser, live_server, recorder, email), live_server, screenshots)
    page = ui.page
    page.click("#tokens-box > summary")
    page.wait_for_selector("#token-list li")
    assert page.text_content("#token-list") == "Aucun jeton."
    page.fill("#token-name", "script QGIS")
    page.fill("#token-days", "30")
    page.click("#token-create")
    page.wait_for_selector("#token-value")
    secret = page.input_value("#token-value")
    assert "il ne sera plus jamais affiché" in str(page.text_content("#token-secret"))
    page.wait_for_selector("#token-list li[data-state=active]")
    item = str(page.text_content("#token-list li[data-state=active]"))
    assert item.startswith("script QGIS (") and "valable jusqu'au" in item
    assert "jamais utilisé" in item
    ui.shot("73-jeton-cree")
    me = httpx.get(f"{live_server.base_url}/api/me", headers={"Authorization": f"Bearer {secret}"})
    assert me.status_code == 200 and me.json()["email"] == email

    page.click("#token-list li[data-state=active] .token-revoke")
    page.wait_for_selector("#token-list li[data-state=revoked]")
    assert page.is_hidden("#token-value"), "the secret is not left on screen"
    assert "révoqué" in str(page.text_content("#token-message"))
    refused = httpx.get(f"{live_server.base_url}/api/me",
                        headers={"Authorization": f"Bearer {secret}"})
    assert refused.status_code == 401
    ui.shot("74-jeton-revoque")
    assert not recorder.errors, recorder.errors
    page.context.close()
