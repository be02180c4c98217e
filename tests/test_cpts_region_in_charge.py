"""The agency in charge follows from the siège, which must be one of the perimeter's communes:
an agency cannot take, or hand away, a CPTS outside its regions by naming a siège elsewhere."""

import uuid

from fastapi.testclient import TestClient

from tests.auth_fixtures import ClientAs, MakeAccount

NICE_AREA = ["06083", "06122", "06064"]  # Alpes-Maritimes, région 93


def _name() -> str:
    return f"CPTS siège {uuid.uuid4().hex[:8]}"


def test_agency_cannot_create_a_cpts_of_another_region_by_naming_a_siege_at_home(
        make_account: MakeAccount, client_as: ClientAs) -> None:
    ars_84 = client_as(make_account("ars", regions=["84"]))
    tried = _name()
    refused = ars_84.post("/api/cpts", json={
        "name": tried, "status": "lettre_intention", "communes": NICE_AREA,
        "siege_commune": "69123"})
    assert refused.status_code == 422
    assert refused.json()["code"] == "siege_outside_perimeter"
    assert "69123" in refused.json()["detail"]
    without_siege = ars_84.post("/api/cpts", json={
        "name": tried, "status": "lettre_intention", "communes": NICE_AREA})
    assert without_siege.status_code == 403
    listed = ars_84.get("/api/cpts", params={"region": "93"}).json()
    assert tried not in {c["name"] for c in listed}


def test_agency_in_charge_follows_the_siege_and_cannot_be_handed_away(
        make_account: MakeAccount, client_as: ClientAs, auth_client: TestClient) -> None:
    ars_93 = client_as(make_account("ars", regions=["93"]))
    created = ars_93.post("/api/cpts", json={
        "name": _name(), "status": "lettre_intention", "communes": NICE_AREA,
        "siege_commune": "06083"})
    assert created.status_code == 201, created.text
    body = created.json()
    assert (body["region"], body["siege_commune"]) == ("93", "06083")
    headers = {"If-Match": f'"{body["version"]}"'}
    # Adding Lyon and moving the siège there would give the CPTS to the agency of région 84.
    moved = ars_93.patch(f"/api/cpts/{body['id']}", headers=headers,
                         json={"add": ["69123"], "siege_commune": "69123"})
    assert moved.status_code == 403
    assert moved.json()["code"] == "region_not_in_charge"
    # Removing the siège from the perimeter without naming another one is refused too.
    orphaned = ars_93.patch(f"/api/cpts/{body['id']}", headers=headers,
                            json={"remove": ["06083"]})
    assert orphaned.status_code == 422
    assert orphaned.json()["code"] == "siege_outside_perimeter"
    # Nothing was written by either refusal.
    assert auth_client.get(f"/api/cpts/{body['id']}").json()["version"] == body["version"]
    # Within its region, the agency moves the siège freely; the administrator may move it out.
    kept = ars_93.patch(f"/api/cpts/{body['id']}", headers=headers,
                        json={"remove": ["06083"], "siege_commune": "06122"})
    assert kept.status_code == 200, kept.text
    assert (kept.json()["siege_commune"], kept.json()["region"]) == ("06122", "93")
    handed = auth_client.patch(f"/api/cpts/{body['id']}",
                               headers={"If-Match": f'"{kept.json()["version"]}"'},
                               json={"add": ["69123"], "siege_commune": "69123"})
    assert handed.status_code == 200, handed.text
    assert handed.json()["region"] == "84"
    assert ars_93.get(f"/api/cpts/{body['id']}").status_code == 200  # still in its regions
    versions = auth_client.get(f"/api/cpts/{body['id']}/versions").json()
    assert [v["version"] for v in versions] == [1, 2, 3]
