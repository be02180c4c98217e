"""SQL of the COG migration: the codes and perimeters before a load, and the alerts it raises."""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from app.db import Conn
from app.domain.cog_migration import StoredPerimeter


@dataclass(frozen=True)
class CogBefore:
    """The geography in force before a load, as far as perimeters are concerned."""

    codes: frozenset[str]
    history: list[tuple[str, str]]
    names: dict[str, str]
    cog_year: int | None


def read_before(conn: Conn) -> CogBefore:
    codes: set[str] = set()
    names: dict[str, str] = {}
    for row in conn.execute("SELECT code, nom FROM commune WHERE is_unit"):
        codes.add(row["code"])
        names[row["code"]] = row["nom"]
    history = [(r["old_code"], r["new_code"]) for r in conn.execute(
        "SELECT old_code, new_code FROM commune_history ORDER BY old_code, new_code")]
    release = conn.execute("SELECT cog_year FROM geodata_release WHERE is_current").fetchone()
    return CogBefore(frozenset(codes), history, names,
                     None if release is None else int(release["cog_year"]))


def stored_perimeters(conn: Conn, ids: Sequence[int] | None = None) -> list[StoredPerimeter]:
    """Every CPTS (scenarios, drafts and archived ones too) as its current version stands."""
    rows = conn.execute(
        """SELECT c.id, c.name, c.status, c.is_scenario, c.archived_at IS NOT NULL AS archived,
                  c.submitted_at IS NOT NULL AS submitted, c.version, v.units, v.population,
                  v.size_class
           FROM cpts c JOIN cpts_version v ON v.cpts_id = c.id AND v.version = c.version
           WHERE %(ids)s::bigint[] IS NULL OR c.id = ANY(%(ids)s)
           ORDER BY c.id""", {"ids": None if ids is None else list(ids)}).fetchall()
    return [StoredPerimeter(
        cpts_id=int(r["id"]), name=r["name"], status=r["status"], is_scenario=r["is_scenario"],
        archived=r["archived"], submitted=r["submitted"], version=int(r["version"]),
        members=tuple(r["units"]), population=int(r["population"]),
        size_class=int(r["size_class"])) for r in rows]


def lock(conn: Conn, ids: Sequence[int]) -> dict[int, int]:
    """Lock the CPTS rows in id order; their current version numbers."""
    rows = conn.execute("SELECT id, version FROM cpts WHERE id = ANY(%s) ORDER BY id FOR UPDATE",
                        (list(ids),)).fetchall()
    return {int(r["id"]): int(r["version"]) for r in rows}


def add_alerts(conn: Conn, rows: Sequence[tuple[int, int, str, str, list[str], str]]) -> None:
    """(cpts_id, version, code, detail, communes, origin) rows."""
    if not rows:
        return
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO cpts_alert (cpts_id, version, code, detail, communes, origin) "
            "VALUES (%s, %s, %s, %s, %s, %s)", list(rows))


def current_alerts(conn: Conn, cpts_id: int) -> list[dict[str, Any]]:
    """The alerts raised on the current version of a CPTS."""
    return conn.execute(
        """SELECT a.code, a.detail, a.communes FROM cpts_alert a
           JOIN cpts c ON c.id = a.cpts_id AND c.version = a.version
           WHERE a.cpts_id = %s ORDER BY a.id""", (cpts_id,)).fetchall()
