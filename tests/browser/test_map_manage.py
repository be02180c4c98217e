"""Rename, archive and restore from the edit panel, where the server allows them, and the
mark of an agency's private scenario, as an ARS agent and a task-force member see them."""

from pathlib import Path
from typing import Any

import httpx

from app.auth import api_tokens
from app.auth.audit import Actor
from app.auth.policy import Role, User
from app.db import connect
from tests.browser.conftest import LiveServer, Recorder
from tests.browser.pages import MapPage, create_cpts, make_user, open_as, sign_in


def archive(api: httpx.Client, cpts_id: int) -> None:
    """Take a CPTS a test made out of the map (the other tests count what is shown)."""
    etag = api.get(f"/api/cpts/{cpts_id}").headers["ETag"]
    done = api.post(f"/api/cpts/{cpts_id}/archive", json={"reason": "fin du test"},
                    headers={"If-Match": etag})
    assert done.status_code == 200, done.text


def _token_of(server: LiveServer, email: str) -> str:
    with connect(server.settings.database_url) as conn, conn.transaction():
        row = conn.execute("SELECT id FROM app_user WHERE email = %s", (email,)).fetchone()
        assert row is not None
        user = User(id=int(row["id"]), email=email, role=Role.ARS, regions=frozenset({"93"}))
        return api_tokens.issue(conn, user, name="test", expires_in_days=1,
                                actor=Actor.command_line()).token


def _row(server: LiveServer, cpts_id: int) -> dict[str, Any]:
    with connect(server.settings.database_url) as conn:
        row = conn.execute("SELECT name, archived_at FROM cpts WHERE id = %s",
                           (cpts_id,)).fetchone()
    assert row is not None
    return dict(row)


def open_in_edit(ui: MapPage, cpts_id: int) -> None:
    """Open a CPTS from the edit tab's chooser."""
    page = ui.page
    if page.get_attribute("#tab-edit", "aria-selected") != "true":
        page.click("#tab-edit")
    if page.is_visible("#edit-close"):
        page.click("#edit-close")
    page.select_option("#edit-cpts-select", str(cpts_id))
    page.click("#edit-open")
    ui.wait_until(f"document.querySelector('#edit-session').dataset.opened === '{cpts_id}'")


def test_an_agent_renames_archives_and_restores_and_sees_a_scenario_marked(
        browser: Any, live_server: LiveServer, screenshots: Path) -> None:
    recorder = Recorder(live_server.base_url)
    with live_server.api() as api:
        cpts_id = create_cpts(api, name="CPTS À renommer", communes=["06150", "06075"],
                              status="lettre_intention")
    email = make_user(live_server, "ars", regions=("93",))
    with live_server.api() as api:
        api.headers["Authorization"] = f"Bearer {_token_of(live_server, email)}"
        scenario_id = create_cpts(api, name="Scénario de l'agence", communes=["06001", "06002"],
                                  is_scenario=True)

    try:
        _rename_archive_restore_and_scenario(browser, live_server, screenshots, recorder, email,
                                             cpts_id, scenario_id)
    finally:  # the other tests count the CPTS on the map: these two leave it
        with live_server.api() as api:
            archive(api, cpts_id)
            api.headers["Authorization"] = f"Bearer {_token_of(live_server, email)}"
            archive(api, scenario_id)
        assert _row(live_server, cpts_id)["archived_at"] is not None
        assert _row(live_server, scenario_id)["archived_at"] is not None


def _rename_archive_restore_and_scenario(browser: Any, live_server: LiveServer,
                                         screenshots: Path, recorder: Recorder, email: str,
                                         cpts_id: int, scenario_id: int) -> None:
    ui = MapPage(sign_in(browser, live_server, recorder, email), live_server, screenshots)
    page = ui.page
    open_in_edit(ui, cpts_id)
    assert page.is_hidden("#edit-scenario"), "a CPTS of the official map carries no mark"
    assert page.is_visible("#manage-rename") and page.is_visible("#manage-archive")
    page.fill("#manage-name", "CPTS Renommée depuis la carte")
    page.click("#manage-rename")
    page.wait_for_selector("#edit-message .notice.ok", timeout=15_000)
    assert "renommée « CPTS Renommée depuis la carte »" in str(page.text_content("#edit-message"))
    assert "CPTS Renommée depuis la carte" in str(page.text_content("#edit-title"))
    assert _row(live_server, cpts_id)["name"] == "CPTS Renommée depuis la carte"

    page.fill("#manage-reason", "fusion avec la CPTS voisine")
    page.click("#manage-archive")
    ui.wait_until("document.querySelector('#manage-restore')", 15)
    assert "archivée" in str(page.text_content("#edit-message .notice.ok"))
    assert _row(live_server, cpts_id)["archived_at"] is not None
    assert page.is_hidden("#manage-rename"), "an archived CPTS is not renamed"
    assert "CPTS Renommée depuis la carte" not in str(page.text_content("#legend"))
    ui.shot("75-cpts-archivee")
    page.click("#manage-restore")
    page.wait_for_selector("#manage-archive", timeout=15_000)
    assert _row(live_server, cpts_id)["archived_at"] is None
    ui.wait_until("document.querySelector('#legend').textContent"
                  ".includes('CPTS Renommée depuis la carte')")

    open_in_edit(ui, scenario_id)
    page.wait_for_selector("#edit-scenario:not([hidden])")
    assert str(page.text_content("#edit-scenario")).startswith("⚑ Scénario privé de l'ARS")
    border = page.eval_on_selector("#edit-scenario", "e => getComputedStyle(e).borderLeftColor")
    assert border == "rgb(107, 33, 168)"
    tag = page.eval_on_selector_all(
        "#legend li", "items => items.filter(i => i.textContent.includes(\"Scénario de l'agence\"))"
                      ".map(i => i.querySelector('.scenario-tag')?.textContent)")
    assert tag == [" ⚑ scénario privé"]
    ui.shot("76-scenario-prive")
    assert not recorder.errors, recorder.errors
    page.context.close()


def test_an_observer_gets_no_rename_nor_archive(browser: Any, live_server: LiveServer,
                                                screenshots: Path) -> None:
    recorder = Recorder(live_server.base_url)
    cpts_id = next(iter(live_server.cpts_ids.values()))
    ui = open_as(browser, live_server, recorder, screenshots, "observer", regions=("93",))
    open_in_edit(ui, cpts_id)
    assert ui.page.text_content("#edit-manage") == ""
    assert ui.page.query_selector("#manage-archive") is None
    ui.page.context.close()
