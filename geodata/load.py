"""Write a build into PostGIS: the whole release replaced in one transaction, and the stored
perimeters migrated to its COG in the same transaction (`app.services.cog_migration`).

Readers keep seeing the previous release until the transaction commits; an interrupted load
leaves the previous release serving, and the perimeters as they were.
"""

import logging
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import shapely
from psycopg import sql
from psycopg.types.json import Jsonb

from app.db import Conn
from app.errors import ProblemError
from app.repo import cog_migration as cog_repo
from app.repo import tiles
from app.services import cog_migration
from geodata.build import LAYERS, Built, SourceSet
from geodata.generalize import BANDS

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Scope:
    """Which part of the country to load: all, or départements (régions are expanded)."""

    departements: tuple[str, ...] | None  # None: everything

    def describe(self) -> dict[str, Any]:
        if self.departements is None:
            return {"all": True}
        return {"all": False, "departements": list(self.departements)}


def resolve_scope(built: Built, departements: Sequence[str], regions: Sequence[str],
                  everything: bool) -> Scope:
    units = built.units
    known_deps = set(units["departement"])
    known_regions = set(units["region"])
    unknown = [d for d in departements if d not in known_deps] + [
        r for r in regions if r not in known_regions]
    if unknown:
        raise ProblemError(
            400, "unknown_area",
            "Département(s) ou région(s) inconnu(s) : " + ", ".join(unknown) + ".",
        )
    if everything or (not departements and not regions):
        return Scope(None)
    chosen = set(departements) | set(units.loc[units["region"].isin(regions), "departement"])
    return Scope(tuple(sorted(chosen)))


def _hex(geom: shapely.Geometry | None, srid: int) -> str | None:
    if geom is None:
        return None
    return str(shapely.to_wkb(shapely.set_srid(geom, srid), hex=True, include_srid=True))


def _copy(conn: Conn, table: str, columns: Sequence[str], types: Sequence[str],
          rows: Iterable[Sequence[Any]]) -> int:
    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(table), sql.SQL(", ").join(map(sql.Identifier, columns)))
    count = 0
    with conn.cursor().copy(statement) as copy:
        copy.set_types(list(types))
        for row in rows:
            copy.write_row(row)
            count += 1
    return count


GEOM_SRID = {"geom": 4326, "geom_3857": 3857, **dict.fromkeys(BANDS, 3857)}
_UNIT_COLUMNS = (
    "code", "nom", "type", "parent", "is_unit", "departement", "region", "epci", "bassin_de_vie",
    "codes_postaux", "population", "population_year", "area_m2", "edge_m", "has_polygon",
    "polygon_note",
)
_UNIT_TYPES = ("text", "text", "text", "text", "bool", "text", "text", "text", "text",
               "text[]", "int4", "int4", "float8", "float8", "bool", "text")


def _none(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, float) and np.isnan(value):
        return None
    return value


def _optional_int(value: Any) -> int | None:
    return None if value is None or pd.isna(value) else int(value)


def filter_scope(built: Built, scope: Scope) -> Built:
    if scope.departements is None:
        return built
    units = built.units[built.units["departement"].isin(scope.departements)].copy()
    codes = set(units["code"])
    inside = built.adjacency["code"].isin(codes)
    kept = built.adjacency["neighbour"].isin(codes)
    adjacency = built.adjacency[inside & kept]
    # A border with a unit that is not loaded counts as an outer edge.
    cut = built.adjacency[inside & ~kept].groupby("code")["border_m"].sum()
    units["edge_m"] = units["edge_m"] + units["code"].map(cut).fillna(0.0)
    layers = {}
    for name, frame in built.layers.items():
        used = set(units[name].dropna())
        layers[name] = frame[frame["code"].isin(used)]
    return Built(units, layers, adjacency, built.history, built.outside_map, built.report)


def migration_plan(conn: Conn, national: Built, cog_year: int,
                   before: cog_repo.CogBefore | None = None) -> cog_migration.Plan:
    """What the stored perimeters become under the COG of `national` (the whole build, not the
    loaded scope: a code is retired or restored nationally)."""
    units = national.units[national.units["is_unit"]]
    names = dict(zip(national.history["old_code"], national.history["old_nom"], strict=True))
    names = {k: v for k, v in names.items() if isinstance(v, str)}
    names |= dict(zip(units["code"], units["nom"], strict=True))
    return cog_migration.plan_for(
        conn, before or cog_repo.read_before(conn), cog_year=cog_year,
        units=dict(zip(units["code"], units["population"].astype(int), strict=True)),
        names=names,
        history=list(zip(national.history["old_code"], national.history["new_code"],
                         strict=True)))


