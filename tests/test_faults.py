"""Faults: the database stopped during an import, the server killed during a write, a geodata
reload killed half-way. Nothing is half-written, nothing acknowledged is lost, service resumes."""

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from app.auth import api_tokens
from app.auth.audit import Actor
from app.auth.policy import Role
from app.auth.users import create_user
from app.db import Conn, connect
from app.dbadmin import database_name, drop_database, ensure_database, with_database
from app.main import create_app
from app.migrations import upgrade
from app.settings import PROJECT_ROOT, Settings
from geodata.pipeline import load_geodata
from tests.conftest import DisposableCluster, free_port, wait_for_health


def _prepare(settings: Settings, url: str, departements: list[str]) -> Settings:
    ensure_database(url)
    with connect(url) as conn:
        upgrade(conn, settings.migrations_dir)
    scratch = settings.model_copy(update={"database_url": url, "pool_timeout_s": 1.0})
    load_geodata(scratch, departements=departements, show_progress=False)
    return scratch


def _admin_token(url: str) -> dict[str, str]:
    with connect(url) as conn:
        user = create_user(conn, email=f"admin-{time.monotonic_ns()}@exemple.fr",
                           role=Role.ADMIN, regions=(), cpts_ids=(), password=None,
                           actor=Actor.command_line())
        issued = api_tokens.issue(conn, user, name="pannes", expires_in_days=1,
                                  actor=Actor.command_line())
        conn.commit()
    return {"Authorization": f"Bearer {issued.token}"}


def _count(conn: Conn, query: str) -> int:
    row = conn.execute(query.encode()).fetchone()
    assert row is not None
    return int(next(iter(row.values())))


def test_database_stopped_during_an_import_writes_nothing_and_service_recovers(
    disposable_cluster: DisposableCluster, settings: Settings
) -> None:
    scratch = _prepare(settings, disposable_cluster.url, ["06"])
    headers = _admin_token(disposable_cluster.url)
    with connect(disposable_cluster.url) as conn:
        codes = [r["code"] for r in conn.execute(
            "SELECT code FROM commune WHERE is_unit ORDER BY code").fetchall()]
    # 1,500 CPTS of four communes each: several seconds of work in one transaction.
    lines = ["cpts;code_commune"] + [
        f"CPTS panne {n};{codes[(n + k) % len(codes)]}" for n in range(1500) for k in range(4)]
    payload = ("\n".join(lines) + "\n").encode()

    outcome: dict[str, int] = {}
    with TestClient(create_app(scratch)) as client:
        assert wait_for_health(client, 200) == 200

        def run_import() -> None:
            response = client.post("/api/imports/cpts", headers=headers,
                                   params={"dry_run": "false"},
                                   files={"file": ("cpts.csv", payload, "text/csv")})
            outcome["status"] = response.status_code
            outcome["problem"] = response.headers.get("content-type") == \
                "application/problem+json"

        importer = threading.Thread(target=run_import)
        importer.start()
        time.sleep(1.5)
        disposable_cluster.stop()
        importer.join(timeout=120)
        assert outcome["status"] in (500, 503) and outcome["problem"]

        down = client.get("/api/health")
        assert down.status_code == 503 and down.json()["code"] == "database_unavailable"

        disposable_cluster.start()
        assert wait_for_health(client, 200) == 200
    with connect(disposable_cluster.url) as conn:
        assert _count(conn, "SELECT count(*) FROM cpts") == 0
        assert _count(conn, "SELECT count(*) FROM cpts_version") == 0
        assert _count(conn, "SELECT count(*) FROM audit_log WHERE action = 'cpts.import'") == 0


@pytest.fixture
def scratch_database(settings: Settings) -> Iterator[Settings]:
    url = with_database(settings.database_url, f"cpts_test_faults_{os.getpid()}")
    drop_database(url)
    yield _prepare(settings, url, ["06"])
    drop_database(url)


