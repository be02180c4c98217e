"""CPTS perimeters through the API: versions, If-Match, warnings, refusals, stages."""

import threading
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.auth import api_tokens
from app.auth.audit import Actor
from app.auth.policy import Role
from app.auth.users import create_user
from app.db import Conn, connect

NICE_AREA = ["06088", "06123", "06149", "06159"]  # Nice, Saint-Laurent, La Trinité, Villefranche

Headers = dict[str, str]


@pytest.fixture(scope="module")
def make_user(database: str) -> Callable[..., Headers]:
    """Bearer headers of a new user with the given role and scopes."""

    def make(role: Role, *, regions: tuple[str, ...] = (), cpts_ids: tuple[int, ...] = ()
             ) -> Headers:
        with connect(database) as conn:
            user = create_user(conn, email=f"{role.value}-{uuid.uuid4().hex[:10]}@exemple.fr",
                               role=role, regions=regions, cpts_ids=cpts_ids, password=None,
                               actor=Actor.command_line())
            issued = api_tokens.issue(conn, user, name="tests", expires_in_days=1,
                                      actor=Actor.command_line())
            conn.commit()
        return {"Authorization": f"Bearer {issued.token}"}

    return make


@pytest.fixture(scope="module")
def carrier(make_user: Callable[..., Headers]) -> Headers:
    return make_user(Role.CARRIER)


@pytest.fixture(scope="module")
def agent(make_user: Callable[..., Headers]) -> Headers:
    return make_user(Role.ARS, regions=("93",))


def _population(conn: Conn, codes: list[str]) -> int:
    row = conn.execute("SELECT sum(population)::int AS p FROM commune WHERE code = ANY(%s)",
                       (codes,)).fetchone()
    assert row is not None
    return int(row["p"])


def _create(client: TestClient, headers: Headers, communes: list[str], **extra: Any
            ) -> dict[str, Any]:
    response = client.post("/api/cpts", headers=headers,
                           json={"name": f"CPTS test {uuid.uuid4().hex[:6]}",
                                 "communes": communes, **extra})
    assert response.status_code == 201, response.text
    return dict(response.json())


def test_carrier_creates_a_draft_and_sees_population_and_class(
    client: TestClient, carrier: Headers, conn: Conn
) -> None:
    response = client.post("/api/cpts", headers=carrier,
                           json={"name": "CPTS Nice Est", "communes": NICE_AREA})
    assert response.status_code == 201
    assert response.headers["ETag"] == '"1"'
    body = response.json()
    assert response.headers["Location"] == f"/api/cpts/{body['id']}"
    assert body["population"] == _population(conn, NICE_AREA)
    assert body["population_year"] == 2023
    assert body["size_class"] == 4 and body["size_rule"] == "aci-2022"
    assert body["status"] == "pre_projet" and body["version"] == 1
    assert body["region"] == "93" and body["communes"] == sorted(NICE_AREA)
    assert body["parts"] == [sorted(NICE_AREA)]


def test_adding_a_commune_creates_a_version_with_its_diff(
    client: TestClient, carrier: Headers, conn: Conn
) -> None:
    created = _create(client, carrier, ["06088", "06123"])
    response = client.patch(f"/api/cpts/{created['id']}", headers=carrier | {"If-Match": '"1"'},
                            json={"add": ["06149"], "reason": "La Trinité rejoint le projet"})
    assert response.status_code == 200, response.text
    assert response.headers["ETag"] == '"2"'
    assert response.json()["population"] == _population(conn, ["06088", "06123", "06149"])
    versions = client.get(f"/api/cpts/{created['id']}/versions", headers=carrier).json()
    assert [v["version"] for v in versions] == [1, 2]
    assert versions[1]["added"] == ["06149"] and versions[1]["removed"] == []
    assert versions[1]["population_before"] == created["population"]
    assert versions[1]["reason"] == "La Trinité rejoint le projet"


def test_a_stale_version_is_refused_and_changes_nothing(
    client: TestClient, carrier: Headers
) -> None:
    created = _create(client, carrier, ["06088"])
    ok = client.patch(f"/api/cpts/{created['id']}", headers=carrier | {"If-Match": '"1"'},
                      json={"add": ["06123"]})
    assert ok.status_code == 200
    stale = client.patch(f"/api/cpts/{created['id']}", headers=carrier | {"If-Match": '"1"'},
                         json={"add": ["06149"]})
    assert stale.status_code == 412
    assert stale.headers["content-type"] == "application/problem+json"
    assert stale.json()["code"] == "stale_version"
    current = client.get(f"/api/cpts/{created['id']}", headers=carrier).json()
    assert current["version"] == 2 and current["communes"] == ["06088", "06123"]
    missing = client.patch(f"/api/cpts/{created['id']}", headers=carrier,
                           json={"add": ["06149"]})
    assert missing.status_code == 428 and missing.json()["code"] == "if_match_required"


