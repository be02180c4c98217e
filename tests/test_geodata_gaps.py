"""No land without a commune: the union of the national build has no hole but Llívia."""

import numpy as np
import pytest
import shapely

from app.settings import Settings
from geodata.build import Built
from geodata.generalize import ZONE_CRS, transformer, zone_of
from geodata.holes import RULE_LABELS
from geodata.pipeline import built_for
from geodata.registry import registry_sources

LLIVIA = shapely.Point(1.9806, 42.4646)  # Spanish town enclosed by Pyrénées-Orientales


@pytest.fixture(scope="module")
def built() -> Built:
    settings = Settings()
    result, _ = built_for(registry_sources(settings.cache_dir), settings.cache_dir,
                          show_progress=False)
    return result


def _union(built: Built, zone: str) -> shapely.Geometry:
    units = built.units
    rows = units[units["is_unit"] & units["geom"].notna()
                 & (units["departement"].map(zone_of) == zone)]
    projected = transformer(4326, ZONE_CRS[zone])(np.asarray(rows["geom"], dtype=object))
    return shapely.coverage_union_all(projected)


def _interior_rings(geom: shapely.Geometry) -> list[shapely.Polygon]:
    return [shapely.Polygon(ring) for part in shapely.get_parts(geom)
            for ring in part.interiors]


def test_metropolitan_union_has_no_hole_on_land(built: Built) -> None:
    rings = _interior_rings(_union(built, "metro"))
    # The one interior ring left is Llívia (Spain), 12.98 km², named in the report.
    assert len(rings) == 1
    assert abs(rings[0].area / 1e6 - 12.98) < 0.01
    llivia = transformer(4326, 2154)(np.asarray([LLIVIA], dtype=object))[0]
    assert rings[0].contains(llivia)
    outside = built.report.outside_communes["metro"]
    assert [place["evidence"] for place in outside] == [["Llívia (Espagne)"]]


@pytest.mark.parametrize("zone", [z for z in ZONE_CRS if z != "metro"])
def test_drom_unions_have_no_hole(built: Built, zone: str) -> None:
    assert _interior_rings(_union(built, zone)) == []
    assert built.report.holes[zone] == [] and built.report.outside_communes[zone] == []


def test_every_hole_is_attributed_by_a_stated_rule(built: Built) -> None:
    holes = built.report.holes["metro"]
    assert len(holes) == 86
    assert abs(sum(h["area_m2"] for h in holes) / 1e6 - 592.69) < 0.1
    assert {h["rule"] for h in holes} <= set(RULE_LABELS)
    by_rule = {rule: sum(h["rule"] == rule for h in holes) for rule in RULE_LABELS}
    assert by_rule == {"hors_commune": 0, "deleguee_contour": 3,
                       "ancienne_commune_sans_contour": 57, "plus_longue_limite": 26}
    # The largest hole of the issue (34.6 km² at 46.1928 N, 0.0907 E) goes to Sauzé-entre-Bois,
    # whose former communes 79060, 79180, 79205, 79212 have no outline in the source.
    largest = holes[0]
    assert (largest["code"], round(largest["area_m2"] / 1e6, 1)) == ("79307", 34.6)
    assert largest["evidence"] == ["79060", "79180", "79205", "79212"]
    # A commune given a hole by the fallback rule shares the longest border with it.
    for hole in holes:
        if hole["rule"] == "plus_longue_limite":
            assert hole["code"] == max(hole["neighbours"], key=hole["neighbours"].get)


def test_hesdin_la_foret_gets_its_absorbed_communes_and_says_so(built: Built) -> None:
    units = built.units.set_index("code")
    assert round(units.loc["62447", "area_m2"] / 1e6, 2) == 21.43
    note = units.loc["62447", "polygon_note"]
    assert "20,57 km²" in note and "62461 Huby-Saint-Leu" in note
    # Every commune that received land says so in its polygon_note.
    receivers = {h["code"] for h in built.report.holes["metro"]}
    assert all("Contour complété" in units.loc[code, "polygon_note"] for code in receivers)
