"""SQL for CPTS, their versions, members, events and comments, and the size-rule table."""

from collections.abc import Iterable
from datetime import date
from typing import Any

import shapely
from psycopg import sql
from psycopg.types.json import Jsonb

from app.auth.policy import CptsReadScope
from app.db import Conn
from app.domain.perimeter import Claim
from app.domain.size_rules import SizeRule

CPTS_COLUMNS = sql.SQL("""
    c.id, c.name, c.status, c.region, c.siege_commune, c.is_scenario, c.version,
    c.validated_version, c.submitted_at, c.pending_status, c.archived_at, c.stage_dates,
    c.created_at
""")


def size_rules(conn: Conn) -> list[SizeRule]:
    rows = conn.execute("SELECT * FROM size_rule ORDER BY valid_from").fetchall()
    return [
        SizeRule(id=r["id"], label=r["label"], thresholds=tuple(r["thresholds"]),
                 lower_bound_inclusive=r["lower_bound_inclusive"],
                 ceilings_eur=tuple(r["ceilings_eur"]), source=r["source"],
                 valid_from=r["valid_from"], valid_to=r["valid_to"])
        for r in rows
    ]


def get(conn: Conn, cpts_id: int, *, for_update: bool = False) -> dict[str, Any] | None:
    statement = sql.SQL("SELECT {columns} FROM cpts c WHERE c.id = %s {lock}").format(
        columns=CPTS_COLUMNS, lock=sql.SQL("FOR UPDATE" if for_update else ""))
    return conn.execute(statement, (cpts_id,)).fetchone()


def members(conn: Conn, cpts_id: int) -> list[str]:
    rows = conn.execute(
        "SELECT code FROM cpts_member WHERE cpts_id = %s ORDER BY code", (cpts_id,)).fetchall()
    return [r["code"] for r in rows]


def member_regions(conn: Conn, cpts_id: int) -> list[str]:
    rows = conn.execute(
        """SELECT DISTINCT u.region FROM cpts_member m JOIN commune u ON u.code = m.code
           WHERE m.cpts_id = %s ORDER BY 1""", (cpts_id,)).fetchall()
    return [r["region"] for r in rows]


def overlapping_ids(conn: Conn, cpts_id: int) -> list[int]:
    rows = conn.execute(
        """SELECT DISTINCT o.cpts_id FROM cpts_member m
           JOIN cpts_member o ON o.code = m.code AND o.cpts_id <> m.cpts_id
           JOIN cpts c ON c.id = o.cpts_id AND c.archived_at IS NULL
           WHERE m.cpts_id = %s""", (cpts_id,)).fetchall()
    return [int(r["cpts_id"]) for r in rows]


def claims(conn: Conn, codes: Iterable[str], *, exclude: int | None,
           include_scenarios: bool) -> list[Claim]:
    """Other live CPTS whose current perimeter holds one of `codes`."""
    rows = conn.execute(
        """SELECT m.code, c.id, c.name, c.status FROM cpts_member m
           JOIN cpts c ON c.id = m.cpts_id
           WHERE m.code = ANY(%s) AND c.archived_at IS NULL
             AND (%s::bigint IS NULL OR c.id <> %s) AND (%s OR NOT c.is_scenario)""",
        (list(codes), exclude, exclude, include_scenarios),
    ).fetchall()
    return [Claim(r["code"], int(r["id"]), r["name"], r["status"]) for r in rows]


def insert(conn: Conn, *, name: str, status: str, region: str, siege_commune: str | None,
           is_scenario: bool, created_by: int | None, stage_dates: dict[str, str]) -> int:
    row = conn.execute(
        """INSERT INTO cpts (name, status, region, siege_commune, is_scenario, created_by,
                             stage_dates)
           VALUES (%s, %s, %s, %s, %s, %s, %s) RETURNING id""",
        (name, status, region, siege_commune, is_scenario, created_by, Jsonb(stage_dates)),
    ).fetchone()
    assert row is not None
    return int(row["id"])


