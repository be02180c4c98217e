"""The map page, composed with folium: the Leaflet map, its panes, the vector-tile layers of
communes and reference areas, the drawing tool and the layer control are declared here in
Python, with folium's asset lists pointed at the local copies (`app.services.map_assets`).
The app's behaviour lives in the ES modules of `app/web/js/`, attached to this map through the
JSON configuration the page carries."""

import base64
import hashlib
import json
import re
from dataclasses import dataclass
from functools import cache
from html import escape
from importlib import resources
from string import Template
from typing import Any

import folium
from branca.element import Element, Figure
from folium.map import CustomPane
from folium.plugins import Draw, VectorGridProtobuf
from pydantic_settings import BaseSettings, SettingsConfigDict

from app.auth.policy import ROLE_LABELS, User
from app.domain.cpts_access import stage_list
from app.domain.cpts_colours import PALETTE
from app.services.app_bundle import bundle_url
from app.services.map_assets import STATIC_PREFIX, WEB_DIR, shim_url, vendor_url
from app.services.theme import THEME_SCRIPT, footer, partial, style_links, theme

TILE_URL = "/api/tiles/{layer}/{z}/{x}/{y}.pbf"
FIRST_READS = ("/api/me", "/api/map/overview")
FRANCE_CENTER = (46.6, 2.45)
FRANCE_BOUNDS = ((41.3, -5.2), (51.1, 9.6))
COMMUNES_MIN_ZOOM = 6  # the tiles carry communes from zoom 6 (app.repo.tiles.COMMUNES)
# Below this zoom the coverage and zones blanches views draw the CPTS outlines
# (`GET /api/map/overview`) instead of the commune tiles: a national view holds ~35,000
# communes, drawn without borders at these zooms anyway.
OVERVIEW_MAX_ZOOM = 8
MAX_ZOOM = 16


class MapSettings(BaseSettings):
    """Optional raster basemap under the communes (`MAP_BASEMAP_URL`): none by default, so that
    no request leaves the server's origin; the page drops it when it cannot be reached."""

    model_config = SettingsConfigDict(env_prefix="MAP_", env_file=".env", extra="ignore")

    basemap_url: str = ""
    basemap_attribution: str = ""
    # `MAP_BUNDLE=false`: the page loads its modules one by one even when their bundle is up
    # to date (app.services.app_bundle; to debug in the browser, and the benchmarks' baseline)
    bundle: bool = True


# --- folium classes with local assets ---------------------------------------------------------
# jQuery, Bootstrap, Font Awesome and Awesome Markers (folium.Map's other defaults) are dropped:
# the page has no markers, popups or Bootstrap widgets. (folium declares these lists as plain
# class attributes, hence the RUF012 exceptions.)

class LocalMap(folium.Map):
    default_js = [("leaflet", vendor_url("leaflet"))]  # noqa: RUF012
    default_css = [("leaflet_css", vendor_url("leaflet_css"))]  # noqa: RUF012


class LocalVectorGrid(VectorGridProtobuf):
    default_js = [("vectorGrid", vendor_url("vectorGrid")),  # noqa: RUF012
                  ("vectorgrid_leaflet19", shim_url("vectorgrid_leaflet19"))]


class LocalDraw(Draw):
    default_js = [("leaflet_draw_js", vendor_url("leaflet_draw_js")),  # noqa: RUF012
                  ("leaflet_draw_fr", shim_url("leaflet_draw_fr"))]
    default_css = [("leaflet_draw_css", vendor_url("leaflet_draw_css"))]  # noqa: RUF012


@dataclass(frozen=True)
class ReferenceLayer:
    tile_layer: str
    label: str
    style: dict[str, Any]
    show: bool = False


REFERENCE_LAYERS = (
    ReferenceLayer("regions", "Régions", {"weight": 2.4, "color": "#1d1d1b", "opacity": 0.9}),
    ReferenceLayer("departements", "Départements",
                   {"weight": 1.4, "color": "#3a3a3a", "opacity": 0.85}, show=True),
    ReferenceLayer("epci", "EPCI (intercommunalités)",
                   {"weight": 1.6, "color": "#6a2c91", "opacity": 0.9, "dashArray": "6 4"}),
    ReferenceLayer("bassins_de_vie", "Bassins de vie 2022",
                   {"weight": 1.6, "color": "#0b6e4f", "opacity": 0.9, "dashArray": "2 4"}),
)

COMMUNE_DEFAULT_STYLE = {"fill": True, "fillColor": "#ffffff", "fillOpacity": 0,
                         "weight": 0.3, "color": "#8a8a8a", "opacity": 0.6}


