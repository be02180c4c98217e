"""Coverage figures computed the GIS way, with GeoPandas, independently of the application:
dissolve each CPTS's commune polygons, overlay the perimeters with the communes to find which
are covered (more than half of the commune's area) and which are held twice, then group the
uncovered communes by shared boundary and find the perimeters along each group.

The tests compare the service with it figure by figure; `benchmarks.coverage` times it as the
baseline the service must beat.
"""

import warnings
from dataclasses import dataclass, field

import geopandas
import numpy as np
import pandas as pd
import psycopg
import shapely

PROJECTED = "EPSG:2154"  # Lambert-93: lengths and areas in metres in metropolitan France


@dataclass
class Reference:
    """Coverage figures computed with GeoPandas from polygons, not from the adjacency table."""

    population_total: int
    population_covered: int
    communes_total: int
    communes_covered: int
    uncovered: set[str]
    zones: dict[frozenset[str], int]  # members -> population
    adjacent: dict[frozenset[str], set[int]]  # zone -> CPTS sharing a border with it
    enclaves: set[frozenset[str]]
    overlaps: dict[str, set[int]]  # unit held by several CPTS -> those CPTS
    by_departement: dict[str, tuple[int, int, int, int]] = field(default_factory=dict)


def counted_perimeters(url: str) -> pd.DataFrame:
    """(cpts_id, status, code) of the CPTS as they stand now, read from the current members:
    no scenario, not archived, drafts only once submitted."""
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            """SELECT c.id, c.status, m.code FROM cpts c JOIN cpts_member m ON m.cpts_id = c.id
               WHERE NOT c.is_scenario AND c.archived_at IS NULL
                 AND (c.status <> 'pre_projet' OR c.submitted_at IS NOT NULL)""").fetchall()
    return pd.DataFrame(rows, columns=["cpts_id", "status", "code"])


def read_units(url: str) -> geopandas.GeoDataFrame:
    with psycopg.connect(url) as conn, warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # pandas prefers SQLAlchemy
        units = geopandas.read_postgis(
            """SELECT code, departement, region, epci, population, has_polygon, geom
               FROM commune WHERE is_unit ORDER BY code""", conn, geom_col="geom")
    return units.rename_geometry("geometry").to_crs(PROJECTED)


def _shared_length(first: shapely.Geometry, second: shapely.Geometry) -> float:
    return float(shapely.length(shapely.intersection(shapely.boundary(first),
                                                     shapely.boundary(second))))


def reference(units: geopandas.GeoDataFrame, members: pd.DataFrame, *,
              scope: tuple[str, str] | None, statuses: tuple[str, ...]) -> Reference:
    """Dissolve the perimeters, overlay them with the units of the scope, and group the
    uncovered units by shared boundary."""
    chosen = members[members["status"].isin(statuses)]
    drawn = units[units["has_polygon"]]
    perimeters = (drawn[["code", "geometry"]].merge(chosen, on="code")
                  .dissolve(by="cpts_id", as_index=False)[["cpts_id", "geometry"]])
    in_scope = units if scope is None else units[units[scope[0]] == scope[1]]
    drawn_in_scope = in_scope[in_scope["has_polygon"]].copy()
    drawn_in_scope["unit_area"] = drawn_in_scope.area
    pieces = geopandas.overlay(drawn_in_scope[["code", "unit_area", "geometry"]], perimeters,
                               how="intersection", keep_geom_type=True)
    pieces = pieces[pieces.area > 0.5 * pieces["unit_area"]]
    holders = pieces.groupby("code")["cpts_id"].apply(set).to_dict()
    # A unit without polygon cannot be overlaid: it is covered when a CPTS lists it.
    for code in in_scope.loc[~in_scope["has_polygon"], "code"]:
        listed = set(chosen.loc[chosen["code"] == code, "cpts_id"])
        if listed:
            holders[code] = listed
    covered = set(holders)
    population = dict(zip(in_scope["code"], in_scope["population"], strict=True))
    uncovered = set(in_scope["code"]) - covered
    zones = _zones(in_scope, uncovered)
    adjacent, enclaves = _neighbours_of(zones, in_scope, perimeters)
    by_departement = {}
    for departement, group in in_scope.groupby("departement"):
        held = group["code"].isin(covered)
        by_departement[str(departement)] = (
            int(group["population"].sum()), int(group.loc[held, "population"].sum()),
            len(group), int(held.sum()))
    return Reference(
        population_total=int(in_scope["population"].sum()),
        population_covered=sum(population[c] for c in covered),
        communes_total=len(in_scope), communes_covered=len(covered), uncovered=uncovered,
        zones={zone: sum(population[c] for c in zone) for zone in zones},
        adjacent=adjacent, enclaves=enclaves,
        overlaps={code: ids for code, ids in holders.items() if len(ids) > 1},
        by_departement=by_departement)


def _zones(in_scope: geopandas.GeoDataFrame, uncovered: set[str]) -> list[frozenset[str]]:
    """Connected components of the uncovered polygons: two units are neighbours when their
    boundaries share a line (a single point is not enough)."""
    open_units = in_scope[in_scope["code"].isin(uncovered) & in_scope["has_polygon"]]
    open_units = open_units.reset_index(drop=True)
    parent = list(range(len(open_units)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    pairs = geopandas.sjoin(open_units, open_units, predicate="intersects")
    pairs = pairs[pairs.index < pairs["index_right"]]
    geometry = open_units.geometry.to_numpy()
    left, right = pairs.index.to_numpy(), pairs["index_right"].to_numpy()
    shared = shapely.length(shapely.intersection(shapely.boundary(geometry[left]),
                                                 shapely.boundary(geometry[right])))
    for a, b in zip(left[shared > 0], right[shared > 0], strict=True):
        parent[root(int(a))] = root(int(b))
    groups: dict[int, set[str]] = {}
    for i, code in enumerate(open_units["code"]):
        groups.setdefault(root(i), set()).add(code)
    without = in_scope[in_scope["code"].isin(uncovered) & ~in_scope["has_polygon"]]
    return [frozenset(g) for g in groups.values()] + [frozenset([c]) for c in without["code"]]


def _neighbours_of(zones: list[frozenset[str]], in_scope: geopandas.GeoDataFrame,
                   perimeters: geopandas.GeoDataFrame
                   ) -> tuple[dict[frozenset[str], set[int]], set[frozenset[str]]]:
    """The perimeters sharing a border with each zone; an enclave is a zone whose whole
    boundary is shared with one perimeter (less than 1 m left)."""
    shapes = in_scope.set_index("code").geometry
    adjacent: dict[frozenset[str], set[int]] = {}
    enclaves: set[frozenset[str]] = set()
    index = shapely.STRtree(perimeters.geometry.to_numpy())
    for zone in zones:
        parts = [shapes[c] for c in zone if shapes[c] is not None]
        if not parts:
            adjacent[zone] = set()
            continue
        outline = shapely.coverage_union_all(np.array(parts, dtype=object))
        near = index.query(outline, predicate="intersects")
        sharing = {int(perimeters["cpts_id"].iloc[i]): _shared_length(
            outline, perimeters.geometry.iloc[i]) for i in near}
        adjacent[zone] = {cpts_id for cpts_id, length in sharing.items() if length > 0}
        if len(adjacent[zone]) == 1:
            (only,) = adjacent[zone]
            if float(shapely.length(shapely.boundary(outline))) - sharing[only] < 1.0:
                enclaves.add(zone)
    return adjacent, enclaves