def test_two_concurrent_patches_one_wins_nothing_is_lost(
    client: TestClient, carrier: Headers
) -> None:
    created = _create(client, carrier, ["06088"])
    results: dict[str, int] = {}
    barrier = threading.Barrier(2)

    def patch(code: str) -> None:
        barrier.wait()
        response = client.patch(f"/api/cpts/{created['id']}",
                                headers=carrier | {"If-Match": '"1"'}, json={"add": [code]})
        results[code] = response.status_code

    threads = [threading.Thread(target=patch, args=(code,)) for code in ("06123", "06149")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results.values()) == [200, 412]
    winner = next(code for code, status in results.items() if status == 200)
    current = client.get(f"/api/cpts/{created['id']}", headers=carrier).json()
    assert current["version"] == 2 and current["communes"] == sorted(["06088", winner])
    versions = client.get(f"/api/cpts/{created['id']}/versions", headers=carrier).json()
    assert len(versions) == 2 and versions[1]["added"] == [winner]


@pytest.mark.parametrize(("communes", "code"), [
    (["06088", "99999"], "unknown_commune"),
    (["06088", "06088"], "duplicate_commune"),
    ([], "empty_perimeter"),
    (["13055", "13201"], "commune_and_arrondissements"),
])
def test_bad_perimeters_are_refused_and_write_nothing(
    client: TestClient, carrier: Headers, conn: Conn, communes: list[str], code: str
) -> None:
    before = conn.execute("SELECT count(*) AS n FROM cpts").fetchone()
    response = client.post("/api/cpts", headers=carrier,
                           json={"name": "CPTS refusée", "communes": communes})
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == code
    assert conn.execute("SELECT count(*) AS n FROM cpts").fetchone() == before


def test_markup_and_sql_in_names_are_plain_text(client: TestClient, carrier: Headers) -> None:
    name = "<script>alert('x')</script>'; DROP TABLE cpts; --"
    created = client.post("/api/cpts", headers=carrier,
                          json={"name": name, "communes": ["06088"]}).json()
    assert client.get(f"/api/cpts/{created['id']}", headers=carrier).json()["name"] == name


def test_simulation_computes_without_writing(client: TestClient, carrier: Headers,
                                             conn: Conn) -> None:
    created = _create(client, carrier, ["06088"])
    response = client.post("/api/simulations/perimeter", headers=carrier,
                           json={"cpts_id": created["id"], "add": ["06029"]})  # Cannes
    assert response.status_code == 200
    body = response.json()
    assert body["population"] == _population(conn, ["06088", "06029"])
    assert body["added"] == ["06029"] and body["population_before"] == created["population"]
    assert any(w["code"] == "non_contiguous" for w in body["warnings"])
    after = client.get(f"/api/cpts/{created['id']}", headers=carrier).json()
    assert after["version"] == 1 and after["communes"] == ["06088"]


def test_overlap_between_two_projects_is_a_finding(
    client: TestClient, make_user: Callable[..., Headers]
) -> None:
    first_carrier, second_carrier = make_user(Role.CARRIER), make_user(Role.CARRIER)
    admin = make_user(Role.ADMIN)
    first = _create(client, first_carrier, ["06088", "06123"])
    second = _create(client, second_carrier, ["06123", "06065"])
    # The other carrier's draft is private: counted, never named (other tests leave CPTS in
    # the test database, hence « at least »).
    assert first["id"] not in {o["cpts_id"] for o in second["overlaps"]}
    assert second["hidden_overlaps"]["cpts"] >= 1
    assert any(w["code"] == "hidden_overlap" for w in second["warnings"])
    # The administrator sees the finding itself: look at the overlap with `first` only.
    seen = client.get(f"/api/cpts/{second['id']}", headers=admin).json()
    with_first = next(o for o in seen["overlaps"] if o["cpts_id"] == first["id"])
    assert with_first["communes"] == ["06123"] and with_first["severity"] == "information"
    assert any(w["code"] == "overlap" and "06123" in w["communes"] for w in seen["warnings"])
    # Once submitted to the agency, the competing draft shows its outline to the other carrier.
    assert client.post(f"/api/cpts/{first['id']}/stage-request", headers=first_carrier,
                       json={}).status_code == 204
    again = client.get(f"/api/cpts/{second['id']}", headers=second_carrier).json()
    assert first["id"] in {o["cpts_id"] for o in again["overlaps"]}
    outline = client.get(f"/api/cpts/{first['id']}", headers=second_carrier).json()
    assert outline["visibility"] == "outline" and "population" not in outline