def _vector_options(tile_layer: str, style: dict[str, Any], *, pane: str, interactive: bool,
                    min_zoom: int = 0) -> str:
    """VectorGrid options as JavaScript (the renderer factory and the feature id are code)."""
    styles = json.dumps({tile_layer: {"fill": False, **style}
                         if tile_layer != "communes" else style})
    return ("{rendererFactory: L.canvas.tile, "
            f"interactive: {json.dumps(interactive)}, pane: {json.dumps(pane)}, "
            f"minZoom: {min_zoom}, maxNativeZoom: {MAX_ZOOM}, maxZoom: {MAX_ZOOM}, "
            "getFeatureId: function (feature) { return feature.properties.code; }, "
            f"vectorTileLayerStyles: {styles}}}")


@dataclass(frozen=True)
class MapParts:
    """The folium map and the JavaScript names of its parts, for the ES modules."""

    root: folium.Map
    names: dict[str, Any]


def compose_map(settings: MapSettings) -> MapParts:
    """The map, its panes, layers, drawing tool and layer control."""
    fmap = LocalMap(location=FRANCE_CENTER, zoom_start=COMMUNES_MIN_ZOOM, tiles=None,
                    min_zoom=4, max_zoom=MAX_ZOOM, zoom_snap=0.5, zoom_delta=0.5,
                    prefer_canvas=True, control_scale=False, zoom_control="topleft",
                    attribution_control=True)
    names: dict[str, Any] = {"map": fmap.get_name(), "layers": {}, "basemap": None}
    if settings.basemap_url:
        basemap = folium.TileLayer(settings.basemap_url, attr=settings.basemap_attribution
                                   or "Fond de carte", name="Fond de carte", overlay=False,
                                   control=False, max_zoom=MAX_ZOOM)
        basemap.add_to(fmap)
        names["basemap"] = basemap.get_name()
    CustomPane("communes", z_index=410, pointer_events=True).add_to(fmap)
    CustomPane("contours", z_index=430, pointer_events=False).add_to(fmap)
    communes = LocalVectorGrid(
        TILE_URL.replace("{layer}", "communes"), name="Communes",
        options=_vector_options("communes", COMMUNE_DEFAULT_STYLE, pane="communes",
                                interactive=True, min_zoom=COMMUNES_MIN_ZOOM),
        overlay=True, control=False, show=False)
    communes.add_to(fmap)
    names["layers"]["communes"] = communes.get_name()
    for reference in REFERENCE_LAYERS:
        layer = LocalVectorGrid(
            TILE_URL.replace("{layer}", reference.tile_layer), name=reference.label,
            options=_vector_options(reference.tile_layer, reference.style, pane="contours",
                                    interactive=False),
            overlay=True, control=True, show=reference.show)
        layer.add_to(fmap)
        names["layers"][reference.tile_layer] = layer.get_name()
    draw = LocalDraw(  # type: ignore[no-untyped-call]
        position="topleft", show_geometry_on_click=False,
        draw_options={"polyline": False, "circle": False, "marker": False,
                      "circlemarker": False,
                      "rectangle": {"showArea": False,
                                    "shapeOptions": {"color": PALETTE.edit_outline}},
                      "polygon": {"showArea": False, "allowIntersection": False,
                                  "shapeOptions": {"color": PALETTE.edit_outline}}},
        edit_options={"edit": False, "remove": False})
    draw.add_to(fmap)
    names["draw"] = {"control": draw.get_name(), "items": f"drawnItems_{draw.get_name()}"}
    # Leaflet's button below 1366 px wide; map.css keeps the box open on wider screens
    control = folium.LayerControl(position="topright", collapsed=True)
    control.add_to(fmap)
    names["layer_control"] = control.get_name()
    return MapParts(fmap, names)


# --- the page ---------------------------------------------------------------------------------

@cache
def _body_template() -> Template:
    return Template((resources.files("app") / "web" / "map_body.html").read_text(
        encoding="utf-8"))


def page_config(parts: MapParts, user: User, *, can_create: bool,
                territory: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "names": parts.names,
        "static": STATIC_PREFIX,
        "communes_min_zoom": COMMUNES_MIN_ZOOM,
        "overview_max_zoom": OVERVIEW_MAX_ZOOM,
        "france_bounds": FRANCE_BOUNDS,
        "statuses": stage_list(),
        "vendor": {"chartjs": vendor_url("chartjs")},
        "user": {"email": user.email, "role": user.role.value,
                 "role_label": ROLE_LABELS[user.role], "cpts": sorted(user.cpts_ids),
                 "regions": sorted(user.regions)},
        "can_create": can_create,
        # the map's colours (app/domain/cpts_palette.json, the one source; app/web/js/colors.js)
        "palette": PALETTE.raw,
        # where the map opens (app.services.labels.territory): known before the first paint
        "territory": territory or {"regions": None, "departements": None, "bounds": None,
                                   "cpts": []},
    }


