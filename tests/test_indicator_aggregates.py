"""Aggregation rules and map classes of indicator tables, on hand-computed cases (pure
functions: `app.domain.indicator_aggregates`, `app.domain.indicators`)."""

import pytest

from app.domain.import_matching import FormerCode
from app.domain.indicator_aggregates import (
    Compiled,
    Geography,
    Row,
    aggregate,
    class_bounds,
    class_of,
    headline,
    legend,
)
from app.domain.indicators import (
    MatchReference,
    Records,
    ReferenceUnit,
    match_rows,
    merge_matches,
    parse_definition,
    parse_number,
    parse_rows,
)
from app.errors import ProblemError

DEFINITION = {
    "table": "essai", "title": "Essai", "vintage": "2024", "source": "calcul à la main",
    "match": {"code": "codgeo"},
    "columns": [
        {"header": "medecins", "label": "Médecins", "unit": "médecins", "aggregation": "sum"},
        {"header": "taux", "label": "Taux", "unit": "%", "aggregation": "mean"},
        {"header": "taux_w", "label": "Taux pondéré par w", "aggregation": "mean",
         "weight": "poids"},
        {"header": "poids", "label": "Poids", "aggregation": "sum"},
        {"header": "zonage", "label": "Zonage", "aggregation": "share",
         "categories": [{"value": "1_ZIP", "label": "ZIP"}, {"value": "2_ZAC", "label": "ZAC"}]},
        {"header": "age_min", "label": "Âge minimal", "aggregation": "min"},
        {"header": "age_max", "label": "Âge maximal", "aggregation": "max"},
    ],
}
COLUMNS = parse_definition(__import__("json").dumps(DEFINITION)).columns

# Three communes A, B, C and a city P given as a whole, with two arrondissements P1 and P2.
GEO = Geography(population={"A": 100, "B": 300, "C": 600, "P1": 50, "P2": 150, "P": 200},
                parents={"P1": "P", "P2": "P"}, arrondissements={"P": ("P1", "P2")})
VALUES = {
    #         medecins taux  taux_w poids  zonage   min   max
    "A": Row((2.0, 10.0, 10.0, 1.0, None, 30.0, 30.0), (None, None, None, None, "1_ZIP", None,
                                                        None)),
    "B": Row((3.0, 20.0, 20.0, 3.0, None, 20.0, 20.0), (None, None, None, None, "2_ZAC", None,
                                                        None)),
    "C": Row((None, 30.0, 90.0, None, None, 50.0, 50.0), (None,) * 7),
    "P": Row((7.0, 40.0, None, None, None, None, None), (None, None, None, None, "1_ZIP", None,
                                                         None)),
}


def results(units: list[str]) -> dict[str, dict]:
    return {c.key: r for c, r in zip(COLUMNS, aggregate(VALUES, COLUMNS, units, GEO),
                                     strict=True)}


def test_sum_counts_the_units_with_a_value_and_says_how_much_population_they_hold() -> None:
    found = results(["A", "B", "C"])["medecins"]
    assert found["value"] == 5.0
    assert found["units_with_value"] == 2
    assert found["coverage"] == pytest.approx(400 / 1000)


def test_mean_is_weighted_by_population() -> None:
    # (10 × 100 + 20 × 300 + 30 × 600) / 1000
    assert results(["A", "B", "C"])["taux"]["value"] == pytest.approx(25.0)


def test_mean_weighted_by_another_column_skips_units_without_weight() -> None:
    # C has no weight: (10 × 1 + 20 × 3) / (1 + 3)
    found = results(["A", "B", "C"])["taux_w"]
    assert found["value"] == pytest.approx(17.5)
    assert found["coverage"] == pytest.approx(0.4)


def test_share_of_population_by_category() -> None:
    found = results(["A", "B", "C"])["zonage"]
    shares = {c["value"]: (c["population"], c["share"]) for c in found["categories"]}
    assert shares == {"1_ZIP": (100, pytest.approx(0.1)), "2_ZAC": (300, pytest.approx(0.3))}
    assert found["population_without_value"] == 600
    assert headline(COLUMNS[4], found) == pytest.approx(0.1)
    assert headline(COLUMNS[4], found, "2_ZAC") == pytest.approx(0.3)


def test_min_and_max_name_the_units_holding_them() -> None:
    found = results(["A", "B", "C"])
    assert (found["age_min"]["value"], found["age_min"]["communes"]) == (20.0, ["B"])
    assert (found["age_max"]["value"], found["age_max"]["communes"]) == (50.0, ["C"])


def test_a_city_given_whole_lends_its_rate_to_each_arrondissement() -> None:
    found = results(["A", "P1"])
    # (10 × 100 + 40 × 50) / 150
    assert found["taux"]["value"] == pytest.approx(20.0)
    zip_share = next(c for c in found["zonage"]["categories"] if c["value"] == "1_ZIP")
    assert zip_share["population"] == 150


def test_a_city_given_whole_counts_in_a_sum_only_with_all_its_arrondissements() -> None:
    assert results(["A", "P1"])["medecins"]["value"] == 2.0
    both = results(["A", "P1", "P2"])["medecins"]
    assert both["value"] == 9.0
    assert both["coverage"] == pytest.approx(300 / 300)


