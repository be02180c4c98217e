"""The map's front-end assets: the Leaflet files folium's map and plugins need, at the versions
folium pins, installed from the npm registry (`package.json`, `package-lock.json`, `npm ci`),
copied into `app/web/vendor/` and served by the app under `/static/vendor/`.

`python -m app.services.map_assets install` (run by `make assets`) checks that the locked npm
versions are the ones folium's source names, then copies the files. Folium's own asset lists
point to public CDNs; `local_js` / `local_css` give the same assets as local paths, and
`inline_js` / `inline_css` their text for a standalone HTML file.
"""

import base64
import json
import re
import shutil
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from app.settings import PROJECT_ROOT

WEB_DIR = Path(__file__).resolve().parents[1] / "web"
VENDOR_DIR = WEB_DIR / "vendor"
STATIC_PREFIX = "/static"
NODE_MODULES = PROJECT_ROOT / "node_modules"
PACKAGE_LOCK = PROJECT_ROOT / "package-lock.json"


@dataclass(frozen=True)
class VendorPackage:
    """One npm package: which folium asset names it stands for and the files copied from it."""

    npm: str
    folium_assets: tuple[str, ...]  # names in folium's default_js / default_css lists
    files: tuple[tuple[str, str], ...]  # (path in the package, path under vendor/)


PACKAGES: tuple[VendorPackage, ...] = (
    VendorPackage("leaflet", ("leaflet", "leaflet_css"), (
        ("dist/leaflet.js", "leaflet/leaflet.js"),
        ("dist/leaflet.css", "leaflet/leaflet.css"),
        ("dist/images/layers.png", "leaflet/images/layers.png"),
        ("dist/images/layers-2x.png", "leaflet/images/layers-2x.png"),
        ("dist/images/marker-icon.png", "leaflet/images/marker-icon.png"),
        ("dist/images/marker-icon-2x.png", "leaflet/images/marker-icon-2x.png"),
        ("dist/images/marker-shadow.png", "leaflet/images/marker-shadow.png"),
    )),
    VendorPackage("leaflet-draw", ("leaflet_draw_js", "leaflet_draw_css"), (
        ("dist/leaflet.draw.js", "leaflet-draw/leaflet.draw.js"),
        ("dist/leaflet.draw.css", "leaflet-draw/leaflet.draw.css"),
        ("dist/images/spritesheet.svg", "leaflet-draw/images/spritesheet.svg"),
        ("dist/images/spritesheet.png", "leaflet-draw/images/spritesheet.png"),
        ("dist/images/spritesheet-2x.png", "leaflet-draw/images/spritesheet-2x.png"),
    )),
    VendorPackage("leaflet.vectorgrid", ("vectorGrid",), (
        ("dist/Leaflet.VectorGrid.bundled.js", "leaflet.vectorgrid/Leaflet.VectorGrid.bundled.js"),
    )),
)

# Packages the page's own modules use (not folium's): their version is the npm lock's.
PAGE_PACKAGES: tuple[VendorPackage, ...] = (
    # the coverage charts (by stage, by département) of the zones blanches view
    VendorPackage("chart.js", (), (("dist/chart.umd.min.js", "chartjs/chart.umd.min.js"),)),
)

# The DSFR (Système de Design de l'État), loaded only with UI_THEME=dsfr (app.services.theme):
# one style sheet made of its core (fonts, typography, colours, grid) and the components the
# pages use, in the DSFR's own order (300 kB instead of the whole 730 kB `dsfr.min.css`, which
# the browser would parse before the first paint), plus the fonts and icons those parts name,
# copied with the paths the joined sheet uses (`url(fonts/Marianne-Regular.woff2)`).
DSFR_NPM = "@gouvfr/dsfr"
DSFR_CSS = "dsfr/dsfr-parts.min.css"
DSFR_COMPONENTS = ("link", "button", "badge", "form", "input", "select", "search", "alert",
                   "logo", "skiplink", "header", "footer")
DSFR_PARTS = ("core/core.main.min.css",
              *(f"component/{name}/{name}.main.min.css" for name in DSFR_COMPONENTS))

