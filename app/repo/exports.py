"""SQL of perimeter exports: the member communes with their figures and geometries."""

from typing import Any

from app.db import Conn


def member_communes(conn: Conn, codes: list[str], *, geometry: bool) -> list[dict[str, Any]]:
    """The units `codes` in code order; with `geometry`, as GeoJSON (`geojson`, 6 decimals)
    and WKB (`wkb`), both NULL for a unit without a polygon."""
    if geometry:
        statement = """SELECT code, nom, departement, population, population_year,
                              ST_AsGeoJSON(geom, 6)::json AS geojson, ST_AsBinary(geom) AS wkb
                       FROM commune WHERE code = ANY(%s) ORDER BY code"""
    else:
        statement = """SELECT code, nom, departement, population, population_year
                       FROM commune WHERE code = ANY(%s) ORDER BY code"""
    return conn.execute(statement, (codes,)).fetchall()


def current_outline(conn: Conn, cpts_id: int) -> bytes | None:
    """The dissolved outline of the current version, as WKB."""
    row = conn.execute(
        """SELECT ST_AsBinary(v.outline) AS wkb FROM cpts c
           JOIN cpts_version v ON v.cpts_id = c.id AND v.version = c.version
           WHERE c.id = %s""", (cpts_id,)).fetchone()
    return None if row is None or row["wkb"] is None else bytes(row["wkb"])