@cache
def app_modules() -> tuple[str, ...]:
    """The page's ES modules (app/web/js/*.js), main.js first (theme.js: the DSFR theme's)."""
    names = sorted(path.name for path in (WEB_DIR / "js").glob("*.js")
                   if path.name != THEME_SCRIPT)
    return tuple(sorted(names, key=lambda name: name != "main.js"))


@dataclass(frozen=True)
class Page:
    html: str
    content_security_policy: str


def render_page(user: User, *, csrf_token: str, can_create: bool,
                settings: MapSettings | None = None,
                territory: dict[str, Any] | None = None, ui_theme: str = "cpts",
                legal_notice_url: str = "") -> Page:
    settings = settings or MapSettings()
    look = theme(ui_theme)
    parts = compose_map(settings)
    figure = parts.root.get_root()
    assert isinstance(figure, Figure)
    figure.header.add_child(Element('<meta charset="utf-8">'), name="charset", index=0)
    figure.header.add_child(Element("<title>Territoires des CPTS — carte</title>"),
                            name="title")
    # no favicon request
    figure.header.add_child(Element('<link rel="icon" href="data:,">'), name="icon")
    config = json.dumps(page_config(parts, user, can_create=can_create, territory=territory),
                        ensure_ascii=False)
    user_values = {"email": escape(user.email), "role": escape(user.role.value),
                   "role_label": escape(ROLE_LABELS[user.role]),
                   "csrf_token": escape(csrf_token)}
    body = _body_template().substitute(
        header=partial(look, "header", **user_values),
        footer=footer(look, "footer", legal_notice_url),
        config=config.replace("</", "<\\/"), **user_values)
    figure.html.add_child(Element(body), name="app_body", index=0)
    html = figure.render()
    html = html.replace("<html>", f'<html lang="fr" data-theme="{look.name}">', 1)
    # folium's viewport forbids zooming (maximum-scale=1, user-scalable=no): WCAG 1.4.4
    html = re.sub(r'<meta name="viewport"[^>]*>',
                  '<meta name="viewport" content="width=device-width, initial-scale=1">', html,
                  count=1)
    # the theme's base style sheet (the DSFR) before Leaflet's and the page's
    charset = '<meta charset="utf-8">'
    html = html.replace(charset, charset + "\n" + style_links(look.before_page_css), 1)
    # after Leaflet's style sheets, so that the page's rules win; the app's modules are
    # bundled in one file (app.services.app_bundle), or else preloaded together rather than
    # discovered import after import
    bundle = bundle_url() if settings.bundle else None
    entry = bundle or f"{STATIC_PREFIX}/js/main.js"
    preload = "".join(f'<link rel="modulepreload" href="{src}">\n' for src in (
        [bundle] if bundle else [f"{STATIC_PREFIX}/js/{name}" for name in app_modules()]))
    # what main.js reads first, requested now rather than queued behind the tiles the map's
    # inline script asks for (six connections per origin); main.js's fetch() takes the answers
    preload += "".join(f'<link rel="preload" href="{path}" as="fetch" crossorigin>\n'
                       for path in FIRST_READS)
    html = html.replace(
        "</head>",
        f'<link rel="stylesheet" href="{STATIC_PREFIX}/css/map.css">\n'
        f'{style_links(look.after_page_css)}{preload}</head>', 1)
    scripts = "".join(f'<script type="module" src="{src}"></script>\n'
                      for src in (entry, *look.scripts))
    html = html.replace("</html>", f"{scripts}</html>", 1)
    return Page(html, content_security_policy(html, settings))


_INLINE = re.compile(r"<(script|style)((?:\s[^>]*)?)>(.*?)</\1>", re.DOTALL | re.IGNORECASE)


def _sha256(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


def content_security_policy(html: str, settings: MapSettings) -> str:
    """Scripts and styles from this origin, plus the hash of each inline block folium wrote:
    nothing else runs, and nothing is fetched from another origin (but the basemap's)."""
    scripts, styles = [], []
    for kind, attributes, text in _INLINE.findall(html):
        if kind.lower() == "style":
            styles.append(_sha256(text))
        elif "src=" not in attributes and "application/json" not in attributes:
            scripts.append(_sha256(text))
    images = "'self' data: blob:"
    if settings.basemap_url:
        match = re.match(r"(https?://[^/{]+)", settings.basemap_url)
        if match:
            images += " " + match.group(1)
    return "; ".join([
        "default-src 'self'",
        "script-src 'self' " + " ".join(sorted(set(scripts))),
        "style-src 'self' " + " ".join(sorted(set(styles))),
        f"img-src {images}",
        "connect-src 'self'",
        "font-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ])
