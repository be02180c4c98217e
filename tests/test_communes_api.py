"""Finding communes and reading their card, on the real test départements."""

from fastapi.testclient import TestClient

from app.db import Conn
from app.domain.communes import classify_query, search_form


def test_saint_etienne_is_found_without_accents(auth_client: TestClient) -> None:
    response = auth_client.get("/api/communes", params={"q": "saint etienne"})
    assert response.status_code == 200
    first = response.json()[0]
    assert first["code"] == "42218"
    assert first["nom"] == "Saint-Étienne"
    assert first["population_year"] == 2023


def test_search_is_case_and_accent_insensitive(auth_client: TestClient) -> None:
    upper = auth_client.get("/api/communes", params={"q": "NICE"}).json()
    assert upper[0]["code"] == "06088"
    accented = auth_client.get("/api/communes", params={"q": "Èze"}).json()
    assert accented[0]["nom"] == "Èze"


def test_search_by_code_and_postal_code(auth_client: TestClient) -> None:
    by_code = auth_client.get("/api/communes", params={"q": "06088"}).json()
    assert [c["code"] for c in by_code] == ["06088"]
    # 13001 is the postal code of Marseille 1er and of Marseille itself.
    by_postal = {c["code"] for c in auth_client.get("/api/communes", params={"q": "13001"}).json()}
    assert {"13201", "13055"} <= by_postal


def test_search_can_be_restricted_to_a_departement(auth_client: TestClient) -> None:
    results = auth_client.get("/api/communes", params={"q": "saint", "departement": "06",
                                                  "limit": 50}).json()
    assert results and all(c["departement"] == "06" for c in results)


def test_commune_card_has_the_contract_fields(auth_client: TestClient, conn: Conn) -> None:
    body = auth_client.get("/api/communes/06088").json()
    for field in ("code", "nom", "type", "departement", "region", "epci", "population",
                  "population_year", "bassin_de_vie", "area_km2", "bbox", "cpts"):
        assert field in body
    assert body["nom"] == "Nice" and body["region"] == "93"
    assert body["epci_nom"] and "Nice" in body["epci_nom"]
    # Lambert-93 areas stay within 0.3 % of the geodesic area this far south-east.
    geodesic = conn.execute(
        "SELECT ST_Area(geom::geography) / 1e6 AS km2 FROM commune WHERE code = '06088'"
    ).fetchone()
    assert abs(body["area_km2"] - geodesic["km2"]) / geodesic["km2"] < 0.003
    west, south, east, north = body["bbox"]
    assert west < 7.26 < east and south < 43.7 < north


def test_commune_card_as_geojson_feature(auth_client: TestClient) -> None:
    feature = auth_client.get("/api/communes/06088", params={"geometry": "true"}).json()
    assert feature["type"] == "Feature"
    assert feature["geometry"]["type"] == "MultiPolygon"
    assert feature["properties"]["code"] == "06088"


def test_paris_population_is_the_sum_of_its_arrondissements(auth_client: TestClient) -> None:
    paris = auth_client.get("/api/communes/75056").json()
    assert len(paris["arrondissements"]) == 20 and paris["is_unit"] is False
    total = sum(auth_client.get(f"/api/communes/{code}").json()["population"]
                for code in paris["arrondissements"])
    assert paris["population"] == total


def test_restored_cantal_commune_is_selectable_without_polygon(auth_client: TestClient) -> None:
    body = auth_client.get("/api/communes/15031").json()
    assert body["nom"] == "Celles" and body["has_polygon"] is False
    assert body["bbox"] is None and body["population"] > 0
    assert "15141" in body["polygon_note"]


def test_former_code_points_to_the_current_commune(auth_client: TestClient) -> None:
    response = auth_client.get("/api/communes/12076")  # Conques, in Conques-en-Rouergue since 2025
    assert response.status_code == 200
    body = response.json()
    assert (body["code"], body["nom"], body["in_force"]) == ("12076", "Conques", False)
    assert [c["code"] for c in body["current"]] == ["12218"]
    assert body["current"][0]["nom"] == "Conques-en-Rouergue"
    assert {(h["new_code"], h["kind"]) for h in body["history"]} == {("12218", "deleguee")}


def test_unknown_and_malformed_codes(auth_client: TestClient) -> None:
    unknown = auth_client.get("/api/communes/06999")
    assert unknown.status_code == 404 and unknown.json()["code"] == "unknown_commune"
    malformed = auth_client.get("/api/communes/abc")
    assert malformed.status_code == 422
    assert malformed.headers["content-type"] == "application/problem+json"
    assert malformed.json()["code"] == "invalid_commune_code"


def test_collectivite_outre_mer_is_out_of_the_map(auth_client: TestClient) -> None:
    response = auth_client.get("/api/communes/98735")  # Papeete
    assert response.status_code == 404 and response.json()["code"] == "commune_outside_map"


def test_query_classification() -> None:
    assert classify_query("2a004").kind == "code"
    assert classify_query("06000").kind == "code_or_postal"
    assert classify_query("Garde (La)").text == "garde la"
    assert search_form("Saint-Étienne-de-Tinée") == "saint etienne de tinee"
