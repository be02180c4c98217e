"""`cpts import FILE` holds a file to the limits of an upload (settings `MAX_UPLOAD_BYTES`,
`MAX_IMPORT_ROWS`, `MAX_XLSX_UNCOMPRESSED_BYTES`), refusing it in French with a non-zero exit,
and reads it when it fits them. Each file here is refused below one setting and read above it."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from app.cli import main
from app.db import connect
from app.settings import get_settings
from benchmarks.hostile_files import inline_rows, sheet_xml, xlsx

ROWS = 150


@pytest.fixture
def cli(database: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    monkeypatch.setenv("DATABASE_URL", database)
    get_settings.cache_clear()
    yield monkeypatch
    get_settings.cache_clear()


@pytest.fixture(scope="module")
def csv_file(database: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One CPTS of 150 communes of the Alpes-Maritimes: ~2.9 kB, 151 rows."""
    with connect(database) as conn:
        codes = [r["code"] for r in conn.execute(
            "SELECT code FROM commune WHERE departement = '06' ORDER BY code LIMIT %s",
            (ROWS,)).fetchall()]
    assert len(codes) == ROWS
    path = tmp_path_factory.mktemp("import") / "limites.csv"
    path.write_text("cpts;code_commune\n" + "".join(
        f"CPTS des limites de la ligne de commande;{code}\n" for code in codes),
        encoding="utf-8")
    return path


def _import(cli: pytest.MonkeyPatch, path: Path, **settings: int) -> int:
    for name, value in settings.items():
        cli.setenv(name.upper(), str(value))
    get_settings.cache_clear()
    return main(["import", str(path), "--dry-run"])


def test_a_file_larger_than_an_upload_is_refused(
        cli: pytest.MonkeyPatch, csv_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert 2048 < csv_file.stat().st_size < 8192
    assert _import(cli, csv_file, max_upload_bytes=2048) == 1
    refused = capsys.readouterr()
    assert "import refusé [upload_too_large] : Fichier trop volumineux : la limite est de " \
           "2\u202f048 octets (MAX_UPLOAD_BYTES)." in refused.err
    assert refused.out == ""
    assert _import(cli, csv_file, max_upload_bytes=8192) == 0
    assert f"simulation (rien n'est enregistré) — {ROWS} ligne(s) lue(s)" in capsys.readouterr().out


def test_a_file_with_more_rows_than_the_setting_is_refused(
        cli: pytest.MonkeyPatch, csv_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _import(cli, csv_file, max_import_rows=100) == 1
    refused = capsys.readouterr().err
    assert "import refusé [too_many_rows]" in refused and "100 lignes" in refused
    assert _import(cli, csv_file, max_import_rows=ROWS + 1) == 0
    assert f"{ROWS} ligne(s) lue(s)" in capsys.readouterr().out


def test_an_xlsx_larger_decompressed_than_the_setting_is_refused(
        cli: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "grand.xlsx"
    rows = [["cpts", "code_commune"], *[["A", "06088"]] * 20_000]
    path.write_bytes(xlsx(sheet_xml(inline_rows(rows))))
    assert _import(cli, path, max_xlsx_uncompressed_bytes=1024 * 1024) == 1
    refused = capsys.readouterr().err
    assert "import refusé [xlsx_too_large]" in refused and "1 Mio" in refused
    # within the default limit the sheet is read whole: then its rows are refused (Nice 20,000
    # times), not its size
    assert _import(cli, path, max_xlsx_uncompressed_bytes=64 * 1024 * 1024) == 1
    read = capsys.readouterr().err
    assert "19999 erreur(s) pour 20000 ligne(s) lue(s)" in read and "xlsx_too_large" not in read
