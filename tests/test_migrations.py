"""The migration runner: each file applied once, a broken one rolled back entirely."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from app.db import Conn, connect
from app.dbadmin import drop_database, ensure_database, with_database
from app.errors import ProblemError
from app.migrations import status, upgrade
from app.settings import Settings


@pytest.fixture
def scratch(settings: Settings) -> Iterator[Conn]:
    url = with_database(settings.database_url, "cpts_test_migrations")
    drop_database(url)
    ensure_database(url)
    with connect(url) as conn:
        yield conn
    drop_database(url)


def _write(directory: Path, name: str, text: str) -> None:
    (directory / name).write_text(text, encoding="utf-8")


def _tables(conn: Conn) -> set[str]:
    rows = conn.execute(
        "SELECT tablename FROM pg_tables WHERE schemaname = 'public'").fetchall()
    return {row["tablename"] for row in rows}


def test_each_migration_is_applied_once(scratch: Conn, tmp_path: Path) -> None:
    _write(tmp_path, "0001_first.sql", "CREATE TABLE first (id int);")
    _write(tmp_path, "0002_second.sql",
           "CREATE TABLE second (id int); INSERT INTO second VALUES (1);")
    applied = upgrade(scratch, tmp_path)
    assert [m.version for m in applied] == ["0001", "0002"]
    assert upgrade(scratch, tmp_path) == []
    assert scratch.execute("SELECT count(*) AS n FROM second").fetchone() == {"n": 1}
    assert all(state.applied_at is not None for state in status(scratch, tmp_path))


def test_a_broken_migration_is_rolled_back_completely(scratch: Conn, tmp_path: Path) -> None:
    _write(tmp_path, "0001_ok.sql", "CREATE TABLE ok_table (id int);")
    _write(tmp_path, "0002_broken.sql",
           "CREATE TABLE half_done (id int);\nINSERT INTO half_done VALUES (1);\nSELECT nonsense;")
    with pytest.raises(ProblemError) as error:
        upgrade(scratch, tmp_path)
    assert error.value.code == "migration_failed"
    assert "ok_table" in _tables(scratch)
    assert "half_done" not in _tables(scratch)
    states = {s.migration.version: s.applied_at for s in status(scratch, tmp_path)}
    assert states["0001"] is not None and states["0002"] is None


def test_status_flags_a_file_changed_after_it_was_applied(scratch: Conn, tmp_path: Path) -> None:
    _write(tmp_path, "0001_first.sql", "CREATE TABLE first (id int);")
    upgrade(scratch, tmp_path)
    _write(tmp_path, "0001_first.sql", "CREATE TABLE first (id bigint);")
    assert status(scratch, tmp_path)[0].modified


def test_badly_named_migration_is_refused(scratch: Conn, tmp_path: Path) -> None:
    _write(tmp_path, "first.sql", "SELECT 1;")
    with pytest.raises(ProblemError) as error:
        upgrade(scratch, tmp_path)
    assert error.value.code == "migration_bad_name"


def test_project_migrations_apply_on_an_empty_database(scratch: Conn) -> None:
    applied = upgrade(scratch, Settings().migrations_dir)
    assert applied and "commune" in _tables(scratch)
