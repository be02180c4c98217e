"""Exports that open safely in a spreadsheet (issue 12, OWASP « CSV injection »): a CPTS named
`=HYPERLINK("http://x","y")` must never become a formula in Excel or LibreOffice, in any CSV
the service writes (the perimeter export, every coverage table) nor in its XLSX files.

Two real CPTS with hostile names are created in the Cantal (a département no fixture uses),
sharing Aurillac, so that they appear in `rattachements` (their neighbours are zones blanches),
`overlaps` and `paires`.
"""

import csv
import io
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from app.domain.csv_safety import excel_csv, safe_cell
from app.services.exports import to_csv
from tests.auth_fixtures import ClientAs, MakeAccount

TAG = uuid.uuid4().hex[:8]
HYPERLINK = f'=HYPERLINK("http://x.invalid/{TAG}","y")'
AT_SUM = f"@SUM(1+1) {TAG}"
TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
# Aurillac, Arpajon-sur-Cère, Ytrac (contiguous); the second CPTS shares Aurillac
FIRST = ["15014", "15012", "15267"]
SECOND = ["15014", "15187"]


@pytest.fixture(scope="module")
def admin(make_account: MakeAccount, client_as: ClientAs) -> TestClient:
    return client_as(make_account("admin"))


@pytest.fixture(scope="module")
def hostile(admin: TestClient) -> Iterator[list[int]]:
    ids = []
    for name, communes in ((HYPERLINK, FIRST), (AT_SUM, SECOND)):
        response = admin.post("/api/cpts", json={
            "name": name, "status": "lettre_intention", "communes": communes,
            "siege_commune": communes[0]})
        assert response.status_code == 201, response.text
        ids.append(response.json()["id"])
    yield ids


def csv_rows(content: bytes) -> list[list[str]]:
    text = content.decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text, newline=""), delimiter=";"))


def assert_no_formula(rows: list[list[str]]) -> None:
    for row in rows:
        for cell in row:
            assert not cell.startswith(TRIGGERS), cell


def test_the_rule_touches_only_text_that_starts_a_formula() -> None:
    assert [safe_cell(v) for v in ("=1+1", "+33 1", "-x", "@SUM(A1)", "\tx", "\rx")] == [
        "'=1+1", "'+33 1", "'-x", "'@SUM(A1)", "'\tx", "'\rx"]
    assert [safe_cell(v) for v in (-3, -2.5, 0, "CPTS Nice", "", None, "a=b")] == [
        -3, -2.5, 0, "CPTS Nice", "", None, "a=b"]
    written = excel_csv(["nom", "solde"], [["=cmd|' /C calc'!A0", -12], ["ok", 4]])
    assert csv_rows(written) == [["nom", "solde"], ["'=cmd|' /C calc'!A0", "-12"], ["ok", "4"]]


def test_the_perimeter_csv_neutralises_text_but_keeps_numbers() -> None:
    content = to_csv([{"code": "06088", "nom": "=1+2", "departement": "06",
                       "population": -1, "population_year": 2023}],
                     {"id": 7, "name": "@SUM(A1)", "status": "aci_signe", "version": 2})
    assert csv_rows(content)[1] == ["7", "'@SUM(A1)", "ACI signé", "2", "06088", "'=1+2", "06",
                                    "-1", "2023"]


def test_the_perimeter_export_of_a_hostile_cpts_is_safe(admin: TestClient,
                                                        hostile: list[int]) -> None:
    answer = admin.get(f"/api/cpts/{hostile[0]}/export", params={"format": "csv"})
    assert answer.status_code == 200, answer.text
    rows = csv_rows(answer.content)
    assert rows[0][4] == "code_commune" and {r[4] for r in rows[1:-1]} == set(FIRST)
    assert_no_formula(rows)
    workbook = admin.get(f"/api/cpts/{hostile[0]}/export", params={"format": "xlsx"})
    assert workbook.status_code == 200
    sheet = load_workbook(io.BytesIO(workbook.content))["Synthèse"]
    cell = next(row[1] for row in sheet.iter_rows() if row[0].value == "CPTS")
    assert cell.value == HYPERLINK and cell.data_type == "s"  # text, not a formula
    assert cell.quotePrefix  # and Excel keeps it text when the cell is edited


@pytest.mark.parametrize("table", ["rattachements", "overlaps", "paires", "zones"])
def test_every_coverage_table_neutralises_the_names(admin: TestClient, hostile: list[int],
                                                    table: str) -> None:
    answer = admin.get("/api/coverage", params={"scope": "departement:15", "format": "csv",
                                                "table": table})
    assert answer.status_code == 200, answer.text
    rows = csv_rows(answer.content)
    ours = [cell for row in rows for cell in row if TAG in cell]
    assert ours, f"the hostile CPTS are missing from {table}"
    assert_no_formula(rows)
    assert any(cell.startswith(("'=HYPERLINK", "'@SUM")) for cell in ours), ours


def test_the_coverage_workbook_has_no_formula(admin: TestClient, hostile: list[int]) -> None:
    answer = admin.get("/api/coverage", params={"scope": "departement:15", "format": "xlsx"})
    assert answer.status_code == 200, answer.text
    workbook = load_workbook(io.BytesIO(answer.content))
    seen: list[Any] = []
    for sheet in workbook.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (sheet.title, cell.coordinate, cell.value)
                if isinstance(cell.value, str) and TAG in cell.value:
                    seen.append(cell)
    assert HYPERLINK in {cell.value for cell in seen}  # shown as typed, as text
    assert all(cell.quotePrefix for cell in seen if cell.value.startswith(TRIGGERS))
