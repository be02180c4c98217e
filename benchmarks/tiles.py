"""Vector tile latency and size on the whole of France, through a real `cpts serve`.

A fixed list of 200 tiles from zoom 5 to 12 is drawn from the loaded communes with a seeded
random generator; each is asked once from a freshly started server (uncached), then again
(served from the in-process cache), in three rounds with a new server each time. The same
tiles are then drawn straight from PostGIS with the generalised band of their zoom and, as the
baseline, with the full-detail geometry.
"""

import math
import random
import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass

import httpx

from app.db import Conn, connect
from app.repo import tiles as repo
from benchmarks import Figure, api_token, database_url, percentile, running_server

SEED = 20_240_101
TILE_COUNT = 200
ZOOMS = range(5, 13)
ZOOMS_ALL = range(repo.MAX_ZOOM + 1)
REFERENCE_LAYERS = ("departements", "epci", "regions", "bassins_de_vie")
UNCACHED_P95_MS = 50.0
CACHED_P95_MS = 5.0
MAX_TILE_KB = 500.0
WARM_UP_REQUESTS = 20
# Each round starts a new server; a request's time is its median over the rounds, which keeps
# a burst of load from elsewhere on the machine out of the percentiles.
ROUNDS = 3
WORLD_M = 2 * math.pi * 6_378_137.0


@dataclass(frozen=True, order=True)
class Tile:
    z: int
    x: int
    y: int

    def path(self, layer: str) -> str:
        return f"/api/tiles/{layer}/{self.z}/{self.x}/{self.y}.pbf"


@dataclass(frozen=True)
class Served:
    tile: Tile
    milliseconds: float
    size: int


