"""Backups: a dump restored into an empty database gives back every perimeter, version and
audit entry; a restore never half-writes."""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from app.backup import dump, restore
from app.db import connect
from app.dbadmin import drop_database, ensure_database, with_database
from app.errors import ProblemError
from app.migrations import upgrade
from app.services import cpts as service
from app.settings import Settings
from geodata.pipeline import load_geodata

TABLES = {
    "cpts": "SELECT * FROM cpts ORDER BY id",
    "cpts_version": "SELECT cpts_id, version, created_at, reason, effective_date, name, status,"
                    " archived, units, added, removed, population, size_class, size_rule,"
                    " ST_AsBinary(outline) AS outline FROM cpts_version ORDER BY 1, 2",
    "cpts_member": "SELECT * FROM cpts_member ORDER BY 1, 2",
    "cpts_event": "SELECT * FROM cpts_event ORDER BY id",
    "audit_log": "SELECT * FROM audit_log ORDER BY id",
    "communes": "SELECT count(*), sum(population) FROM commune",
}


@pytest.fixture(scope="module")
def source(settings: Settings) -> Iterator[Settings]:
    url = with_database(settings.database_url, "cpts_test_backup_source")
    drop_database(url)
    ensure_database(url)
    scratch = settings.model_copy(update={"database_url": url})
    with connect(url) as conn:
        upgrade(conn, settings.migrations_dir)
    load_geodata(scratch, departements=["06"], show_progress=False)
    with connect(url) as conn:
        ctx = service.command_line_context(conn)
        first = service.create(ctx, name="CPTS Nice Est", status="lettre_intention",
                               communes=["06088", "06149", "06159"])
        service.update(ctx, first, expected_version=1, add=["06123"], reason="extension")
        second = service.create(ctx, name="CPTS Cannes", status="aci_signe",
                                communes=["06029", "06030"])
        service.archive(ctx, second, expected_version=1, reason="fusion")
        conn.commit()
    yield scratch
    drop_database(url)


def _snapshot(url: str) -> dict[str, list[Any]]:
    with connect(url) as conn:
        return {name: conn.execute(query.encode()).fetchall() for name, query in TABLES.items()}


def test_restore_into_an_empty_database_gives_everything_back(
    source: Settings, settings: Settings, tmp_path: Path
) -> None:
    target = with_database(settings.database_url, "cpts_test_backup_target")
    drop_database(target)
    try:
        file = dump(source.database_url, tmp_path / "cpts.dump")
        restore(target, file)
        before, after = _snapshot(source.database_url), _snapshot(target)
        assert len(before["cpts_version"]) == 4 and len(before["audit_log"]) >= 4
        assert after == before
    finally:
        drop_database(target)


def test_restore_refuses_a_database_that_is_not_empty(
    source: Settings, tmp_path: Path
) -> None:
    file = dump(source.database_url, tmp_path / "cpts.dump", with_geodata=False)
    with pytest.raises(ProblemError) as refused:
        restore(source.database_url, file)
    assert refused.value.code == "restore_target_not_empty"


def test_a_broken_dump_writes_nothing(source: Settings, settings: Settings,
                                      tmp_path: Path) -> None:
    good = dump(source.database_url, tmp_path / "cpts.dump")
    broken = tmp_path / "broken.dump"
    data = good.read_bytes()
    broken.write_bytes(data[: len(data) // 2])
    target = with_database(settings.database_url, "cpts_test_backup_broken")
    drop_database(target)
    try:
        with pytest.raises(ProblemError) as failed:
            restore(target, broken)
        assert failed.value.code == "restore_failed"
        with connect(target) as conn:
            tables = conn.execute(
                "SELECT count(*) AS n FROM pg_tables WHERE schemaname = 'public'").fetchone()
        assert tables == {"n": 0}
    finally:
        drop_database(target)
