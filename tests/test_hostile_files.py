"""Hostile files and values (issue 12, « fichiers hostiles »): each is built here, sent as a user
would, and must be refused with its status, stable code and French detail, without a 500.

Time and memory are measured by `benchmarks/hostile_files.py` (a real server's RSS), not here;
these tests check that the answer comes back and what it says. The files come from the same
builders as the benchmark's (an XLSX of ~1 MB whose sheet expands to 1 GiB, 5 million empty
`<row/>`, …).
"""

import json
import struct
import zlib
from typing import Any

import pytest
from fastapi.testclient import TestClient
from httpx2 import Response

from app.domain.imports import read_import
from app.domain.upload_limits import MAX_XML_DEPTH, UploadLimits
from app.errors import ProblemError
from benchmarks.hostile_files import (
    GIB,
    deep_geojson,
    empty_rows_xlsx,
    expanding_xlsx,
    inline_rows,
    long_crs_geojson,
    numbered_rows_xlsx,
    sheet_xml,
    workbook_parts,
    xlsx,
    zip_archive,
)
from tests.auth_fixtures import ClientAs, MakeAccount

PROBLEM_JSON = "application/problem+json"
HEADER = [["cpts", "code_commune"]]
BILLION_LAUGHS = (
    b'<!DOCTYPE lolz [<!ENTITY lol "lol">'
    + b"".join(b'<!ENTITY lol%d "%s">' % (level, (b"&lol%d;" % (level - 1) if level > 1
                                                    else b"&lol;") * 10)
               for level in range(1, 10))
    + b"]>")
EXTERNAL_ENTITY = b'<!DOCTYPE x [<!ENTITY secret SYSTEM "file:///etc/passwd">]>'


@pytest.fixture(scope="module")
def agent(make_account: MakeAccount, client_as: ClientAs) -> TestClient:
    """An agent of the PACA agency (région 93): may import and select."""
    return client_as(make_account("ars", regions=["93"]))


def post_import(client: TestClient, data: bytes, filename: str) -> Response:
    response: Response = client.post(
        "/api/imports/cpts", params={"dry_run": "true"},
        files={"file": (filename, data, "application/octet-stream")})
    return response


def refused(response: Response, status: int, code: str) -> dict[str, Any]:
    """The problem+json body of a refusal, checked: status, code, a French detail."""
    assert response.status_code == status, response.text[:500]
    assert response.headers["content-type"].startswith(PROBLEM_JSON)
    body: dict[str, Any] = response.json()
    assert body["code"] == code, body
    assert body["detail"] and not any(word in body["detail"] for word in (
        "Expecting", "error", "field larger", "Traceback", "invalid literal"))
    return body


def refusal(data: bytes, **limits: int) -> ProblemError:
    with pytest.raises(ProblemError) as caught:
        read_import(data, limits=UploadLimits(**limits))
    return caught.value


# --- XLSX: the archive ------------------------------------------------------------------------

def test_an_xlsx_expanding_to_a_gibibyte_is_refused_before_decompression(agent: TestClient
                                                                         ) -> None:
    data = expanding_xlsx()
    assert len(data) < 1_200_000  # ~1 MB sent
    body = refused(post_import(agent, data, "bombe.xlsx"), 413, "xlsx_too_large")
    assert "1024 Mio" in body["detail"] and "décompressé" in body["detail"]


def test_a_sheet_of_five_million_empty_rows_is_refused_by_its_compression_ratio(
        agent: TestClient) -> None:
    data = empty_rows_xlsx(5_000_000)
    assert len(data) < 60_000  # the 47 KB file
    body = refused(post_import(agent, data, "lignes.xlsx"), 413, "xlsx_compression_ratio")
    assert "fois plus" in body["detail"]


