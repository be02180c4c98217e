"""Reading import files and matching their rows: pure functions, no database."""

import io
import json
from typing import Any

import pytest
import shapely
from openpyxl import Workbook

from app.domain.import_geojson import read_geojson, rows_from_shares
from app.domain.import_matching import (
    FormerCode,
    build_reference,
    commune_key,
    is_pseudo_cpts,
    plan_import,
)
from app.domain.imports import SourcePolygon, SourceRow, decode_text, find_columns, read_import
from app.domain.perimeter import ReferenceGraph, Unit
from app.errors import ProblemError


def _unit(code: str, nom: str, departement: str, *, population: int = 1000,
          parent: str | None = None, is_unit: bool = True) -> Unit:
    return Unit(code=code, nom=nom, population=population, departement=departement,
                region="93", area_m2=1e7, edge_m=0.0, has_polygon=True, is_unit=is_unit,
                parent=parent)


GRAPH = ReferenceGraph(
    release_id=1, population_year=2023,
    units={u.code: u for u in (
        _unit("06149", "La Trinité", "06"), _unit("06065", "La Gaude", "06"),
        _unit("06021", "Bonson", "06"), _unit("42022", "Bonson", "42"),
        _unit("06127", "Saint-Martin-Vésubie", "06"), _unit("06057", "L'Escarène", "06"),
        _unit("12218", "Conques-en-Rouergue", "12"),
        _unit("13055", "Marseille", "13", is_unit=False),
        _unit("13201", "Marseille 1er Arrondissement", "13", parent="13055"),
        _unit("13202", "Marseille 2e Arrondissement", "13", parent="13055"),
        _unit("13203", "Marseille 3e Arrondissement", "13", parent="13055"),
    )},
    neighbours={},
    arrondissements={"13055": ("13201", "13202", "13203")},
)
HISTORY = [FormerCode("12076", "Conques", "12218", "deleguee"),
           FormerCode("12114", "Grand-Vabre", "12218", "deleguee"),
           FormerCode("99001", "Partagée", "06021", "ancien_code"),
           FormerCode("99001", "Partagée", "06065", "ancien_code")]
REFERENCE = build_reference(GRAPH, HISTORY, {"06": "Alpes-Maritimes", "12": "Aveyron",
                                             "13": "Bouches-du-Rhône", "42": "Loire"})


def _rows(*values: tuple[str, ...]) -> list[SourceRow]:
    rows = []
    for line, value in enumerate(values, start=2):
        cpts, code, *rest = value
        rows.append(SourceRow(line=line, cpts=cpts, code=code or None,
                              commune=rest[0] if rest else None,
                              departement=rest[1] if len(rest) > 1 else None))
    return rows


def test_utf8_with_bom_latin1_and_utf16_are_decoded() -> None:
    text = "cpts;commune\nCPTS Côte;Èze\n"
    assert decode_text(b"\xef\xbb\xbf" + text.encode()) == (text, "utf-8-sig")
    assert decode_text(text.encode("latin-1")) == (text, "cp1252")
    assert decode_text(text.encode("utf-16")) == (text, "utf-16")
    with pytest.raises(ProblemError) as refused:
        decode_text(b"cpts\x00;\x00code")
    assert refused.value.code == "bad_encoding"


def test_headers_are_matched_whatever_their_case_and_accents() -> None:
    columns = find_columns(["Nom CPTS", "Libellé commune", "Département", "CODE_INSEE",
                            "Commune entière"])
    assert columns is not None
    assert (columns.cpts, columns.code, columns.commune, columns.departement,
            columns.whole) == (0, 3, 1, 2, 4)
    assert find_columns(["cpts", "population"]) is None


def test_a_commune_covered_in_part_is_kept_whole_with_a_warning() -> None:
    parsed = read_import(b"cpts;code_commune;whole_commune\nA;06149;non\nA;06065;oui\n")
    assert [r.partial for r in parsed.rows] == [True, False]
    plan = plan_import(parsed.rows, REFERENCE)
    assert plan.perimeters[0].codes == ["06149", "06065"]
    assert [(w.line, w.code) for w in plan.warnings] == [(2, "partial_commune")]


