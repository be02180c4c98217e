"""`GET /api/map/neighbours/{code}`: what the keyboard moves on the map read — a unit's outline
and point, and the units sharing a border with it, each with its point (Menton and its five
neighbours in the test départements)."""

from fastapi.testclient import TestClient


def test_menton_comes_with_its_outline_and_its_five_neighbours(auth_client: TestClient) -> None:
    answer = auth_client.get("/api/map/neighbours/06083")
    assert answer.status_code == 200, answer.text
    menton = answer.json()
    assert (menton["code"], menton["nom"]) == ("06083", "Menton")
    assert menton["geometry"]["type"] in {"Polygon", "MultiPolygon"}
    assert 43.7 < menton["lat"] < 43.85 and 7.45 < menton["lon"] < 7.55
    # Roquebrune-Cap-Martin, Castellar, Castillon, Gorbio, Sainte-Agnès (Italy beyond)
    assert {n["code"] for n in menton["neighbours"]} == {
        "06104", "06035", "06036", "06067", "06113"}
    for neighbour in menton["neighbours"]:
        assert neighbour["nom"] and 43.7 < neighbour["lat"] < 43.9


def test_a_paris_arrondissement_has_arrondissements_for_neighbours(
        auth_client: TestClient) -> None:
    answer = auth_client.get("/api/map/neighbours/75101").json()
    codes = {n["code"] for n in answer["neighbours"]}
    assert "75056" not in codes and {"75102", "75104"} <= codes


def test_unknown_and_malformed_codes_are_refused(auth_client: TestClient) -> None:
    assert auth_client.get("/api/map/neighbours/99999").json()["code"] == "unit_not_found"
    wrong = auth_client.get("/api/map/neighbours/menton")
    assert (wrong.status_code, wrong.json()["code"]) == (422, "invalid_commune_code")
    # Paris itself is not a unit: its arrondissements are
    assert auth_client.get("/api/map/neighbours/75056").status_code == 404