def test_rows_past_the_limit_are_refused_empty_ones_included(agent: TestClient) -> None:
    # a header then a million numbered empty rows: compressed like a real sheet (×7), so it
    # is the row limit (200,000 by default) that stops it
    body = refused(post_import(agent, numbered_rows_xlsx(1_000_000), "lignes.xlsx"), 413,
                   "too_many_rows")
    assert "200\u202f000 lignes" in body["detail"]
    # the same rule, counted while parsing (prefixed tags escape the raw count) and for CSV
    prefixed = xlsx(sheet_xml(inline_rows(HEADER) + b"<x:row/>" * 3_000).replace(
        b"<worksheet ", b'<worksheet xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/'
                        b'2006/main" '))
    assert refusal(prefixed, max_rows=1_000).code == "too_many_rows"
    blank_lines = b"cpts;code_commune\n" + b"\n" * 2_000 + b"A;06088\n"
    assert refusal(blank_lines, max_rows=1_000).code == "too_many_rows"
    assert len(read_import(blank_lines, limits=UploadLimits(max_rows=5_000)).rows) == 1


def test_a_smaller_decompressed_limit_is_a_setting() -> None:
    data = xlsx(sheet_xml(inline_rows(HEADER + [["A", "06088"]] * 20_000)))
    assert len(read_import(data).rows) == 20_000
    error = refusal(data, max_xlsx_uncompressed_bytes=1024 * 1024)
    assert (error.status, error.code) == (413, "xlsx_too_large")


def test_a_part_that_inflates_beyond_its_declared_size_is_unreadable() -> None:
    sheet = sheet_xml(inline_rows(HEADER + [["A", "06088"]] * 10_000))
    honest = xlsx(sheet)
    # the central directory says the sheet is 1,000 bytes: zipfile stops there and the CRC
    # check fails, so the archive is refused as damaged, never inflated further
    directory = honest.rindex(b"PK\x01\x02")
    name = b"xl/worksheets/sheet1.xml"
    entry = honest.rindex(b"PK\x01\x02", 0, honest.index(name, directory) + 1)
    lying = bytearray(honest)
    struct.pack_into("<I", lying, entry + 24, 1_000)
    error = refusal(bytes(lying))
    assert (error.status, error.code) == (422, "unreadable_file")


def test_an_archive_of_too_many_parts_is_refused() -> None:
    parts = [*workbook_parts(), ("xl/worksheets/sheet1.xml", sheet_xml(b""))]
    parts += [(f"xl/media/image{i}.png", b"") for i in range(1_200)]
    assert refusal(zip_archive(parts)).code == "xlsx_too_many_parts"


# --- XLSX: the XML inside ---------------------------------------------------------------------

def test_a_truncated_sheet_is_a_malformed_file(agent: TestClient) -> None:
    whole = sheet_xml(inline_rows([*HEADER, ["A", "06088"], ["A", "06149"]]))
    body = refused(post_import(agent, xlsx(whole[:-40]), "tronque.xlsx"), 422,
                   "unreadable_file")
    assert "tronqué" in body["detail"] and "sheet1.xml" in body["detail"]


@pytest.mark.parametrize("prolog", [BILLION_LAUGHS, EXTERNAL_ENTITY,
                                    b'<!DOCTYPE worksheet SYSTEM "http://example.invalid/x.dtd">'],
                         ids=["billion_laughs", "external_entity", "external_dtd"])
def test_dtds_and_entities_in_a_sheet_are_refused(agent: TestClient, prolog: bytes) -> None:
    sheet = sheet_xml(inline_rows([*HEADER, ["&lol9;", "06088"]]), prolog=prolog)
    body = refused(post_import(agent, xlsx(sheet), "lol.xlsx"), 422, "xml_forbidden")
    assert "DTD" in body["detail"]


