"""SQL behind the map page: the members of many CPTS at once, the units of an EPCI or a bassin
de vie, the units a drawn polygon selects, and short descriptions of a list of units."""

from typing import Any, Literal

from psycopg import sql

from app.db import Conn

GroupKind = Literal["epci", "bassin_de_vie"]

_BBOX = sql.SQL("""CASE WHEN ST_Extent(c.geom) IS NULL THEN NULL ELSE ARRAY[
    round(ST_XMin(ST_Extent(c.geom))::numeric, 6)::float8,
    round(ST_YMin(ST_Extent(c.geom))::numeric, 6)::float8,
    round(ST_XMax(ST_Extent(c.geom))::numeric, 6)::float8,
    round(ST_YMax(ST_Extent(c.geom))::numeric, 6)::float8] END""")


def members_of(conn: Conn, cpts_ids: list[int]) -> dict[int, list[str]]:
    """The current units of each CPTS of `cpts_ids`, in one query."""
    rows = conn.execute(
        """SELECT cpts_id, array_agg(code ORDER BY code) AS codes FROM cpts_member
           WHERE cpts_id = ANY(%s) GROUP BY cpts_id""", (cpts_ids,)).fetchall()
    return {int(r["cpts_id"]): list(r["codes"]) for r in rows}


def group(conn: Conn, kind: GroupKind, code: str) -> dict[str, Any] | None:
    """An EPCI or a bassin de vie: its name, its units and their bounding box."""
    table = sql.Identifier(kind)
    row = conn.execute(
        sql.SQL("SELECT code, nom FROM {} WHERE code = %s").format(table), (code,)).fetchone()
    if row is None:
        return None
    units = conn.execute(
        sql.SQL("""SELECT coalesce(array_agg(c.code ORDER BY c.code), '{{}}') AS codes,
                          coalesce(sum(c.population), 0)::int AS population, {bbox} AS bbox
                   FROM commune c WHERE c.{column} = %s AND c.is_unit""").format(
            bbox=_BBOX, column=sql.Identifier(kind)), (code,)).fetchone()
    assert units is not None
    return {"kind": kind, "code": row["code"], "nom": row["nom"],
            "communes": list(units["codes"]), "population": units["population"],
            "bbox": units["bbox"]}


def units_in_polygon(conn: Conn, geojson: str, min_share: float, limit: int) -> list[str]:
    """Units whose area lies at least `min_share` inside the polygon (areas in Web Mercator,
    whose scale is nearly constant across one commune, so the share is right)."""
    rows = conn.execute(
        """WITH zone AS (
               SELECT ST_Transform(ST_MakeValid(ST_SetSRID(ST_GeomFromGeoJSON(%(zone)s), 4326)),
                                   3857) AS g)
           SELECT c.code FROM commune c, zone
           WHERE c.is_unit AND c.geom_3857 && zone.g
             AND (ST_Covers(zone.g, c.geom_3857)
                  OR ST_Area(ST_Intersection(c.geom_3857, zone.g))
                     >= %(share)s * ST_Area(c.geom_3857))
           ORDER BY c.code LIMIT %(limit)s""",
        {"zone": geojson, "share": min_share, "limit": limit}).fetchall()
    return [r["code"] for r in rows]


def describe_units(conn: Conn, codes: list[str]) -> dict[str, Any]:
    """Name, population and areas of each unit of `codes`, and their bounding box."""
    rows = conn.execute(
        """SELECT c.code, c.nom, c.type, c.departement, c.region, c.epci, c.bassin_de_vie,
                  c.population, c.population_year
           FROM commune c WHERE c.code = ANY(%s) ORDER BY c.code""", (codes,)).fetchall()
    box = conn.execute(
        sql.SQL("SELECT {bbox} AS bbox FROM commune c WHERE c.code = ANY(%s)").format(
            bbox=_BBOX), (codes,)).fetchone()
    return {"units": rows, "bbox": None if box is None else box["bbox"]}


