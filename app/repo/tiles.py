"""Vector tiles from PostGIS: the layer catalogue, the band of each zoom, the current release."""

from dataclasses import dataclass
from datetime import datetime
from functools import cache

from psycopg import sql

from app.db import Conn, sql_file

MAX_ZOOM = 16
# Part of every tile's ETag: raise it when layers or attributes change, so that clients drop
# the tiles they hold in the former shape.
TILE_SCHEMA = 1
EXTENT = 4096
BUFFER = 64

# Generalised geometry column per zoom range, as built by geodata.generalize.BANDS; from zoom 11
# the full-detail Web Mercator column.
BANDS: tuple[tuple[int, str], ...] = ((6, "geom_g1"), (8, "geom_g2"), (10, "geom_g3"))
FULL_DETAIL = "geom_3857"


@dataclass(frozen=True)
class Layer:
    """One tile layer: the table it reads, the attributes it carries, from which zoom."""

    name: str
    table: str
    attributes: tuple[str, ...]
    min_zoom: int = 0
    # Below this zoom only `code` is sent (see COMMUNES below).
    all_attributes_from: int = 0
    units_only: bool = False
    # Only the commune table has GiST indexes on its bands; the others hold at most 1,707 rows.
    indexed: bool = False

    def attributes_at(self, z: int) -> tuple[str, ...]:
        return self.attributes if z >= self.all_attributes_from else ("code",)


# A zoom-5 tile over central France holds ~23,500 communes: even with `code` alone it weighs
# ~880 KB, over the 500 KB budget, so communes start at zoom 6, where the heaviest tile
# (~11,600 communes) stays near 420 KB as long as names and populations wait for zoom 7.
COMMUNES = Layer("communes", "commune", ("code", "nom", "population", "type"),
                 min_zoom=6, all_attributes_from=7, units_only=True, indexed=True)

LAYERS: dict[str, Layer] = {layer.name: layer for layer in (
    COMMUNES,
    Layer("departements", "departement", ("code", "nom")),
    Layer("epci", "epci", ("code", "nom")),
    Layer("regions", "region", ("code", "nom")),
    Layer("bassins_de_vie", "bassin_de_vie", ("code", "nom")),
)}


def geometry_column(z: int) -> str:
    """The geometry column drawn at zoom `z`."""
    for max_zoom, column in BANDS:
        if z <= max_zoom:
            return column
    return FULL_DETAIL


@cache
def tile_statement(layer: Layer, z: int, *, geometry: str | None = None) -> sql.Composed:
    """The query of one layer at one zoom; `geometry` overrides the band (benchmarks only)."""
    return sql.SQL(sql_file("tiles")).format(
        table=sql.Identifier(layer.table),
        geom=sql.Identifier(geometry or geometry_column(z)),
        attributes=sql.SQL(", ").join(sql.Identifier("t", name) for name in layer.attributes_at(z)),
        condition=sql.SQL("t.is_unit" if layer.units_only else "true"),
    )


def tile_parameters(layer: Layer, z: int, x: int, y: int) -> dict[str, object]:
    return {"layer": layer.name, "z": z, "x": x, "y": y, "extent": EXTENT, "buffer": BUFFER,
            "margin": BUFFER / EXTENT}


def plan_for_tiles(conn: Conn, layer: Layer) -> None:
    """Planner settings for the tile queries of the current transaction.

    A sequential scan decompresses every row's geometry for the && test, which the planner does
    not foresee and picks for big low-zoom tiles: 36 ms instead of 9 ms through the index for the
    heaviest zoom-6 tile of France. JIT compilation costs 100-200 ms, more than any tile query it
    could speed up.
    """
    conn.execute("SELECT set_config('jit', 'off', true), set_config('enable_seqscan', %s, true)",
                 ("off" if layer.indexed else "on",))


