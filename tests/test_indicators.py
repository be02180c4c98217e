"""Indicator tables through the API on the real test communes: import (dry run, match report,
all or nothing, versions), aggregates for a perimeter and its comparison areas, the doctors'
zoning table of shared/geodata, visibility of restricted tables, choropleth classes."""

import io
import json
import unicodedata
import uuid
from pathlib import Path
from typing import Any

import httpx
import openpyxl
import pandas as pd
import pytest
from fastapi.testclient import TestClient

from app.db import connect
from app.settings import PROJECT_ROOT
from tests.auth_fixtures import ClientAs, MakeAccount
from tests.shared_fixtures import ALPES_MARITIMES_LISTING, shared_directory

ZONAGE = shared_directory() / "geodata" / "zonage_medecins" / "zonage_medecins.csv"
ZONAGE_DEFINITION = PROJECT_ROOT / "geodata" / "reference" / "zonage_medecins_definition.json"


def slug(label: str) -> str:
    return f"{label}_{uuid.uuid4().hex[:8]}"


def definition(table: str, **extra: Any) -> dict[str, Any]:
    return {
        "table": table, "title": f"Essai {table}", "vintage": "2024",
        "source": "tests", "match": {"code": "codgeo"},
        "columns": [
            {"header": "medecins", "label": "Médecins généralistes", "unit": "médecins",
             "aggregation": "sum"},
            {"header": "taux_ald", "label": "Prévalence ALD", "unit": "%",
             "aggregation": "mean"},
            {"header": "zonage", "label": "Zonage", "aggregation": "share",
             "categories": [{"value": "ZIP", "label": "ZIP"}, {"value": "ZAC", "label": "ZAC"}]},
        ],
    } | extra


def upload(client: TestClient, table_definition: dict[str, Any], content: str | bytes,
           filename: str = "table.csv", **params: Any) -> httpx.Response:
    data = content.encode("utf-8") if isinstance(content, str) else content
    return client.post("/api/indicators/tables", params=params,
                       files={"file": (filename, data, "application/octet-stream")},
                       data={"definition": json.dumps(table_definition)})


def population(client: TestClient, code: str) -> int:
    return int(client.get(f"/api/communes/{code}").json()["population"])


def counts(database: str) -> tuple[int, int, int, int]:
    with connect(database) as conn:
        row = conn.execute(
            """SELECT (SELECT count(*) FROM indicator_table) AS t,
                      (SELECT count(*) FROM indicator_version) AS v,
                      (SELECT count(*) FROM indicator_value) AS val,
                      (SELECT count(*) FROM audit_log) AS a""").fetchone()
    assert row is not None
    return int(row["t"]), int(row["v"]), int(row["val"]), int(row["a"])


def table_of(answer: dict[str, Any], table: str) -> dict[str, Any]:
    return next(t for t in answer["tables"] if t["table"] == table)


def indicator(answer: dict[str, Any], table: str, key: str) -> dict[str, Any]:
    return next(i for i in table_of(answer, table)["indicators"] if i["key"] == key)


CODE_TABLE = (
    "codgeo;medecins;taux_ald;zonage\n"
    "06083;12;20,5;ZIP\n"      # Menton
    "06004;40;18;ZAC\n"        # Antibes
    "06088;300;22;ZAC\n"       # Nice
    "13055;900;25;ZIP\n"       # Marseille, as a whole
)