def test_comma_separated_csv_with_quotes_gives_rows_with_their_lines() -> None:
    parsed = read_import(b'nom,codgeo\n"CPTS Nice, Est",06088\n\n"CPTS Ouest",06149\n')
    assert parsed.format == "csv" and parsed.separator == ","
    assert [(r.line, r.cpts, r.code) for r in parsed.rows] == [
        (2, "CPTS Nice, Est", "06088"), (4, "CPTS Ouest", "06149")]


def test_a_file_without_header_is_read_as_cpts_then_code() -> None:
    parsed = read_import(b"CPTS A;06088\nCPTS A;06149\n")
    assert [(r.line, r.code) for r in parsed.rows] == [(1, "06088"), (2, "06149")]
    assert [w.code for w in parsed.warnings] == ["no_header"]


@pytest.mark.parametrize(("data", "code"), [
    (b"", "empty_file"), (b"\xef\xbb\xbf  \n", "empty_file"),
    (b"cpts;code_commune\n", "empty_file"), (b"cpts;population\nA;12\n", "missing_columns"),
    (b"\xd0\xcf\x11\xe0rest", "unsupported_format"), (b"PK\x03\x04broken", "unreadable_file"),
    (b'{"type": "FeatureCollection", "features": [', "invalid_json"),
])
def test_unusable_files_are_refused_with_a_stable_code(data: bytes, code: str) -> None:
    with pytest.raises(ProblemError) as refused:
        read_import(data)
    assert refused.value.code == code
    assert refused.value.detail  # a French sentence for people


def _xlsx(sheets: dict[str, list[list[object]]]) -> bytes:
    workbook = Workbook()
    default = workbook.active
    assert default is not None
    workbook.remove(default)
    for title, rows in sheets.items():
        sheet = workbook.create_sheet(title)
        for row in rows:
            sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def test_xlsx_numeric_codes_get_their_leading_zero_back() -> None:
    parsed = read_import(_xlsx({"Feuil1": [["CPTS", "Code commune"], ["A", 6088],
                                           ["A", 13201.0]]}))
    assert parsed.format == "xlsx" and parsed.sheet == "Feuil1"
    assert [(r.line, r.code) for r in parsed.rows] == [(2, "6088"), (3, "13201")]
    plan = plan_import([SourceRow(2, "A", "6149")], REFERENCE)
    assert plan.perimeters[0].codes == ["06149"]
    assert [w.code for w in plan.warnings] == ["leading_zero"]


def test_xlsx_with_several_data_sheets_needs_the_sheet_named() -> None:
    data = _xlsx({"2024": [["cpts", "code"], ["A", "06149"]],
                  "2025": [["cpts", "code"], ["B", "06065"]]})
    with pytest.raises(ProblemError) as refused:
        read_import(data)
    assert refused.value.code == "ambiguous_sheet"
    assert [e["sheet"] for e in refused.value.errors] == ["2024", "2025"]
    parsed = read_import(data, sheet="2025")
    assert [r.cpts for r in parsed.rows] == ["B"]
    with pytest.raises(ProblemError) as unknown:
        read_import(data, sheet="2026")
    assert unknown.value.code == "unknown_sheet"


@pytest.mark.parametrize(("written", "key"), [
    ("La Garde", "la garde"), ("LA GARDE", "la garde"), ("Garde (La)", "la garde"),
    ("Garde, La", "la garde"), ("Escarène (L')", "l escarene"), ("L'ESCARENE", "l escarene"),
    ("ST MARTIN VESUBIE", "saint martin vesubie"), ("Saint-Martin-Vésubie",
                                                    "saint martin vesubie"),
])
def test_commune_names_compare_without_accents_case_or_article_position(
        written: str, key: str) -> None:
    assert commune_key(written) == key