def update_state(conn: Conn, cpts_id: int, **fields: Any) -> None:
    """Set columns of `cpts` (names are this module's constants, never user input)."""
    allowed = {"name", "status", "version", "validated_version", "submitted_at",
               "pending_status", "archived_at", "stage_dates", "region", "siege_commune"}
    assert set(fields) <= allowed
    assignments = sql.SQL(", ").join(
        sql.SQL("{} = {}").format(sql.Identifier(column), sql.Placeholder(column))
        for column in sorted(fields))
    values = {k: Jsonb(v) if k == "stage_dates" else v for k, v in fields.items()}
    conn.execute(sql.SQL("UPDATE cpts SET {} WHERE id = %(id)s").format(assignments),
                 values | {"id": cpts_id})


def _union_wkb(pieces: list[bytes]) -> bytes | None:
    if not pieces:
        return None
    merged = shapely.coverage_union_all(shapely.from_wkb(pieces))
    if isinstance(merged, shapely.Polygon):
        merged = shapely.MultiPolygon([merged])
    return bytes(shapely.to_wkb(merged))


def dissolved_outlines(conn: Conn, codes: list[str]) -> tuple[bytes | None, bytes | None]:
    """The outline of a set of units, at full detail and in the zoom 0-6 band (both WGS84).
    Units form an exact coverage in each band, so an edge-based union in Shapely is enough,
    and much faster than ST_Union."""
    rows = conn.execute(
        """SELECT ST_AsBinary(geom) AS full, ST_AsBinary(ST_Transform(geom_g1, 4326)) AS g1
           FROM commune WHERE code = ANY(%s) AND geom IS NOT NULL""", (codes,)).fetchall()
    return (_union_wkb([r["full"] for r in rows]),
            _union_wkb([r["g1"] for r in rows if r["g1"] is not None]))



def insert_version(conn: Conn, *, cpts_id: int, version: int, author_id: int | None,
                   author_email: str | None, reason: str | None, effective_date: date,
                   name: str, status: str, archived: bool, units: list[str], added: list[str],
                   removed: list[str], population: int, population_year: int, size_class: int,
                   size_rule: str, outline: bytes | None, outline_g1: bytes | None) -> None:
    """A new version with its outline and its light outline for the national map."""
    conn.execute(
        """INSERT INTO cpts_version (cpts_id, version, author_id, author_email, reason,
               effective_date, name, status, archived, units, added, removed, population,
               population_year, size_class, size_rule, outline, outline_g1)
           VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s,
                   ST_SetSRID(ST_GeomFromWKB(%s), 4326), ST_SetSRID(ST_GeomFromWKB(%s), 4326))""",
        (cpts_id, version, author_id, author_email, reason, effective_date, name, status,
         archived, units, added, removed, population, population_year, size_class, size_rule,
         outline, outline_g1),
    )


def apply_member_diff(conn: Conn, cpts_id: int, added: list[str], removed: list[str]) -> None:
    if removed:
        conn.execute("DELETE FROM cpts_member WHERE cpts_id = %s AND code = ANY(%s)",
                     (cpts_id, removed))
    if added:
        conn.execute("INSERT INTO cpts_member (cpts_id, code) SELECT %s, unnest(%s::text[])",
                     (cpts_id, added))


def versions(conn: Conn, cpts_id: int) -> list[dict[str, Any]]:
    return conn.execute(
        """SELECT version, created_at, author_email, reason, effective_date, name, status,
                  archived, cardinality(units) AS units, added, removed, population,
                  population_year, size_class, size_rule
           FROM cpts_version WHERE cpts_id = %s ORDER BY version""", (cpts_id,)).fetchall()


def version_units(conn: Conn, cpts_id: int, version: int) -> list[str] | None:
    row = conn.execute("SELECT units FROM cpts_version WHERE cpts_id = %s AND version = %s",
                       (cpts_id, version)).fetchone()
    return None if row is None else list(row["units"])


def outline_geojson(conn: Conn, cpts_id: int) -> dict[str, Any] | None:
    row = conn.execute(
        """SELECT ST_AsGeoJSON(v.outline, 6)::json AS geometry FROM cpts c
           JOIN cpts_version v ON v.cpts_id = c.id AND v.version = c.version
           WHERE c.id = %s""", (cpts_id,)).fetchone()
    return None if row is None else row["geometry"]


def add_event(conn: Conn, *, cpts_id: int, kind: str, from_status: str | None,
              to_status: str | None, version: int | None, actor_id: int | None,
              actor_email: str | None, comment: str | None) -> int:
    row = conn.execute(
        """INSERT INTO cpts_event (cpts_id, kind, from_status, to_status, version, actor_id,
                                   actor_email, comment)
           VALUES (%s, %s, %s, %s, %s, %s, %s, %s) RETURNING id""",
        (cpts_id, kind, from_status, to_status, version, actor_id, actor_email, comment),
    ).fetchone()
    assert row is not None
    return int(row["id"])