def export_shapes(conn: Conn, cpts_id: int, codes: list[str]) -> dict[str, Any]:
    """Light shapes for a standalone map: each unit from the zoom 9-10 band (generalised with
    its neighbours, so they stay joined), and the outline of the current version simplified
    to about 20 m."""
    communes = conn.execute(
        """SELECT c.code, c.nom, c.departement, c.population, c.population_year,
                  ST_AsGeoJSON(ST_Transform(coalesce(c.geom_g3, c.geom_3857), 4326), 5)::json
                      AS geometry
           FROM commune c WHERE c.code = ANY(%s) AND c.geom IS NOT NULL ORDER BY c.code""",
        (codes,)).fetchall()
    outline = conn.execute(
        """SELECT ST_AsGeoJSON(ST_SimplifyPreserveTopology(v.outline, 0.0002), 5)::json
                      AS geometry
           FROM cpts c JOIN cpts_version v ON v.cpts_id = c.id AND v.version = c.version
           WHERE c.id = %s""", (cpts_id,)).fetchone()
    return {"communes": communes, "outline": None if outline is None else outline["geometry"]}


def plan_without_jit(conn: Conn) -> None:
    """No JIT compilation for the rest of the transaction: the overview's queries have high
    cost estimates, and compiling them takes 100-500 ms, ten times what they take to run."""
    conn.execute("SELECT set_config('jit', 'off', true)")


def overview_outlines(conn: Conn, cpts_ids: list[int]) -> dict[int, str]:
    """The light outline (`outline_g1`, the zoom 0-6 band) of the current version of each CPTS
    of `cpts_ids`, as GeoJSON text (coordinates to ~100 m: below zoom 8 a pixel is wider than
    600 m)."""
    rows = conn.execute(
        """SELECT c.id, ST_AsGeoJSON(v.outline_g1, 3) AS geometry
           FROM cpts c JOIN cpts_version v ON v.cpts_id = c.id AND v.version = c.version
           WHERE c.id = ANY(%s) AND v.outline_g1 IS NOT NULL""", (cpts_ids,)).fetchall()
    return {int(r["id"]): r["geometry"] for r in rows}


def overview_overlaps(conn: Conn, cpts_ids: list[int]) -> list[dict[str, Any]]:
    """The units claimed by more than one CPTS of `cpts_ids`, with the ids of those CPTS and
    their zoom 0-6 shape as GeoJSON text. (`= ANY` of a long array parameter would compare
    each member row with every id, and sorting the ~35,000 listed memberships to group them
    costs more than counting them in a hash: only the shared ones are sorted.)"""
    return conn.execute(
        """WITH listed AS MATERIALIZED (
               SELECT m.code, m.cpts_id FROM unnest(%s::bigint[]) AS ids (id)
               JOIN cpts_member m ON m.cpts_id = ids.id),
           shared AS (
               SELECT l.code, array_agg(l.cpts_id ORDER BY l.cpts_id) AS ids
               FROM listed l
               WHERE l.code IN (SELECT code FROM listed GROUP BY code HAVING count(*) > 1)
               GROUP BY l.code)
           SELECT s.code, s.ids, ST_AsGeoJSON(ST_Transform(u.geom_g1, 4326), 3) AS geometry
           FROM shared s JOIN commune u ON u.code = s.code
           WHERE u.geom_g1 IS NOT NULL ORDER BY s.code""", (cpts_ids,)).fetchall()


