"""The audit log: every write attributed (who, when, what, from where), readable by admins and
by agencies for their regions, and impossible to change or delete, even with SQL."""

import psycopg
import pytest
from fastapi.testclient import TestClient

from app.auth.audit import Actor, record
from app.db import connect
from tests.auth_fixtures import ClientAs, MakeAccount, sign_in


def test_a_write_is_attributed_with_where_it_came_from(client: TestClient,
                                                       make_account: MakeAccount) -> None:
    agent = make_account("ars", regions=["93"])
    browser = sign_in(TestClient(client.app, client=("198.51.100.7", 51000),
                                 headers={"User-Agent": "Firefox de test"}),
                      agent.email, agent.password)
    token_id = browser.post("/api/tokens", json={"name": "tableau de bord"}).json()["id"]
    entries = browser.get("/api/audit", params={"entity": "api_token",
                                                "entity_id": str(token_id)}).json()["entries"]
    assert len(entries) == 1
    entry = entries[0]
    assert entry["action"] == "token.create" and entry["actor_email"] == agent.email
    assert entry["via"] == "session" and entry["ip"] == "198.51.100.7"
    assert entry["origin"] == "Firefox de test" and entry["regions"] == ["93"]
    assert "tableau de bord" in entry["summary"]
    assert entry["changes"]["name"] == {"before": None, "after": "tableau de bord"}


def test_the_audit_log_cannot_be_changed_or_deleted_even_with_sql(database: str) -> None:
    with connect(database) as conn:
        entry_id = record(conn, Actor.command_line(), action="test.append", entity="test",
                          entity_id=1, summary="Entrée de test.")
        conn.commit()
        for statement in ("UPDATE audit_log SET summary = 'réécrit' WHERE id = %s",
                          "DELETE FROM audit_log WHERE id = %s"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(statement, (entry_id,))
            conn.rollback()
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("TRUNCATE audit_log")
        conn.rollback()
        kept = conn.execute("SELECT summary FROM audit_log WHERE id = %s", (entry_id,)).fetchone()
    assert kept == {"summary": "Entrée de test."}


def test_secrets_cannot_be_written_to_the_audit_log(database: str) -> None:
    with connect(database) as conn, pytest.raises(ValueError, match="password"):
        record(conn, Actor.command_line(), action="user.password", entity="user", entity_id=1,
               summary="…", changes={"password": {"before": "a", "after": "b"}})


def test_agency_reads_the_audit_of_its_own_region_only(client_as: ClientAs,
                                                       make_account: MakeAccount) -> None:
    in_paca = make_account("observer", regions=["93"])
    in_ara = make_account("observer", regions=["84"])
    agent_paca = client_as(make_account("ars", regions=["93"]))
    admin = client_as(make_account("admin"))

    def creations(reader: TestClient, user_id: int) -> int:
        page = reader.get("/api/audit", params={"entity": "user", "entity_id": str(user_id),
                                                "action": "user.create"})
        assert page.status_code == 200
        return len(page.json()["entries"])

    assert creations(agent_paca, in_paca.id) == 1
    assert creations(agent_paca, in_ara.id) == 0
    assert creations(admin, in_ara.id) == 1
    refused = agent_paca.get("/api/audit", params={"region": "84"})
    assert refused.status_code == 403 and "84" in refused.json()["detail"]


def test_carriers_and_task_forces_cannot_read_the_audit_log(client_as: ClientAs,
                                                            make_account: MakeAccount) -> None:
    for account in (make_account("carrier"), make_account("observer", regions=["93"])):
        response = client_as(account).get("/api/audit")
        assert response.status_code == 403 and response.json()["code"] == "forbidden"


def test_audit_pages_go_backwards_in_time(auth_client: TestClient) -> None:
    first = auth_client.get("/api/audit", params={"limit": 2}).json()
    assert len(first["entries"]) == 2 and first["next_before_id"] == first["entries"][1]["id"]
    second = auth_client.get("/api/audit", params={"limit": 2,
                                                   "before_id": first["next_before_id"]}).json()
    assert second["entries"][0]["id"] < first["entries"][1]["id"]