def test_code_table_aggregated_for_a_perimeter_with_its_comparison_areas(
        auth_client: TestClient, database: str) -> None:
    table = slug("essai")
    response = upload(auth_client, definition(table), CODE_TABLE)
    assert response.status_code == 200, response.text
    report = response.json()
    assert report["accepted"] and report["version_id"] is not None
    assert report["summary"]["communes"] == 4 and report["summary"]["rows"] == 4

    answer = auth_client.get("/api/indicators", params={"units": "06083,06004",
                                                         "table": table}).json()
    menton, antibes = population(auth_client, "06083"), population(auth_client, "06004")
    assert answer["population"] == menton + antibes
    medecins = indicator(answer, table, "medecins")
    assert medecins["result"]["value"] == 52
    assert medecins["vintage"] == "2024" and medecins["source"] == "tests"
    assert indicator(answer, table, "taux_ald")["result"]["value"] == pytest.approx(
        (20.5 * menton + 18 * antibes) / (menton + antibes))
    zonage = {c["value"]: c["share"] for c in
              indicator(answer, table, "zonage")["result"]["categories"]}
    assert zonage["ZIP"] == pytest.approx(menton / (menton + antibes))

    # Compared with the département (06: Menton, Antibes, Nice), the région and France.
    assert [(c["level"], c["code"]) for c in answer["comparisons"]] == [
        ("departement", "06"), ("region", "93"), ("france", None)]
    assert answer["comparisons"][0]["nom"] == "Alpes-Maritimes"
    assert medecins["comparisons"]["departement"]["value"] == 352
    assert medecins["comparisons"]["region"]["value"] == 352 + 900
    assert medecins["comparisons"]["france"]["value"] == 352 + 900

    # Marseille given as a whole: its arrondissements take its rate, not its count.
    first = auth_client.get("/api/indicators", params={"units": "13201", "table": table}
                            ).json()
    assert indicator(first, table, "taux_ald")["result"]["value"] == pytest.approx(25)
    assert indicator(first, table, "medecins")["result"]["value"] is None


def test_xlsx_table_and_former_code(auth_client: TestClient, database: str) -> None:
    with connect(database) as conn:
        former = conn.execute(
            """SELECT h.old_code, h.new_code FROM commune_history h
                 JOIN commune c ON c.code = h.new_code AND c.is_unit
                WHERE h.old_code NOT IN (SELECT code FROM commune)
                  AND (SELECT count(*) FROM commune_history o WHERE o.old_code = h.old_code) = 1
                ORDER BY h.old_code LIMIT 1""").fetchone()
    assert former is not None
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["codgeo", "medecins", "taux_ald", "zonage"])
    sheet.append([former["old_code"], 3, 10.5, "ZAC"])
    buffer = io.BytesIO()
    book.save(buffer)
    table = slug("xlsx")
    report = upload(auth_client, definition(table), buffer.getvalue(), "table.xlsx").json()
    assert report["format"] == "xlsx" and report["accepted"], report
    assert [(n["line"], n["code"], n["communes"]) for n in report["notes"]] == [
        (2, "former_code", [former["new_code"]])]
    answer = auth_client.get("/api/indicators", params={"units": former["new_code"],
                                                        "table": table}).json()
    assert indicator(answer, table, "medecins")["result"]["value"] == 3


def test_malformed_tables_are_refused_line_by_line_and_write_nothing(
        auth_client: TestClient, database: str) -> None:
    table = slug("mauvaise")
    before = counts(database)
    missing = upload(auth_client, definition(table), "code_insee;medecins;taux_ald;zonage\n"
                                                     "06083;1;2;ZIP\n")
    assert missing.status_code == 422
    assert missing.json()["code"] == "missing_columns"
    assert "« codgeo »" in missing.json()["detail"]

    bad = ("codgeo;medecins;taux_ald;zonage\n"
           "06083;12;20;ZIP\n"
           "06004;douze;18;ZAC\n"       # line 3: not a number in a sum column
           "06088;300;22;ZOP\n"         # line 4: unknown category
           "06083;5;20;ZIP\n")          # line 5: Menton again
    refused = upload(auth_client, definition(table), bad)
    assert refused.status_code == 422, refused.text
    body = refused.json()
    assert body["code"] == "indicator_import_refused"
    assert [(e["line"], e["code"]) for e in body["errors"]] == [
        (3, "not_a_number"), (4, "unknown_category"), (5, "duplicate_code")]
    assert "« douze » n'est pas un nombre" in body["errors"][0]["detail"]

    dry = upload(auth_client, definition(table), bad, dry_run="true").json()
    assert dry["accepted"] is False and dry["summary"]["errors"] == 3
    assert [(e["line"], e["code"]) for e in dry["errors"]] == [
        (3, "not_a_number"), (4, "unknown_category"), (5, "duplicate_code")]

    unmatched = upload(auth_client, definition(table), "codgeo;medecins;taux_ald;zonage\n"
                                                       "06083;1;2;ZIP\n99999;1;2;ZIP\n")
    assert unmatched.status_code == 422
    assert [(e["line"], e["code"]) for e in unmatched.json()["errors"]] == [
        (3, "unknown_code")]
    assert counts(database) == before
    listing = auth_client.get("/api/indicators/tables").json()
    assert table not in {t["table"] for t in listing}