@pytest.mark.parametrize(("name", "pseudo"), [
    ("HORS CPTS", True), ("Zone blanche", True), ("zones blanches", True), ("Sans CPTS", True),
    ("Non couvert", False), ("Non couverte", True), ("CPTS Hors les murs", False),
    ("CPTS NICE NORD", False),
])
def test_pseudo_cpts_are_recognised(name: str, pseudo: bool) -> None:
    assert is_pseudo_cpts(name) is pseudo


def test_names_are_matched_with_their_departement() -> None:
    plan = plan_import(_rows(("A", "", "Trinité (La)"), ("A", "", "LA GAUDE"),
                             ("A", "", "BONSON", "06"), ("A", "", "Escarène (L')", "6"),
                             ("A", "", "St Martin Vesubie", "Alpes-Maritimes")), REFERENCE)
    assert not plan.errors
    assert plan.perimeters[0].codes == ["06149", "06065", "06021", "06057", "06127"]


def test_ambiguous_and_unknown_names_are_errors_listing_candidates() -> None:
    plan = plan_import(_rows(("A", "", "Bonson"), ("A", "", "La Trinitee", "06"),
                             ("A", "", "Nowhere", "99")), REFERENCE)
    assert [(e.line, e.code) for e in plan.errors] == [
        (2, "ambiguous_commune_name"), (3, "unknown_commune_name"), (4, "unknown_departement")]
    assert plan.errors[0].candidates == ("Bonson (06021, dép. 06)", "Bonson (42022, dép. 42)")
    assert plan.errors[1].candidates == ("La Trinité (06149, dép. 06)",)


def test_former_codes_and_names_map_to_the_current_commune_with_a_warning() -> None:
    plan = plan_import(_rows(("A", "12076"), ("B", "", "Grand-Vabre", "12"),
                             ("C", "99001")), REFERENCE)
    assert [p.codes for p in plan.perimeters] == [["12218"], ["12218"]]
    assert [w.code for w in plan.warnings] == ["former_code", "former_name"]
    assert "Conques-en-Rouergue (12218)" in plan.warnings[0].detail
    assert [(e.line, e.code) for e in plan.errors] == [(4, "ambiguous_former_code")]


def test_a_former_code_beside_its_new_code_is_counted_once() -> None:
    plan = plan_import(_rows(("A", "12076"), ("A", "12218")), REFERENCE)
    assert plan.perimeters[0].codes == ["12218"] and not plan.errors
    assert "merged_duplicate" in [w.code for w in plan.warnings]


def test_duplicated_and_unknown_codes_are_errors_with_their_lines() -> None:
    plan = plan_import(_rows(("A", "06149"), ("A", "06149"), ("A", "06999", "Nulle part"),
                             ("A", "ABCDE"), ("", "06065")), REFERENCE)
    assert [(e.line, e.code) for e in plan.errors] == [
        (3, "duplicate_commune"), (4, "unknown_commune"), (5, "invalid_code"),
        (6, "missing_name")]


def test_a_city_beside_some_of_its_arrondissements_is_narrowed_to_them() -> None:
    plan = plan_import(_rows(("A", "13055"), ("A", "13201"), ("A", "13202"),
                             ("B", "13055")), REFERENCE)
    narrowed, whole = plan.perimeters
    assert narrowed.codes == ["13201", "13202"]
    assert whole.codes == ["13201", "13202", "13203"]
    assert [(w.line, w.code) for w in plan.warnings] == [(2, "plm_narrowed")]


def test_pseudo_cpts_rows_become_uncovered_communes() -> None:
    plan = plan_import(_rows(("HORS CPTS", "06021"), ("Zone blanche", "06065"),
                             ("CPTS A", "06149"), ("HORS CPTS", "06149")), REFERENCE)
    assert [p.name for p in plan.perimeters] == ["CPTS A"]
    assert plan.uncovered == ["06021", "06065", "06149"]
    assert plan.pseudo_names == ["HORS CPTS", "Zone blanche"]
    assert {w.code for w in plan.warnings} == {"uncovered", "uncovered_but_claimed"}


