"""Low-zoom commune tiles rendered at load time are the tiles the server would draw."""

from typing import Any

import mapbox_vector_tile

from app.db import Conn
from app.repo import tiles


def _features(tile: bytes) -> list[tuple[Any, ...]]:
    """Decoded features in a stable order (PostGIS may emit them in any order)."""
    layer = mapbox_vector_tile.decode(tile)["communes"]
    return sorted((f["properties"]["code"], str(f["geometry"])) for f in layer["features"])


def test_seeded_tiles_equal_rendered_ones_and_missing_ones_are_empty(conn: Conn) -> None:
    release = tiles.current_vintage(conn).release_id
    with conn.transaction(force_rollback=True):
        stored = tiles.seed(conn, release)
        assert stored > 0
        rows = conn.execute(
            "SELECT z, x, y, tile FROM tile_seed WHERE release_id = %s ORDER BY z, x, y",
            (release,)).fetchall()
        assert len(rows) == stored and {r["z"] for r in rows} == {6, 7, 8}
        for row in rows[:: max(1, len(rows) // 6)]:
            drawn = tiles.render(conn, tiles.COMMUNES, row["z"], row["x"], row["y"])
            assert _features(bytes(row["tile"])) == _features(drawn)
            assert tiles.seeded(conn, release, tiles.COMMUNES, row["z"], row["x"],
                                row["y"]) == bytes(row["tile"])
        # Mid-Atlantic: seeded release, tile not stored, so empty.
        assert tiles.seeded(conn, release, tiles.COMMUNES, 7, 40, 45) == b""
        # Above the seeded zooms the server draws on request.
        assert tiles.seeded(conn, release, tiles.COMMUNES, 9, 266, 187) is None
