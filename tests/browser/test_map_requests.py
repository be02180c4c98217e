"""« Demandes à traiter » as an ARS agent sees them: the stage requests waiting in their region
are listed, the carrier's message shows next to « Valider » (a button the server allows), and
the confirmation stays on screen after the acceptance."""

from pathlib import Path
from typing import Any

from tests.browser.conftest import LiveServer, Recorder
from tests.browser.pages import create_cpts, open_as


def test_an_agent_sees_the_request_the_message_and_validates(
        browser: Any, live_server: LiveServer, screenshots: Path) -> None:
    recorder = Recorder(live_server.base_url)
    with live_server.api() as api:
        cpts_id = create_cpts(api, name="CPTS Demande de stade", communes=["06150", "06075"],
                              status="lettre_intention")
        asked = api.post(f"/api/cpts/{cpts_id}/stage-request",
                         json={"comment": "Projet de santé déposé le 3 mars"})
        assert asked.status_code in (200, 201, 204), asked.text
    ui = open_as(browser, live_server, recorder, screenshots, "ars", regions=("93",))
    page = ui.page
    page.wait_for_selector(f"#requests [data-request='{cpts_id}']")
    assert "CPTS Demande de stade" in str(page.text_content("#requests"))
    page.click(f"#requests [data-request='{cpts_id}'] button")
    ui.wait_until(f"document.querySelector('#edit-session').dataset.opened === '{cpts_id}'")
    page.wait_for_selector("#stage-request-message >> text=Projet de santé déposé le 3 mars")
    page.wait_for_selector("#stage-accept")
    ui.shot("60-demande-a-traiter")
    page.click("#stage-accept")
    page.wait_for_selector("#edit-message .notice.ok", timeout=15_000)
    page.wait_for_timeout(800)
    assert "validé" in str(page.text_content("#edit-message"))
    with live_server.api() as api:
        assert api.get(f"/api/cpts/{cpts_id}").json()["status"] == "projet_sante"
    page.context.close()