def write_release(conn: Conn, built: Built, sources: SourceSet, scope: Scope,
                  report: dict[str, Any], national: Built | None = None) -> int:
    """Replace the geodata by `built` and migrate the stored perimeters to its COG, in one
    transaction; returns the new release id."""
    units = built.units
    with conn.transaction():
        before = cog_repo.read_before(conn)
        for table in ("unit_adjacency", "commune_history", "commune_outside_map", "commune",
                      *LAYERS):
            conn.execute(sql.SQL("DELETE FROM {}").format(sql.Identifier(table)))

        geom_columns = tuple(GEOM_SRID)
        rows = (
            [
                *(_none(record[c]) for c in _UNIT_COLUMNS[:9]),
                list(record["codes_postaux"]),
                int(record["population"]), int(record["population_year"]),
                _none(record["area_m2"]), _none(record["edge_m"]), record["geom"] is not None,
                _none(record["polygon_note"]),
                *(_hex(record[c], GEOM_SRID[c]) for c in geom_columns),
                _hex(record["point"], 4326),
            ]
            for record in units.assign(has_polygon=units["geom"].notna()).to_dict("records")
        )
        counts = {"commune": _copy(
            conn, "commune", (*_UNIT_COLUMNS, *geom_columns, "point"),
            (*_UNIT_TYPES, *("text",) * (len(geom_columns) + 1)), rows)}

        for name, frame in built.layers.items():
            extra = {"departement": ("region",), "epci": ("type",)}.get(name, ())
            columns = ("code", "nom", *extra)
            counts[name] = _copy(
                conn, name, (*columns, *geom_columns), ("text",) * (len(columns) + len(
                    geom_columns)),
                ([*(record[c] for c in columns),
                  *(_hex(record[c], GEOM_SRID[c]) for c in geom_columns)]
                 for record in frame.to_dict("records")))

        counts["unit_adjacency"] = _copy(
            conn, "unit_adjacency", ("code", "neighbour", "border_m"), ("text", "text", "float8"),
            built.adjacency[["code", "neighbour", "border_m"]].itertuples(index=False))
        counts["commune_history"] = _copy(
            conn, "commune_history", ("old_code", "old_nom", "new_code", "kind"),
            ("text",) * 4,
            ([r.old_code, _none(r.old_nom), r.new_code, r.kind]
             for r in built.history.itertuples(index=False)))
        counts["commune_outside_map"] = _copy(
            conn, "commune_outside_map", ("code", "nom", "collectivite", "population"),
            ("text", "text", "text", "int4"),
            ([r["code"], r["nom"], r["collectivite"], _optional_int(r["population"])]
             for r in built.outside_map.to_dict("records")))

        conn.execute("UPDATE geodata_release SET is_current = false WHERE is_current")
        release = conn.execute(
            """
            INSERT INTO geodata_release (cog_year, population_year, geometry_vintage, sources,
                                         scope, report, is_current)
            VALUES (%s, %s, %s, %s, %s, %s, true) RETURNING id
            """,
            (sources.cog_year, sources.population_year, sources.geometry_vintage,
             Jsonb(sources.release_sources()), Jsonb(scope.describe()),
             Jsonb(report | {"loaded": counts})),
        ).fetchone()
        assert release is not None
        migration_started = time.perf_counter()
        plan = migration_plan(conn, national or built, sources.cog_year, before)
        report["migration"] = cog_migration.apply(conn, plan)
        report["migration"]["seconds"] = round(time.perf_counter() - migration_started, 2)
        conn.execute("UPDATE geodata_release SET report = report || %s WHERE id = %s",
                     (Jsonb({"migration": report["migration"]}), release["id"]))
        counts["tile_seed"] = tiles.seed(conn, int(release["id"]))
    report["loaded"] = counts
    return int(release["id"])


def current_release(conn: Conn) -> dict[str, Any] | None:
    return conn.execute(
        "SELECT id, cog_year, population_year, sources, scope, loaded_at "
        "FROM geodata_release WHERE is_current"
    ).fetchone()
