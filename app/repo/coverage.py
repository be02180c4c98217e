"""SQL of coverage: the perimeters as they stood on a day, names of areas, unit geometries."""

from datetime import date
from typing import Any

from psycopg import sql

from app.db import Conn

# Tables holding the names of the scopes of an analysis (fixed names, never user input).
SCOPE_TABLES = {"region": "region", "departement": "departement", "epci": "epci"}


def perimeters_at(conn: Conn, day: date) -> list[dict[str, Any]]:
    """Every CPTS (never an agency scenario) as it stood on `day`.

    Its last version (highest number) effective on or before `day`, unless that version
    archived it; with the stage and units of that version, the day it was submitted to the
    agency (`submitted_on`), and what access rules need now: current status and region, and the
    units of the current version when it is another one (`current_units`, else NULL).
    Served by the index `cpts_version_effective`.
    """
    return conn.execute(
        """
        SELECT last.cpts_id, last.name, last.status, last.units, last.submitted_on,
               last.current_status, last.region, last.is_submitted, cur.units AS current_units
        FROM (
            SELECT DISTINCT ON (v.cpts_id)
                   v.cpts_id, v.version, v.name, v.status, v.archived, v.units,
                   c.submitted_at::date AS submitted_on, c.submitted_at IS NOT NULL
                   AS is_submitted, c.status AS current_status, c.region,
                   c.version AS current_version
            FROM cpts_version v
            JOIN cpts c ON c.id = v.cpts_id
            WHERE v.effective_date <= %(day)s AND NOT c.is_scenario
            ORDER BY v.cpts_id, v.version DESC
        ) last
        LEFT JOIN cpts_version cur
               ON cur.cpts_id = last.cpts_id AND cur.version = last.current_version
              AND last.current_version <> last.version
        WHERE NOT last.archived
        ORDER BY last.cpts_id
        """,
        {"day": day},
    ).fetchall()


def perimeters_stamp(conn: Conn) -> tuple[int, int]:
    """Changes whenever what `perimeters_at` reads may have changed: versions are append-only
    (their count grows with every change), and any update of a `cpts` row gives it a new
    transaction id (`xmin`), which changes the sum."""
    row = conn.execute(
        """SELECT (SELECT count(*) FROM cpts_version) AS versions,
                  (SELECT coalesce(sum(xmin::text::bigint), 0) FROM cpts) AS states"""
    ).fetchone()
    assert row is not None
    return int(row["versions"]), int(row["states"])


def scope_name(conn: Conn, kind: str, code: str) -> str | None:
    table = SCOPE_TABLES.get(kind)
    if table is None:
        return None
    row = conn.execute(
        sql.SQL("SELECT nom FROM {} WHERE code = %s").format(sql.Identifier(table)), (code,)
    ).fetchone()
    return None if row is None else str(row["nom"])


def departement_names(conn: Conn) -> dict[str, str]:
    return {r["code"]: r["nom"] for r in conn.execute("SELECT code, nom FROM departement")}


def unit_geometries(conn: Conn, codes: list[str]) -> dict[str, bytes]:
    """WKB (WGS84) of the units among `codes` that have a polygon."""
    rows = conn.execute(
        "SELECT code, ST_AsBinary(geom) AS wkb FROM commune "
        "WHERE code = ANY(%s) AND geom IS NOT NULL", (codes,)).fetchall()
    return {r["code"]: bytes(r["wkb"]) for r in rows}
