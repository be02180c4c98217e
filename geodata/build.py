"""Build the national geodata set from the sources: reconcile, clean, generalise, dissolve.

The whole country is always built (neighbours across département borders must agree); a load
of a few départements filters the result. The build is cached by the checksums of its inputs.
"""

import json
import logging
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import shapely
from tqdm import tqdm

from geodata import cog as cog_module
from geodata import holes as holes_module
from geodata.generalize import (
    BANDS,
    ZONE_CRS,
    adjacency,
    dissolve,
    simplify_bands,
    to_multipolygons,
    transformer,
    zone_of,
)
from geodata.polygons import assign_polygons
from geodata.topology import as_multipolygon, clean_coverage

log = logging.getLogger(__name__)

BUILD_VERSION = "4"  # bump when the build's output changes for the same inputs
GEOM_COLUMNS = ("geom", "geom_3857", *BANDS)
LAYERS = ("region", "departement", "epci", "bassin_de_vie")


@dataclass(frozen=True)
class SourceSet:
    """Everything the build reads, whatever its origin (registries or official files)."""

    cog_year: int
    population_year: int
    geometry_vintage: str
    decoupage: dict[str, list[dict[str, Any]]]
    polygons: pd.DataFrame      # code, type, parent, geometry (shapely, WGS84, or None)
    zonings: pd.DataFrame
    zoning_labels: pd.DataFrame
    descriptions: list[dict[str, str]]
    population_override: dict[str, int] | None = None  # INSEE table given with --source

    def release_sources(self) -> list[dict[str, str]]:
        """What a release records of its inputs: each source and the build version."""
        return [*self.descriptions, {"name": "build", "version": BUILD_VERSION}]

    def fingerprint(self) -> str:
        return json.dumps(self.release_sources(), sort_keys=True)


@dataclass
class BuildReport:
    steps: dict[str, float] = field(default_factory=dict)
    counts: dict[str, Any] = field(default_factory=dict)
    topology: dict[str, dict[str, Any]] = field(default_factory=dict)
    rebuilt_from_predecessors: dict[str, list[str]] = field(default_factory=dict)
    without_polygon: dict[str, str] = field(default_factory=dict)
    outside_map: list[dict[str, Any]] = field(default_factory=list)
    # Holes on land given to a commune, and places left outside every commune, by zone.
    holes: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    outside_communes: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Built:
    units: pd.DataFrame                 # communes and ARM, geometry columns as shapely objects
    layers: dict[str, pd.DataFrame]     # code, nom, (region|type), geometry columns
    adjacency: pd.DataFrame
    history: pd.DataFrame
    outside_map: pd.DataFrame
    report: BuildReport


class _Steps:
    def __init__(self, report: BuildReport, total: int, show: bool) -> None:
        self.report = report
        self.bar = tqdm(total=total, desc="géodonnées", unit="étape", disable=not show,
                        leave=True)

    @contextmanager
    def step(self, name: str) -> Iterator[None]:
        self.bar.set_postfix_str(name)
        started = time.perf_counter()
        yield
        self.report.steps[name] = round(time.perf_counter() - started, 2)
        self.bar.update(1)

    def close(self) -> None:
        self.bar.close()


def build(sources: SourceSet, *, show_progress: bool = True) -> Built:
    report = BuildReport()
    steps = _Steps(report, total=6, show=show_progress)
    try:
        return _build(sources, report, steps)
    finally:
        steps.close()


