"""Reading communes and arrondissements: search and the commune card."""

from typing import Any

from psycopg import sql

from app.db import Conn
from app.domain.communes import CommuneQuery

_SUMMARY = sql.SQL("""
    c.code, c.nom, c.type, c.parent, c.is_unit, c.departement, c.region, c.epci,
    c.bassin_de_vie, c.codes_postaux, c.population, c.population_year, c.has_polygon,
    CASE WHEN c.geom IS NULL THEN NULL ELSE ARRAY[
        round(ST_XMin(c.geom)::numeric, 6)::float8, round(ST_YMin(c.geom)::numeric, 6)::float8,
        round(ST_XMax(c.geom)::numeric, 6)::float8, round(ST_YMax(c.geom)::numeric, 6)::float8]
    END AS bbox
""")


def search(
    conn: Conn,
    query: CommuneQuery,
    *,
    departement: str | None,
    region: str | None,
    limit: int,
) -> list[dict[str, Any]]:
    """Communes matching a code, a postal code or a name (accent- and case-insensitive).

    Ranking: exact code, then exact name, then names starting with the query, then by
    similarity, larger communes first among equals.
    """
    params: dict[str, Any] = {"q": query.text, "dep": departement, "reg": region,
                              "limit": limit, "prefix": query.text + "%"}
    if query.kind == "name":
        where = sql.SQL("(search_form(c.nom) LIKE %(prefix)s OR search_form(c.nom) %% %(q)s "
                        "OR search_form(c.nom) LIKE '%%' || %(q)s || '%%')")
        rank = sql.SQL("""CASE WHEN search_form(c.nom) = %(q)s THEN 0
                       WHEN search_form(c.nom) LIKE %(prefix)s THEN 1 ELSE 2 END,
                  similarity(search_form(c.nom), %(q)s) DESC""")
    else:
        where = sql.SQL("(c.code = %(q)s OR %(q)s = ANY (c.codes_postaux))")
        rank = sql.SQL("CASE WHEN c.code = %(q)s THEN 0 ELSE 1 END")
    statement = sql.SQL("""
        SELECT {summary}
        FROM commune c
        WHERE {where}
          AND (%(dep)s::text IS NULL OR c.departement = %(dep)s)
          AND (%(reg)s::text IS NULL OR c.region = %(reg)s)
        ORDER BY {rank}, c.population DESC, c.code
        LIMIT %(limit)s
    """).format(summary=_SUMMARY, where=where, rank=rank)
    return conn.execute(statement, params).fetchall()


def card(conn: Conn, code: str, *, with_geometry: bool) -> dict[str, Any] | None:
    """Everything the commune card shows, or None for an unknown code."""
    geometry = sql.SQL("ST_AsGeoJSON(c.geom, 6)::json" if with_geometry else "NULL::json")
    statement = sql.SQL("""
        SELECT {summary},
               c.polygon_note,
               round((c.area_m2 / 1e6)::numeric, 3)::float8 AS area_km2,
               d.nom AS departement_nom, r.nom AS region_nom, e.nom AS epci_nom,
               b.nom AS bassin_de_vie_nom,
               ARRAY(SELECT a.code FROM commune a WHERE a.parent = c.code ORDER BY a.code)
                   AS arrondissements,
               ARRAY(SELECT h.old_code FROM commune_history h WHERE h.new_code = c.code
                     ORDER BY h.old_code) AS former_codes,
               {geometry} AS geometry
        FROM commune c
        LEFT JOIN departement d ON d.code = c.departement
        LEFT JOIN region r ON r.code = c.region
        LEFT JOIN epci e ON e.code = c.epci
        LEFT JOIN bassin_de_vie b ON b.code = c.bassin_de_vie
        WHERE c.code = %(code)s
    """).format(summary=_SUMMARY, geometry=geometry)
    return conn.execute(statement, {"code": code}).fetchone()


def summaries(conn: Conn, codes: list[str]) -> list[dict[str, Any]]:
    """The summary of each of `codes` that is in force, in code order."""
    statement = sql.SQL("SELECT {summary} FROM commune c WHERE c.code = ANY(%(codes)s) "
                        "ORDER BY c.code").format(summary=_SUMMARY)
    return conn.execute(statement, {"codes": codes}).fetchall()


def former_history(conn: Conn, code: str) -> list[dict[str, Any]]:
    """Where a code no longer in force went: one row per current commune it is part of."""
    return conn.execute(
        """
        SELECT h.old_code, h.old_nom, h.kind, h.new_code, c.nom AS new_nom
        FROM commune_history h JOIN commune c ON c.code = h.new_code
        WHERE h.old_code = %(code)s
        ORDER BY h.new_code
        """,
        {"code": code},
    ).fetchall()


def former_code(conn: Conn, code: str) -> dict[str, Any] | None:
    """Where a code no longer in force went (commune merged into a commune nouvelle)."""
    return conn.execute(
        """
        SELECT h.old_code, h.old_nom, h.new_code, h.kind, c.nom AS new_nom
        FROM commune_history h JOIN commune c ON c.code = h.new_code
        WHERE h.old_code = %(code)s
        ORDER BY h.new_code LIMIT 1
        """,
        {"code": code},
    ).fetchone()


def outside_map(conn: Conn, code: str) -> dict[str, Any] | None:
    return conn.execute(
        "SELECT code, nom, collectivite, population FROM commune_outside_map WHERE code = %s",
        (code,),
    ).fetchone()
