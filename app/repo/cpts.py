"""SQL for CPTS, their versions, members, events and comments, and the size-rule table."""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import shapely
from psycopg import sql
from psycopg.types.json import Jsonb

from app.db import Conn
from app.domain.cpts_access import CptsReadScope
from app.domain.dissolve import dissolve
from app.domain.perimeter import Claim
from app.domain.size_rules import SizeRule


@dataclass(frozen=True)
class NewCptsRow:
    name: str
    status: str
    region: str
    siege_commune: str | None
    is_scenario: bool
    created_by: int | None
    stage_dates: dict[str, str]


@dataclass(frozen=True)
class VersionRow:
    cpts_id: int
    version: int
    author_id: int | None
    author_email: str | None
    reason: str | None
    effective_date: date
    name: str
    status: str
    archived: bool
    units: tuple[str, ...]
    added: list[str]
    removed: list[str]
    population: int
    population_year: int
    size_class: int
    size_rule: str
    outline: bytes | None
    outline_g1: bytes | None


@dataclass(frozen=True)
class MemberDiff:
    cpts_id: int
    added: list[str]
    removed: list[str]


@dataclass(frozen=True)
class EventRow:
    cpts_id: int
    kind: str
    from_status: str | None
    to_status: str | None
    version: int | None
    actor_id: int | None
    actor_email: str | None
    comment: str | None


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


def get_many(conn: Conn, ids: Sequence[int], *, for_update: bool = False
             ) -> dict[int, dict[str, Any]]:
    """CPTS by id; locked in id order with `for_update` (two writers never wait on each other
    in a cycle)."""
    statement = sql.SQL("SELECT {columns} FROM cpts c WHERE c.id = ANY(%s) ORDER BY c.id {lock}"
                        ).format(columns=CPTS_COLUMNS,
                                 lock=sql.SQL("FOR UPDATE" if for_update else ""))
    return {int(r["id"]): r for r in conn.execute(statement, (list(ids),)).fetchall()}


def members_many(conn: Conn, ids: Sequence[int]) -> dict[int, list[str]]:
    """The current units of each CPTS, in code order."""
    found: dict[int, list[str]] = {int(i): [] for i in ids}
    for r in conn.execute("SELECT cpts_id, code FROM cpts_member WHERE cpts_id = ANY(%s) "
                          "ORDER BY cpts_id, code", (list(ids),)).fetchall():
        found[int(r["cpts_id"])].append(r["code"])
    return found


def claims(conn: Conn, codes: Iterable[str], *, exclude: int | None,
           include_scenarios: bool) -> list[Claim]:
    """Other live CPTS whose current perimeter holds one of `codes` (one look-up by unit)."""
    rows = conn.execute(
        """SELECT m.code, c.id, c.name, c.status, c.is_scenario FROM cpts_member m
           JOIN cpts c ON c.id = m.cpts_id
           WHERE m.code = ANY(%s) AND c.archived_at IS NULL
             AND (%s::bigint IS NULL OR c.id <> %s) AND (%s OR NOT c.is_scenario)""",
        (list(codes), exclude, exclude, include_scenarios),
    ).fetchall()
    return [Claim(r["code"], int(r["id"]), r["name"], r["status"], r["is_scenario"])
            for r in rows]


def insert_many(conn: Conn, rows: Sequence[NewCptsRow]) -> list[int]:
    """New CPTS (current version 1); their ids in the order of `rows`."""
    with conn.cursor() as cur:
        cur.executemany(
            """INSERT INTO cpts (name, status, region, siege_commune, is_scenario, created_by,
                                 stage_dates)
               VALUES (%s, %s, %s, %s, %s, %s, %s) RETURNING id""",
            [(r.name, r.status, r.region, r.siege_commune, r.is_scenario, r.created_by,
              Jsonb(r.stage_dates)) for r in rows],
            returning=True)
        return [int(row["id"]) for _ in cur.results() for row in cur.fetchall()]


STATE_COLUMNS = frozenset({"name", "status", "version", "validated_version", "submitted_at",
                           "pending_status", "archived_at", "stage_dates", "region",
                           "siege_commune"})