def _serve(url: str, port: int) -> subprocess.Popen[bytes]:
    env = os.environ | {"DATABASE_URL": url, "LOG_LEVEL": "WARNING"}
    command = [str(Path(sys.executable).parent / "cpts"), "serve", "--host", "127.0.0.1",
               "--port", str(port)]
    server = subprocess.Popen(command, env=env, cwd=PROJECT_ROOT,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/health", timeout=1).status_code == 200:
                return server
        except httpx.TransportError:
            time.sleep(0.2)
    server.kill()
    raise RuntimeError("cpts serve did not start")


def test_server_killed_during_writes_keeps_every_acknowledged_version(
    scratch_database: Settings,
) -> None:
    url = scratch_database.database_url
    headers = _admin_token(url)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = _serve(url, port)
    acknowledged: list[tuple[int, list[str]]] = []
    try:
        created = httpx.post(f"{base}/api/cpts", headers=headers, timeout=10,
                             json={"name": "CPTS endurance", "status": "lettre_intention",
                                   "communes": ["06088"]})
        assert created.status_code == 201
        cpts_id, version = created.json()["id"], 1
        acknowledged.append((1, ["06088"]))
        stop = threading.Event()

        def write_forever() -> None:
            nonlocal version
            toggle = ["06123", "06149", "06159", "06006"]
            n = 0
            while not stop.is_set():
                code = toggle[n % len(toggle)]
                change = {"add": [code]} if n % 8 < 4 else {"remove": [code]}
                try:
                    response = httpx.patch(f"{base}/api/cpts/{cpts_id}", json=change,
                                           headers=headers | {"If-Match": f'"{version}"'},
                                           timeout=5)
                except httpx.TransportError:
                    return
                if response.status_code == 200:
                    version = int(response.headers["ETag"].strip('"'))
                    acknowledged.append((version, response.json()["communes"]))
                n += 1

        writer = threading.Thread(target=write_forever)
        writer.start()
        while len(acknowledged) < 15:
            time.sleep(0.05)
        server.send_signal(signal.SIGKILL)
        server.wait(timeout=10)
        stop.set()
        writer.join(timeout=10)
    finally:
        if server.poll() is None:
            server.kill()

    server = _serve(url, port)
    try:
        last_version, last_communes = acknowledged[-1]
        current = httpx.get(f"{base}/api/cpts/{cpts_id}", headers=headers, timeout=10).json()
        # The write in flight when the server died either committed (one more version) or not.
        assert current["version"] in (last_version, last_version + 1)
        versions = httpx.get(f"{base}/api/cpts/{cpts_id}/versions", headers=headers,
                             timeout=10).json()
        assert [v["version"] for v in versions] == list(range(1, current["version"] + 1))
        with connect(url) as conn:
            for number, communes in acknowledged:
                row = conn.execute(
                    "SELECT units FROM cpts_version WHERE cpts_id = %s AND version = %s",
                    (cpts_id, number)).fetchone()
                assert row is not None and sorted(row["units"]) == sorted(communes)
        if current["version"] == last_version:
            assert current["communes"] == sorted(last_communes)
    finally:
        server.terminate()
        server.wait(timeout=15)


def test_geodata_reload_killed_half_way_leaves_the_previous_release_serving(
    scratch_database: Settings,
) -> None:
    url = scratch_database.database_url
    with connect(url) as conn:
        before = conn.execute(
            "SELECT id FROM geodata_release WHERE is_current").fetchone()
        communes_before = _count(conn, "SELECT count(*) FROM commune")
    env = os.environ | {"DATABASE_URL": url, "LOG_LEVEL": "WARNING"}
    loader = subprocess.Popen(
        [str(Path(sys.executable).parent / "cpts"), "geodata", "load", "--departements",
         "06,83,04,05,13", "--force", "--quiet"],
        env=env, cwd=PROJECT_ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    seen_writing = False
    try:
        deadline = time.monotonic() + 240
        with connect(with_database(url, "postgres"), autocommit=True) as admin:
            while time.monotonic() < deadline and loader.poll() is None:
                writing = admin.execute(
                    "SELECT count(*) AS n FROM pg_stat_activity WHERE datname = %s "
                    "AND query ILIKE 'COPY%%'", (database_name(url),)).fetchone()
                if writing and writing["n"]:
                    seen_writing = True
                    loader.send_signal(signal.SIGKILL)
                    break
                time.sleep(0.05)
    finally:
        if loader.poll() is None:
            loader.kill()
        loader.wait(timeout=30)
    assert seen_writing, "the loader was never caught writing"
    with connect(url) as conn:
        after = conn.execute("SELECT id FROM geodata_release WHERE is_current").fetchone()
        assert after == before
        assert _count(conn, "SELECT count(*) FROM commune") == communes_before
        assert _count(conn, "SELECT count(*) FROM commune WHERE departement = '83'") == 0
    with TestClient(create_app(scratch_database)) as fresh:
        health = fresh.get("/api/health").json()
        assert health["status"] == "ok" and health["communes"] == communes_before
