"""A write answers with the fresh CPTS, as `GET /api/cpts/{id}` then gives it to the same user,
built from what the write computed: the CPTS is not read again once written.

Around the CPTS written, other projects hold some of the communes it takes: a signed CPTS
(named to everyone), another carrier's submitted draft (an outline for a carrier only once its
own CPTS overlaps it), an unsubmitted draft (counted, never named) and an agency's scenario.
"""

import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient
from psycopg import sql

from app.domain.perimeter import analyse
from app.services import cpts as cpts_service
from tests.auth_fixtures import Account, ClientAs, MakeAccount

BASE = ["06088", "06123"]  # Nice, Saint-Laurent-du-Var (Alpes-Maritimes, région 93)
TRINITE, VILLEFRANCHE = "06149", "06159"  # both border Nice


def _name(label: str) -> str:
    return f"CPTS vue {label} {uuid.uuid4().hex[:8]}"


def _etag(response: Any) -> dict[str, str]:
    return {"If-Match": response.headers["ETag"]}


def same_as_read(client: TestClient, response: Any, expected_status: int = 200
                 ) -> dict[str, Any]:
    """The body of a write equals what GET gives the same user just after, field by field."""
    assert response.status_code == expected_status, response.text
    written: dict[str, Any] = response.json()
    read = client.get(f"/api/cpts/{written['id']}")
    assert read.status_code == 200, read.text
    fresh = read.json()
    assert sorted(written) == sorted(fresh)
    for key in fresh:
        assert written[key] == fresh[key], key
    assert response.headers["ETag"] == read.headers["ETag"] == f'"{written["version"]}"'
    return written


@pytest.fixture(scope="module")
def ars(make_account: MakeAccount) -> Account:
    return make_account("ars", regions=["93"])


@pytest.fixture(scope="module")
def neighbours(make_account: MakeAccount, client_as: ClientAs, auth_client: TestClient,
               ars: Account) -> dict[str, int]:
    """Projects holding the communes the CPTS under test will take."""
    ids = {}
    signed = auth_client.post("/api/cpts", json={
        "name": _name("signée"), "status": "aci_signe", "communes": [VILLEFRANCHE]})
    ids["signed"] = signed.json()["id"]
    submitting = client_as(make_account("carrier"))
    draft = submitting.post("/api/cpts", json={"name": _name("brouillon soumis"),
                                               "communes": [TRINITE]})
    ids["submitted"] = draft.json()["id"]
    assert submitting.post(f"/api/cpts/{ids['submitted']}/stage-request",
                           json={}).status_code == 204
    private = client_as(make_account("carrier")).post("/api/cpts", json={
        "name": _name("brouillon privé"), "communes": [VILLEFRANCHE]})
    ids["private"] = private.json()["id"]
    scenario = client_as(ars).post("/api/cpts", json={
        "name": _name("scénario"), "status": "lettre_intention", "communes": [TRINITE],
        "is_scenario": True})
    ids["scenario"] = scenario.json()["id"]
    assert all(r.status_code == 201 for r in (signed, draft, private, scenario))
    return ids


def _patches(client: TestClient, created: dict[str, Any], *, status: str | None
             ) -> list[dict[str, Any]]:
    """Every kind of PATCH, each compared with the read that follows; the bodies answered."""
    url = f"/api/cpts/{created['id']}"
    etag = {"If-Match": f'"{created["version"]}"'}
    changes: list[dict[str, Any]] = [
        {"add": [TRINITE]}, {"add": [VILLEFRANCHE], "reason": "extension"},
        {"remove": [VILLEFRANCHE]}, {"communes": ["06088", TRINITE, VILLEFRANCHE]},
        {"name": _name("renommée")}, {"siege_commune": TRINITE}]
    if status is not None:
        changes.append({"status": status})
    answers = []
    for change in changes:
        response = client.patch(url, headers=etag, json=change)
        answers.append(same_as_read(client, response))
        etag = _etag(response)
    assert answers[-1]["communes"] == ["06088", TRINITE, VILLEFRANCHE]
    assert answers[-1]["siege_commune"] == TRINITE
    return answers


def test_a_carrier_s_writes_answer_what_it_then_reads(
        make_account: MakeAccount, client_as: ClientAs, ars: Account,
        neighbours: dict[str, int]) -> None:
    carrier = client_as(make_account("carrier"))
    created = same_as_read(carrier, carrier.post("/api/cpts", json={
        "name": _name("porteur"), "communes": BASE}), 201)
    assert created["status"] == "pre_projet"
    taken, wider, *_, current = _patches(carrier, created, status=None)
    # once its own CPTS holds La Trinité, the submitted draft there is an outline it may name
    assert neighbours["submitted"] in {o["cpts_id"] for o in taken["overlaps"]}
    assert neighbours["scenario"] not in {o["cpts_id"] for o in taken["overlaps"]}
    assert neighbours["signed"] in {o["cpts_id"] for o in wider["overlaps"]}
    assert neighbours["private"] not in {o["cpts_id"] for o in wider["overlaps"]}
    assert wider["hidden_overlaps"]["cpts"] >= 1
    url = f"/api/cpts/{created['id']}"
    assert carrier.post(f"{url}/stage-request", json={"comment": "prêts"}).status_code == 204
    agency = client_as(ars)
    accepted = same_as_read(agency, agency.post(
        f"{url}/stage-request/accept", headers={"If-Match": f'"{current["version"]}"'},
        json={"comment": "validé"}))
    assert (accepted["status"], accepted["validated_version"]) == (
        "lettre_intention", current["version"] + 1)
    assert accepted["pending_status"] is None and accepted["submitted"]