def update_states(conn: Conn, updates: Sequence[tuple[int, dict[str, Any]]]) -> None:
    """Set columns of `cpts` rows (names are this module's constants, never user input); one
    statement for all the rows that set the same columns."""
    by_columns: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for cpts_id, fields in updates:
        assert set(fields) <= STATE_COLUMNS
        values = {k: Jsonb(v) if k == "stage_dates" else v for k, v in fields.items()}
        by_columns.setdefault(tuple(sorted(fields)), []).append(values | {"id": cpts_id})
    for columns, rows in by_columns.items():
        assignments = sql.SQL(", ").join(
            sql.SQL("{} = {}").format(sql.Identifier(column), sql.Placeholder(column))
            for column in columns)
        with conn.cursor() as cur:
            cur.executemany(
                sql.SQL("UPDATE cpts SET {} WHERE id = %(id)s").format(assignments), rows)


def update_state(conn: Conn, cpts_id: int, **fields: Any) -> None:
    update_states(conn, [(cpts_id, fields)])


def _union_wkb(pieces: list[bytes]) -> bytes | None:
    if not pieces:
        return None
    merged = dissolve(shapely.from_wkb(pieces))
    if isinstance(merged, shapely.Polygon):
        merged = shapely.MultiPolygon([merged])
    return bytes(shapely.to_wkb(merged))


# Outlines dissolved per query: bounds the memory of the unit polygons held at once.
OUTLINE_BATCH = 200


def dissolved_outlines(conn: Conn, groups: Sequence[Sequence[str]]
                       ) -> list[tuple[bytes | None, bytes | None]]:
    """The outline of each set of units, at full detail and in the zoom 0-6 band (WGS84).
    Units form an exact coverage in each band, so an edge-based union in Shapely is enough,
    and much faster than ST_Union."""
    outlines: list[tuple[bytes | None, bytes | None]] = []
    for first in range(0, len(groups), OUTLINE_BATCH):
        batch = groups[first:first + OUTLINE_BATCH]
        rows = conn.execute(
            """SELECT code, ST_AsBinary(geom) AS full,
                      ST_AsBinary(ST_Transform(geom_g1, 4326)) AS g1
               FROM commune WHERE code = ANY(%s) AND geom IS NOT NULL""",
            (sorted({code for group in batch for code in group}),)).fetchall()
        polygons = {r["code"]: (r["full"], r["g1"]) for r in rows}
        for group in batch:
            found = [polygons[code] for code in group if code in polygons]
            outlines.append((_union_wkb([full for full, _ in found]),
                             _union_wkb([g1 for _, g1 in found if g1 is not None])))
    return outlines


def insert_versions(conn: Conn, rows: Sequence[VersionRow]) -> None:
    """New versions, each with its outline and its light outline for the national map."""
    with conn.cursor() as cur:
        cur.executemany(
            """INSERT INTO cpts_version (cpts_id, version, author_id, author_email, reason,
                   effective_date, name, status, archived, units, added, removed, population,
                   population_year, size_class, size_rule, outline, outline_g1)
               VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s,
                       ST_SetSRID(ST_GeomFromWKB(%s), 4326),
                       ST_SetSRID(ST_GeomFromWKB(%s), 4326))""",
            [(r.cpts_id, r.version, r.author_id, r.author_email, r.reason, r.effective_date,
              r.name, r.status, r.archived, list(r.units), r.added, r.removed, r.population,
              r.population_year, r.size_class, r.size_rule, r.outline, r.outline_g1)
             for r in rows])


def apply_member_diffs(conn: Conn, diffs: Sequence[MemberDiff]) -> None:
    """Bring `cpts_member` in line with new versions: one statement for each direction."""
    removed = [(d.cpts_id, code) for d in diffs for code in d.removed]
    added = [(d.cpts_id, code) for d in diffs for code in d.added]
    if removed:
        conn.execute(
            """DELETE FROM cpts_member m USING unnest(%s::bigint[], %s::text[]) AS r(id, code)
               WHERE m.cpts_id = r.id AND m.code = r.code""",
            ([i for i, _ in removed], [c for _, c in removed]))
    if added:
        conn.execute("INSERT INTO cpts_member (cpts_id, code) "
                     "SELECT * FROM unnest(%s::bigint[], %s::text[])",
                     ([i for i, _ in added], [c for _, c in added]))


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


