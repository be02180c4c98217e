"""Where the workplace's read-only `shared/` folder is, for the real CPTS perimeters the tests
import: `CPTS_SHARED_DIR` when set, else beside this checkout, else beside the repository it was
cloned from (a clone made elsewhere, e.g. in /tmp, still finds it). Missing: tests fail at once."""

import os
import subprocess
from pathlib import Path

from app.settings import PROJECT_ROOT


def _origin_directory() -> Path | None:
    """The directory of the repository this checkout was cloned from, when it is local."""
    try:
        found = subprocess.run(["git", "config", "--get", "remote.origin.url"], cwd=PROJECT_ROOT,
                               capture_output=True, text=True, check=False).stdout.strip()
    except OSError:
        return None
    path = Path(found.removeprefix("file://"))
    return path.resolve() if found and path.is_absolute() else None


def shared_directory() -> Path:
    candidates = [Path(os.environ["CPTS_SHARED_DIR"])] if os.environ.get("CPTS_SHARED_DIR") else []
    candidates.append(PROJECT_ROOT.parent / "shared")
    origin = _origin_directory()
    if origin is not None:
        candidates.append(origin.parent / "shared")
    for candidate in candidates:
        if (candidate / "fixtures").is_dir():
            return candidate
    raise RuntimeError("shared/fixtures not found (looked in: "
                       + ", ".join(str(c) for c in candidates) + "); set CPTS_SHARED_DIR")


ALPES_MARITIMES = shared_directory() / "fixtures" / "alpes-maritimes"
ALPES_MARITIMES_LISTING = ALPES_MARITIMES / "cpts_communes.csv"