def tile_at(x_m: float, y_m: float, z: int) -> Tile:
    """The tile of zoom `z` holding the Web Mercator point (x_m, y_m)."""
    size = WORLD_M / (1 << z)
    last = (1 << z) - 1
    column = min(last, max(0, int((x_m + WORLD_M / 2) // size)))
    row = min(last, max(0, int((WORLD_M / 2 - y_m) // size)))
    return Tile(z, column, row)


def fixed_tiles(conn: Conn) -> list[Tile]:
    """200 distinct tiles over French communes, the same on every run over the same data.

    For each zoom, points are drawn at random in the bounding box of a commune, chosen half
    the time uniformly and half the time in proportion to its population (dense cities make
    the heaviest tiles). Zooms 5 and 6 have fewer distinct tiles than their share; the
    shortfall goes to the next zoom.
    """
    communes = conn.execute("""
        SELECT code, population, ST_XMin(geom_3857) AS x0, ST_YMin(geom_3857) AS y0,
               ST_XMax(geom_3857) AS x1, ST_YMax(geom_3857) AS y1
        FROM commune WHERE is_unit AND geom_3857 IS NOT NULL ORDER BY code
    """).fetchall()
    if not communes:
        raise RuntimeError("no commune loaded: run `cpts geodata load --all` first")
    weights = [max(1, row["population"]) for row in communes]
    rng = random.Random(SEED)
    chosen: list[Tile] = []
    share = TILE_COUNT // len(ZOOMS)
    for index, z in enumerate(ZOOMS):
        wanted = (TILE_COUNT - len(chosen) if index == len(ZOOMS) - 1
                  else share * (index + 1) - len(chosen))
        found: set[Tile] = set()
        for attempt in range(wanted * 200):
            if len(found) == wanted:
                break
            if attempt % 2:
                row = rng.choices(communes, weights=weights)[0]
            else:
                row = communes[rng.randrange(len(communes))]
            found.add(tile_at(rng.uniform(row["x0"], row["x1"]),
                              rng.uniform(row["y0"], row["y1"]), z))
        chosen.extend(sorted(found))
    return chosen


def fetch_all(client: httpx.Client, tiles: Sequence[Tile], layer: str) -> list[Served]:
    served = []
    for tile in tiles:
        started = time.perf_counter()
        response = client.get(tile.path(layer))
        elapsed = (time.perf_counter() - started) * 1000
        if response.status_code not in (200, 204):
            raise RuntimeError(f"{tile.path(layer)}: HTTP {response.status_code} {response.text}")
        served.append(Served(tile, elapsed, len(response.content)))
    return served


def timed_render(conn: Conn, layer: repo.Layer, tile: Tile, geometry: str | None) -> Served:
    started = time.perf_counter()
    body = repo.render(conn, layer, tile.z, tile.x, tile.y, geometry=geometry)
    conn.commit()
    return Served(tile, (time.perf_counter() - started) * 1000, len(body))


def milliseconds(served: Sequence[Served], zooms: range = ZOOMS_ALL) -> list[float]:
    return [s.milliseconds for s in served if s.tile.z in zooms]


def median_of_rounds(rounds: Sequence[Sequence[Served]]) -> list[Served]:
    """Per request, the median time over the rounds (the same requests in the same order)."""
    return [Served(same[0].tile, statistics.median(s.milliseconds for s in same), same[0].size)
            for same in zip(*rounds, strict=True)]


@dataclass(frozen=True)
class Round:
    floor: list[Served]
    uncached: list[Served]
    cached: list[Served]
    reference_uncached: list[Served]


def measure_round(url: str, token: str, tiles: Sequence[Tile]) -> Round:
    """Every measure over HTTP, on a freshly started server (so an empty tile cache)."""
    with (running_server(url) as base,
          httpx.Client(base_url=base, timeout=60,
                       headers={"Authorization": f"Bearer {token}"}) as client):
        # Not measured: opens the pool's connections and loads PostGIS into each of their
        # server processes (~20 ms on the first call), with tiles of the empty Arctic.
        for column in range(WARM_UP_REQUESTS):
            client.get(Tile(12, column, 0).path("communes"))
        return Round(
            floor=fetch_all(client, [Tile(12, 0, 0)] * TILE_COUNT, "communes"),
            uncached=fetch_all(client, tiles, "communes"),
            cached=fetch_all(client, tiles, "communes"),
            reference_uncached=[s for layer in REFERENCE_LAYERS
                                for s in fetch_all(client, tiles, layer)],
        )


def run() -> list[Figure]:
    url = database_url()
    with connect(url) as conn:
        tiles = fixed_tiles(conn)
    zooms = sorted({tile.z for tile in tiles})
    counts = ", ".join(f"z{z}: {sum(t.z == z for t in tiles)}" for z in zooms)

    with api_token(url) as token:
        rounds = [measure_round(url, token, tiles) for _ in range(ROUNDS)]
    floor = median_of_rounds([r.floor for r in rounds])
    uncached = median_of_rounds([r.uncached for r in rounds])
    cached = median_of_rounds([r.cached for r in rounds])
    reference_uncached = median_of_rounds([r.reference_uncached for r in rounds])

    with connect(url) as conn:
        banded: list[Served] = []
        full: list[Served] = []
        for tile in tiles:
            banded.append(timed_render(conn, repo.COMMUNES, tile, None))
            full.append(timed_render(conn, repo.COMMUNES, tile, repo.FULL_DETAIL))

    sizes = [s.size for s in uncached if s.size]
    largest = max(uncached, key=lambda s: s.size)
    band_p95 = percentile(milliseconds(banded), 0.95)
    band_max = max(s.size for s in banded)
    figures = [
        Figure("tiles.communes.uncached_p50", percentile(milliseconds(uncached), 0.5), "ms",
               note=f"{len(tiles)} tiles ({counts}); empty below z{repo.COMMUNES.min_zoom}"),
        Figure("tiles.communes.uncached_p95", percentile(milliseconds(uncached), 0.95), "ms",
               UNCACHED_P95_MS),
        Figure("tiles.communes.cached_p50", percentile(milliseconds(cached), 0.5), "ms"),
        Figure("tiles.communes.cached_p95", percentile(milliseconds(cached), 0.95), "ms",
               CACHED_P95_MS),
        Figure("tiles.signed_in_floor_p95", percentile(milliseconds(floor), 0.95), "ms",
               note="one cached empty tile asked 200 times: HTTP and the access guard alone"),
        Figure("tiles.communes.max_size", max(s.size for s in uncached) / 1024, "KB",
               MAX_TILE_KB, max(s.size for s in full) / band_max,
               note=f"largest: {largest.tile.z}/{largest.tile.x}/{largest.tile.y}"),
        Figure("tiles.communes.mean_size", sum(sizes) / max(1, len(sizes)) / 1024, "KB",
               note=f"over the {len(sizes)} non-empty tiles"),
    ]
    for low, high in ((6, 6), (7, 8), (9, 10), (11, 12)):
        band = milliseconds(uncached, range(low, high + 1))
        if band:
            figures.append(Figure(f"tiles.communes.uncached_p95_z{low}-{high}",
                                  percentile(band, 0.95), "ms", note=f"{len(band)} tiles"))
    band_max_ms = max(milliseconds(banded))
    figures += [
        Figure("tiles.communes.db_render_p95", band_p95, "ms",
               baseline_ratio=percentile(milliseconds(full), 0.95) / band_p95,
               note="PostGIS alone; baseline: geom_3857 at every zoom"),
        Figure("tiles.communes.db_render_max", band_max_ms, "ms",
               baseline_ratio=max(milliseconds(full)) / band_max_ms),
        Figure("tiles.reference.uncached_p95", percentile(milliseconds(reference_uncached), 0.95),
               "ms", UNCACHED_P95_MS, note=", ".join(REFERENCE_LAYERS)),
        Figure("tiles.reference.max_size", max(s.size for s in reference_uncached) / 1024, "KB",
               MAX_TILE_KB),
    ]
    return figures