def render(conn: Conn, layer: Layer, z: int, x: int, y: int, *,
           geometry: str | None = None) -> bytes:
    """The encoded layer of tile z/x/y; empty bytes when no feature falls in it."""
    if z < layer.min_zoom:
        return b""
    plan_for_tiles(conn, layer)
    row = conn.execute(tile_statement(layer, z, geometry=geometry),
                       tile_parameters(layer, z, x, y)).fetchone()
    return b"" if row is None or row["tile"] is None else bytes(row["tile"])


# Commune tiles up to this zoom are rendered at load time (see `seed`) and read from tile_seed.
SEED_MAX_ZOOM = 8


def _tile_range(z: int, west: float, south: float, east: float, north: float
                ) -> tuple[range, range]:
    """Tiles x and y of zoom `z` covering a Web Mercator box."""
    half = 20037508.342789244
    size = 2 * half / (1 << z)
    last = (1 << z) - 1

    def clamp(value: float) -> int:
        return max(0, min(last, int(value)))

    return (range(clamp((west + half) // size), clamp((east + half) // size) + 1),
            range(clamp((half - north) // size), clamp((half - south) // size) + 1))


def seed(conn: Conn, release_id: int, layer: Layer = COMMUNES) -> int:
    """Render and store the low-zoom tiles of a release (in the caller's transaction); returns
    how many non-empty tiles were stored. Tiles are listed per département so that the empty
    sea between mainland France and the DROM costs nothing."""
    boxes = conn.execute(
        """SELECT ST_XMin(b) AS w, ST_YMin(b) AS s, ST_XMax(b) AS e, ST_YMax(b) AS n
           FROM (SELECT ST_Extent(geom_3857) AS b FROM commune WHERE is_unit
                 GROUP BY departement) AS extents WHERE b IS NOT NULL""").fetchall()
    tiles: set[tuple[int, int, int]] = set()
    for z in range(layer.min_zoom, SEED_MAX_ZOOM + 1):
        for box in boxes:
            xs, ys = _tile_range(z, box["w"], box["s"], box["e"], box["n"])
            tiles.update((z, x, y) for x in xs for y in ys)
    # Only the tiles of the release being loaded are kept (a re-seed replaces them).
    conn.execute("DELETE FROM tile_seed")
    stored = 0
    for z, x, y in sorted(tiles):
        data = render(conn, layer, z, x, y)
        if data:
            conn.execute(
                "INSERT INTO tile_seed (release_id, layer, z, x, y, tile) "
                "VALUES (%s, %s, %s, %s, %s, %s)", (release_id, layer.name, z, x, y, data))
            stored += 1
    return stored


def seeded(conn: Conn, release_id: int, layer: Layer, z: int, x: int, y: int) -> bytes | None:
    """A tile rendered at load time; None when this tile is not seeded (drawn on request)."""
    if layer is not COMMUNES or z > SEED_MAX_ZOOM or z < layer.min_zoom:
        return None
    row = conn.execute(
        "SELECT tile FROM tile_seed WHERE release_id = %s AND layer = %s AND z = %s AND x = %s "
        "AND y = %s", (release_id, layer.name, z, x, y)).fetchone()
    if row is not None:
        return bytes(row["tile"])
    seeded_release = conn.execute(
        "SELECT 1 FROM tile_seed WHERE release_id = %s LIMIT 1", (release_id,)).fetchone()
    # A seeded release has every non-empty low-zoom tile: a missing one is empty.
    return b"" if seeded_release is not None else None


@dataclass(frozen=True)
class Vintage:
    """The geodata release the tiles are drawn from; a reload gives a new one."""

    release_id: int
    loaded_at: datetime | None

    @property
    def token(self) -> str:
        stamp = "0" if self.loaded_at is None else f"{self.loaded_at.timestamp():.6f}"
        return f"{self.release_id}-{stamp}"


NO_RELEASE = Vintage(0, None)


def current_vintage(conn: Conn) -> Vintage:
    row = conn.execute("SELECT id, loaded_at FROM geodata_release WHERE is_current").fetchone()
    return NO_RELEASE if row is None else Vintage(row["id"], row["loaded_at"])
