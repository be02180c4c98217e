"""SQL of the OGC API – Features collections: pages of reference units and territories, the
current outline of CPTS, their units, and unit geometries in a generalisation band. Which CPTS
may be read is decided before (`app.services.ogc`); here only ids arrive. Identifiers come from
this module's constants, values are always parameters."""

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from psycopg import sql

from app.db import Conn
from app.ogc.protocol import Band, Bbox, Crs, Interval

# Reference tables: the columns served, in order.
TABLE_COLUMNS: dict[str, tuple[str, ...]] = {
    "commune": ("code", "nom", "type", "parent", "departement", "region", "epci",
                "bassin_de_vie", "population", "population_year", "area_m2", "polygon_note"),
    "epci": ("code", "nom", "type"),
    "bassin_de_vie": ("code", "nom"),
    "departement": ("code", "nom", "region"),
    "region": ("code", "nom"),
}


def geometry_column(band: Band, target_srid: int) -> tuple[str, int]:
    """The stored column holding a band and its SRID (the full coverage is kept in WGS84 and in
    Web Mercator, the bands in Web Mercator)."""
    if band.generalised:
        return band.name, 3857
    return ("geom_3857", 3857) if target_srid == 3857 else ("geom", 4326)


def geometry_out(column: sql.Composable, source_srid: int, crs: Crs, decimals: int
                 ) -> sql.Composable:
    """A stored geometry as the service reads it: stored in the CRS asked for, its GeoJSON text
    with `decimals` digits, written by PostGIS (no Python object per coordinate); otherwise its
    WKB, projected in Python by whole arrays (`app.ogc.protocol.encode_stored`), three to four
    times faster than `ST_Transform` on a page of communes."""
    if source_srid != crs.srid:
        return sql.SQL("ST_AsBinary({})").format(column)
    if crs.lat_first:
        column = sql.SQL("ST_FlipCoordinates({})").format(column)
    return sql.SQL("ST_AsGeoJSON({}, {}, 0)").format(column, sql.Literal(decimals))


def _envelope(bbox: Bbox) -> tuple[sql.Composable, dict[str, Any]]:
    return (sql.SQL("ST_Transform(ST_MakeEnvelope(%(west)s, %(south)s, %(east)s, %(north)s, "
                    "%(bbox_srid)s), 4326)"),
            {"west": bbox.west, "south": bbox.south, "east": bbox.east, "north": bbox.north,
             "bbox_srid": bbox.srid})


def extent(conn: Conn) -> list[float] | None:
    """The box of the loaded geography in WGS84, read from the light zoom 0-6 band of the
    regions (the full outlines weigh tens of megabytes) and widened by its 2 km tolerance."""
    row = conn.execute("SELECT ST_XMin(e) AS w, ST_YMin(e) AS s, ST_XMax(e) AS e, "
                       "ST_YMax(e) AS n FROM (SELECT ST_Extent(ST_Transform(geom_g1, 4326)) "
                       "AS e FROM region) x").fetchone()
    if row is None or row["w"] is None:
        return None
    margin = 0.03  # degrees, more than the band's tolerance
    return [round(float(row["w"]) - margin, 4), round(float(row["s"]) - margin, 4),
            round(float(row["e"]) + margin, 4), round(float(row["n"]) + margin, 4)]


def reference_page(conn: Conn, table: str, *, filters: Mapping[str, str | Sequence[str]],
                   bbox: Bbox | None, limit: int, offset: int
                   ) -> tuple[int, list[dict[str, Any]]]:
    """How many rows of `table` match, and the page in code order (without geometry). A
    filter's value may be a list (any of)."""
    columns = TABLE_COLUMNS[table]
    conditions, params = _conditions(columns, filters)
    params |= {"limit": limit, "offset": offset}
    if bbox is not None:
        envelope, values = _envelope(bbox)
        conditions.append(sql.SQL("geom && {}").format(envelope))
        params |= values
    where = sql.SQL(" AND ").join(conditions)
    counted = conn.execute(sql.SQL("SELECT count(*) AS n FROM {} WHERE {}").format(
        sql.Identifier(table), where), params).fetchone()
    rows = conn.execute(sql.SQL(
        "SELECT {columns} FROM {table} WHERE {where} "
        "ORDER BY code LIMIT %(limit)s OFFSET %(offset)s").format(
            columns=sql.SQL(", ").join(sql.Identifier(c) for c in columns),
            table=sql.Identifier(table), where=where),
        params).fetchall()
    return (int(counted["n"]) if counted else 0), rows


