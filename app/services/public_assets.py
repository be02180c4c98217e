"""What `/static/` serves: only the files the pages load, listed here (an allow-list).

`app/web/` also holds the server's HTML templates (`map_body.html`, `login.html`, …), the
JavaScript unit tests (`js/tests/`) and the set-up's stamp files: none of them is a page asset,
and a path that is not listed answers 404 even when the file exists. The list: the map's ES
modules (`js/*.js`) and its style sheet, the small classic scripts that run between the vendor
scripts (`js/shims/`), the vendor files installed by the set-up (Leaflet and its plugins, Swagger
UI, ReDoc) and the documentation pages' own start-up scripts (`docs/`).
"""

from functools import cache

from app.services import docs_assets
from app.services.map_assets import PACKAGES, PAGE_PACKAGES, SHIMS, STATIC_PREFIX, WEB_DIR

MAP_STYLE_SHEET = "css/map.css"
DOCS_SCRIPTS = ("docs/swagger-init.js", "docs/redoc-init.js")


@cache
def served_files() -> frozenset[str]:
    """Paths under `app/web/` that `/static/` serves."""
    modules = {f"js/{path.name}" for path in (WEB_DIR / "js").glob("*.js")}
    vendor = {f"vendor/{dest}" for package in (*PACKAGES, *PAGE_PACKAGES)
              for _, dest in package.files}
    vendor |= {f"vendor/{dest}" for dest in docs_assets.vendor_files()}
    return frozenset(modules | set(SHIMS.values()) | vendor | {MAP_STYLE_SHEET, *DOCS_SCRIPTS})


def is_hidden(url_path: str) -> bool:
    """Whether a path (as decoded by the server) lies under `/static/` but is not one of the
    served files."""
    prefix = STATIC_PREFIX + "/"
    return url_path.startswith(prefix) and url_path[len(prefix):] not in served_files()