def test_a_new_vintage_keeps_the_previous_one(auth_client: TestClient, database: str) -> None:
    table = slug("millesimes")
    rows = "codgeo;medecins;taux_ald;zonage\n06083;{n};20;ZIP\n"
    before = counts(database)
    first = upload(auth_client, definition(table, vintage="2023"), rows.format(n=10))
    assert first.status_code == 200, first.text
    assert upload(auth_client, definition(table, vintage="2024"), rows.format(n=11)
                  ).status_code == 200
    after = counts(database)
    assert after[:3] == (before[0] + 1, before[1] + 2, before[2] + 2)
    assert after[3] == before[3] + 2  # one audit entry per import
    listing = next(t for t in auth_client.get("/api/indicators/tables").json()
                   if t["table"] == table)
    assert [v["vintage"] for v in listing["versions"]] == ["2024", "2023"]
    assert listing["versions"][0]["columns"][0]["label"] == "Médecins généralistes"

    def medecins(**params: str) -> Any:
        answer = auth_client.get("/api/indicators", params={
            "units": "06083", "table": table, **params}).json()
        return indicator(answer, table, "medecins")["result"]["value"]

    assert medecins() == 11
    assert medecins(vintage="2023") == 10


def test_restricted_table_is_invisible_to_a_carrier_in_every_answer(
        auth_client: TestClient, client_as: ClientAs, make_account: MakeAccount) -> None:
    table = slug("confidentiel")
    title = f"Secret {table}"
    restricted = definition(table, visibility="restricted", title=title)
    assert upload(auth_client, restricted, CODE_TABLE).status_code == 200
    created = auth_client.post("/api/cpts", json={"name": f"Porteurs {uuid.uuid4().hex[:6]}",
                                                   "status": "lettre_intention",
                                                   "communes": ["06083", "06004"]})
    assert created.status_code == 201, created.text
    cpts_id = created.json()["id"]
    carrier = client_as(make_account("carrier", cpts_ids=[cpts_id]))
    observer = client_as(make_account("observer", regions=["93"]))
    ars = client_as(make_account("ars", regions=["93"]))
    calls = [
        ("GET", "/api/indicators/tables", {}),
        ("GET", "/api/indicators", {"units": "06083,06004"}),
        ("GET", "/api/indicators", {"scope": f"cpts:{cpts_id}"}),
        ("GET", "/api/indicators", {"scope": "departement:06"}),
        ("GET", "/api/indicators", {"scope": "national"}),
        ("GET", "/api/indicators", {"units": "06083", "table": table}),
        ("GET", "/api/indicators/map", {"indicator": f"{table}.medecins"}),
        ("GET", "/api/indicators/map", {"indicator": f"{table}.zonage", "level": "cpts"}),
        ("GET", f"/api/cpts/{cpts_id}/export", {"format": "html"}),
    ]
    for method, url, params in calls:
        answer = carrier.request(method, url, params=params)
        assert answer.status_code in (200, 404), (url, params, answer.text)
        assert title not in answer.text, (url, params)
        if answer.status_code == 200:
            assert table not in answer.text, (url, params)
        else:  # the same answer as for a table that does not exist
            absent = carrier.request(method, url, params={
                k: v.replace(table, "absente") for k, v in params.items()})
            assert (absent.status_code, absent.json()["code"]) == (404, answer.json()["code"])
            assert answer.text.replace(table, "absente") == absent.text
    assert carrier.get("/api/indicators", params={"units": "06083", "table": table}
                       ).status_code == 404
    exported = openpyxl.load_workbook(io.BytesIO(carrier.get(
        f"/api/cpts/{cpts_id}/export", params={"format": "xlsx"}).content))
    assert not any(title in str(cell.value) for sheet in exported.worksheets
                   for line in sheet.iter_rows() for cell in line)
    refused = upload(carrier, definition(slug("porteur")), CODE_TABLE)
    assert refused.status_code == 403
    # Positive controls: the agency and the task force read it.
    for reader in (observer, ars):
        answer = reader.get("/api/indicators", params={"scope": f"cpts:{cpts_id}"})
        assert answer.status_code == 200
        assert indicator(answer.json(), table, "medecins")["result"]["value"] == 52
        assert table in reader.get("/api/indicators/tables").text


def _plain(name: str) -> str:
    """Independent name form: no accents, lower case, letters and digits only."""
    text = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()
    return "".join(ch if ch.isalnum() else " " for ch in text).split().__str__()


