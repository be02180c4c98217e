"""Support for the coverage tests: a scratch database of its own, the Alpes-Maritimes fixture
and a generated scenario written into it, and users. The independent GeoPandas computation the
figures are compared with is `benchmarks.geopandas_coverage` (also the benchmarks' baseline).

The shared test database is persistent and other tests leave CPTS in it, so the coverage
tests build their perimeters in a scratch database (created, loaded and dropped here) holding:
- 06, the Alpes-Maritimes fixture (16 real CPTS, 13 uncovered communes, Nice in three CPTS);
- 15, 42, 43, 69 (région 84), the generated scenario (Cantal has communes without polygon);
- 04 and 05, left for tests that create and change their own CPTS.
"""

import csv
import itertools
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.auth import api_tokens
from app.auth.audit import Actor
from app.auth.policy import Role
from app.auth.users import create_user
from app.db import Conn, connect
from app.dbadmin import drop_database, ensure_database, with_database
from app.main import create_app
from app.migrations import upgrade
from app.services import cpts as cpts_service
from app.settings import Settings
from benchmarks.geopandas_coverage import (
    PROJECTED,
    Reference,
    counted_perimeters,
    read_units,
    reference,
)
from tests.shared_fixtures import ALPES_MARITIMES_LISTING

__all__ = ["PROJECTED", "Reference", "counted_perimeters", "read_units", "reference"]

FIXTURE = ALPES_MARITIMES_LISTING
FIXTURE_DEPARTEMENT = "06"
SCENARIO_DEPARTEMENTS = ("15", "42", "43", "69")
SCENARIO_REGION = "84"
FREE_DEPARTEMENTS = ("04", "05")
SCRATCH_DEPARTEMENTS = (*FREE_DEPARTEMENTS, FIXTURE_DEPARTEMENT, *SCENARIO_DEPARTEMENTS)
FIXTURE_DAY = date(2024, 1, 15)
OUTSIDE = "HORS CPTS"
# Stages given to the fixture's CPTS (the others have signed their contract). The three CPTS of
# Nice are at three stages; the draft was submitted to the agency.
FIXTURE_STAGES = {
    "CPTS NICE NORD ET SES COLLINES": "lettre_intention",
    "CPTS NICE OUEST VALLEE": "pre_projet",
    "CPTS PAYS DES BAOUS": "projet_sante",
    "CPTS DU FERION": "lettre_intention",
    "CPTS LITTORAL 06": "pre_projet",
}


@dataclass
class Scratch:
    settings: Settings
    fixture_ids: dict[str, int]  # name -> id
    fixture_members: dict[str, list[str]]
    uncovered_in_fixture: list[str]

    @property
    def url(self) -> str:
        return self.settings.database_url


_scratch: Scratch | None = None
_holders = 0
_users = itertools.count()


def read_fixture() -> tuple[dict[str, list[str]], list[str]]:
    members: dict[str, list[str]] = {}
    outside: list[str] = []
    with FIXTURE.open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle, delimiter=";"):
            if row["cpts"] == OUTSIDE:
                outside.append(row["code_commune"])
            else:
                members.setdefault(row["cpts"], []).append(row["code_commune"])
    return members, sorted(outside)


def admin_context(conn: Conn) -> cpts_service.Context:
    return cpts_service.command_line_context(conn)


def load_fixture(url: str) -> dict[str, int]:
    """The Alpes-Maritimes CPTS, created as an agency would record them."""
    members, _ = read_fixture()
    ids: dict[str, int] = {}
    with connect(url) as conn, conn.transaction():
        ctx = admin_context(conn)
        for name, codes in sorted(members.items()):
            status = FIXTURE_STAGES.get(name, "aci_signe")
            ids[name] = cpts_service.create(ctx, name=name, status=status, communes=codes,
                                            effective_date=FIXTURE_DAY)
            if status == "pre_projet":
                cpts_service.request_stage(ctx, ids[name], comment="soumis à l'ARS")
    return ids


def _build(name: str) -> Scratch:
    from benchmarks.scenario import generate
    from geodata.pipeline import load_geodata

    base = os.environ.get("DATABASE_URL", Settings().database_url)
    settings = Settings(database_url=with_database(base, name), log_level="WARNING")
    drop_database(settings.database_url)
    ensure_database(settings.database_url)
    with connect(settings.database_url) as conn:
        upgrade(conn, settings.migrations_dir)
    load_geodata(settings, departements=list(SCRATCH_DEPARTEMENTS), show_progress=False)
    ids = load_fixture(settings.database_url)
    assert generate(settings.database_url, departements=SCENARIO_DEPARTEMENTS) is not None
    members, outside = read_fixture()
    return Scratch(settings, ids, members, outside)


@contextmanager
def scratch_database() -> Iterator[Scratch]:
    """One scratch database for all the coverage test modules of a run: use it from a
    session-scoped fixture; it is dropped when the last of them is torn down."""
    global _scratch, _holders
    if _scratch is None:
        _scratch = _build(f"cpts_test_coverage_{os.getpid()}_{uuid.uuid4().hex[:6]}")
    _holders += 1
    try:
        yield _scratch
    finally:
        _holders -= 1
        if _holders == 0:
            url, _scratch = _scratch.url, None
            drop_database(url)


@pytest.fixture(scope="session")
def scratch() -> Iterator[Scratch]:
    """The scratch database of the coverage tests (a fixture: tests/conftest.py loads this
    module as a plugin)."""
    with scratch_database() as database:
        yield database


@pytest.fixture(scope="module")
def api(scratch: Scratch) -> Iterator[TestClient]:
    """The application on the scratch database."""
    with TestClient(create_app(scratch.settings)) as test_client:
        yield test_client


def bearer(url: str, role: Role, *, regions: tuple[str, ...] = (),
           cpts_ids: tuple[int, ...] = ()) -> dict[str, str]:
    """Bearer headers of a new user of the scratch database."""
    with connect(url) as conn, conn.transaction():
        user = create_user(conn, email=f"{role.value}-{next(_users)}-{uuid.uuid4().hex[:8]}"
                                       "@couverture.test", role=role, regions=regions,
                           cpts_ids=cpts_ids, password=None, actor=Actor.command_line())
        issued = api_tokens.issue(conn, user, name="tests", expires_in_days=1,
                                  actor=Actor.command_line())
    return {"Authorization": f"Bearer {issued.token}"}


def zones_of(view: dict[str, Any]) -> dict[frozenset[str], dict[str, Any]]:
    """The zones blanches of a coverage answer, by their members."""
    return {frozenset(z["communes"]): z for z in view["white_zones"]}