# folium asset name -> file under vendor/ (the first file of each kind in PACKAGES)
ASSET_FILES: dict[str, str] = {
    "leaflet": "leaflet/leaflet.js",
    "leaflet_css": "leaflet/leaflet.css",
    "leaflet_draw_js": "leaflet-draw/leaflet.draw.js",
    "leaflet_draw_css": "leaflet-draw/leaflet.draw.css",
    "vectorGrid": "leaflet.vectorgrid/Leaflet.VectorGrid.bundled.js",
    "chartjs": "chartjs/chart.umd.min.js",
}

# Small classic scripts of the app that must run between the vendor scripts and the map's
# inline script (they are read by Leaflet plugins when the map is built, before any module).
SHIMS: dict[str, str] = {
    "vectorgrid_leaflet19": "js/shims/vectorgrid-leaflet19.js",
    "leaflet_draw_fr": "js/shims/leaflet-draw-fr.js",
}


def vendor_url(name: str) -> str:
    return f"{STATIC_PREFIX}/vendor/{ASSET_FILES[name]}"


def shim_url(name: str) -> str:
    return f"{STATIC_PREFIX}/{SHIMS[name]}"


def css_references(css: str) -> list[str]:
    """The files a style sheet names by a relative `url(…)` (not data: URIs, not other sites),
    in order, without repeats."""
    found: list[str] = []
    for target in re.findall(r"url\(\s*['\"]?([^'\")]+)['\"]?\s*\)", css):
        target = target.split("#")[0].split("?")[0]
        if (target and ":" not in target and not target.startswith(("/", "."))
                and target not in found):
            found.append(target)
    return found


def theme_files(vendor_dir: Path = VENDOR_DIR) -> list[str]:
    """The DSFR's files under vendor/: its style sheet and what the sheet names (once
    installed)."""
    files = [DSFR_CSS]
    css = vendor_dir / DSFR_CSS
    if css.is_file():
        base = DSFR_CSS.rsplit("/", 1)[0]
        files += [f"{base}/{ref}" for ref in css_references(css.read_text(encoding="utf-8"))]
    return files


def missing_files(vendor_dir: Path = VENDOR_DIR) -> list[str]:
    """Vendor files the pages need that are not installed (empty when all are there)."""
    wanted = [dest for package in (*PACKAGES, *PAGE_PACKAGES) for _, dest in package.files]
    return [dest for dest in (*wanted, *theme_files(vendor_dir))
            if not (vendor_dir / dest).is_file()]


# --- versions: folium's pins against the npm lock ---------------------------------------------

_VERSION = re.compile(r"(?:@|/)(\d+\.\d+\.\d+|latest)/")


def folium_urls() -> dict[str, str]:
    """Every asset URL folium declares for the map and the plugins this app uses."""
    import folium
    from folium.plugins import Draw, VectorGridProtobuf

    urls: dict[str, str] = {}
    for owner in (folium.Map, Draw, VectorGridProtobuf):
        urls.update(dict(owner.default_js))
        urls.update(dict(owner.default_css))
    return urls


def folium_pins() -> dict[str, str]:
    """npm package -> the version folium's source names in its CDN URL (or "latest")."""
    urls = folium_urls()
    pins: dict[str, str] = {}
    for package in PACKAGES:
        found = {m.group(1) for name in package.folium_assets
                 if (m := _VERSION.search(urls[name])) is not None}
        if len(found) != 1:
            raise RuntimeError(f"folium names no single version of {package.npm}: {found}")
        pins[package.npm] = found.pop()
    return pins


def locked_versions(lock_file: Path = PACKAGE_LOCK) -> dict[str, str]:
    lock = json.loads(lock_file.read_text(encoding="utf-8"))
    packages = lock.get("packages", {})
    return {p.npm: packages.get(f"node_modules/{p.npm}", {}).get("version", "")
            for p in PACKAGES}


def version_problems(pins: dict[str, str], locked: dict[str, str]) -> list[str]:
    """Where the npm lock disagrees with folium (a "latest" pin accepts any locked version)."""
    return [f"{npm}: folium pins {pins[npm]}, package-lock.json has {locked.get(npm) or 'none'}"
            for npm in pins
            if not locked.get(npm) or (pins[npm] != "latest" and pins[npm] != locked[npm])]


# --- installing and reading the files ----------------------------------------------------------