def test_dtds_in_the_workbook_or_the_shared_strings_are_refused() -> None:
    workbook = workbook_parts()[2][1]
    assert isinstance(workbook, bytes)
    with_dtd = workbook.replace(b"?>", b"?>" + BILLION_LAUGHS, 1)
    good_sheet = sheet_xml(inline_rows([*HEADER, ["A", "06088"]]))
    assert refusal(xlsx(good_sheet, workbook=with_dtd)).code == "xml_forbidden"
    strings = (b'<?xml version="1.0"?>' + EXTERNAL_ENTITY + b'<sst xmlns="http://schemas.'
               b'openxmlformats.org/spreadsheetml/2006/main"><si><t>&secret;</t></si></sst>')
    shared = sheet_xml(b'<row r="1"><c r="A1" t="s"><v>0</v></c></row>')
    assert refusal(xlsx(shared, shared_strings=strings)).code == "xml_forbidden"


def test_deep_nesting_and_giant_tags_are_refused_without_building_them() -> None:
    deep = sheet_xml(b"<a>" * (MAX_XML_DEPTH + 10) + b"</a>" * (MAX_XML_DEPTH + 10))
    error = refusal(xlsx(deep))
    assert error.code == "unreadable_file" and "imbriqué" in error.detail
    # one start tag of 2 MB (200,000 attributes): refused before expat finishes reading it
    giant = sheet_xml(b"<row " + b" ".join(b'a%d=">"' % i for i in range(200_000)) + b"/>")
    error = refusal(xlsx(giant))
    assert error.code == "unreadable_file" and "élément XML" in error.detail


def test_a_workbook_built_by_hand_is_read_with_shared_and_inline_strings() -> None:
    """The streaming reader on the two ways a sheet holds text, and numbers."""
    strings = (b'<?xml version="1.0"?><sst xmlns="http://schemas.openxmlformats.org/'
               b'spreadsheetml/2006/main"><si><t>cpts</t></si><si><r><t>CPTS </t></r><r><t>'
               b'Est</t></r><rPh><t>ignored</t></rPh></si></sst>')
    sheet = sheet_xml(b'<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="inlineStr"><is><t>'
                      b'code_commune</t></is></c></row><row r="3"><c r="A3" t="s"><v>1</v>'
                      b'</c><c r="B3"><v>6088</v></c></row><row/>')
    parsed = read_import(xlsx(sheet, shared_strings=strings))
    assert [(r.line, r.cpts, r.code) for r in parsed.rows] == [(3, "CPTS Est", "6088")]


# --- GeoJSON ----------------------------------------------------------------------------------

def test_a_crs_of_five_thousand_digits_is_an_unknown_system(agent: TestClient) -> None:
    body = refused(post_import(agent, long_crs_geojson(5_000), "crs.geojson"), 422,
                   "unknown_crs")
    assert len(body["detail"]) < 300 and "Système de coordonnées" in body["detail"]


def test_arrays_nested_a_hundred_thousand_deep_are_refused_before_parsing(
        agent: TestClient) -> None:
    body = refused(post_import(agent, deep_geojson(100_000), "profond.geojson"), 422,
                   "json_too_deep")
    assert "100\u202f004" in body["detail"] or "100004" in body["detail"]


POLYGON = {"type": "Polygon", "coordinates": [[[7.1, 43.7], [7.2, 43.7], [7.2, 43.8],
                                               [7.1, 43.7]]]}


def _collection(**members: object) -> bytes:
    feature = {"type": "Feature", "properties": {"nom": "A"}, "geometry": POLYGON}
    return json.dumps({"type": "FeatureCollection", "features": [feature]} | members).encode()


