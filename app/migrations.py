"""A small migration runner: ordered SQL files, each applied once in its own transaction."""

import hashlib
import logging
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import psycopg
from psycopg.rows import tuple_row

from app.errors import ProblemError

log = logging.getLogger(__name__)

_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")
# An arbitrary key shared by every runner, so that two concurrent upgrades never interleave.
_LOCK_KEY = 0x43505453

_LEDGER = """
CREATE TABLE IF NOT EXISTS schema_migration (
    version    text PRIMARY KEY,
    name       text NOT NULL,
    checksum   text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
)
"""


@dataclass(frozen=True)
class Migration:
    version: str
    name: str
    path: Path

    @property
    def sql(self) -> str:
        return self.path.read_text(encoding="utf-8")

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.path.read_bytes()).hexdigest()


@dataclass(frozen=True)
class MigrationState:
    migration: Migration
    applied_at: datetime | None
    modified: bool


def discover(directory: Path) -> list[Migration]:
    """The migration files of `directory`, in order; a badly named .sql file is an error."""
    found: list[Migration] = []
    for path in sorted(directory.glob("*.sql")):
        match = _NAME.match(path.name)
        if not match:
            raise ProblemError(
                500, "migration_bad_name",
                f"Nom de migration invalide : {path.name} (attendu : 0001_description.sql).",
            )
        found.append(Migration(match.group(1), path.stem, path))
    versions = [m.version for m in found]
    if len(set(versions)) != len(versions):
        raise ProblemError(500, "migration_duplicate", "Deux migrations portent le même numéro.")
    return found


def status(conn: psycopg.Connection[Any], directory: Path) -> list[MigrationState]:
    conn.execute(_LEDGER)
    conn.commit()
    cur = conn.cursor(row_factory=tuple_row)
    applied = {
        version: (checksum, applied_at)
        for version, checksum, applied_at in cur.execute(
            "SELECT version, checksum, applied_at FROM schema_migration"
        ).fetchall()
    }
    states = []
    for migration in discover(directory):
        checksum, applied_at = applied.get(migration.version, (None, None))
        states.append(
            MigrationState(migration, applied_at, checksum is not None
                           and checksum != migration.checksum)
        )
    return states


def upgrade(conn: psycopg.Connection[Any], directory: Path) -> list[Migration]:
    """Apply the pending migrations in order; a failing file is rolled back entirely."""
    conn.execute(_LEDGER)
    conn.commit()
    applied_now: list[Migration] = []
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK_KEY,))
        done = {
            row[0]
            for row in conn.cursor(row_factory=tuple_row)
            .execute("SELECT version FROM schema_migration").fetchall()
        }
    for migration in discover(directory):
        if migration.version in done:
            continue
        try:
            with conn.transaction():
                conn.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK_KEY,))
                already = conn.execute(
                    "SELECT 1 FROM schema_migration WHERE version = %s", (migration.version,)
                ).fetchone()
                if already:
                    continue
                conn.execute(migration.sql.encode("utf-8"))
                conn.execute(
                    "INSERT INTO schema_migration (version, name, checksum) VALUES (%s, %s, %s)",
                    (migration.version, migration.name, migration.checksum),
                )
        except psycopg.Error as exc:
            raise ProblemError(
                500, "migration_failed",
                f"La migration {migration.name} a échoué et a été annulée : {exc}",
            ) from exc
        log.info("migration applied", extra={"migration": migration.name})
        applied_now.append(migration)
    return applied_now
