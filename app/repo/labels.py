"""SQL of the map's orientation: names to write on the map (régions, départements, communes,
CPTS) at a point inside each shape, territories found by name or code for the type-ahead,
the bounds of a user's territory, and what lies at a point without a commune."""

from typing import Any

from psycopg import sql

from app.db import Conn

# The reference areas the type-ahead finds, with their table.
TERRITORY_TABLES = {"region": "region", "departement": "departement", "epci": "epci",
                    "bassin_de_vie": "bassin_de_vie"}


def area_labels(conn: Conn, table: str) -> list[dict[str, Any]]:
    """Code, name and a point inside each area (WGS84, from its generalised shape)."""
    columns = "code, nom, region" if table == "departement" else "code, nom"
    return [dict(r) for r in conn.execute(sql.SQL(
        """SELECT {columns}, ST_X(p) AS lon, ST_Y(p) AS lat FROM (
             SELECT *, ST_Transform(ST_PointOnSurface(geom_g1), 4326) AS p FROM {table}
             WHERE geom_g1 IS NOT NULL) a ORDER BY code""").format(
        columns=sql.SQL(columns), table=sql.Identifier(table))).fetchall()]


def commune_labels(conn: Conn, bbox: tuple[float, float, float, float],
                   limit: int) -> list[dict[str, Any]]:
    """The most populated communes (not their arrondissements) whose point lies in `bbox`."""
    w, s, e, n = bbox
    return [dict(r) for r in conn.execute(
        """SELECT code, nom, population, ST_X(point) AS lon, ST_Y(point) AS lat FROM commune
           WHERE type = 'COM' AND point && ST_MakeEnvelope(%s, %s, %s, %s, 4326)
           ORDER BY population DESC, code LIMIT %s""", (w, s, e, n, limit)).fetchall()]


def cpts_label_points(conn: Conn, versions: list[tuple[int, int]]
                      ) -> dict[tuple[int, int], tuple[float, float]]:
    """A point inside the generalised outline of each (CPTS, version)."""
    if not versions:
        return {}
    rows = conn.execute(
        """SELECT v.cpts_id, v.version, ST_X(p) AS lon, ST_Y(p) AS lat
           FROM unnest(%s::bigint[], %s::int[]) AS w(cpts_id, version)
           JOIN cpts_version v USING (cpts_id, version),
           LATERAL (SELECT ST_PointOnSurface(v.outline_g1) AS p) point
           WHERE v.outline_g1 IS NOT NULL""",
        ([i for i, _ in versions], [v for _, v in versions])).fetchall()
    return {(int(r["cpts_id"]), int(r["version"])): (float(r["lon"]), float(r["lat"]))
            for r in rows}


def bounds_of_regions(conn: Conn, regions: list[str]) -> list[float] | None:
    row = conn.execute(
        """SELECT ST_XMin(b) AS w, ST_YMin(b) AS s, ST_XMax(b) AS e, ST_YMax(b) AS n
           FROM (SELECT ST_Extent(ST_Transform(geom_g1, 4326)) AS b FROM region
                 WHERE code = ANY(%s)) x""", (regions,)).fetchone()
    return None if row is None or row["w"] is None else [
        float(row["w"]), float(row["s"]), float(row["e"]), float(row["n"])]


def bounds_of_units(conn: Conn, codes: list[str]) -> list[float] | None:
    row = conn.execute(
        """SELECT ST_XMin(b) AS w, ST_YMin(b) AS s, ST_XMax(b) AS e, ST_YMax(b) AS n
           FROM (SELECT ST_Extent(geom) AS b FROM commune WHERE code = ANY(%s)) x""",
        (codes,)).fetchone()
    return None if row is None or row["w"] is None else [
        float(row["w"]), float(row["s"]), float(row["e"]), float(row["n"])]


def departements_of_regions(conn: Conn, regions: list[str]) -> list[str]:
    return [str(r["code"]) for r in conn.execute(
        "SELECT code FROM departement WHERE region = ANY(%s) ORDER BY code",
        (regions,)).fetchall()]


def regions_of_units(conn: Conn, codes: list[str]) -> list[str]:
    return [str(r["region"]) for r in conn.execute(
        "SELECT DISTINCT region FROM commune WHERE code = ANY(%s) ORDER BY region",
        (codes,)).fetchall()]


def land_codes(conn: Conn) -> list[str]:
    """The codes of the regions in the order of the overview's ground
    (`app.repo.map_data.land_shapes`: the regions with a shape, by code)."""
    return [str(r["code"]) for r in conn.execute(
        "SELECT code FROM region WHERE geom_g1 IS NOT NULL ORDER BY code").fetchall()]


def find_territories(conn: Conn, kind: str, *, code: str | None, words: str | None,
                     limit: int) -> list[dict[str, Any]]:
    """Areas of one kind whose code is `code` or whose name holds `words` (accents and case
    ignored, via `search_form`), best matches first, with their bounds (WGS84)."""
    table = sql.Identifier(TERRITORY_TABLES[kind])
    query = sql.SQL(
        """SELECT code, nom, ST_XMin(b) AS w, ST_YMin(b) AS s, ST_XMax(b) AS e, ST_YMax(b) AS n
           FROM (SELECT code, nom, ST_Transform(geom_g1, 4326)::box2d AS b FROM {table}
                 WHERE (%(code)s::text IS NOT NULL AND code = %(code)s)
                    OR (%(words)s::text IS NOT NULL
                        AND search_form(nom) LIKE '%%' || search_form(%(words)s) || '%%')) t
           ORDER BY (code = %(code)s) DESC NULLS LAST,
                    (search_form(nom) LIKE search_form(%(words)s) || '%%') DESC NULLS LAST,
                    length(nom), nom
           LIMIT %(limit)s""").format(table=table)
    rows = conn.execute(query, {"code": code, "words": words, "limit": limit}).fetchall()
    return [{"code": r["code"], "nom": r["nom"],
             "bbox": None if r["w"] is None else [r["w"], r["s"], r["e"], r["n"]]} for r in rows]


def place_at(conn: Conn, lon: float, lat: float) -> dict[str, Any]:
    """What lies at a point: the commune (if any), the département whose outline holds it,
    and the nearest commune with its distance in metres."""
    row = conn.execute(
        """WITH p AS (SELECT ST_SetSRID(ST_MakePoint(%s, %s), 4326) AS g)
           SELECT
             (SELECT json_build_object('code', code, 'nom', nom) FROM commune, p
              WHERE is_unit AND ST_Intersects(geom, p.g) ORDER BY code LIMIT 1) AS commune,
             (SELECT json_build_object('code', code, 'nom', nom) FROM departement, p
              WHERE ST_Intersects(geom, p.g) ORDER BY code LIMIT 1) AS departement,
             (SELECT json_build_object('code', code, 'nom', nom, 'distance_m',
                                       ST_Distance(geom::geography, p.g::geography))
              FROM commune, p WHERE is_unit AND geom IS NOT NULL
              ORDER BY geom <-> p.g LIMIT 1) AS nearest
           FROM p""", (lon, lat)).fetchone()
    assert row is not None
    return {"commune": row["commune"], "departement": row["departement"],
            "nearest": row["nearest"]}