@pytest.mark.parametrize(("data", "code"), [
    (_collection(crs={"type": "name", "properties": ["EPSG:2154"]}), "unknown_crs"),
    (_collection(crs={"type": "name", "properties": {"name": 2154}}), "unknown_crs"),
    (_collection(crs="EPSG:2154"), "unknown_crs"),
    (_collection(crs={"properties": {"name": "EPSG:" + "1" * 7}}), "unknown_crs"),
    (_collection(crs={"properties": {"name": "EPSG:999999"}}), "unknown_crs"),
    (b'{"type": "FeatureCollection", "features": [' + b"{" * 70 + b"}" * 70 + b"]}",
     "json_too_deep"),
    (b'{"type": "FeatureCollection", "features": [}', "invalid_json"),
    (b'{"type": "FeatureCollection", "features": ["\\x"]}', "invalid_json"),
    (b'{"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {"nom": '
     b'"A"}, "geometry": {"type": "Polygon", "coordinates": [[[1e400, 43], [7, NaN]]]}}]}',
     "invalid_geometry"),
    (b'{"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {"nom": '
     b'"A"}, "geometry": {"type": "Polygon", "coordinates": "x"}}]}', "invalid_geometry"),
], ids=["crs_properties_list", "crs_name_number", "crs_string", "crs_seven_digits",
        "crs_unknown_code", "objects_70_deep", "syntax", "bad_escape", "infinite_and_nan",
        "coordinates_string"])
def test_malformed_geojson_is_a_french_422(agent: TestClient, data: bytes, code: str) -> None:
    refused(post_import(agent, data, "carte.geojson"), 422, code)


def test_json_syntax_errors_are_said_in_french() -> None:
    error = refusal(b'{"type": "FeatureCollection", "features": [')
    assert error.code == "invalid_json" and "valeur attendue" in error.detail


# --- CSV ----------------------------------------------------------------------------------------

def test_a_header_of_a_million_columns_gives_a_short_error(agent: TestClient) -> None:
    data = ("nom_inconnu" + ";colonne" * 1_000_000 + "\nA;06088\n").encode()
    response = post_import(agent, data, "large.csv")
    body = refused(response, 422, "missing_columns")
    assert len(response.content) < 5_000  # was 9 MB
    assert "999\u202f001 colonne(s) non lue(s)" in body["detail"]


def test_csv_errors_are_said_in_french() -> None:
    data = b'cpts;code_commune\n"' + b"x" * 200_000 + b'";06088\n'
    error = refusal(data)
    assert error.code == "invalid_csv" and "dépasse" in error.detail


# --- The map selection --------------------------------------------------------------------------

@pytest.mark.parametrize("latitude", ["1e10", "NaN", "Infinity", "-Infinity", "91"])
def test_a_selection_outside_wgs84_or_not_finite_is_refused(agent: TestClient,
                                                            latitude: str) -> None:
    body = ('{"geometry": {"type": "Polygon", "coordinates": [[[7.49, 43.77], [7.54, 43.77], '
            f'[7.54, {latitude}], [7.49, 43.82], [7.49, 43.77]]]}}}}')
    response = agent.post("/api/map/selection", content=body,
                          headers={"Content-Type": "application/json"})
    answer = refused(response, 422, "invalid_coordinates")
    assert "latitude entre -90 et 90" in answer["detail"]


def test_a_selection_inside_wgs84_still_selects(agent: TestClient) -> None:
    response = agent.post("/api/map/selection", json={"geometry": {
        "type": "Polygon", "coordinates": [[[7.2, 43.65], [7.35, 43.65], [7.35, 43.75],
                                            [7.2, 43.75], [7.2, 43.65]]]}})
    assert response.status_code == 200, response.text
    assert "06159" in response.json()["communes"]  # Villefranche-sur-Mer


def test_the_bomb_really_expands_to_a_gibibyte() -> None:
    """The test file is what it claims: its sheet inflates to 1 GiB (first MiB checked)."""
    data = expanding_xlsx()
    name = b"xl/worksheets/sheet1.xml"
    entry = data.rindex(b"PK\x01\x02", 0, data.rindex(name) + 1)
    declared = struct.unpack_from("<I", data, entry + 24)[0]
    assert declared > GIB
    start = data.index(name) + len(name)
    inflated = zlib.decompressobj(-15).decompress(data[start:start + 4096], 2 * 1024 * 1024)
    assert inflated.count(b" ") > 1024 * 1024
