"""The API documentation pages' assets: Swagger UI and ReDoc, installed from the npm registry at
the exact versions of `package.json` (`npm ci`), copied into `app/web/vendor/` and served by the
app under `/static/vendor/`, so that `/docs` and `/redoc` load nothing from another site.

`python -m app.services.docs_assets install` (run by `make assets`) checks that the locked
versions are the ones `package.json` names, then copies the files.
"""

import json
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path

from app.services.map_assets import NODE_MODULES, PACKAGE_LOCK, STATIC_PREFIX, VENDOR_DIR
from app.settings import PROJECT_ROOT

PACKAGE_JSON = PROJECT_ROOT / "package.json"

# npm package -> (path in the package, path under vendor/)
FILES: dict[str, tuple[tuple[str, str], ...]] = {
    "swagger-ui-dist": (
        ("swagger-ui-bundle.js", "swagger-ui/swagger-ui-bundle.js"),
        ("swagger-ui.css", "swagger-ui/swagger-ui.css"),
    ),
    "redoc": (
        ("bundles/redoc.standalone.js", "redoc/redoc.standalone.js"),
    ),
}
# Requests the bundles would make to another site, turned into nothing at install time: ReDoc
# shows Redocly's logo from their CDN in its side bar (the page's CSP would block it anyway; an
# empty data URI makes the image fail at once, and ReDoc then hides it).
PATCHES: dict[str, tuple[tuple[str, str], ...]] = {
    "redoc/redoc.standalone.js": (("https://cdn.redoc.ly/redoc/logo-mini.svg", "data:,"),),
}
SWAGGER_JS = "swagger-ui/swagger-ui-bundle.js"
SWAGGER_CSS = "swagger-ui/swagger-ui.css"
REDOC_JS = "redoc/redoc.standalone.js"


def vendor_url(path: str) -> str:
    return f"{STATIC_PREFIX}/vendor/{path}"


def vendor_files() -> list[str]:
    """Every file this module installs, as a path under vendor/."""
    return [dest for files in FILES.values() for _, dest in files]


def missing_files(vendor_dir: Path = VENDOR_DIR) -> list[str]:
    return [dest for dest in vendor_files() if not (vendor_dir / dest).is_file()]


def version_problems(package_json: Path = PACKAGE_JSON,
                     lock_file: Path = PACKAGE_LOCK) -> list[str]:
    """Where package.json (exact versions) and package-lock.json disagree."""
    wanted = json.loads(package_json.read_text(encoding="utf-8")).get("dependencies", {})
    locked = json.loads(lock_file.read_text(encoding="utf-8")).get("packages", {})
    problems = []
    for npm in FILES:
        version = locked.get(f"node_modules/{npm}", {}).get("version")
        if wanted.get(npm) != version:
            problems.append(f"{npm}: package.json {wanted.get(npm) or 'absent'}, "
                            f"package-lock.json {version or 'absent'}")
    return problems


def install(node_modules: Path = NODE_MODULES, vendor_dir: Path = VENDOR_DIR) -> list[Path]:
    """Copy the files from `node_modules` (after `npm ci`) into `vendor_dir`."""
    written: list[Path] = []
    for npm, files in FILES.items():
        for source, dest in files:
            origin = node_modules / npm / source
            if not origin.is_file():
                raise FileNotFoundError(f"{origin} is missing: run `npm ci` first")
            target = vendor_dir / dest
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(origin, target)
            _patch(target, PATCHES.get(dest, ()))
            written.append(target)
    return written


def _patch(path: Path, replacements: tuple[tuple[str, str], ...]) -> None:
    if not replacements:
        return
    text = path.read_text(encoding="utf-8")
    for old, new in replacements:
        if old not in text:
            raise RuntimeError(f"{path.name}: « {old} » not found (new version of the package?)")
        text = text.replace(old, new)
    path.write_text(text, encoding="utf-8")


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    problems = version_problems()
    if problems:
        print("package.json et package-lock.json divergent :\n  " + "\n  ".join(problems),
              file=sys.stderr)
        return 1
    if args[:1] == ["install"]:
        written = install()
        print(f"{len(written)} fichiers de documentation copiés dans "
              f"{VENDOR_DIR.relative_to(PROJECT_ROOT)}/ : {', '.join(FILES)}")
        return 0
    missing = missing_files()
    if missing:
        print("fichiers manquants : " + ", ".join(missing), file=sys.stderr)
        return 1
    print("ok : " + ", ".join(FILES))
    return 0


if __name__ == "__main__":
    sys.exit(main())