def test_doctors_zoning_imported_by_postal_code_and_name_with_its_match_report(
        auth_client: TestClient, database: str) -> None:
    zoning = json.loads(ZONAGE_DEFINITION.read_text(encoding="utf-8")) | {
        "table": slug("zonage")}
    content = ZONAGE.read_bytes()
    before = counts(database)
    dry = upload(auth_client, zoning, content, "zonage_medecins.csv", dry_run="true").json()
    assert counts(database) == before
    summary = dry["summary"]
    assert summary["rows"] == 47_273
    assert summary["matched_rows"] + summary["unmatched_rows"] + summary[
        "ambiguous_rows"] == 47_273
    assert dry["accepted"] is False  # unmatched rows (départements not loaded) refuse it
    # The test base holds 10 départements: most rows are elsewhere, reported line by line.
    assert summary["unmatched_rows"] > 30_000
    first = dry["unmatched"][0]
    assert first["line"] == 2 and first["code"] == "unknown_postal_code"
    assert "L'Abergement-Clémenciat (01400)" in first["detail"]
    assert summary["communes"] > 1_500

    report = upload(auth_client, zoning, content, "zonage_medecins.csv",
                    skip_unmatched="true")
    assert report.status_code == 200, report.text
    assert report.json()["summary"] == summary
    assert report.json()["version_id"] is not None

    # A real PACA perimeter (H3VE, Alpes-Maritimes), its ZIP and ZAC shares checked against
    # pandas over the raw file.
    listing = pd.read_csv(ALPES_MARITIMES_LISTING, sep=";", dtype=str)
    codes = sorted(listing.loc[listing["cpts"] == "H3VE", "code_commune"])
    created = auth_client.post("/api/cpts", json={"name": f"H3VE {zoning['table']}",
                                                   "status": "projet_sante", "communes": codes})
    assert created.status_code == 201, created.text
    answer = auth_client.get("/api/indicators", params={
        "scope": f"cpts:{created.json()['id']}", "table": zoning["table"]}).json()
    shares = {c["value"]: c["share"] for c in
              indicator(answer, zoning["table"], "zonage")["result"]["categories"]}

    with connect(database) as conn:
        communes = pd.DataFrame(conn.execute(
            "SELECT code, nom, population, codes_postaux FROM commune WHERE code = ANY(%s)",
            (codes,)).fetchall())
    raw = pd.read_csv(ZONAGE, dtype=str, keep_default_na=False)
    raw["postal"] = raw["Code_postal"].str.zfill(5)
    raw["key"] = raw["Nom_commune"].map(_plain)
    communes = communes.explode("codes_postaux").rename(columns={"codes_postaux": "postal"})
    communes["key"] = communes["nom"].map(_plain)
    joined = communes.merge(raw, on=["postal", "key"])[["code", "population", "Zonage"]]
    per_commune = joined.drop_duplicates(["code", "Zonage"])
    assert per_commune["code"].is_unique  # one zoning per commune
    total = int(communes.drop_duplicates("code")["population"].sum())
    assert answer["population"] == total
    expected_zip = per_commune.loc[per_commune["Zonage"] == "1_ZIP", "population"].sum() / total
    expected_zac = per_commune.loc[per_commune["Zonage"] == "2_ZAC", "population"].sum() / total
    assert len(per_commune) >= len(codes) - 2  # the independent join finds (almost) all
    assert shares["1_ZIP"] == pytest.approx(expected_zip)
    assert shares["2_ZAC"] == pytest.approx(expected_zac)
    assert shares["1_ZIP"] > 0.5

    # The choropleth of the ZIP share per CPTS, and of the zoning per commune.
    by_cpts = auth_client.get("/api/indicators/map", params={
        "indicator": f"{zoning['table']}.zonage", "level": "cpts", "category": "1_ZIP"}).json()
    assert by_cpts["values"][str(created.json()["id"])] == pytest.approx(expected_zip)
    assert sum(e["count"] for e in by_cpts["legend"]) == len(by_cpts["values"])
    by_commune = auth_client.get("/api/indicators/map", params={
        "indicator": f"{zoning['table']}.zonage"}).json()
    assert by_commune["values"]["06001"] in {"1_ZIP", "2_ZAC", "3_HZ", "4_ZAR"}
    assert [e["label"] for e in by_commune["legend"]] == ["ZIP", "ZAC", "ZAR", "hors zonage"]
    # The ZIP share per commune: 1 where the commune is in ZIP, 0 elsewhere, cut into classes.
    share = auth_client.get("/api/indicators/map", params={
        "indicator": f"{zoning['table']}.zonage", "category": "1_ZIP"}).json()
    assert share["unit"] == "part de la population en ZIP"
    assert {code: value == 1.0 for code, value in share["values"].items()} == {
        code: zone == "1_ZIP" for code, zone in by_commune["values"].items()}
    assert sum(e["count"] for e in share["legend"]) == len(share["values"])


