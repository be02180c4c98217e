"""SQL of proposed plans: the shapes of the units (shared border lengths, a point, the unit
drawing the territory of a unit without polygon), names of EPCI and bassins de vie, and the
dissolved outline of each proposed perimeter."""

import math
import re
from collections.abc import Sequence

import shapely

from app.db import Conn
from app.domain.dissolve import dissolve
from app.domain.proposals import Shapes

# Places a code in a polygon note (« … son territoire reste dessiné dans celui de 15141 »).
_CODE = re.compile(r"\b(\d[0-9AB]\d{3})\b")
_KM_PER_DEGREE = 111.195


def read_shapes(conn: Conn) -> Shapes:
    """Every adjacency with its border length, every unit's point on a local plane (km, the
    longitude scaled by the cosine of 46.5°N; good enough for distances within a région), and
    the host of each unit without polygon."""
    borders: dict[str, dict[str, float]] = {}
    for row in conn.execute("SELECT code, neighbour, border_m FROM unit_adjacency"):
        borders.setdefault(row["code"], {})[row["neighbour"]] = float(row["border_m"])
    scale = math.cos(math.radians(46.5)) * _KM_PER_DEGREE
    points = {row["code"]: (float(row["x"]) * scale, float(row["y"]) * _KM_PER_DEGREE)
              for row in conn.execute(
                  "SELECT code, ST_X(point) AS x, ST_Y(point) AS y FROM commune "
                  "WHERE is_unit AND point IS NOT NULL")}
    hosts: dict[str, str] = {}
    for row in conn.execute("SELECT code, polygon_note FROM commune "
                            "WHERE is_unit AND NOT has_polygon AND polygon_note IS NOT NULL"):
        found = [c for c in _CODE.findall(row["polygon_note"]) if c != row["code"]]
        if found:
            hosts[row["code"]] = found[-1]
    return Shapes(borders=borders, points=points, hosts=hosts)


_NAMES = {"epci": "SELECT code, nom FROM epci WHERE code = ANY(%s)",
          "bassin_de_vie": "SELECT code, nom FROM bassin_de_vie WHERE code = ANY(%s)"}


def area_names(conn: Conn, kind: str, codes: Sequence[str]) -> dict[str, str]:
    """Names of EPCI or bassins de vie (fixed table names, never user input)."""
    return {r["code"]: r["nom"] for r in conn.execute(_NAMES[kind], (list(codes),))}


def outlines(conn: Conn, groups: Sequence[Sequence[str]]) -> list[dict[str, object] | None]:
    """The dissolved outline (GeoJSON geometry, WGS84) of each set of units, from the
    generalised band of zooms 7-9 (units form an exact coverage there, so an edge-based union
    is enough)."""
    rows = conn.execute(
        """SELECT code, ST_AsBinary(ST_Transform(geom_g2, 4326)) AS wkb
           FROM commune WHERE code = ANY(%s) AND geom_g2 IS NOT NULL""",
        (sorted({code for group in groups for code in group}),)).fetchall()
    polygons = {r["code"]: shapely.from_wkb(bytes(r["wkb"])) for r in rows}
    found: list[dict[str, object] | None] = []
    for group in groups:
        pieces = [polygons[code] for code in group if code in polygons]
        if not pieces:
            found.append(None)
            continue
        merged = dissolve(pieces)
        found.append(shapely.geometry.mapping(shapely.set_precision(merged, 1e-5)))
    return found
