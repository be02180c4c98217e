"""SQL of bulk imports: former commune codes, département names, CPTS found by name (and the
locks that serialise their creation), and the share of each commune's area inside imported
polygons."""

from collections.abc import Sequence
from typing import Any

from app.db import Conn
from app.domain.import_matching import FormerCode


def former_codes(conn: Conn) -> list[FormerCode]:
    rows = conn.execute(
        "SELECT old_code, old_nom, new_code, kind FROM commune_history ORDER BY old_code, new_code"
    ).fetchall()
    return [FormerCode(r["old_code"], r["old_nom"], r["new_code"], r["kind"]) for r in rows]


def departements(conn: Conn) -> dict[str, str]:
    rows = conn.execute("SELECT code, nom FROM departement ORDER BY code").fetchall()
    return {r["code"]: r["nom"] for r in rows}


# Creation by name is serialised on the name: two imports of the same new CPTS must not both
# find it absent and both create it. Names share NAME_LOCK_SLOTS advisory locks (a hash
# collision only makes two imports wait for each other), so that a file of any number of names
# takes a bounded number of locks; they are taken in ascending order (no deadlock between
# imports) and held until the transaction ends.
NAME_LOCK_CLASS = 0x43505453  # "CPTS": the key space of these locks
NAME_LOCK_SLOTS = 1024


def lock_names(conn: Conn, names: Sequence[str]) -> None:
    """Wait for, then hold until the end of the transaction, the locks of these CPTS names."""
    conn.execute(
        """SELECT pg_advisory_xact_lock(%s, slot)
             FROM (SELECT DISTINCT abs(hashtext(name) %% %s) AS slot
                     FROM unnest(%s::text[]) AS name ORDER BY slot) AS slots""",
        (NAME_LOCK_CLASS, NAME_LOCK_SLOTS, sorted(set(names))))


def live_cpts_named(conn: Conn, names: Sequence[str]) -> list[dict[str, Any]]:
    """Live (not archived) CPTS, not agency scenarios, whose name is exactly one of `names`."""
    return conn.execute(
        """SELECT id, name, version FROM cpts
           WHERE name = ANY(%s) AND archived_at IS NULL AND NOT is_scenario
           ORDER BY id""", (list(names),)).fetchall()


def area_shares(conn: Conn, polygons: Sequence[tuple[int, bytes]]
                ) -> dict[int, list[tuple[str, float]]]:
    """For each (number, WKB polygon in WGS84): every unit it touches, with the share of the
    unit's area inside it (areas on the spheroid, so valid everywhere including overseas)."""
    if not polygons:
        return {}
    rows = conn.execute(
        """WITH shape AS (
               SELECT n, ST_SetSRID(ST_GeomFromWKB(wkb), 4326) AS g
               FROM unnest(%s::int[], %s::bytea[]) AS t(n, wkb))
           SELECT s.n, c.code,
                  CASE WHEN ST_CoveredBy(c.geom, s.g) THEN 1.0
                       ELSE ST_Area(ST_Intersection(c.geom, s.g)::geography)
                            / NULLIF(ST_Area(c.geom::geography), 0) END AS share
           FROM shape s
           JOIN commune c ON c.is_unit AND c.geom && s.g AND ST_Intersects(c.geom, s.g)
           ORDER BY s.n, c.code""",
        ([n for n, _ in polygons], [wkb for _, wkb in polygons])).fetchall()
    shares: dict[int, list[tuple[str, float]]] = {}
    for row in rows:
        shares.setdefault(int(row["n"]), []).append((row["code"], float(row["share"] or 0.0)))
    return shares