def _conditions(columns: Sequence[str], filters: Mapping[str, str | Sequence[str]]
                ) -> tuple[list[sql.Composable], dict[str, Any]]:
    conditions: list[sql.Composable] = [sql.SQL("TRUE")]
    params: dict[str, Any] = {}
    for index, (name, value) in enumerate(sorted(filters.items())):
        assert name in columns
        key = f"f{index}"
        if isinstance(value, str):
            conditions.append(sql.SQL("{} = {}").format(sql.Identifier(name),
                                                        sql.Placeholder(key)))
            params[key] = value
        else:
            conditions.append(sql.SQL("{} = ANY({})").format(sql.Identifier(name),
                                                             sql.Placeholder(key)))
            params[key] = list(value)
    return conditions, params


def _code_list(codes: Sequence[str]) -> str:
    """Codes as one comma-separated text for `string_to_array`: psycopg writes a Python list
    of a thousand strings as an array in Python, element by element (a few milliseconds per
    page). Codes (INSEE, SIREN) never hold a comma."""
    assert not any("," in code for code in codes)
    return ",".join(codes)


def reference_codes(conn: Conn, table: str, filters: Mapping[str, str | Sequence[str]]
                    ) -> list[str]:
    """The codes of the rows of `table` that match, in code order."""
    conditions, params = _conditions(TABLE_COLUMNS[table], filters)
    return [r["code"] for r in conn.execute(sql.SQL(
        "SELECT code FROM {} WHERE {} ORDER BY code").format(
            sql.Identifier(table), sql.SQL(" AND ").join(conditions)), params).fetchall()]


def reference_rows(conn: Conn, table: str, codes: Sequence[str]) -> list[dict[str, Any]]:
    """These rows of `table` (without geometry), in code order."""
    return conn.execute(sql.SQL(
        "SELECT {columns} FROM {table} WHERE code = ANY(string_to_array(%s, ',')) "
        "ORDER BY code").format(
            columns=sql.SQL(", ").join(sql.Identifier(c) for c in TABLE_COLUMNS[table]),
            table=sql.Identifier(table)), (_code_list(codes),)).fetchall()


def table_geometries(conn: Conn, table: str, codes: Sequence[str], column: str,
                     source_srid: int, crs: Crs, decimals: int) -> dict[str, str | bytes]:
    """The geometry of each row of a reference table that has one, from `column` (stored in
    `source_srid`), as `geometry_out` gives it for `crs`."""
    assert table in TABLE_COLUMNS
    rows = conn.execute(sql.SQL("SELECT code, {} AS geometry FROM {} "
                                "WHERE code = ANY(string_to_array(%s, ',')) "
                                "AND {} IS NOT NULL").format(
                                    geometry_out(sql.Identifier(column), source_srid, crs,
                                                 decimals),
                                    sql.Identifier(table), sql.Identifier(column)),
                        (_code_list(codes),)).fetchall()
    return {r["code"]: r["geometry"] for r in rows}


def cpts_matching(conn: Conn, ids: Sequence[int], *, bbox: Bbox | None,
                  interval: Interval | None) -> list[dict[str, Any]]:
    """Of these CPTS, those whose current outline meets `bbox` and whose current version took
    effect within `interval`, in name order: id, effective date and creation time."""
    conditions: list[sql.Composable] = [sql.SQL("c.id = ANY(%(ids)s)")]
    params: dict[str, Any] = {"ids": list(ids)}
    if bbox is not None:
        envelope, values = _envelope(bbox)
        conditions.append(sql.SQL("v.outline && {}").format(envelope))
        params |= values
    if interval is not None and interval.start is not None:
        conditions.append(sql.SQL("v.effective_date >= %(start)s"))
        params["start"] = interval.start
    if interval is not None and interval.end is not None:
        conditions.append(sql.SQL("v.effective_date <= %(end)s"))
        params["end"] = interval.end
    return conn.execute(sql.SQL(
        """SELECT c.id, v.effective_date, v.created_at FROM cpts c
           JOIN cpts_version v ON v.cpts_id = c.id AND v.version = c.version
           WHERE {} ORDER BY c.name, c.id""").format(sql.SQL(" AND ").join(conditions)),
        params).fetchall()


