"""The map page's ES modules bundled into one file by esbuild (npm, run by `make assets`).

The page is written as ~30 small ES modules (`app/web/js/`). Loaded one by one, each is a
request that the server authenticates and the browser fetches over six connections, ahead of
`/api/me` and the overview: on a fresh sign-in that queue is the longest part of the wait
(benchmarks/map_render.py, `map.login_to_painted`). `python -m app.services.app_bundle build`
writes `app/web/build/app.js` (one minified ES module, main.js and what it imports); the page
loads it only while it is at least as new as every module, so an edited module is served as
it is until the next `make assets` rebuilds the bundle (`bundle_url()`).
"""

import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from app.services.map_assets import NODE_MODULES, STATIC_PREFIX, WEB_DIR

MODULES_DIR = WEB_DIR / "js"
ENTRY = MODULES_DIR / "main.js"
BUNDLE = WEB_DIR / "build" / "app.js"
BUNDLE_PATH = "build/app.js"  # under /static/
ESBUILD = NODE_MODULES / ".bin" / "esbuild"
# the browsers the service supports: ES2020 modules (Chromium, Firefox, Safari of 2020 on)
TARGET = "es2020"


def build(esbuild: Path = ESBUILD, bundle: Path = BUNDLE) -> Path:
    """Bundle main.js and its imports into `bundle` (esbuild from node_modules)."""
    if not esbuild.exists():
        raise FileNotFoundError(f"{esbuild} absent : lancez `npm ci` (make assets)")
    bundle.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run([str(esbuild), str(ENTRY), "--bundle", "--format=esm", "--minify",
                    f"--target={TARGET}", "--legal-comments=none", "--charset=utf8",
                    "--log-level=warning",
                    f"--outfile={bundle}"], check=True)
    bundle.touch()  # newer than every module even when esbuild left the file as it was
    return bundle


def is_fresh(bundle: Path = BUNDLE, modules_dir: Path = MODULES_DIR) -> bool:
    """Whether `bundle` exists and no module was changed after it was built."""
    try:
        built = bundle.stat().st_mtime
    except FileNotFoundError:
        return False
    return all(path.stat().st_mtime <= built for path in modules_dir.glob("*.js"))


def bundle_url() -> str | None:
    """The bundle's URL when the page should load it, else None (load the modules)."""
    return f"{STATIC_PREFIX}/{BUNDLE_PATH}" if is_fresh() else None


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] != ["build"]:
        print("usage : python -m app.services.app_bundle build", file=sys.stderr)
        return 2
    written = build()
    print(f"modules de la carte réunis dans {written.relative_to(WEB_DIR.parent.parent)} "
          f"({written.stat().st_size // 1024} Kio)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