def _build(sources: SourceSet, report: BuildReport, steps: _Steps) -> Built:
    with steps.step("cog"):
        cog = cog_module.build_cog(sources.decoupage, sources.zonings, sources.zoning_labels,
                                   sources.population_year)
        units = cog.communes.copy()
        if sources.population_override is not None:
            _apply_population(units, sources.population_override, report)
        report.counts["communes"] = int((units["type"] == "COM").sum())
        report.counts["arrondissements"] = int((units["type"] == "ARM").sum())
        report.counts["history"] = len(cog.history)
        report.outside_map = [
            {str(k): (None if pd.isna(v) else v) for k, v in row.items()}
            for row in cog.outside_map.to_dict("records")
        ]

    with steps.step("reconciliation"):
        polygons, polygon_report = assign_polygons(units, sources.polygons, cog.history)
        units["source_geom"] = polygons
        report.counts["own_polygon"] = polygon_report.with_own_polygon
        report.rebuilt_from_predecessors = polygon_report.rebuilt_from_predecessors
        report.without_polygon = polygon_report.without_polygon
        units["polygon_note"] = units["code"].map(polygon_report.without_polygon)
        for code, parts in polygon_report.rebuilt_from_predecessors.items():
            units.loc[units["code"] == code, "polygon_note"] = (
                "Contour reconstitué par fusion des communes déléguées " + ", ".join(parts) + "."
            )
        units["zone"] = units["departement"].map(zone_of)

    local = np.full(len(units), None, dtype=object)
    bands = {band: np.full(len(units), None, dtype=object) for band in BANDS}
    adjacency_parts = []
    edge = np.full(len(units), np.nan)
    with steps.step("topologie"):
        for zone, epsg in ZONE_CRS.items():
            rows = np.flatnonzero(((units["zone"] == zone) & units["is_unit"]
                                   & units["source_geom"].notna()).to_numpy())
            if not len(rows):
                continue
            projected = transformer(4326, epsg)(units["source_geom"].to_numpy()[rows])
            codes = units["code"].to_numpy()[rows].astype(str)
            cleaned, topo, left = clean_coverage(projected, codes)
            holes_started = time.perf_counter()
            hints = (holes_module.hints_for(sources.polygons, units, cog.history, zone, epsg)
                     if len(left) else holes_module.HoleHints())
            decisions = holes_module.decide(left, cleaned, codes, hints)
            cleaned = holes_module.fill(cleaned, codes, left, decisions, as_multipolygon)
            _record_holes(report, units, zone, epsg, decisions, hints.names)
            report.topology[zone] = asdict(topo) | {
                "epsg": epsg, "units": len(rows),
                "holes_seconds": round(time.perf_counter() - holes_started, 2),
                "holes_filled": sum(d.code is not None for d in decisions),
                "holes_area_filled_m2": sum(d.area_m2 for d in decisions if d.code is not None),
                "holes_left": sum(d.code is None for d in decisions)}
            local[rows] = cleaned
            pairs = adjacency(codes, cleaned)
            adjacency_parts.append(pairs)
            # The part of each boundary shared with no other unit: coast or national border.
            shared = pairs.groupby("code")["border_m"].sum()
            outline = shapely.length(shapely.boundary(cleaned))
            edge[rows] = np.maximum(
                0.0, outline - pd.Series(codes).map(shared).fillna(0.0).to_numpy())

    with steps.step("généralisation"):
        for zone in ZONE_CRS:
            rows = np.flatnonzero(((units["zone"] == zone) & units["is_unit"]).to_numpy())
            rows = rows[np.array([local[i] is not None for i in rows], dtype=bool)]
            if not len(rows):
                continue
            for band, geoms in simplify_bands(local[rows]).items():
                bands[band][rows] = geoms
        # Paris, Lyon and Marseille: the commune is the union of its arrondissements.
        for plm in cog_module.PLM_COMMUNES:
            arm_rows = np.flatnonzero((units["parent"] == plm).to_numpy())
            plm_row = np.flatnonzero((units["code"] == plm).to_numpy())
            if len(arm_rows) and len(plm_row):
                local[plm_row[0]] = shapely.coverage_union_all(local[arm_rows])
                for band in BANDS:
                    bands[band][plm_row[0]] = shapely.coverage_union_all(bands[band][arm_rows])
        report.counts["vertices"] = {
            "full": int(shapely.get_num_coordinates(local[units["is_unit"].to_numpy()]
                                                    .tolist()).sum()),
            **{band: int(shapely.get_num_coordinates(
                bands[band][units["is_unit"].to_numpy()].tolist()).sum()) for band in BANDS},
        }

    with steps.step("projections"):
        has = np.array([g is not None for g in local], dtype=bool)
        area = np.full(len(units), np.nan)
        area[has] = shapely.area(local[has].tolist())
        units["area_m2"] = area
        units["edge_m"] = edge
        units["geom"] = None
        units["geom_3857"] = None
        units["point"] = None
        for band in BANDS:
            units[band] = None
        for zone, epsg in ZONE_CRS.items():
            rows = np.flatnonzero(((units["zone"] == zone).to_numpy()) & has)
            if not len(rows):
                continue
            index = units.index[rows]
            to_wgs84, to_mercator = transformer(epsg, 4326), transformer(epsg, 3857)
            units.loc[index, "geom"] = to_multipolygons(to_wgs84(local[rows]))
            units.loc[index, "geom_3857"] = to_multipolygons(to_mercator(local[rows]))
            units.loc[index, "point"] = to_wgs84(
                np.asarray(shapely.point_on_surface(local[rows].tolist()), dtype=object))
            for band in BANDS:
                units.loc[index, band] = to_multipolygons(to_mercator(bands[band][rows]))
        units = units.drop(columns=["source_geom", "zone"])

    with steps.step("couches"):
        layers = _layer_frames(cog, units)
        adjacency_frame = (pd.concat(adjacency_parts, ignore_index=True)
                           if adjacency_parts else pd.DataFrame(
                               columns=["code", "neighbour", "border_m"]))
        report.counts["adjacency_pairs"] = len(adjacency_frame) // 2
        report.counts["layers"] = {name: len(frame) for name, frame in layers.items()}
        report.counts["with_polygon"] = int(units["geom"].notna().sum())

    return Built(units, layers, adjacency_frame, cog.history, cog.outside_map, report)


