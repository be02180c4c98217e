"""The map's orientation routes on the real test départements: names to write (régions,
départements, CPTS on their outline, communes by population), the user's own territory and
the regions drawn muted outside it, territories by name or code (`4`, `04`), what lies at a
point without a commune, and no private draft named to someone who may not read it."""

from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient

from app.auth.audit import Actor
from app.auth.policy import Role, User
from app.db import connect
from app.errors import ProblemError
from app.repo import cpts as cpts_repo
from app.repo.reference import read_graph
from app.services import cpts as cpts_service
from app.services import labels
from app.settings import Settings


def _ctx(conn: Any, user: User) -> cpts_service.Context:
    return cpts_service.Context(conn=conn, graph=read_graph(conn),
                                rules=cpts_repo.size_rules(conn), user=user,
                                actor=Actor.command_line())


ADMIN = User(id=0, email="admin@test", role=Role.ADMIN)


def test_the_departement_04_is_found_by_4_04_and_by_name(database: str) -> None:
    with connect(database) as conn:
        ctx = _ctx(conn, ADMIN)
        for typed in ("6", "06"):
            first = labels.find_territories(ctx, typed)["results"][0]
            assert (first["kind"], first["code"], first["scope"]) == (
                "departement", "06", "departement:06")
            assert first["bbox"] is not None and first["bbox"][0] < first["bbox"][2]
        names = labels.find_territories(ctx, "alpes maritimes")["results"]
        assert ("departement", "06") in {(r["kind"], r["code"]) for r in names}
        regions = labels.find_territories(ctx, "Provence")["results"]
        assert ("region", "93") in {(r["kind"], r["code"]) for r in regions}
        assert labels.find_territories(ctx, "zzzzqq")["results"] == []


def test_an_ars_agent_opens_on_their_regions_the_others_muted(database: str) -> None:
    with connect(database) as conn:
        agent = User(id=0, email="ars@test", role=Role.ARS, regions=frozenset({"93"}))
        found = labels.orientation(_ctx(conn, agent))
        every = labels.orientation(_ctx(conn, ADMIN))
        regions_with_shape = conn.execute(
            "SELECT count(*) AS n FROM region WHERE geom_g1 IS NOT NULL").fetchone()
    assert regions_with_shape is not None
    territory = found["territory"]
    assert territory["regions"] == ["93"] and "06" in territory["departements"]
    w, s, e, n = territory["bounds"]
    assert w < 7.2 < e and s < 43.7 < n, "PACA holds Nice"
    assert len(found["muted_land"]) == regions_with_shape["n"]
    assert found["muted_land"].count(False) == 1, "PACA alone is not muted"
    assert every["territory"]["regions"] is None and every["muted_land"] == []
    assert {r["code"] for r in found["regions"]} >= {"93"}
    assert {d["code"] for d in found["departements"]} >= {"06"}


def test_place_without_a_commune_says_what_lies_there(database: str) -> None:
    with connect(database) as conn:
        ctx = _ctx(conn, ADMIN)
        menton = labels.place(ctx, 7.5048, 43.7764)
        sea = labels.place(ctx, 7.3, 43.5)
    assert menton["commune"]["code"] == "06083" and menton["message"] == "Menton (06083)"
    assert sea["commune"] is None and sea["nearest"] is not None
    assert "aucune commune" in sea["message"].lower()
    assert "La commune la plus proche est" in sea["message"]


def test_commune_labels_are_the_most_populated_first(client: TestClient,
                                                     settings: Settings) -> None:
    with connect(settings.database_url) as conn:
        ctx = _ctx(conn, ADMIN)
        found = labels.commune_labels(ctx, (7.0, 43.6, 7.6, 43.9))["communes"]
    assert found[0]["code"] == "06088", "Nice first"
    populations = [c["population"] for c in found]
    assert populations == sorted(populations, reverse=True)
    assert all(7.0 <= c["lon"] <= 7.6 and 43.6 <= c["lat"] <= 43.9 for c in found)


def test_bad_bbox_and_long_queries_are_refused_in_french(database: str) -> None:
    with connect(database) as conn:
        ctx = _ctx(conn, ADMIN)
        with pytest.raises(ProblemError) as bad:
            labels.commune_labels(ctx, (8.0, 43.0, 7.0, 44.0))
        with pytest.raises(ProblemError) as long:
            labels.find_territories(ctx, "x" * 101)
    assert (bad.value.status, bad.value.code) == (422, "bad_bbox")
    assert "Emprise invalide" in bad.value.detail
    assert long.value.code == "query_too_long"


def test_a_private_draft_is_never_named_on_the_map(database: str) -> None:
    with connect(database) as conn, conn.transaction():  # rolled back at the end
        ctx = _ctx(conn, ADMIN)
        draft = cpts_service.create(ctx, name="Brouillon secret des tests", status="pre_projet",
                                    communes=["06083"], reason="test")
        observer = User(id=0, email="obs@test", role=Role.OBSERVER, regions=frozenset({"93"}))
        seen = labels.orientation(_ctx(conn, observer))
        seen_by_admin = labels.orientation(ctx)
        raise psycopg.Rollback
    assert draft not in {c["id"] for c in seen["cpts"]}
    assert "Brouillon secret des tests" not in {c["name"] for c in seen["cpts"]}
    assert draft in {c["id"] for c in seen_by_admin["cpts"]}