def test_carrier_cannot_edit_another_cpts(
    client: TestClient, make_user: Callable[..., Headers]
) -> None:
    owner, other = make_user(Role.CARRIER), make_user(Role.CARRIER)
    created = _create(client, owner, ["06088"])
    response = client.patch(f"/api/cpts/{created['id']}", headers=other | {"If-Match": '"1"'},
                            json={"add": ["06123"]})
    assert response.status_code in (403, 404)


def test_stage_workflow_request_changes_then_accept(
    client: TestClient, carrier: Headers, agent: Headers
) -> None:
    created = _create(client, carrier, ["06088", "06123"])
    cpts_id = created["id"]
    assert client.get(f"/api/cpts/{cpts_id}", headers=agent).status_code == 404  # private draft
    asked = client.post(f"/api/cpts/{cpts_id}/stage-request", headers=carrier,
                        json={"comment": "Lettre d'intention déposée"})
    assert asked.status_code == 204
    seen = client.get(f"/api/cpts/{cpts_id}", headers=agent).json()
    assert seen["pending_status"] == "lettre_intention" and seen["submitted"]

    changes = client.post(f"/api/cpts/{cpts_id}/stage-request/changes", headers=agent,
                          json={"comment": "Voir Saint-Laurent",
                                "communes": [{"commune": "06123", "body": "Déjà dans un "
                                              "autre projet"}]})
    assert changes.status_code == 204
    client.post(f"/api/cpts/{cpts_id}/stage-request", headers=carrier, json={})
    refused = client.post(f"/api/cpts/{cpts_id}/stage-request/accept",
                          headers=carrier | {"If-Match": '"1"'}, json={})
    assert refused.status_code == 403
    accepted = client.post(f"/api/cpts/{cpts_id}/stage-request/accept",
                           headers=agent | {"If-Match": '"1"'}, json={"comment": "Validée"})
    assert accepted.status_code == 200, accepted.text
    body = accepted.json()
    assert body["status"] == "lettre_intention" and body["validated_version"] == 2
    assert "lettre_intention" in body["stage_dates"]

    locked = client.patch(f"/api/cpts/{cpts_id}", headers=carrier | {"If-Match": '"2"'},
                          json={"add": ["06149"]})
    assert locked.status_code == 403
    history = client.get(f"/api/cpts/{cpts_id}/history", headers=carrier).json()
    kinds = [event["kind"] for event in history]
    assert kinds == ["created", "stage_requested", "changes_requested", "stage_requested",
                     "stage_accepted"]
    assert history[2]["comments"] == [{"commune": "06123", "body": "Déjà dans un autre projet"}]


def test_archived_cpts_leaves_the_list_and_keeps_its_history(
    client: TestClient, carrier: Headers
) -> None:
    created = _create(client, carrier, ["06088"])
    archived = client.post(f"/api/cpts/{created['id']}/archive",
                           headers=carrier | {"If-Match": '"1"'}, json={"reason": "abandon"})
    assert archived.status_code == 200 and archived.json()["archived"]
    listed = {c["id"] for c in client.get("/api/cpts", headers=carrier).json()}
    assert created["id"] not in listed
    with_archived = {c["id"] for c in client.get(
        "/api/cpts", params={"include_archived": "true"}, headers=carrier).json()}
    assert created["id"] in with_archived
    versions = client.get(f"/api/cpts/{created['id']}/versions", headers=carrier).json()
    assert [v["archived"] for v in versions] == [False, True]


def test_size_rules_are_versioned_data(client: TestClient, carrier: Headers) -> None:
    rules = client.get("/api/size-rules", headers=carrier).json()
    by_id = {rule["id"]: rule for rule in rules}
    assert by_id["aci-2019"]["thresholds"] == [40_000, 80_000, 175_000]
    assert by_id["aci-2019"]["ceilings_eur"] == [220_000, 287_000, 370_000, 450_000]
    assert by_id["aci-2019"]["lower_bound_inclusive"] is True
    assert [r["id"] for r in rules if r["in_force"]] == ["aci-2022"]


def test_history_cannot_be_rewritten(conn: Conn, client: TestClient, carrier: Headers) -> None:
    created = _create(client, carrier, ["06088"])
    with pytest.raises(Exception, match="historique"):
        conn.execute("DELETE FROM cpts_version WHERE cpts_id = %s", (created["id"],))