def test_quantile_classes_and_their_legend() -> None:
    values = [float(v) for v in range(1, 11)]
    bounds = class_bounds(values, "quantiles", 5)
    assert bounds == pytest.approx([2.8, 4.6, 6.4, 8.2, 10.0])
    entries = legend(bounds, values, "%", 1.0)
    assert [e["count"] for e in entries] == [2, 2, 2, 2, 2]
    assert entries[0]["label"] == "1 à 2,8 %"
    assert class_of(bounds, 7.0) == 3


def test_jenks_classes_split_at_the_natural_gaps() -> None:
    values = [1.0, 1.1, 1.2, 5.0, 5.1, 5.2, 9.0, 9.1, 9.3]
    assert class_bounds(values, "jenks", 3) == pytest.approx([1.2, 5.2, 9.3])


def test_fewer_distinct_values_than_classes() -> None:
    assert class_bounds([2.0, 2.0, 3.0], "quantiles", 5) == pytest.approx([2.0, 3.0])


def test_numbers_in_french_and_english_notation() -> None:
    assert parse_number("12,5") == 12.5
    assert parse_number("1 234,5") == 1234.5
    assert parse_number("-3.2e2") == -320.0
    assert parse_number("12 %") == 12.0
    assert parse_number("douze") is None
    assert parse_number("nan") is None


def test_definition_problems_are_all_listed_in_french() -> None:
    with pytest.raises(ProblemError) as caught:
        parse_definition('{"table": "Pas Bon", "columns": [{"header": "x", "aggregation": '
                         '"median"}, {"header": "y", "aggregation": "mean", "weight": "z"}]}')
    assert caught.value.code == "invalid_indicator_definition"
    details = " ".join(e["detail"] for e in caught.value.errors)
    assert "minuscules" in details and "vintage" in details and "match" in details
    assert "aggregation" in details and "le poids « z »" in details


def _rows(definition: dict, header: list[str], lines: list[list[str]]):  # type: ignore[no-untyped-def]
    parsed = parse_definition(__import__("json").dumps(definition))
    records = Records("csv", header, 1, [(i + 2, cells) for i, cells in enumerate(lines)])
    return parsed, *parse_rows(records, parsed)


def test_postal_code_and_name_matching_with_former_communes() -> None:
    definition = {"table": "z", "title": "Z", "vintage": "1", "source": "s",
                  "match": {"postal_code": "cp", "name": "nom"},
                  "columns": [{"header": "v", "label": "V", "aggregation": "sum"}]}
    parsed, rows, errors = _rows(definition, ["cp", "nom", "v"], [
        ["6500", "Menton", "1"],            # leading zero lost
        ["06500", "MENTON", "1"],           # same commune, same value: merged
        ["06190", "Roquebrune-Cap-Martin", "2"],
        ["06190", "Vieux Village", "4"],    # a former commune of 06104
        ["06190", "Nulle Part", "5"],       # no such name under this postal code
        ["99999", "Ailleurs", "6"],         # no such postal code
    ])
    assert errors == []
    reference = MatchReference.build(
        [ReferenceUnit("06083", "Menton", ("06500",)),
         ReferenceUnit("06104", "Roquebrune-Cap-Martin", ("06190",))],
        [FormerCode("06999", "Vieux Village", "06104", "associee")])
    matching = match_rows(rows, parsed, reference)
    assert [(m.row.line, m.code, m.how) for m in matching.matches] == [
        (2, "06083", "name"), (3, "06083", "name"), (4, "06104", "name"),
        (5, "06104", "former_name")]
    assert [(i.line, i.code) for i in matching.unmatched] == [
        (6, "unknown_name"), (7, "unknown_postal_code")]
    merged = merge_matches(matching.matches, parsed, reference)
    assert [(v.code, v.numbers, v.lines) for v in merged.values] == [
        ("06083", (1.0,), (2, 3)), ("06104", (2.0,), (4,))]
    assert [n.code for n in merged.notes] == ["former_row_ignored"]
    assert merged.conflicts == []


def test_rows_that_disagree_on_one_commune_leave_it_without_value() -> None:
    definition = {"table": "z", "title": "Z", "vintage": "1", "source": "s",
                  "match": {"postal_code": "cp", "name": "nom"},
                  "columns": [{"header": "v", "label": "V", "aggregation": "sum"}]}
    parsed, rows, _ = _rows(definition, ["cp", "nom", "v"], [
        ["06500", "Menton", "1"], ["06500", "Menton", "2"]])
    reference = MatchReference.build([ReferenceUnit("06083", "Menton", ("06500",))], [])
    merged = merge_matches(match_rows(rows, parsed, reference).matches, parsed, reference)
    assert [(c.line, c.code) for c in merged.conflicts] == [(2, "conflicting_values")]
    assert merged.values[0].numbers == (None,)


@pytest.mark.parametrize("units", [["A", "B", "C"], ["A", "P1"], ["A", "P1", "P2"], ["B"],
                                   ["C", "P2"], ["P1", "P2"]])
def test_arrays_give_exactly_the_rules_results(units: list[str]) -> None:
    compiled = Compiled(VALUES, COLUMNS, GEO, ["A", "B", "C", "P1", "P2"])
    fast = compiled.aggregate(compiled.indices(units))
    for expected, found in zip(aggregate(VALUES, COLUMNS, units, GEO), fast, strict=True):
        assert set(found) == set(expected)
        for key, value in expected.items():
            assert found[key] == (pytest.approx(value) if isinstance(value, float) else value)
    assert compiled.aggregate(compiled.indices(units), only=1) == [fast[1]]