def cpts_outlines(conn: Conn, ids: Sequence[int], *, light: bool, crs: Crs, decimals: int
                  ) -> dict[int, str | bytes | None]:
    """The current outline of each CPTS, as `geometry_out` gives it for `crs`: at full detail,
    or drawn from the zoom 0-6 band with `light` (both stored in WGS84)."""
    column = sql.SQL("v.{}").format(sql.Identifier("outline_g1" if light else "outline"))
    rows = conn.execute(sql.SQL(
        """SELECT c.id, {} AS geometry FROM cpts c
           JOIN cpts_version v ON v.cpts_id = c.id AND v.version = c.version
           WHERE c.id = ANY(%s)""").format(geometry_out(column, 4326, crs, decimals)),
        (list(ids),)).fetchall()
    return {int(r["id"]): r["geometry"] for r in rows}


def cpts_units_page(conn: Conn, ids: Sequence[int], *, filters: Mapping[str, str],
                    bbox: Bbox | None, column: str, source_srid: int, crs: Crs,
                    decimals: int, limit: int, offset: int) -> tuple[int, list[dict[str, Any]]]:
    """The (CPTS, unit) pairs of these CPTS' current perimeters, in CPTS then code order: how
    many match, and the page with the unit's figures and geometry (from `column` stored in
    `source_srid`, as `geometry_out` gives it for `crs`)."""
    conditions: list[sql.Composable] = [sql.SQL("m.cpts_id = ANY(%(ids)s)")]
    params: dict[str, Any] = {"ids": list(ids), "limit": limit, "offset": offset}
    for index, (name, value) in enumerate(sorted(filters.items())):
        assert name in ("code", "departement", "region")
        key = f"f{index}"
        conditions.append(sql.SQL("u.{} = {}").format(sql.Identifier(name),
                                                      sql.Placeholder(key)))
        params[key] = value
    if bbox is not None:
        envelope, values = _envelope(bbox)
        conditions.append(sql.SQL("u.geom && {}").format(envelope))
        params |= values
    where = sql.SQL(" AND ").join(conditions)
    source = sql.SQL("FROM cpts_member m JOIN commune u ON u.code = m.code WHERE {}").format(
        where)
    counted = conn.execute(sql.SQL("SELECT count(*) AS n {}").format(source), params).fetchone()
    rows = conn.execute(sql.SQL(
        """SELECT m.cpts_id, u.code, u.nom, u.departement, u.region, u.population,
                  u.population_year, {geometry} AS geometry {source}
           ORDER BY m.cpts_id, u.code LIMIT %(limit)s OFFSET %(offset)s""").format(
            geometry=geometry_out(sql.SQL("u.{}").format(sql.Identifier(column)), source_srid,
                                  crs, decimals), source=source), params).fetchall()
    return (int(counted["n"]) if counted else 0), rows


def units_in_bbox(conn: Conn, codes: Sequence[str], bbox: Bbox) -> set[str]:
    """Which of these units meet the box."""
    envelope, values = _envelope(bbox)
    rows = conn.execute(sql.SQL("SELECT code FROM commune WHERE code = ANY(%(codes)s) "
                                "AND geom && {}").format(envelope),
                        {"codes": list(codes)} | values).fetchall()
    return {r["code"] for r in rows}


def unit_geometries(conn: Conn, codes: Sequence[str], column: str) -> dict[str, bytes]:
    """The geometry (WKB) of each unit that has one, from `column`."""
    rows = conn.execute(sql.SQL("SELECT code, ST_AsBinary({}) AS wkb FROM commune "
                                "WHERE code = ANY(%s) AND geom IS NOT NULL").format(
                                    sql.Identifier(column)), (list(codes),)).fetchall()
    return {r["code"]: bytes(r["wkb"]) for r in rows if r["wkb"] is not None}


def effective_dates(conn: Conn, ids: Sequence[int]) -> dict[int, date]:
    rows = conn.execute(
        """SELECT c.id, v.effective_date FROM cpts c
           JOIN cpts_version v ON v.cpts_id = c.id AND v.version = c.version
           WHERE c.id = ANY(%s)""", (list(ids),)).fetchall()
    return {int(r["id"]): r["effective_date"] for r in rows}


def outlines_on(conn: Conn, ids: Sequence[int], day: date) -> dict[int, bytes | None]:
    """The outline (WGS84) of each CPTS in its last version effective on or before `day`, the
    version coverage counts on that day (`app.repo.coverage.perimeters_at`)."""
    rows = conn.execute(
        """SELECT DISTINCT ON (cpts_id) cpts_id, ST_AsBinary(outline) AS wkb
           FROM cpts_version WHERE cpts_id = ANY(%s) AND effective_date <= %s
           ORDER BY cpts_id, version DESC""", (list(ids), day)).fetchall()
    return {int(r["cpts_id"]): None if r["wkb"] is None else bytes(r["wkb"]) for r in rows}