def test_names_with_control_characters_or_too_long_are_refused() -> None:
    plan = plan_import(_rows(("CPTS\x00A", "06149"), ("x" * 201, "06149"),
                             ("<b>CPTS</b>'; DROP TABLE cpts; --", "06149")), REFERENCE)
    assert [(e.line, e.code) for e in plan.errors] == [(2, "invalid_name"),
                                                       (3, "name_too_long")]
    assert plan.perimeters[0].name == "<b>CPTS</b>'; DROP TABLE cpts; --"


def _collection(*geometries: dict[str, Any], crs: str | None = None) -> bytes:
    document: dict[str, object] = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"nom_cpts": f"CPTS {i}"}, "geometry": geometry}
        for i, geometry in enumerate(geometries, start=1)]}
    if crs:
        document["crs"] = {"type": "name", "properties": {"name": crs}}
    return json.dumps(document).encode()


SQUARE: dict[str, Any] = {"type": "Polygon", "coordinates": [[[7.2, 43.7], [7.3, 43.7], [7.3, 43.8],
                                              [7.2, 43.8], [7.2, 43.7]]]}
LAMBERT: dict[str, Any] = {"type": "Polygon", "coordinates": [[
    [1040000, 6300000], [1050000, 6300000], [1050000, 6310000], [1040000, 6300000]]]}
BOWTIE: dict[str, Any] = {"type": "Polygon", "coordinates": [[[7.2, 43.7], [7.3, 43.8], [7.3, 43.7],
                                              [7.2, 43.8], [7.2, 43.7]]]}


def test_a_self_intersecting_ring_is_an_error_with_its_feature_number() -> None:
    parsed = read_geojson(_collection(SQUARE, BOWTIE))
    assert [p.line for p in parsed.polygons] == [1]
    assert [(e.line, e.code) for e in parsed.errors] == [(2, "invalid_geometry")]
    assert "(auto-intersection) près de (7.25000, 43.75000)" in parsed.errors[0].detail


def test_lambert93_coordinates_are_refused_as_projected() -> None:
    with pytest.raises(ProblemError) as refused:
        read_geojson(_collection(LAMBERT))
    assert refused.value.code == "not_wgs84"
    assert "Lambert-93 (EPSG:2154)" in refused.value.detail
    assert refused.value.errors[0]["line"] == 1


def test_a_crs_member_naming_lambert93_is_reprojected() -> None:
    parsed = read_geojson(_collection(LAMBERT, crs="urn:ogc:def:crs:EPSG::2154"))
    x0, y0, x1, y1 = parsed.polygons[0].geometry.bounds
    assert 7.0 < x0 < x1 < 7.5 and 43.5 < y0 < y1 < 44.0
    assert [w.code for w in parsed.warnings] == ["reprojected"]


def test_polygons_keep_communes_at_least_half_inside_and_list_near_ones() -> None:
    polygons = [SourcePolygon(1, "CPTS A", shapely.box(0, 0, 1, 1)),
                SourcePolygon(2, "CPTS B", shapely.box(0, 0, 1, 1))]
    shares = {1: [("06149", 1.0), ("06065", 0.55), ("06021", 0.4999), ("06057", 0.1)],
              2: [("06057", 0.2)]}
    rows, warnings, errors = rows_from_shares(polygons, shares, {"06065": "La Gaude"},
                                              threshold=0.5)
    assert [(r.line, r.code) for r in rows] == [(1, "06149"), (1, "06065")]
    assert warnings[0].communes == ("06065", "06021")
    assert "La Gaude (06065) 55 % retenue, 06021 (06021) 50 % écartée" not in warnings[0].detail
    assert "La Gaude (06065) 55 % retenue, 06021 (06021) 49,9 % écartée" in warnings[0].detail
    assert [(e.line, e.code) for e in errors] == [(2, "no_commune")]