def overview_unlisted_claims(conn: Conn, cpts_ids: list[int]) -> list[dict[str, Any]]:
    """The claims of live CPTS outside `cpts_ids` (drafts, scenarios… the user may not read)
    on units that one of `cpts_ids` claims: per row the unit's code, the ids of `cpts_ids`
    claiming it (`listed`), and the other claimant's id, name and scenario flag. The caller
    decides what the user may know of those (`app.domain.cpts_access.split_claims`).
    The members of the smaller side are read (listed for an agency's few CPTS, the others for
    a carrier who lists nearly all): on the national scenario each way takes ~25 ms where the
    other takes ~100-170 ms."""
    live = conn.execute("SELECT count(*) AS n FROM cpts WHERE archived_at IS NULL").fetchone()
    if live is not None and 2 * len(cpts_ids) >= int(live["n"]):
        query = """WITH listed AS MATERIALIZED (SELECT unnest(%s::bigint[]) AS id),
           unlisted AS MATERIALIZED (
               SELECT m.code, c.id, c.name, c.is_scenario FROM cpts c
               JOIN cpts_member m ON m.cpts_id = c.id
               WHERE c.archived_at IS NULL AND c.id NOT IN (SELECT id FROM listed)),
           held AS (
               SELECT m.code, array_agg(m.cpts_id ORDER BY m.cpts_id) AS listed
               FROM cpts_member m JOIN listed ON listed.id = m.cpts_id
               WHERE m.code IN (SELECT code FROM unlisted) GROUP BY m.code)
           SELECT h.code, h.listed, u.id AS cpts_id, u.name, u.is_scenario
           FROM held h JOIN unlisted u ON u.code = h.code ORDER BY h.code, u.id"""
    else:
        query = """WITH listed AS MATERIALIZED (SELECT unnest(%s::bigint[]) AS id),
           held AS MATERIALIZED (
               SELECT m.code, array_agg(m.cpts_id ORDER BY m.cpts_id) AS listed
               FROM cpts_member m JOIN listed ON listed.id = m.cpts_id GROUP BY m.code)
           SELECT h.code, h.listed, c.id AS cpts_id, c.name, c.is_scenario
           FROM held h JOIN cpts_member m ON m.code = h.code JOIN cpts c ON c.id = m.cpts_id
           WHERE c.archived_at IS NULL AND c.id NOT IN (SELECT id FROM listed)
           ORDER BY h.code, c.id"""
    return conn.execute(query, (cpts_ids,)).fetchall()


def overview_unit_shapes(conn: Conn, codes: list[str]) -> dict[str, str]:
    """The zoom 0-6 shapes of units, GeoJSON text by code."""
    rows = conn.execute(
        """SELECT code, ST_AsGeoJSON(ST_Transform(geom_g1, 4326), 3) AS geometry FROM commune
           WHERE code = ANY(%s) AND geom_g1 IS NOT NULL""", (codes,)).fetchall()
    return {r["code"]: r["geometry"] for r in rows}


def land_shapes(conn: Conn) -> list[str]:
    """The regions in their zoom 0-6 band (unions of the same units' shapes), GeoJSON text:
    the ground on which the zones blanches show."""
    rows = conn.execute(
        """SELECT ST_AsGeoJSON(ST_Transform(geom_g1, 4326), 3) AS geometry FROM region
           WHERE geom_g1 IS NOT NULL ORDER BY code""").fetchall()
    return [r["geometry"] for r in rows]


def unit_at(conn: Conn, lon: float, lat: float) -> str | None:
    """The code of the unit under a point (WGS84), if any."""
    row = conn.execute(
        """SELECT code FROM commune
           WHERE is_unit AND ST_Intersects(geom, ST_SetSRID(ST_MakePoint(%s, %s), 4326))
           ORDER BY code LIMIT 1""", (lon, lat)).fetchone()
    return None if row is None else str(row["code"])


def neighbours(conn: Conn, code: str) -> dict[str, Any] | None:
    """A unit with its outline (WGS84 GeoJSON, simplified to ~10 m) and its point, and the units
    sharing a border with it, each with its point (keyboard moves across the map)."""
    row = conn.execute(
        """SELECT code, nom, ST_Y(point) AS lat, ST_X(point) AS lon,
                  ST_AsGeoJSON(ST_SimplifyPreserveTopology(geom, 0.0001), 5) AS geometry
           FROM commune WHERE code = %s AND is_unit AND has_polygon""", (code,)).fetchone()
    if row is None:
        return None
    rows = conn.execute(
        """SELECT n.code, n.nom, ST_Y(n.point) AS lat, ST_X(n.point) AS lon
           FROM unit_adjacency a JOIN commune n ON n.code = a.neighbour
           WHERE a.code = %s AND n.is_unit AND n.point IS NOT NULL
           ORDER BY n.code""", (code,)).fetchall()
    return {"code": row["code"], "nom": row["nom"], "lat": row["lat"], "lon": row["lon"],
            "geometry": row["geometry"],
            "neighbours": [{"code": r["code"], "nom": r["nom"], "lat": r["lat"], "lon": r["lon"]}
                           for r in rows]}