@pytest.mark.parametrize("role", ["ars", "admin"])
def test_agency_and_administrator_writes_answer_what_they_then_read(
        role: str, client_as: ClientAs, ars: Account, admin_account: Account,
        neighbours: dict[str, int]) -> None:
    client = client_as(ars if role == "ars" else admin_account)
    created = same_as_read(client, client.post("/api/cpts", json={
        "name": _name(role), "status": "lettre_intention", "communes": BASE,
        "siege_commune": "06088"}), 201)
    current = _patches(client, created, status="projet_sante")[-1]
    assert current["status"] == "projet_sante"
    named = {o["cpts_id"] for o in current["overlaps"]}
    assert {neighbours["signed"], neighbours["submitted"], neighbours["scenario"]} <= named
    url = f"/api/cpts/{current['id']}"
    archived = same_as_read(client, client.post(
        f"{url}/archive", headers={"If-Match": f'"{current["version"]}"'},
        json={"reason": "fusion"}))
    assert archived["archived"]
    restored = same_as_read(client, client.post(
        f"{url}/restore", headers={"If-Match": f'"{archived["version"]}"'}, json={}))
    assert not restored["archived"] and restored["version"] == current["version"] + 2


# --- The statements of a PATCH ------------------------------------------------------------


@contextmanager
def recorded_statements(monkeypatch: pytest.MonkeyPatch
                        ) -> Iterator[list[tuple[str, Any]]]:
    """Every statement psycopg sends meanwhile (any thread), with its parameters."""
    seen: list[tuple[str, Any]] = []
    execute, executemany = psycopg.Cursor.execute, psycopg.Cursor.executemany

    def text(cursor: psycopg.Cursor[Any], query: Any) -> str:
        if isinstance(query, sql.Composable):
            return query.as_string(cursor.connection)
        return query.decode() if isinstance(query, bytes) else str(query)

    def recording_execute(self: psycopg.Cursor[Any], query: Any, params: Any = None,
                          **kwargs: Any) -> Any:
        seen.append((text(self, query), params))
        return execute(self, query, params, **kwargs)

    def recording_executemany(self: psycopg.Cursor[Any], query: Any, params_seq: Any,
                              **kwargs: Any) -> Any:
        params = list(params_seq)
        seen.append((text(self, query), params))
        return executemany(self, query, params, **kwargs)

    monkeypatch.setattr(psycopg.Cursor, "execute", recording_execute)
    monkeypatch.setattr(psycopg.Cursor, "executemany", recording_executemany)
    yield seen
    monkeypatch.undo()


def _mentions(params: Any, cpts_id: int) -> bool:
    if isinstance(params, (list, tuple)):
        return any(_mentions(p, cpts_id) for p in params)
    if isinstance(params, dict):
        return any(_mentions(p, cpts_id) for p in params.values())
    return bool(params == cpts_id)


@pytest.mark.parametrize("role", ["carrier", "ars"])
def test_a_patch_does_not_read_the_cpts_again_once_written(
        role: str, make_account: MakeAccount, client_as: ClientAs, ars: Account,
        neighbours: dict[str, int], monkeypatch: pytest.MonkeyPatch) -> None:
    client = client_as(make_account("carrier") if role == "carrier" else ars)
    created = client.post("/api/cpts", json={
        "name": _name(f"requêtes {role}"), "communes": BASE,
        "status": "pre_projet" if role == "carrier" else "lettre_intention"})
    assert created.status_code == 201, created.text
    cpts_id = created.json()["id"]
    analysed: list[tuple[str, ...]] = []

    def counted_analyse(codes: Any, *args: Any, **kwargs: Any) -> Any:
        analysed.append(tuple(codes))
        return analyse(codes, *args, **kwargs)

    monkeypatch.setattr(cpts_service, "analyse", counted_analyse)
    with recorded_statements(monkeypatch) as statements:
        response = client.patch(f"/api/cpts/{cpts_id}", headers=_etag(created),
                                json={"add": [TRINITE]})
    assert response.status_code == 200, response.text
    assert TRINITE in response.json()["communes"]
    # the perimeter is analysed once: the version stores what the answer shows
    assert analysed == [tuple(sorted([*BASE, TRINITE]))]
    texts = [" ".join(query.split()) for query, _ in statements]
    written = next(i for i, query in enumerate(texts) if "INSERT INTO cpts_version" in query)
    before, after = statements[:written], statements[written:]
    # the CPTS row, locked, and its units are read once, before the write...
    row_reads = [p for q, p in before if re.search(r"FROM cpts c WHERE c\.id = ANY", q)
                 and _mentions(p, cpts_id)]
    assert len(row_reads) == 1
    # ...and never again: not its row, not its units, not its alerts
    for query, params in after:
        flat = " ".join(query.split())
        assert not (re.search(r"FROM cpts c WHERE c\.id = ANY", flat)
                    and _mentions(params, cpts_id)), flat
        assert not ("FROM cpts_member WHERE cpts_id" in flat and _mentions(params, cpts_id)), flat
        assert "cpts_alert" not in flat, flat
    # from the write on: the version, the units, the row and the audit entry, nothing more (a
    # read after the write added its row, its units, the claims on them, the rows and units
    # of the CPTS holding them, and its alerts)
    assert len(after) <= 4, "\n".join(" ".join(q.split())[:120] for q, _ in after)
