"""Serving vector tiles from memory: an LRU of encoded tiles per data vintage, kept in step
with the current geodata release, which is looked up at most every few seconds."""

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from psycopg_pool import ConnectionPool

from app.db import Conn
from app.repo import tiles as repo
from app.repo.tiles import Layer, Vintage


@dataclass(frozen=True)
class TileKey:
    vintage: Vintage
    layer: str
    z: int
    x: int
    y: int


class TileCache:
    """Encoded tiles, least recently used first out, all of one vintage.

    A key of another vintage empties the cache: after a reload of the geodata no tile of the
    previous release can be served, and their memory is given back at once.
    """

    def __init__(self, max_tiles: int) -> None:
        self.max_tiles = max_tiles
        self._tiles: OrderedDict[TileKey, bytes] = OrderedDict()
        self._vintage: Vintage | None = None
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._tiles)

    @property
    def vintage(self) -> Vintage | None:
        return self._vintage

    def _follow(self, vintage: Vintage) -> None:
        if vintage != self._vintage:
            self._tiles.clear()
            self._vintage = vintage

    def get(self, key: TileKey) -> bytes | None:
        with self._lock:
            self._follow(key.vintage)
            tile = self._tiles.get(key)
            if tile is not None:
                self._tiles.move_to_end(key)
            return tile

    def put(self, key: TileKey, tile: bytes) -> None:
        with self._lock:
            # A tile drawn from a release that has just been replaced is not kept.
            if self.max_tiles == 0 or key.vintage != self._vintage:
                return
            self._tiles[key] = tile
            self._tiles.move_to_end(key)
            while len(self._tiles) > self.max_tiles:
                self._tiles.popitem(last=False)


class CurrentVintage:
    """The current release, read again from the database once `ttl_s` seconds have passed."""

    def __init__(self, read: Callable[[], Vintage], ttl_s: float = 2.0) -> None:
        self._read = read
        self._ttl_s = ttl_s
        self._value: Vintage | None = None
        self._read_at = 0.0
        self._lock = threading.Lock()

    def get(self) -> Vintage:
        with self._lock:
            now = time.monotonic()
            if self._value is None or now - self._read_at >= self._ttl_s:
                self._value = self._read()
                self._read_at = now
            return self._value


class TileService:
    """Tiles of the current vintage, from the cache or drawn by PostGIS."""

    def __init__(self, pool: ConnectionPool[Conn], max_tiles: int, max_age_s: int,
                 vintage_ttl_s: float = 2.0) -> None:
        self.pool = pool
        self.max_age_s = max_age_s
        self.cache = TileCache(max_tiles)
        self._vintage = CurrentVintage(self._read_vintage, vintage_ttl_s)

    def _read_vintage(self) -> Vintage:
        with self.pool.connection() as conn:
            return repo.current_vintage(conn)

    def vintage(self) -> Vintage:
        return self._vintage.get()

    def tile(self, vintage: Vintage, layer: Layer, z: int, x: int, y: int) -> bytes:
        key = TileKey(vintage, layer.name, z, x, y)
        tile = self.cache.get(key)
        if tile is None:
            with self.pool.connection() as conn:
                tile = repo.seeded(conn, vintage.release_id, layer, z, x, y)
                if tile is None:
                    tile = repo.render(conn, layer, z, x, y)
            self.cache.put(key, tile)
        return tile