def _record_holes(report: BuildReport, units: pd.DataFrame, zone: str, epsg: int,
                  decisions: list[holes_module.HoleDecision], former: Mapping[str, str]) -> None:
    """Every hole in the report, and a `polygon_note` on each commune that received some."""
    names = dict(zip(units["code"], units["nom"], strict=True))
    if not decisions:
        report.holes[zone], report.outside_communes[zone] = [], []
        return
    points = transformer(epsg, 4326)(np.asarray([d.point for d in decisions], dtype=object))
    filled: list[dict[str, Any]] = []
    outside: list[dict[str, Any]] = []
    for decision, point in zip(decisions, points, strict=True):
        entry = {"code": decision.code, "nom": names.get(decision.code or ""),
                 "rule": decision.rule, "area_m2": round(decision.area_m2, 1),
                 "lon": round(float(point.x), 5), "lat": round(float(point.y), 5),
                 "evidence": decision.evidence,
                 "neighbours": {c: round(m, 1) for c, m in sorted(
                     decision.neighbours.items(), key=lambda kv: -kv[1])}}
        (filled if decision.code is not None else outside).append(entry)
    report.holes[zone] = sorted(filled, key=lambda e: -e["area_m2"])
    report.outside_communes[zone] = sorted(outside, key=lambda e: -e["area_m2"])
    by_code: dict[str, list[holes_module.HoleDecision]] = {}
    for decision in decisions:
        if decision.code is not None:
            by_code.setdefault(decision.code, []).append(decision)
    for code, received in by_code.items():
        row = units.index[units["code"] == code][0]
        sentence = holes_module.note(received, former)
        before = units.at[row, "polygon_note"]
        units.at[row, "polygon_note"] = (sentence if not isinstance(before, str)
                                         else f"{before} {sentence}")


def _apply_population(units: pd.DataFrame, table: dict[str, int], report: BuildReport) -> None:
    known = units["code"].isin(table.keys())
    units.loc[known, "population"] = units.loc[known, "code"].map(table).astype(int)
    missing = units.loc[~known & (units["type"] == "COM") & units["is_unit"], "code"]
    report.counts["population_missing_in_table"] = sorted(missing)[:50]
    plm = units[units["type"] == "ARM"].groupby("parent")["population"].sum()
    units.loc[units["code"].isin(plm.index), "population"] = units["code"].map(plm)


def _layer_frames(cog: cog_module.Cog, units: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Reference layers dissolved from the units (a transformed coverage is still exact)."""
    attributes = {
        "region": cog.regions, "departement": cog.departements, "epci": cog.epci,
        "bassin_de_vie": cog.bassins_de_vie,
    }
    drawn = units[units["is_unit"] & units["geom"].notna()].reset_index(drop=True)
    frames = {}
    for layer, table in attributes.items():
        frame = table.copy()
        for column in GEOM_COLUMNS:
            merged = dissolve(np.asarray(drawn[column], dtype=object), drawn[layer])
            frame[column] = list(to_multipolygons(np.asarray(
                [merged.get(code) for code in frame["code"]], dtype=object)))
        frames[layer] = frame
    return frames


def save(built: Built, directory: Path) -> None:
    """Write a build to `directory` (GeoParquet-like: geometries as WKB columns)."""
    directory.mkdir(parents=True, exist_ok=True)
    _to_wkb(built.units, (*GEOM_COLUMNS, "point")).to_parquet(directory / "units.parquet")
    for name, frame in built.layers.items():
        _to_wkb(frame, GEOM_COLUMNS).to_parquet(directory / f"layer_{name}.parquet")
    built.adjacency.to_parquet(directory / "adjacency.parquet")
    built.history.to_parquet(directory / "history.parquet")
    built.outside_map.to_parquet(directory / "outside_map.parquet")
    (directory / "report.json").write_text(json.dumps(built.report.as_dict(), default=str))


def restore(directory: Path) -> Built | None:
    if not (directory / "report.json").exists():
        return None
    report = BuildReport(**json.loads((directory / "report.json").read_text()))
    units = _from_wkb(pd.read_parquet(directory / "units.parquet"), (*GEOM_COLUMNS, "point"))
    layers = {name: _from_wkb(pd.read_parquet(directory / f"layer_{name}.parquet"), GEOM_COLUMNS)
              for name in LAYERS}
    return Built(
        units, layers, pd.read_parquet(directory / "adjacency.parquet"),
        pd.read_parquet(directory / "history.parquet"),
        pd.read_parquet(directory / "outside_map.parquet"), report,
    )


def _to_wkb(frame: pd.DataFrame, columns: tuple[str, ...]) -> pd.DataFrame:
    out = frame.copy()
    for column in columns:
        out[column] = [None if g is None else shapely.to_wkb(g) for g in frame[column]]
    return out


def _from_wkb(frame: pd.DataFrame, columns: tuple[str, ...]) -> pd.DataFrame:
    for column in columns:
        frame[column] = [None if b is None else shapely.from_wkb(b) for b in frame[column]]
    return frame