def add_comment(conn: Conn, *, cpts_id: int, event_id: int | None, code: str | None, body: str,
                author_id: int | None) -> None:
    conn.execute(
        "INSERT INTO cpts_comment (cpts_id, event_id, code, body, author_id) "
        "VALUES (%s, %s, %s, %s, %s)", (cpts_id, event_id, code, body, author_id))


def events(conn: Conn, cpts_id: int) -> list[dict[str, Any]]:
    return conn.execute(
        """SELECT e.id, e.at, e.kind, e.from_status, e.to_status, e.version, e.actor_email,
                  e.comment,
                  coalesce(json_agg(json_build_object('commune', k.code, 'body', k.body)
                                    ORDER BY k.id) FILTER (WHERE k.id IS NOT NULL), '[]')
                      AS comments
           FROM cpts_event e LEFT JOIN cpts_comment k ON k.event_id = e.id
           WHERE e.cpts_id = %s GROUP BY e.id ORDER BY e.at, e.id""", (cpts_id,)).fetchall()


def add_member_user(conn: Conn, user_id: int, cpts_id: int) -> None:
    conn.execute("INSERT INTO user_cpts (user_id, cpts_id) VALUES (%s, %s) ON CONFLICT DO NOTHING",
                 (user_id, cpts_id))


def listing(conn: Conn, scope: CptsReadScope, *, region: str | None, departement: str | None,
            statuses: list[str] | None, include_archived: bool,
            scenario_regions: frozenset[str] | None) -> list[dict[str, Any]]:
    """CPTS the scope lets the user read, with current population and class.

    `scenario_regions`: regions whose agency scenarios are listed (None: all, empty: none).
    """
    return conn.execute(
        sql.SQL("""
        SELECT {columns}, v.population, v.population_year, v.size_class, v.size_rule,
               cardinality(v.units) AS units, v.outline IS NOT NULL AS has_outline
        FROM cpts c
        JOIN cpts_version v ON v.cpts_id = c.id AND v.version = c.version
        WHERE (%(archived)s OR c.archived_at IS NULL)
          AND (%(statuses)s::text[] IS NULL OR c.status = ANY(%(statuses)s))
          AND (%(region)s::text IS NULL OR c.region = %(region)s OR EXISTS (
                SELECT 1 FROM cpts_member m JOIN commune u ON u.code = m.code
                WHERE m.cpts_id = c.id AND u.region = %(region)s))
          AND (%(dep)s::text IS NULL OR EXISTS (
                SELECT 1 FROM cpts_member m JOIN commune u ON u.code = m.code
                WHERE m.cpts_id = c.id AND u.departement = %(dep)s))
          AND (NOT c.is_scenario OR %(all_scenarios)s OR c.region = ANY(%(scenario_regions)s))
          AND (
                c.id = ANY(%(members)s)
             OR (c.status = ANY(%(visible)s) AND (%(regions)s::text[] IS NULL
                 OR c.region = ANY(%(regions)s) OR EXISTS (
                    SELECT 1 FROM cpts_member m JOIN commune u ON u.code = m.code
                    WHERE m.cpts_id = c.id AND u.region = ANY(%(regions)s))))
             OR (%(submitted)s AND c.status = 'pre_projet' AND c.submitted_at IS NOT NULL
                 AND (c.region = ANY(%(regions)s) OR EXISTS (
                    SELECT 1 FROM cpts_member m JOIN commune u ON u.code = m.code
                    WHERE m.cpts_id = c.id AND u.region = ANY(%(regions)s))))
          )
        ORDER BY c.name, c.id
        """).format(columns=CPTS_COLUMNS),
        {
            "archived": include_archived, "statuses": statuses, "region": region,
            "dep": departement, "members": sorted(scope.member_ids),
            "visible": sorted(scope.statuses),
            "regions": None if scope.regions is None else sorted(scope.regions),
            "submitted": scope.submitted_drafts,
            "all_scenarios": scenario_regions is None,
            "scenario_regions": sorted(scenario_regions or ()),
        },
    ).fetchall()
