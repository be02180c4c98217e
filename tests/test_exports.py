"""Exports of a perimeter (`GET /api/cpts/{id}/export`): CSV for Excel, XLSX, GeoJSON with the
dissolved outline, GeoPackage; read back with the tools people open them with."""

import csv
import io
import json
import uuid
from pathlib import Path

import pyogrio
import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from app.db import Conn, connect
from app.services import cpts as cpts_service
from tests.auth_fixtures import ClientAs, MakeAccount

# Nice and its eastern neighbours, with Èze: names with accents for the CSV and XLSX.
MEMBERS = ["06088", "06123", "06149", "06159", "06059"]


def create_cpts(database: str, name: str, communes: list[str],
                status: str = "lettre_intention") -> int:
    with connect(database) as conn, conn.transaction():
        ctx = cpts_service.command_line_context(conn)
        return cpts_service.create(ctx, name=name, status=status, communes=communes)


@pytest.fixture(scope="module")
def cpts_id(database: str) -> int:
    return create_cpts(database, f"CPTS Nice Est & Èze {uuid.uuid4().hex[:6]}", MEMBERS)


def members(conn: Conn) -> list[dict[str, object]]:
    return conn.execute("SELECT code, nom, departement, population, population_year, area_m2 "
                        "FROM commune WHERE code = ANY(%s) ORDER BY code", (MEMBERS,)).fetchall()


def export(client: TestClient, cpts_id: int, file_format: str, **params: str) -> bytes:
    response = client.get(f"/api/cpts/{cpts_id}/export",
                          params={"format": file_format, **params})
    assert response.status_code == 200, response.text
    disposition = response.headers["content-disposition"]
    assert disposition.startswith(f'attachment; filename="cpts-{cpts_id}-cpts-nice-est-eze-')
    assert disposition.endswith(f'.{file_format}"')
    return bytes(response.content)


def test_csv_opens_in_excel_with_bom_semicolons_and_accents(
        auth_client: TestClient, cpts_id: int, conn: Conn) -> None:
    content = export(auth_client, cpts_id, "csv")
    assert content.startswith(b"\xef\xbb\xbf")
    text = content.decode("utf-8-sig")
    assert text.splitlines()[0] == ("cpts_id;cpts_nom;cpts_stade;cpts_version;code_commune;"
                                    "nom_commune;departement;population;population_year")
    assert "\r\n" in text
    table = list(csv.reader(io.StringIO(text), delimiter=";"))
    assert {len(row) for row in table} == {9}, "one table: every row has every column"
    rows, total = table[1:-1], table[-1]
    expected = members(conn)
    view = auth_client.get(f"/api/cpts/{cpts_id}").json()
    # the CPTS on every row, the total included
    assert {tuple(row[:4]) for row in table[1:]} == {
        (str(cpts_id), view["name"], "lettre d'intention", str(view["version"]))}
    assert view["name"].startswith("CPTS Nice Est & Èze")
    assert [row[4] for row in rows] == sorted(MEMBERS)
    assert rows[0][4:7] == ["06059", "Èze", "06"]
    assert [int(row[7]) for row in rows] == [r["population"] for r in expected]
    assert {row[8] for row in rows} == {"2023"}
    # the total: the communes counted, the population summed, as the CPTS reads it
    assert total[4:7] == ["Total", "5 communes", "06"]
    assert int(total[7]) == sum(int(r["population"]) for r in expected) == view["population"]
    assert total[8] == "2023"


def test_xlsx_has_the_communes_and_a_summary(auth_client: TestClient, cpts_id: int,
                                            conn: Conn) -> None:
    workbook = load_workbook(io.BytesIO(export(auth_client, cpts_id, "xlsx")))
    assert workbook.sheetnames[:2] == ["Communes", "Synthèse"]  # then « Indicateurs » if any
    rows = list(workbook["Communes"].iter_rows(values_only=True))
    assert rows[0] == ("code_commune", "nom_commune", "departement", "population",
                       "population_year")
    expected = members(conn)
    assert [(r[0], r[1], r[3]) for r in rows[1:]] == [
        (e["code"], e["nom"], e["population"]) for e in expected]
    summary = {row[0]: row[1] for row in workbook["Synthèse"].iter_rows(values_only=True)}
    total = sum(int(str(e["population"])) for e in expected)
    assert summary["Population"] == total
    assert summary["Millésime de la population"] == 2023
    assert summary["Taille ACI"] == 4 and summary["Règle de taille"] == "aci-2022"
    assert summary["Version"] == 1 and summary["Stade"] == "lettre d'intention"


