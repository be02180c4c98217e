"""The coverage of a territory as one GeoPackage (`GET /api/coverage?…&format=gpkg`), opened
with GDAL's `ogrinfo` (Debian `gdal-bin`, installed by `make gdal`): the expected layers in
Lambert-93, feature counts equal to the coverage's own figures, the QGIS style table, and no
name of a CPTS the user may not read."""

import re
import shutil
import subprocess
import uuid
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.services.coverage_gpkg import qml
from tests.auth_fixtures import ClientAs, MakeAccount

OGRINFO = shutil.which("ogrinfo") or "/usr/bin/ogrinfo"
LAYERS = ["cpts", "cpts_communes", "communes", "zones_blanches", "chevauchements"]
TAG = uuid.uuid4().hex[:8]


def ogrinfo(*arguments: str) -> str:
    if not Path(OGRINFO).exists():
        pytest.fail("ogrinfo is missing: `make gdal` installs Debian's gdal-bin")
    done = subprocess.run([OGRINFO, "-ro", *arguments], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout


def counts(path: Path) -> dict[str, int]:
    found = {}
    for layer in LAYERS:
        summary = ogrinfo("-so", str(path), layer)
        count = re.search(r"Feature Count: (\d+)", summary)
        assert count is not None, summary
        assert 'PROJCRS["RGF93 v1 / Lambert-93"' in summary, (layer, summary[:600])
        found[layer] = int(count.group(1))
    return found


def download(client: TestClient, scope: str, tmp_path: Path) -> Path:
    response = client.get("/api/coverage", params={"scope": scope, "format": "gpkg"})
    assert response.status_code == 200, response.text[:300]
    assert response.headers["content-type"] == "application/geopackage+sqlite3"
    assert re.search(r'filename="couverture-departement-06-\d{4}-\d\d-\d\d\.gpkg"',
                     response.headers["content-disposition"])
    path = tmp_path / f"{uuid.uuid4().hex[:6]}.gpkg"
    path.write_bytes(response.content)
    return path


@pytest.fixture(scope="module")
def letter_name(auth_client: TestClient) -> str:
    """A CPTS of région 93 at the letter of intent: counted in coverage, readable in région 93
    only."""
    name = f"GPKG lettre {TAG}"
    created = auth_client.post("/api/cpts", json={
        "name": name, "status": "lettre_intention", "communes": ["06088", "06032", "06152"]})
    assert created.status_code == 201, created.text
    return name


def test_the_geopackage_opens_with_its_layers_counts_and_styles(
        auth_client: TestClient, letter_name: str, tmp_path: Path) -> None:
    path = download(auth_client, "departement:06", tmp_path)
    listing = ogrinfo(str(path))
    layers = re.findall(r"^\d+: (\w+)", listing, flags=re.M)
    assert layers == [*LAYERS, "layer_styles"]
    coverage = auth_client.get("/api/coverage", params={"scope": "departement:06"}).json()
    found = counts(path)
    assert found["communes"] == coverage["communes_total"]
    assert found["zones_blanches"] == len(coverage["white_zones"])
    assert found["chevauchements"] == len(coverage["overlaps"])
    assert found["cpts"] == coverage["cpts_counted"]  # an administrator reads them all
    units = ogrinfo(str(path), "-sql", "SELECT SUM(communes) AS n FROM cpts")
    assert f"n (Integer) = {found['cpts_communes']}" in units
    uncovered = ogrinfo(str(path), "-sql",
                        "SELECT COUNT(*) AS n FROM communes WHERE couverte = 'non'")
    assert f"n (Integer) = {coverage['communes_uncovered']}" in uncovered
    styles = ogrinfo(str(path), "-sql", "SELECT f_table_name, useAsDefault, styleQML "
                                       "FROM layer_styles ORDER BY id")
    assert re.findall(r"f_table_name \(String\) = (\w+)", styles) == LAYERS
    assert styles.count("useAsDefault (Integer(Boolean)) = 1") == len(LAYERS)
    assert 'attr="stade"' in styles and 'attr="couverte"' in styles
    assert letter_name.encode() in path.read_bytes()
    fields = ogrinfo("-so", str(path), "communes")
    for field in ("code", "nom", "population", "millesime_population", "couverte",
                  "cpts_non_nommees", "zone_blanche"):
        assert f"\n{field}: " in fields, field


def test_another_regions_user_gets_no_name_of_what_it_may_not_read(
        make_account: MakeAccount, client_as: ClientAs, auth_client: TestClient,
        letter_name: str, tmp_path: Path) -> None:
    outsider = client_as(make_account("observer", regions=["84"], label="gpkg-obs84"))
    path = download(outsider, "departement:06", tmp_path)
    assert letter_name.encode() not in path.read_bytes()
    found = counts(path)
    assert found["cpts"] == 0 and found["cpts_communes"] == 0
    coverage = outsider.get("/api/coverage", params={"scope": "departement:06"}).json()
    assert found["communes"] == coverage["communes_total"]  # the figures are everybody's
    hidden = ogrinfo(str(path), "-sql",
                     "SELECT SUM(cpts_non_nommees) AS n FROM communes WHERE code = '06088'")
    assert re.search(r"n \(Integer\) = [1-9]", hidden)


def test_styles_carry_the_map_palette() -> None:
    from app.domain.cpts_colours import PALETTE, rgb

    every = "".join(qml(layer) for layer in LAYERS)
    assert "227,26,28" not in every, "no flat red zones blanches any more"
    for layer in ("zones_blanches", "communes"):
        style = qml(layer)
        assert f'"{rgb(PALETTE.zone_blanche_ground)},255"' in style
        assert f'"{rgb(PALETTE.zone_blanche_ink)},255"' in style and '"dense6"' in style
    stages = qml("cpts")
    for index in PALETTE.raw["stages"].values():
        assert f'"{rgb(PALETTE.cpts[index])},{round(255 * PALETTE.cpts_opacity)}"' in stages


def test_styles_are_qgis_documents() -> None:
    import xml.etree.ElementTree as ElementTree

    for layer in LAYERS:
        root = ElementTree.fromstring(qml(layer).split("'SYSTEM'>", 1)[1])
        assert root.tag == "qgis"
        renderer = root.find("renderer-v2")
        assert renderer is not None
        symbols = renderer.findall("./symbols/symbol")
        assert symbols and all(s.get("type") == "fill" for s in symbols)
        categories = renderer.findall("./categories/category")
        assert len(categories) in (0, 2, 3, 4)
        assert len(symbols) == max(1, len(categories))
