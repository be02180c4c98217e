"""Perimeter analysis on real communes: parts, enclaves, borders, overlaps, refusals."""

from datetime import date

import pytest

from app.db import Conn
from app.domain.perimeter import Claim, ReferenceGraph, analyse, normalise_members
from app.domain.size_rules import SizeRule
from app.errors import ProblemError
from app.repo.reference import GraphCache, read_graph

RULE = SizeRule(id="aci-2019", label="ACI 2019", thresholds=(40_000, 80_000, 175_000),
                lower_bound_inclusive=True, ceilings_eur=(220_000, 287_000, 370_000, 450_000),
                source="test", valid_from=date(2019, 8, 25))


@pytest.fixture(scope="module")
def graph(database: str) -> ReferenceGraph:
    from app.db import connect

    with connect(database) as conn:
        return read_graph(conn)


def test_population_and_class_of_nice_and_neighbours(graph: ReferenceGraph) -> None:
    members = normalise_members(["06088", "06123", "06149"], graph)
    result = analyse(members, graph, RULE)
    expected = sum(graph.units[c].population for c in members)
    assert result.population == expected and result.population_year == 2023
    assert result.size_class == 4 and result.size_rule == "aci-2019"
    assert result.headroom.next_class is None
    assert result.parts == (tuple(sorted(members)),)
    assert [w.code for w in result.warnings] == []


def test_nice_and_cannes_are_not_contiguous(graph: ReferenceGraph) -> None:
    result = analyse(normalise_members(["06088", "06029"], graph), graph, RULE)
    assert len(result.parts) == 2
    warning = next(w for w in result.warnings if w.code == "non_contiguous")
    assert len(warning.communes) == 1


def test_the_neighbours_of_saint_etienne_enclose_it(graph: ReferenceGraph) -> None:
    ring = sorted(graph.neighbours["42218"])
    result = analyse(normalise_members(ring, graph), graph, RULE)
    assert ("42218",) in result.enclaves
    enclave = next(w for w in result.warnings if w.code == "enclave" and "42218" in w.communes)
    assert "Saint-Étienne" in enclave.detail


def test_a_coastal_commune_left_out_is_not_an_enclave(graph: ReferenceGraph) -> None:
    ring = sorted(graph.neighbours["06123"])  # Saint-Laurent-du-Var, on the sea
    result = analyse(normalise_members(ring, graph), graph, RULE)
    assert ("06123",) not in result.enclaves


def test_crossing_departement_and_region_borders(graph: ReferenceGraph) -> None:
    # Marseille 1er (13, PACA) and Lyon 1er (69, Auvergne-Rhône-Alpes)
    result = analyse(normalise_members(["13201", "69381"], graph), graph, RULE)
    codes = {w.code for w in result.warnings}
    assert {"crosses_departement", "crosses_region", "non_contiguous"} <= codes


def test_near_threshold_warning(graph: ReferenceGraph) -> None:
    # Antibes alone is about 76,000 people: within 5 % of 80,000.
    result = analyse(normalise_members(["06004"], graph), graph, RULE)
    assert result.size_class == 2
    assert any(w.code == "near_threshold" for w in result.warnings)
    assert result.headroom.population_to_next == 80_000 - result.population


def test_overlap_with_another_cpts(graph: ReferenceGraph) -> None:
    claims = [Claim("06123", 7, "CPTS Var-Estéron", "lettre_intention")]
    result = analyse(normalise_members(["06088", "06123"], graph), graph, RULE, claims)
    overlap = result.overlaps[0]
    assert overlap.communes == ("06123",) and overlap.severity == "warning"
    assert overlap.population == graph.units["06123"].population
    assert any(w.code == "overlap" and w.communes == ("06123",) for w in result.warnings)


def test_paris_alone_means_its_arrondissements(graph: ReferenceGraph) -> None:
    members = normalise_members(["75056"], graph)
    assert len(members) == 20 and all(code.startswith("751") for code in members)


@pytest.mark.parametrize(("codes", "error"), [
    ([], "empty_perimeter"),
    (["06088", "99999"], "unknown_commune"),
    (["06088", "06088"], "duplicate_commune"),
    (["13055", "13201"], "commune_and_arrondissements"),
])
def test_refused_perimeters(graph: ReferenceGraph, codes: list[str], error: str) -> None:
    with pytest.raises(ProblemError) as refused:
        normalise_members(codes, graph)
    assert refused.value.code == error
    assert refused.value.errors or error == "empty_perimeter"


def test_graph_cache_reads_once_per_release(conn: Conn) -> None:
    cache = GraphCache(check_every_s=0.0)
    first = cache.get(conn)
    assert cache.get(conn) is first
    assert first.release_id > 0 and len(first.units) > 1000
