"""Loading geodata into PostGIS: scope, idempotence, one transaction, clean geometries."""

from collections.abc import Iterator
from typing import Any

import pytest

from app.db import Conn, connect
from app.dbadmin import drop_database, ensure_database, with_database
from app.migrations import upgrade
from app.settings import Settings
from geodata import load as load_module
from geodata.pipeline import load_geodata
from tests.conftest import loaded_departements


@pytest.fixture(scope="module")
def scratch_settings(settings: Settings) -> Iterator[Settings]:
    url = with_database(settings.database_url, "cpts_test_geodata_load")
    drop_database(url)
    ensure_database(url)
    with connect(url) as conn:
        upgrade(conn, settings.migrations_dir)
    yield settings.model_copy(update={"database_url": url})
    drop_database(url)


def _count(conn: Conn, query: str, *params: Any) -> int:
    row = conn.execute(query.encode(), params).fetchone()
    assert row is not None
    return int(next(iter(row.values())))


def test_test_database_holds_the_requested_departements(conn: Conn) -> None:
    loaded = {row["departement"] for row in conn.execute(
        "SELECT DISTINCT departement FROM commune").fetchall()}
    assert loaded == set(loaded_departements())
    assert _count(conn, "SELECT count(*) FROM commune WHERE departement = '06'") == 163
    assert _count(conn, "SELECT count(*) FROM commune WHERE type = 'ARM'") == 45


def test_no_invalid_geometry_in_the_database(conn: Conn) -> None:
    assert _count(conn, """
        SELECT count(*) FROM commune
        WHERE NOT (ST_IsValid(geom) AND ST_IsValid(geom_3857) AND ST_IsValid(geom_g1)
                   AND ST_IsValid(geom_g2) AND ST_IsValid(geom_g3))""") == 0
    assert _count(conn, "SELECT count(*) FROM departement WHERE NOT ST_IsValid(geom)") == 0


def test_neighbours_do_not_overlap_in_the_database(conn: Conn) -> None:
    overlap = conn.execute("""
        SELECT coalesce(max(ST_Area(ST_Intersection(a.geom, b.geom)::geography)), 0) AS m2
        FROM unit_adjacency j
        JOIN commune a ON a.code = j.code JOIN commune b ON b.code = j.neighbour
        WHERE a.departement = '06'""").fetchone()
    assert overlap is not None and overlap["m2"] < 1.0


def test_plm_populations_are_sums_in_the_database(conn: Conn) -> None:
    rows = conn.execute("""
        SELECT p.code, p.population, sum(a.population) AS total
        FROM commune p JOIN commune a ON a.parent = p.code GROUP BY p.code, p.population
    """).fetchall()
    assert len(rows) == 3 and all(r["population"] == r["total"] for r in rows)


def test_loading_twice_does_nothing_the_second_time(scratch_settings: Settings) -> None:
    first = load_geodata(scratch_settings, departements=["06"], show_progress=False)
    assert first.release_id is not None
    again = load_geodata(scratch_settings, departements=["06"], show_progress=False)
    assert again.release_id is None
    with connect(scratch_settings.database_url) as conn:
        assert _count(conn, "SELECT count(*) FROM geodata_release") == 1
        assert _count(conn, "SELECT count(*) FROM commune") == 163


def test_a_region_scope_loads_its_departements(scratch_settings: Settings) -> None:
    outcome = load_geodata(scratch_settings, regions=["94"], show_progress=False)  # Corse
    assert outcome.scope.departements == ("2A", "2B")
    with connect(scratch_settings.database_url) as conn:
        assert _count(conn, "SELECT count(*) FROM commune") == 360
        assert _count(conn, "SELECT count(*) FROM geodata_release WHERE is_current") == 1


def test_an_interrupted_load_leaves_the_previous_release_serving(
    scratch_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    load_geodata(scratch_settings, departements=["06"], force=True, show_progress=False)
    with connect(scratch_settings.database_url) as conn:
        before = conn.execute(
            "SELECT id FROM geodata_release WHERE is_current").fetchone()
    original = load_module._copy

    def failing_copy(conn: Conn, table: str, *args: Any) -> int:
        if table == "unit_adjacency":
            raise RuntimeError("interruption simulée")
        return original(conn, table, *args)

    monkeypatch.setattr(load_module, "_copy", failing_copy)
    with pytest.raises(RuntimeError):
        load_geodata(scratch_settings, departements=["06", "83"], force=True,
                     show_progress=False)
    with connect(scratch_settings.database_url) as conn:
        after = conn.execute("SELECT id FROM geodata_release WHERE is_current").fetchone()
        assert after == before
        assert _count(conn, "SELECT count(*) FROM commune") == 163
        assert _count(conn, "SELECT count(*) FROM commune WHERE departement = '83'") == 0
        assert _count(conn, "SELECT count(*) FROM unit_adjacency") > 0


def test_unknown_departement_is_refused(scratch_settings: Settings) -> None:
    from app.errors import ProblemError

    with pytest.raises(ProblemError) as error:
        load_geodata(scratch_settings, departements=["06", "00"], show_progress=False)
    assert error.value.code == "unknown_area"
