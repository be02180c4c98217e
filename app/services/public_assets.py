"""What `/static/` serves: only the files the pages load, listed here (an allow-list).

`app/web/` also holds the server's HTML templates (`map_body.html`, `login.html`, …), the
JavaScript unit tests (`js/tests/`) and the set-up's stamp files: none of them is a page asset,
and a path that is not listed answers 404 even when the file exists. The list: the map's ES
modules (`js/*.js`), their bundle (`build/app.js`) and its style sheet, the small classic scripts
that run between the vendor scripts (`js/shims/`), the vendor files installed by the set-up
(Leaflet and its plugins, Swagger UI, ReDoc) and the documentation pages' own start-up scripts
(`docs/`). The DSFR theme's files
are not among them: `/theme/` serves those (`theme_files`).
"""

from functools import cache

from app.services import docs_assets
from app.services.app_bundle import BUNDLE_PATH
from app.services.map_assets import PACKAGES, PAGE_PACKAGES, SHIMS, STATIC_PREFIX, WEB_DIR
from app.services.map_assets import theme_files as theme_files_installed

DSFR_ADAPTATIONS = "css/theme-dsfr.css"

MAP_STYLE_SHEET = "css/map.css"
DOCS_SCRIPTS = ("docs/swagger-init.js", "docs/redoc-init.js")


@cache
def served_files() -> frozenset[str]:
    """Paths under `app/web/` that `/static/` serves."""
    modules = {f"js/{path.name}" for path in (WEB_DIR / "js").glob("*.js")}
    vendor = {f"vendor/{dest}" for package in (*PACKAGES, *PAGE_PACKAGES)
              for _, dest in package.files}
    vendor |= {f"vendor/{dest}" for dest in docs_assets.vendor_files()}
    return frozenset(modules | set(SHIMS.values()) | vendor
                     | {MAP_STYLE_SHEET, BUNDLE_PATH, *DOCS_SCRIPTS})


@cache
def theme_files() -> frozenset[str]:
    """Paths under `app/web/` that `/theme/` serves to everyone, signed in or not (the login
    and accessibility pages use them): the DSFR's style sheet, fonts and icons and the app's
    adaptations to it (app.services.theme), for the DSFR theme only."""
    return frozenset({f"vendor/{dest}" for dest in theme_files_installed()} | {DSFR_ADAPTATIONS})


def is_hidden(url_path: str) -> bool:
    """Whether a path (as decoded by the server) lies under `/static/` but is not one of the
    served files."""
    prefix = STATIC_PREFIX + "/"
    return url_path.startswith(prefix) and url_path[len(prefix):] not in served_files()