def test_a_name_that_looks_like_a_formula_stays_text_in_xlsx(
        auth_client: TestClient, database: str) -> None:
    name = f"=HYPERLINK(\"http://exemple.fr\";\"x\") {uuid.uuid4().hex[:6]}"
    created = create_cpts(database, name, ["06149"])
    response = auth_client.get(f"/api/cpts/{created}/export", params={"format": "xlsx"})
    assert response.headers["content-disposition"].startswith(
        f'attachment; filename="cpts-{created}-hyperlink-http-exemple-fr-x-')
    sheet = load_workbook(io.BytesIO(response.content))["Synthèse"]
    cell = sheet["B1"]
    assert cell.value == name and cell.data_type == "s"


def test_geojson_outline_covers_the_member_communes(auth_client: TestClient, cpts_id: int,
                                                    conn: Conn) -> None:
    document = json.loads(export(auth_client, cpts_id, "geojson"))
    assert document["type"] == "FeatureCollection"
    outline, *communes = document["features"]
    assert outline["properties"]["kind"] == "perimetre"
    assert outline["properties"]["population"] == sum(
        int(str(r["population"])) for r in members(conn))
    assert outline["geometry"]["type"] == "MultiPolygon"
    assert sorted(f["properties"]["code"] for f in communes) == sorted(MEMBERS)
    row = conn.execute("SELECT ST_Area(ST_GeomFromGeoJSON(%s)::geography) AS area",
                       (json.dumps(outline["geometry"]),)).fetchone()
    assert row is not None
    members_area = sum(float(str(r["area_m2"])) for r in members(conn))
    assert row["area"] == pytest.approx(members_area, rel=0.005)
    only = json.loads(export(auth_client, cpts_id, "geojson", communes="false"))
    assert len(only["features"]) == 1


def test_geopackage_reads_back_with_its_two_layers(auth_client: TestClient, cpts_id: int,
                                                   tmp_path: Path) -> None:
    path = tmp_path / "export.gpkg"
    path.write_bytes(export(auth_client, cpts_id, "gpkg"))
    assert sorted(name for name, _ in pyogrio.list_layers(path)) == ["communes", "perimetre"]
    perimeter = pyogrio.read_dataframe(path, layer="perimetre")
    assert len(perimeter) == 1 and perimeter.crs.to_epsg() == 4326
    assert perimeter.geometry.iloc[0].geom_type == "MultiPolygon"
    communes = pyogrio.read_dataframe(path, layer="communes")
    assert sorted(communes["code"]) == sorted(MEMBERS)
    assert int(communes["population"].sum()) == int(perimeter["population"].iloc[0])


def test_only_those_who_read_the_whole_cpts_may_export_it(
        client_as: ClientAs, make_account: MakeAccount, database: str) -> None:
    draft = create_cpts(database, f"CPTS brouillon {uuid.uuid4().hex[:6]}", ["06149"],
                        status="pre_projet")
    stranger = client_as(make_account("carrier"))
    refused = stranger.get(f"/api/cpts/{draft}/export", params={"format": "csv"})
    assert refused.status_code == 404 and refused.json()["code"] == "cpts_not_found"
    member = client_as(make_account("carrier", cpts_ids=[draft]))
    assert member.get(f"/api/cpts/{draft}/export", params={"format": "csv"}).status_code == 200
    anonymous = client_as(None)
    assert anonymous.get(f"/api/cpts/{draft}/export").status_code == 401
    unknown = member.get(f"/api/cpts/{draft}/export", params={"format": "shp"})
    assert unknown.status_code == 422


def test_cpts_export_command_writes_the_file(cpts_id: int, database: str, tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    from app.cli import main as cli_main
    from app.settings import get_settings

    monkeypatch.setenv("DATABASE_URL", database)
    get_settings.cache_clear()
    target = tmp_path / "perimetre.geojson"
    try:
        assert cli_main(["export", str(cpts_id), "--format", "geojson", "--outline-only",
                         "-o", str(target)]) == 0
    finally:
        get_settings.cache_clear()
    document = json.loads(target.read_text(encoding="utf-8"))
    assert [f["properties"]["kind"] for f in document["features"]] == ["perimetre"]
    assert str(target) in capsys.readouterr().out


def test_the_api_schema_documents_the_upload_and_the_formats(auth_client: TestClient) -> None:
    schema = auth_client.get("/openapi.json").json()
    upload = schema["paths"]["/api/imports/cpts"]["post"]
    assert "file" in upload["requestBody"]["content"]["multipart/form-data"]["schema"][
        "properties"]
    assert {p["name"] for p in upload["parameters"]} == {"dry_run", "share", "sheet", "status"}
    export = schema["paths"]["/api/cpts/{cpts_id}/export"]["get"]
    schema = next(p for p in export["parameters"] if p["name"] == "format")["schema"]
    offered = {value for part in schema.get("anyOf", [schema])
               for value in part.get("enum", [part.get("const")])}
    assert {"csv", "xlsx", "geojson", "gpkg"} <= offered
