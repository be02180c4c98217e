"""Vector tiles of communes and reference layers, their HTTP caching and the in-process cache.

Tiles need a signed-in user (app/auth/policy.py): requests go through `auth_client`.
"""

import math
from datetime import UTC, datetime
from typing import Any

import mapbox_vector_tile
import pytest
from fastapi.testclient import TestClient
from psycopg import sql

from app.api.tiles import etag_of
from app.db import Conn
from app.repo import tiles as repo
from app.repo.tiles import Vintage
from app.settings import Settings
from app.tilecache import CurrentVintage, TileCache, TileKey, TileService
from geodata.generalize import BANDS

NICE = (7.2620, 43.7034)
PARIS_HOTEL_DE_VILLE = (2.3522, 48.8566)
ATLANTIC = (-20.0, 45.0)


def tile_of(lon_lat: tuple[float, float], z: int) -> tuple[int, int, int]:
    lon, lat = lon_lat
    n = 1 << z
    x = int((lon + 180.0) / 360.0 * n)
    y = int((1.0 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2.0 * n)
    return z, x, y


def url(layer: str, tile: tuple[int, int, int]) -> str:
    z, x, y = tile
    return f"/api/tiles/{layer}/{z}/{x}/{y}.pbf"


def features(client: TestClient, layer: str, tile: tuple[int, int, int]) -> list[dict[str, Any]]:
    response = client.get(url(layer, tile))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/vnd.mapbox-vector-tile"
    decoded = mapbox_vector_tile.decode(response.content)
    assert list(decoded) == [layer]
    assert decoded[layer]["extent"] == repo.EXTENT
    found: list[dict[str, Any]] = decoded[layer]["features"]
    return found


def by_code(found: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {feature["properties"]["code"]: feature for feature in found}


def test_nice_at_zoom_12_shows_the_commune_of_nice(auth_client: TestClient) -> None:
    communes = by_code(features(auth_client, "communes", tile_of(NICE, 12)))
    nice = communes["06088"]
    assert nice["properties"]["nom"] == "Nice"
    assert nice["properties"]["type"] == "COM"
    assert nice["properties"]["population"] > 300_000
    assert nice["geometry"]["type"] in {"Polygon", "MultiPolygon"}


def test_zoom_9_communes_carry_code_name_population_and_type(auth_client: TestClient) -> None:
    found = features(auth_client, "communes", tile_of(NICE, 9))
    assert len(found) > 50
    for feature in found:
        assert set(feature["properties"]) == {"code", "nom", "population", "type"}
    communes = by_code(found)
    assert len(communes) == len(found)
    assert communes["06088"]["properties"]["nom"] == "Nice"
    assert communes["06004"]["properties"]["nom"] == "Antibes"


def test_zoom_6_communes_carry_only_their_code(auth_client: TestClient) -> None:
    found = features(auth_client, "communes", tile_of(NICE, 6))
    assert len(found) > 150
    assert all(set(feature["properties"]) == {"code"} for feature in found)
    assert "06088" in by_code(found)


def test_communes_start_at_zoom_6_while_departements_cover_every_zoom(
        auth_client: TestClient) -> None:
    empty = auth_client.get(url("communes", tile_of(NICE, 5)))
    assert empty.status_code == 204
    assert empty.content == b""
    assert "etag" in empty.headers
    assert "06" in by_code(features(auth_client, "departements", tile_of(NICE, 5)))


def test_paris_is_drawn_by_arrondissement(auth_client: TestClient) -> None:
    communes = by_code(features(auth_client, "communes", tile_of(PARIS_HOTEL_DE_VILLE, 12)))
    assert "75056" not in communes
    assert {"75101", "75104"} <= set(communes)
    assert communes["75104"]["properties"]["type"] == "ARM"


@pytest.mark.parametrize(("layer", "column"), [
    ("departements", "departement"), ("epci", "epci"), ("regions", "region"),
    ("bassins_de_vie", "bassin_de_vie"),
])
def test_reference_layers_hold_the_areas_of_nice(
        auth_client: TestClient, conn: Conn, layer: str, column: str) -> None:
    row = conn.execute(sql.SQL("SELECT {} AS code FROM commune WHERE code = '06088'").format(
        sql.Identifier(column))).fetchone()
    assert row is not None and row["code"]
    for z in (6, 9, 12):
        found = by_code(features(auth_client, layer, tile_of(NICE, z)))
        assert set(found[row["code"]]["properties"]) == {"code", "nom"}
        assert found[row["code"]]["properties"]["nom"]


def test_departement_tile_names_alpes_maritimes(auth_client: TestClient) -> None:
    found = by_code(features(auth_client, "departements", tile_of(NICE, 8)))
    assert found["06"]["properties"]["nom"] == "Alpes-Maritimes"


def test_tile_with_nothing_in_it_answers_204(auth_client: TestClient) -> None:
    response = auth_client.get(url("communes", tile_of(ATLANTIC, 10)))
    assert response.status_code == 204
    assert response.content == b""


def test_tiles_are_cacheable_and_honour_if_none_match(
        auth_client: TestClient, conn: Conn, settings: Settings) -> None:
    nice = url("communes", tile_of(NICE, 11))
    first = auth_client.get(nice)
    assert first.status_code == 200
    assert first.headers["cache-control"] == f"public, max-age={settings.tile_max_age_s}"
    release = repo.current_vintage(conn)
    etag = first.headers["etag"]
    assert etag == etag_of(release)

    for header in (etag, f"W/{etag}", f'"autre", {etag}', "*"):
        again = auth_client.get(nice, headers={"If-None-Match": header})
        assert again.status_code == 304, header
        assert again.content == b""
        assert again.headers["etag"] == etag
    stale = auth_client.get(nice, headers={"If-None-Match": '"1-0-0"'})
    assert stale.status_code == 200
    assert stale.content == first.content


def test_etag_changes_with_the_release_and_its_load_time() -> None:
    loaded = datetime(2026, 1, 1, tzinfo=UTC)
    reloaded = datetime(2026, 1, 2, tzinfo=UTC)
    etags = {etag_of(Vintage(1, loaded)), etag_of(Vintage(2, loaded)),
             etag_of(Vintage(1, reloaded)), etag_of(repo.NO_RELEASE)}
    assert len(etags) == 4


def test_a_cached_tile_is_served_without_being_drawn_again(auth_client: TestClient) -> None:
    tile = tile_of(ATLANTIC, 16)
    assert auth_client.get(url("regions", tile)).status_code == 204
    service: TileService = auth_client.app.state.tile_service  # type: ignore[attr-defined]
    key = TileKey(service.vintage(), "regions", *tile)
    assert service.cache.get(key) == b""
    service.cache.put(key, b"tuile en cache")
    assert auth_client.get(url("regions", tile)).content == b"tuile en cache"


def test_cache_forgets_every_tile_when_the_release_changes() -> None:
    loaded = datetime(2026, 1, 1, tzinfo=UTC)
    old, new = Vintage(1, loaded), Vintage(2, loaded)
    cache = TileCache(max_tiles=10)
    assert cache.get(TileKey(old, "communes", 12, 1, 1)) is None
    cache.put(TileKey(old, "communes", 12, 1, 1), b"ancienne")
    cache.put(TileKey(old, "communes", 12, 1, 2), b"ancienne")
    assert cache.get(TileKey(old, "communes", 12, 1, 1)) == b"ancienne"

    assert cache.get(TileKey(new, "communes", 12, 1, 1)) is None
    assert len(cache) == 0 and cache.vintage == new
    # A tile drawn from the old release, finished after the switch, is not kept.
    cache.put(TileKey(old, "communes", 12, 1, 1), b"ancienne")
    assert len(cache) == 0
    cache.put(TileKey(new, "communes", 12, 1, 1), b"nouvelle")
    assert cache.get(TileKey(new, "communes", 12, 1, 1)) == b"nouvelle"


def test_cache_drops_the_least_recently_used_tile() -> None:
    vintage = Vintage(1, datetime(2026, 1, 1, tzinfo=UTC))
    cache = TileCache(max_tiles=2)
    a, b, c = (TileKey(vintage, "communes", 12, 1, y) for y in (1, 2, 3))
    cache.get(a)
    cache.put(a, b"a")
    cache.put(b, b"b")
    assert cache.get(a) == b"a"
    cache.put(c, b"c")
    assert cache.get(b) is None
    assert cache.get(a) == b"a" and cache.get(c) == b"c"


def test_disabled_cache_keeps_nothing() -> None:
    vintage = Vintage(1, datetime(2026, 1, 1, tzinfo=UTC))
    cache = TileCache(max_tiles=0)
    key = TileKey(vintage, "communes", 12, 1, 1)
    cache.get(key)
    cache.put(key, b"a")
    assert cache.get(key) is None


def test_current_release_is_read_again_only_after_its_delay() -> None:
    reads: list[Vintage] = []

    def read() -> Vintage:
        reads.append(Vintage(len(reads) + 1, None))
        return reads[-1]

    kept = CurrentVintage(read, ttl_s=3600)
    assert kept.get() == kept.get() == Vintage(1, None)
    assert len(reads) == 1
    fresh = CurrentVintage(read, ttl_s=0)
    assert fresh.get() != fresh.get()
    assert len(reads) == 3


def test_unknown_layer_is_a_404_problem(auth_client: TestClient) -> None:
    response = auth_client.get("/api/tiles/cantons/9/266/186.pbf")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["code"] == "unknown_layer"
    assert "cantons" in body["detail"] and "communes" in body["detail"]


@pytest.mark.parametrize("path", ["17/0/0", "-1/0/0", "3/8/0", "3/0/8", "3/-1/0", "0/0/1"])
def test_coordinates_outside_the_grid_are_422_problems(
        auth_client: TestClient, path: str) -> None:
    response = auth_client.get(f"/api/tiles/communes/{path}.pbf")
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["code"] == "invalid_tile_coordinates"
    assert "zoom" in body["detail"]


def test_non_numeric_coordinates_are_422_problems(auth_client: TestClient) -> None:
    response = auth_client.get("/api/tiles/communes/9/abc/186.pbf")
    assert response.status_code == 422
    assert response.json()["code"] == "validation_error"


def test_zoom_bands_follow_the_generalisation_pipeline() -> None:
    for column, (_, label) in BANDS.items():
        first, last = (int(bound) for bound in label.removeprefix("z").split("-"))
        assert [repo.geometry_column(z) for z in range(first, last + 1)] == \
            [column] * (last - first + 1)
    assert {repo.geometry_column(z) for z in range(11, repo.MAX_ZOOM + 1)} == {"geom_3857"}


def test_tile_query_goes_through_the_spatial_index_of_its_band(conn: Conn) -> None:
    z, x, y = tile_of(NICE, 9)
    repo.plan_for_tiles(conn, repo.COMMUNES)
    statement = repo.tile_statement(repo.COMMUNES, z)
    plan = "\n".join(row["QUERY PLAN"] for row in conn.execute(
        b"EXPLAIN " + statement.as_bytes(conn), repo.tile_parameters(repo.COMMUNES, z, x, y)))
    assert "commune_geom_g3" in plan
