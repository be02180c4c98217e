"""Test fixtures: a real PostGIS test database holding a few real départements, loaded once."""

import os
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.db import Conn, connect
from app.dbadmin import database_name, ensure_database, with_database
from app.main import create_app
from app.migrations import upgrade
from app.settings import PROJECT_ROOT, Settings

pytest_plugins = ["tests.auth_fixtures", "tests.coverage_support"]
DEFAULT_TEST_DEPARTEMENTS = "06,12,13,15,42,69,75,92,93,94"


def database_url_for_tests() -> str:
    explicit = os.environ.get("TEST_DATABASE_URL")
    if explicit:
        return explicit
    base = os.environ.get("DATABASE_URL", Settings().database_url)
    return with_database(base, database_name(base) + "_test")


def loaded_departements() -> list[str]:
    return os.environ.get("TEST_DEPARTEMENTS", DEFAULT_TEST_DEPARTEMENTS).split(",")


@pytest.fixture(scope="session")
def settings() -> Settings:
    return Settings(database_url=database_url_for_tests(), log_level="INFO")


@pytest.fixture(scope="session")
def database(settings: Settings) -> str:
    """The test database, migrated and holding the test départements (loaded once, kept)."""
    from geodata.pipeline import load_geodata

    ensure_database(settings.database_url)
    with connect(settings.database_url) as conn:
        upgrade(conn, settings.migrations_dir)
    load_geodata(settings, departements=loaded_departements(), show_progress=False)
    return settings.database_url


@pytest.fixture
def conn(database: str) -> Iterator[Conn]:
    with connect(database) as connection:
        yield connection


@pytest.fixture(scope="session")
def client(database: str, settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def wait_for_health(client: TestClient, status: int, seconds: float = 40) -> int:
    """Poll /api/health until it answers `status` (or time runs out); the last status seen."""
    deadline = time.monotonic() + seconds
    last = -1
    while time.monotonic() < deadline:
        last = client.get("/api/health").status_code
        if last == status:
            return last
        time.sleep(0.3)
    return last


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class DisposableCluster:
    """A throw-away PostgreSQL cluster with PostGIS that a test may stop and start."""

    directory: Path
    port: int

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/cpts_disposable"

    def _ctl(self, *args: str) -> None:
        subprocess.run([str(PROJECT_ROOT / "scripts" / "postgis.sh"), *args], check=True,
                       capture_output=True, timeout=120)

    def start(self) -> None:
        self._ctl("ctl", str(self.directory), "start")

    def stop(self) -> None:
        self._ctl("ctl", str(self.directory), "stop")


@pytest.fixture
def disposable_cluster() -> Iterator[DisposableCluster]:
    parent = Path(tempfile.mkdtemp(prefix="cpts-pg-"))
    os.chmod(parent, 0o755)
    cluster = DisposableCluster(parent / "data", free_port())
    subprocess.run(
        [str(PROJECT_ROOT / "scripts" / "postgis.sh"), "disposable", str(cluster.directory),
         str(cluster.port)], check=True, capture_output=True, timeout=300)
    try:
        ensure_database(cluster.url)
        yield cluster
    finally:
        cluster.stop()
        subprocess.run(["rm", "-rf", str(parent)], check=False)