def test_choropleth_classes_per_commune(auth_client: TestClient) -> None:
    table = slug("carte")
    rows = "codgeo;medecins;taux_ald;zonage\n" + "".join(
        f"{code};{i};{i * 1.5};ZIP\n" for i, code in enumerate(
            ["06083", "06004", "06088", "06029", "06069", "06085", "06027", "06030", "06079",
             "06152"], start=1))
    assert upload(auth_client, definition(table), rows).status_code == 200
    answer = auth_client.get("/api/indicators/map", params={
        "indicator": f"{table}.medecins", "scheme": "quantiles", "k": 5}).json()
    assert len(answer["values"]) == 10
    assert [e["count"] for e in answer["legend"]] == [2, 2, 2, 2, 2]
    assert answer["legend"][-1]["upper"] == 10
    assert answer["classes"]["06083"] == answer["legend"][0]["colour"]
    jenks = auth_client.get("/api/indicators/map", params={
        "indicator": f"{table}.taux_ald", "scheme": "jenks", "k": 3}).json()
    assert len(jenks["legend"]) == 3 and jenks["legend"][-1]["upper"] == 15
    missing = auth_client.get("/api/indicators/map", params={"indicator": f"{table}.absent"})
    assert missing.status_code == 404 and missing.json()["code"] == "indicator_not_found"


def test_scope_errors_are_french_with_a_stable_code(auth_client: TestClient) -> None:
    both = auth_client.get("/api/indicators", params={"scope": "national", "units": "06083"})
    assert both.status_code == 422 and both.json()["code"] == "indicator_target_conflict"
    unknown = auth_client.get("/api/indicators", params={"units": "06083,99999"})
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["code"] == (
        "unknown_commune")
    absent = auth_client.get("/api/indicators", params={"scope": "cpts:999999999"})
    assert absent.status_code == 404 and absent.json()["code"] == "cpts_not_found"
    no_definition = auth_client.post("/api/indicators/tables", files={
        "file": ("t.csv", b"codgeo;x\n06083;1\n", "text/csv")})
    assert no_definition.status_code == 422
    assert no_definition.json()["code"] == "missing_definition"


def test_definition_file_of_the_zoning_is_valid() -> None:
    assert Path(ZONAGE_DEFINITION).is_file()
    declared = json.loads(ZONAGE_DEFINITION.read_text(encoding="utf-8"))
    assert [c["key"] for c in declared["columns"]] == ["zonage", "zrr"]


def test_exports_carry_the_indicators(auth_client: TestClient) -> None:
    table = slug("exports")
    assert upload(auth_client, definition(table, title=f"Export {table}"), CODE_TABLE
                  ).status_code == 200
    created = auth_client.post("/api/cpts", json={"name": f"Export {uuid.uuid4().hex[:6]}",
                                                   "status": "projet_sante",
                                                   "communes": ["06083", "06004"]})
    assert created.status_code == 201, created.text
    cpts_id = created.json()["id"]
    book = openpyxl.load_workbook(io.BytesIO(auth_client.get(
        f"/api/cpts/{cpts_id}/export", params={"format": "xlsx"}).content))
    sheet = book["Indicateurs"]
    header = [cell.value for cell in sheet[1]]
    assert header[7] == "Département (Alpes-Maritimes)"
    rows = {(r[0], r[1]): r for r in sheet.iter_rows(min_row=2, values_only=True)}
    medecins = rows[(f"Export {table}", "Médecins généralistes")]
    assert (medecins[6], medecins[7]) == (52, 352)
    html = auth_client.get(f"/api/cpts/{cpts_id}/export", params={"format": "html"}).text
    assert "Médecins généralistes" in html and "52 médecins" in html