def add_events(conn: Conn, rows: Sequence[EventRow]) -> list[int]:
    """Dated steps in the history of CPTS; their ids in the order of `rows`."""
    with conn.cursor() as cur:
        cur.executemany(
            """INSERT INTO cpts_event (cpts_id, kind, from_status, to_status, version, actor_id,
                                       actor_email, comment)
               VALUES (%s, %s, %s, %s, %s, %s, %s, %s) RETURNING id""",
            [(r.cpts_id, r.kind, r.from_status, r.to_status, r.version, r.actor_id,
              r.actor_email, r.comment) for r in rows],
            returning=True)
        return [int(row["id"]) for _ in cur.results() for row in cur.fetchall()]


def add_event(conn: Conn, *, cpts_id: int, kind: str, from_status: str | None,
              to_status: str | None, version: int | None, actor_id: int | None,
              actor_email: str | None, comment: str | None) -> int:
    return add_events(conn, [EventRow(cpts_id, kind, from_status, to_status, version, actor_id,
                                      actor_email, comment)])[0]


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
            statuses: list[str] | None, include_archived: bool) -> list[dict[str, Any]]:
    """CPTS the scope lets the user read, with current population and class (the SQL form of
    `app.domain.cpts_access.cpts_visibility`, at least the outline for carriers' overlapping
    drafts being left to the detail read)."""
    # Which CPTS touch a region or a département is asked once per listing (hashed), not once
    # per CPTS: the perimeters follow the current COG through `cpts_member` and `commune`.
    return conn.execute(
        sql.SQL("""
        WITH touching_scope AS MATERIALIZED (
            SELECT DISTINCT m.cpts_id FROM cpts_member m JOIN commune u ON u.code = m.code
            WHERE u.region = ANY(%(regions)s)
        ), touching_region AS MATERIALIZED (
            SELECT DISTINCT m.cpts_id FROM cpts_member m JOIN commune u ON u.code = m.code
            WHERE u.region = %(region)s
        ), touching_departement AS MATERIALIZED (
            SELECT DISTINCT m.cpts_id FROM cpts_member m JOIN commune u ON u.code = m.code
            WHERE u.departement = %(dep)s
        )
        SELECT {columns}, v.population, v.population_year, v.size_class, v.size_rule,
               cardinality(v.units) AS units, v.outline IS NOT NULL AS has_outline
        FROM cpts c
        JOIN cpts_version v ON v.cpts_id = c.id AND v.version = c.version
        WHERE (%(archived)s OR c.archived_at IS NULL)
          AND (%(statuses)s::text[] IS NULL OR c.status = ANY(%(statuses)s))
          AND (%(region)s::text IS NULL OR c.region = %(region)s
               OR c.id IN (SELECT cpts_id FROM touching_region))
          AND (%(dep)s::text IS NULL OR c.id IN (SELECT cpts_id FROM touching_departement))
          AND CASE WHEN c.is_scenario
                   THEN %(all_scenarios)s OR c.region = ANY(%(scenario_regions)s)
                   ELSE c.id = ANY(%(members)s)
                     OR (c.status = ANY(%(visible)s) AND (%(regions)s::text[] IS NULL
                         OR c.region = ANY(%(regions)s)
                         OR c.id IN (SELECT cpts_id FROM touching_scope)))
                     OR (%(submitted)s AND c.status = 'pre_projet' AND c.submitted_at IS NOT NULL
                         AND (c.region = ANY(%(regions)s)
                              OR c.id IN (SELECT cpts_id FROM touching_scope)))
              END
        ORDER BY c.name, c.id
        """).format(columns=CPTS_COLUMNS),
        {
            "archived": include_archived, "statuses": statuses, "region": region,
            "dep": departement, "members": sorted(scope.member_ids),
            "visible": sorted(scope.statuses),
            "regions": None if scope.regions is None else sorted(scope.regions),
            "submitted": scope.submitted_drafts,
            "all_scenarios": scope.scenario_regions is None,
            "scenario_regions": sorted(scope.scenario_regions or ()),
        },
    ).fetchall()
