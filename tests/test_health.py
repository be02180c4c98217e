"""The health check: real database, real data, and recovery after the database comes back."""


from fastapi.testclient import TestClient

from app.db import connect
from app.main import create_app
from app.migrations import upgrade
from app.settings import Settings
from tests.conftest import DisposableCluster, wait_for_health


def test_health_reports_the_loaded_communes_and_cog(client: TestClient, conn) -> None:
    expected = conn.execute("SELECT count(*) AS n FROM commune WHERE type = 'COM'").fetchone()
    response = client.get("/api/health")
    assert response.status_code == 200
    body = response.json()
    assert body == {"status": "ok", "database": "ok", "communes": expected["n"], "cog": "2026"}
    assert body["communes"] > 1000


def test_unknown_path_is_problem_json(client: TestClient) -> None:
    response = client.get("/api/nowhere")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "not_found"


def test_health_answers_503_while_the_database_is_down_and_recovers(
    disposable_cluster: DisposableCluster,
) -> None:
    with connect(disposable_cluster.url) as conn:
        upgrade(conn, Settings().migrations_dir)
    settings = Settings(database_url=disposable_cluster.url, pool_timeout_s=1.0)
    with TestClient(create_app(settings)) as client:
        assert wait_for_health(client, 200) == 200
        assert client.get("/api/health").json()["communes"] == 0

        disposable_cluster.stop()
        response = client.get("/api/health")
        assert response.status_code == 503
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["code"] == "database_unavailable"

        disposable_cluster.start()
        assert wait_for_health(client, 200) == 200