def install(node_modules: Path = NODE_MODULES, vendor_dir: Path = VENDOR_DIR) -> list[Path]:
    """Copy the vendor files from `node_modules` (after `npm ci`) into `vendor_dir`."""
    written: list[Path] = []
    for package in (*PACKAGES, *PAGE_PACKAGES):
        for source, dest in package.files:
            origin = node_modules / package.npm / source
            if not origin.is_file():
                raise FileNotFoundError(f"{origin} is missing: run `npm ci` first")
            target = vendor_dir / dest
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(origin, target)
            written.append(target)
    written += install_dsfr(node_modules, vendor_dir)
    return written


_URL = re.compile(r"url\(\s*['\"]?([^'\")]+)['\"]?\s*\)")


def install_dsfr(node_modules: Path = NODE_MODULES, vendor_dir: Path = VENDOR_DIR
                 ) -> list[Path]:
    """The DSFR's parts joined into `DSFR_CSS`, their `url(…)` rewritten from each part's
    folder to the joined sheet's, and the files they name copied beside it."""
    dist = node_modules / DSFR_NPM / "dist"
    target_dir = vendor_dir / DSFR_CSS.rsplit("/", 1)[0]
    written: list[Path] = []
    parts: list[str] = []
    for part in DSFR_PARTS:
        origin = dist / part
        if not origin.is_file():
            raise FileNotFoundError(f"{origin} is missing: run `npm ci` first")

        def rebase(match: re.Match[str], folder: Path = origin.parent) -> str:
            target = match.group(1)
            if ":" in target or target.startswith(("/", "#")):
                return match.group(0)
            source = (folder / target.split("#")[0].split("?")[0]).resolve()
            relative = source.relative_to(dist.resolve()).as_posix()
            copy = target_dir / relative
            if copy not in written:
                copy.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(source, copy)
                written.append(copy)
            return f"url({relative})"

        parts.append(_URL.sub(rebase, origin.read_text(encoding="utf-8")))
    sheet = vendor_dir / DSFR_CSS
    sheet.parent.mkdir(parents=True, exist_ok=True)
    sheet.write_text("\n".join(parts), encoding="utf-8")
    return [sheet, *written]


def read_vendor(name: str, vendor_dir: Path = VENDOR_DIR) -> str:
    return (vendor_dir / ASSET_FILES[name]).read_text(encoding="utf-8")


def inline_js(name: str, vendor_dir: Path = VENDOR_DIR) -> str:
    """A vendor script's text, safe inside an HTML <script> element."""
    return _without_source_map(read_vendor(name, vendor_dir)).replace("</script", "<\\/script")


def inline_css(name: str, vendor_dir: Path = VENDOR_DIR) -> str:
    """A vendor style sheet with its images turned into data URIs (no request left)."""
    css_file = vendor_dir / ASSET_FILES[name]
    css = css_file.read_text(encoding="utf-8")

    def embed(match: re.Match[str]) -> str:
        target = match.group(1).strip("'\"")
        path = css_file.parent / target
        if target.startswith("data:") or not path.is_file():
            return match.group(0)
        media = {"png": "image/png", "svg": "image/svg+xml"}.get(path.suffix[1:], "")
        encoded = base64.b64encode(path.read_bytes()).decode("ascii")
        return f'url("data:{media};base64,{encoded}")'

    return re.sub(r"url\(([^)]+)\)", embed, css).replace("</style", "<\\/style")


def _without_source_map(js: str) -> str:
    return re.sub(r"^//# sourceMappingURL=.*$", "", js, flags=re.MULTILINE)


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    command = args[0] if args else "check"
    pins, locked = folium_pins(), locked_versions()
    problems = version_problems(pins, locked)
    if problems:
        print("package-lock.json and folium disagree:\n  " + "\n  ".join(problems),
              file=sys.stderr)
        return 1
    if command == "install":
        written = install()
        print(f"{len(written)} fichiers copiés dans {VENDOR_DIR.relative_to(PROJECT_ROOT)}/ : "
              + ", ".join(f"{npm} {locked[npm]}" + (" (folium : latest)"
                                                    if pins[npm] == "latest" else "")
                          for npm in pins))
        return 0
    missing = missing_files()
    if missing:
        print("fichiers manquants : " + ", ".join(missing), file=sys.stderr)
        return 1
    print("ok : " + ", ".join(f"{npm} {locked[npm]}" for npm in pins))
    return 0


if __name__ == "__main__":
    sys.exit(main())
