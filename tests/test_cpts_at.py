"""`GET /api/cpts/{id}?at=YYYY-MM-DD`: a CPTS as it stood on a past day."""

from datetime import date

from fastapi.testclient import TestClient

from app.db import Conn
from app.services import cpts as service

MENTON_AREA = ["06083", "06104"]  # Menton, Roquebrune-Cap-Martin
GORBIO = "06067"


def test_the_perimeter_as_it_stood_on_a_past_day(auth_client: TestClient, conn: Conn) -> None:
    ctx = service.command_line_context(conn)
    cpts_id = service.create(ctx, name="CPTS Riviera d'hier", status="lettre_intention",
                             communes=MENTON_AREA, effective_date=date(2025, 3, 1))
    service.update(ctx, cpts_id, expected_version=1, add=[GORBIO], reason="Gorbio rejoint",
                   effective_date=date(2025, 9, 1))
    conn.commit()
    then = auth_client.get(f"/api/cpts/{cpts_id}", params={"at": "2025-06-01"})
    assert then.status_code == 200
    body = then.json()
    assert (body["version"], body["current_version"], body["communes"]) == (
        1, 2, MENTON_AREA)
    population = conn.execute("SELECT sum(population) AS p FROM commune WHERE code = ANY(%s)",
                              (MENTON_AREA,)).fetchone()
    assert population is not None and body["population"] == population["p"]
    later = auth_client.get(f"/api/cpts/{cpts_id}", params={"at": "2025-09-01"}).json()
    assert (later["version"], later["communes"], later["added"], later["reason"]) == (
        2, sorted([*MENTON_AREA, GORBIO]), [GORBIO], "Gorbio rejoint")
    before = auth_client.get(f"/api/cpts/{cpts_id}", params={"at": "2025-02-28"})
    assert before.status_code == 404 and before.json()["code"] == "cpts_not_yet_recorded"
    malformed = auth_client.get(f"/api/cpts/{cpts_id}", params={"at": "hier"})
    assert malformed.status_code == 422
    # Without `at`, the current CPTS with its live analysis.
    assert auth_client.get(f"/api/cpts/{cpts_id}").json()["communes"] == sorted(
        [*MENTON_AREA, GORBIO])
