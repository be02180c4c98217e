"""`cpts db dump` and `cpts db restore`: whole-database backups with pg_dump / pg_restore.

A dump holds perimeters, versions, events, accounts and the audit log, and by default the
reference geography too (`--without-geodata` leaves its rows out: reload it after a restore).
A restore goes into an empty database only, in a single transaction: it succeeds whole or
leaves the database as it was.
"""

import glob
import shutil
import subprocess
from pathlib import Path

import psycopg

from app.dbadmin import ensure_database
from app.errors import ProblemError

GEODATA_TABLES = ("commune", "unit_adjacency", "commune_history", "commune_outside_map",
                  "region", "departement", "epci", "bassin_de_vie")


def _binary(name: str) -> str:
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)
    if candidates:
        return candidates[0]
    raise ProblemError(500, "pg_tool_missing",
                       f"L'outil {name} de PostgreSQL est introuvable sur cette machine.")


def dump(database_url: str, target: Path, *, with_geodata: bool = True) -> Path:
    command = [_binary("pg_dump"), "--format=custom", "--no-owner", "--no-privileges",
               f"--dbname={database_url}", f"--file={target}"]
    if not with_geodata:
        command += [f"--exclude-table-data={table}" for table in GEODATA_TABLES]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        target.unlink(missing_ok=True)
        raise ProblemError(500, "dump_failed", f"La sauvegarde a échoué : {result.stderr[-500:]}")
    return target


def _is_empty(database_url: str) -> bool:
    with psycopg.connect(database_url) as conn:
        row = conn.execute(
            """SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
               WHERE c.relkind IN ('r', 'p') AND n.nspname = 'public'
                 AND c.relname <> 'spatial_ref_sys'""").fetchone()
    return row is not None and row[0] == 0


def restore(database_url: str, source: Path) -> None:
    if not source.is_file():
        raise ProblemError(400, "dump_missing", f"Fichier de sauvegarde introuvable : {source}.")
    ensure_database(database_url)
    if not _is_empty(database_url):
        raise ProblemError(409, "restore_target_not_empty",
                           "La base cible n'est pas vide : une restauration se fait dans une "
                           "base neuve (créez-la ou videz-la d'abord).")
    result = subprocess.run(
        [_binary("pg_restore"), "--no-owner", "--no-privileges", "--exit-on-error",
         "--single-transaction", f"--dbname={database_url}", str(source)],
        capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise ProblemError(500, "restore_failed",
                           f"La restauration a échoué et n'a rien écrit : {result.stderr[-500:]}")
