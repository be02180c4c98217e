"""The OGC API – Features service read by a real OGC client: GDAL's OAPIF driver (the one QGIS
uses; Debian `gdal-bin`, installed by `make gdal`), against a real server (uvicorn in a thread)
on the test database. The token travels as QGIS sends it: an `Authorization: Bearer` header
(`GDAL_HTTP_HEADERS`)."""

import json
import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.settings import Settings
from tests.auth_fixtures import ClientAs, MakeAccount
from tests.serving import serving

OGR2OGR = shutil.which("ogr2ogr") or "/usr/bin/ogr2ogr"
OGRINFO = shutil.which("ogrinfo") or "/usr/bin/ogrinfo"
COLLECTIONS = ["communes", "arrondissements", "epci", "bassins_de_vie", "departements",
               "regions", "cpts", "cpts_communes", "zones_blanches", "chevauchements"]
TAG = uuid.uuid4().hex[:8]


@pytest.fixture(scope="module")
def server(database: str) -> Iterator[str]:
    if not Path(OGR2OGR).exists():
        pytest.fail("ogr2ogr is missing: `make gdal` installs Debian's gdal-bin")
    settings = Settings(database_url=database, log_level="WARNING")
    with serving(settings, log_level="warning") as base_url:
        yield base_url


def _env(token: str) -> dict[str, str]:
    return os.environ | {"GDAL_HTTP_HEADERS": f"Authorization: Bearer {token}",
                         "GDAL_HTTP_TIMEOUT": "60", "CPL_DEBUG": "OFF"}


def gdal_read(base: str, token: str, collection: str, tmp_path: Path) -> list[dict[str, Any]]:
    """Every feature of a collection as GDAL reads it (following the `next` links), written
    to GeoJSON by ogr2ogr."""
    target = tmp_path / f"{collection}-{uuid.uuid4().hex[:6]}.geojson"
    done = subprocess.run([OGR2OGR, "-f", "GeoJSON", str(target), f"OAPIF:{base}/ogc",
                           collection, "-oo", "PAGE_SIZE=1000"],
                          env=_env(token), capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    features: list[dict[str, Any]] = json.loads(target.read_text())["features"]
    return features


def matched(base: str, token: str, collection: str) -> int:
    """The service's own count."""
    answer = httpx.get(f"{base}/ogc/collections/{collection}/items", params={"limit": 1},
                       headers={"Authorization": f"Bearer {token}"}, timeout=60)
    assert answer.status_code == 200, answer.text
    return int(answer.json()["numberMatched"])


@dataclass
class Tokens:
    admin: str
    ars_93: str
    ars_84: str
    carrier: str
    private_ids: dict[str, int]
    private_names: dict[str, str]


@pytest.fixture(scope="module")
def tokens(make_account: MakeAccount, client_as: ClientAs) -> Tokens:
    admin, ars_93 = make_account("admin"), make_account("ars", regions=["93"])
    carrier = make_account("carrier")
    names = {kind: f"GDAL {kind} {TAG}"
             for kind in ("brouillon", "scenario", "lettre", "lettre voisine")}
    draft = client_as(carrier).post("/api/cpts", json={"name": names["brouillon"],
                                                       "communes": ["06083", "06122"]})
    scenario = client_as(ars_93).post("/api/cpts", json={
        "name": names["scenario"], "status": "lettre_intention", "is_scenario": True,
        "communes": ["06064", "06083"]})
    letter = client_as(admin).post("/api/cpts", json={
        "name": names["lettre"], "status": "lettre_intention", "communes": ["06088", "06032"]})
    # a second letter on Nice: `chevauchements` has a feature whatever the database held before
    neighbour = client_as(admin).post("/api/cpts", json={
        "name": names["lettre voisine"], "status": "lettre_intention",
        "communes": ["06088", "06149"]})
    ids = {}
    for kind, response in (("brouillon", draft), ("scenario", scenario), ("lettre", letter),
                           ("lettre voisine", neighbour)):
        assert response.status_code == 201, response.text
        ids[kind] = int(response.json()["id"])
    return Tokens(admin.token, ars_93.token, make_account("ars", regions=["84"]).token,
                  carrier.token, ids, names)


def test_gdal_lists_the_collections(server: str, tokens: Tokens) -> None:
    done = subprocess.run([OGRINFO, "-ro", "-so", f"OAPIF:{server}/ogc"],
                          env=_env(tokens.admin), capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    listed = [line.split(":")[1].split("(")[0].strip() for line in done.stdout.splitlines()
              if line[:1].isdigit()]
    assert listed == COLLECTIONS
    refused = subprocess.run([OGRINFO, "-ro", "-so", f"OAPIF:{server}/ogc"],
                             env=os.environ | {"GDAL_HTTP_HEADERS": "X-Nothing: 1"},
                             capture_output=True, text=True, timeout=120)
    assert refused.returncode != 0  # no token, no service


def test_gdal_reads_every_collection_with_the_service_counts(
        server: str, tokens: Tokens, tmp_path: Path) -> None:
    for collection in COLLECTIONS:
        features = gdal_read(server, tokens.admin, collection, tmp_path)
        assert len(features) == matched(server, tokens.admin, collection), collection
        assert features, collection
        assert all(f["geometry"] is not None for f in features
                   if collection in ("cpts", "regions", "departements")), collection
    regions = gdal_read(server, tokens.admin, "regions", tmp_path)
    assert {f["properties"]["code"] for f in regions} >= {"93", "84", "11", "76"}


def test_another_regions_agent_gets_none_of_the_private_features(
        server: str, tokens: Tokens, tmp_path: Path) -> None:
    private = set(tokens.private_ids.values())
    seen: dict[str, set[int]] = {}
    texts: dict[str, str] = {}
    for who, token in (("ars_84", tokens.ars_84), ("ars_93", tokens.ars_93),
                       ("carrier", tokens.carrier), ("admin", tokens.admin)):
        cpts = gdal_read(server, token, "cpts", tmp_path)
        units = gdal_read(server, token, "cpts_communes", tmp_path)
        communes = gdal_read(server, token, "communes", tmp_path)
        assert len(cpts) == matched(server, token, "cpts")
        seen[who] = ({int(f["properties"]["id"]) for f in cpts}
                     | {int(f["properties"]["cpts_id"]) for f in units})
        texts[who] = json.dumps([f["properties"] for f in cpts + units + communes])
    assert not seen["ars_84"] & private
    assert all(name not in texts["ars_84"] for name in tokens.private_names.values())
    # positive controls: each private CPTS reaches who may read it
    assert seen["admin"] >= private
    assert tokens.private_ids["scenario"] in seen["ars_93"]
    assert tokens.private_ids["lettre"] in seen["ars_93"]
    assert tokens.private_ids["brouillon"] not in seen["ars_93"]
    assert tokens.private_ids["brouillon"] in seen["carrier"]
    assert tokens.private_ids["scenario"] not in seen["carrier"]
    assert tokens.private_names["brouillon"] in texts["carrier"]
