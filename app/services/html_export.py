"""The perimeter as a standalone HTML map (`GET /api/cpts/{id}/export?format=html`), built
with folium: Leaflet's script and style sheet are inlined, the outline and the communes are
embedded as GeoJSON, so the file opens from disk with no network, to attach to a health
project or a contract annex. Whoever may export the CPTS may download it."""

from datetime import date
from html import escape
from typing import Any

import folium
from branca.element import Element, Figure, MacroElement
from jinja2 import Template

from app.domain.cpts_access import status_label
from app.domain.cpts_colours import PALETTE
from app.repo import map_data as repo
from app.services import cpts as cpts_service
from app.services import exports, indicator_exports
from app.services.cpts import Context
from app.services.exports import ExportFile
from app.services.map_assets import inline_css, inline_js

MEDIA_TYPE = "text/html; charset=utf-8"
# the perimeter in the map's edit colours (app/domain/cpts_palette.json)
OUTLINE_STYLE = {"color": PALETTE.edit_outline, "weight": 3, "fill": False}
COMMUNE_STYLE = {"color": "#555555", "weight": 0.8, "fillColor": PALETTE.edit_fill,
                 "fillOpacity": 0.45}


class StandaloneMap(folium.Map):
    """A folium map that links no asset: the page inlines Leaflet itself."""

    default_js: list[tuple[str, str]] = []  # noqa: RUF012 (folium's plain class attribute)
    default_css: list[tuple[str, str]] = []  # noqa: RUF012


class MetricScale(MacroElement):
    """A scale in metres and kilometres only (folium's `control_scale` adds miles and feet)."""

    def __init__(self) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self._name = "MetricScale"

    _template = Template("""
        {% macro script(this, kwargs) %}
        L.control.scale({imperial: false}).addTo({{ this._parent.get_name() }});
        {% endmacro %}
    """)


def _people(value: int) -> str:
    return f"{value:,}".replace(",", "\u202f")


def _summary_html(view: dict[str, Any]) -> str:
    status = status_label(view["status"])
    warnings = "".join(f"<li>{escape(w['detail'])}</li>" for w in view["warnings"])
    return f"""
<div class="cpts-summary">
  <h1>{escape(view["name"])}</h1>
  <p>{escape(status)} · version {view["version"]} · carte exportée le
     {date.today().strftime("%d/%m/%Y")}</p>
  <p><strong>{_people(view["population"])} habitants</strong> (population municipale
     {view["population_year"]}) · {view["units"]} communes · taille {view["size_class"]}
     (règle {escape(view["size_rule"])}, {escape(view["size_rule_bound"])})</p>
  {f"<ul>{warnings}</ul>" if warnings else ""}
  {indicator_exports.html_block(view.get("indicators"))}
</div>"""


# The map and the summary side by side (stacked on a narrow screen): the summary never lies
# over the perimeter.
_PAGE_STYLE = """
html, body { margin: 0; height: 100%; font-family: system-ui, Arial, sans-serif; }
.folium-map { position: absolute !important; left: 0 !important; top: 0 !important;
  bottom: 0; right: 380px; width: auto !important; height: auto !important; }
.cpts-summary { position: absolute; top: 0; right: 0; bottom: 0; width: 380px;
  box-sizing: border-box; overflow-y: auto; background: #fff; padding: 10px 14px;
  border-left: 1px solid #ccc; font-size: 14px; }
@media (max-width: 700px) {
  .folium-map { right: 0; bottom: 45%; }
  .cpts-summary { top: 55%; width: 100%; border-left: 0; border-top: 1px solid #ccc; }
}
.cpts-summary h1 { font-size: 17px; margin: 0 0 4px; }
.cpts-summary p { margin: 4px 0; }
.cpts-summary ul { margin: 4px 0; padding-left: 18px; font-size: 13px; }
"""


def render_html(view: dict[str, Any], shapes: dict[str, Any]) -> str:
    """The standalone page of one CPTS view (as `app.services.cpts.read` gives it)."""
    fmap = StandaloneMap(location=(46.6, 2.45), zoom_start=9, tiles=None, control_scale=False)
    figure = fmap.get_root()
    assert isinstance(figure, Figure)
    figure.header.add_child(Element('<meta charset="utf-8">'), name="charset", index=0)
    figure.header.add_child(Element(f"<title>{escape(view['name'])} — périmètre</title>"),
                            name="title")
    figure.header.add_child(Element(f"<style>{inline_css('leaflet_css')}</style>"),
                            name="leaflet_css")
    figure.header.add_child(Element(f"<script>{inline_js('leaflet')}</script>"),
                            name="leaflet")
    figure.header.add_child(Element(f"<style>{_PAGE_STYLE}</style>"), name="page_style")
    features = [{"type": "Feature", "id": row["code"], "geometry": row["geometry"],
                 "properties": {"code": row["code"], "nom": row["nom"],
                                "population": row["population"]}}
                for row in shapes["communes"]]
    if features:
        folium.GeoJson(
            {"type": "FeatureCollection", "features": features}, name="Communes",
            style_function=lambda _feature: COMMUNE_STYLE,
            tooltip=folium.GeoJsonTooltip(fields=["nom", "code", "population"],
                                          aliases=["Commune", "Code INSEE", "Population"]),
        ).add_to(fmap)
    if shapes["outline"]:
        outline = folium.GeoJson(
            {"type": "Feature", "geometry": shapes["outline"], "properties": {}},
            name="Contour", style_function=lambda _feature: OUTLINE_STYLE)
        outline.add_to(fmap)
    bounds = _bounds(features)
    if bounds:
        fmap.fit_bounds(bounds)
    figure.html.add_child(Element(_summary_html(view)), name="summary")
    MetricScale().add_to(fmap)
    html = figure.render()
    return html.replace("<html>", '<html lang="fr">', 1)


def _bounds(features: list[dict[str, Any]]) -> list[list[float]] | None:
    xs: list[float] = []
    ys: list[float] = []

    def walk(coordinates: Any) -> None:
        if coordinates and isinstance(coordinates[0], (int, float)):
            xs.append(float(coordinates[0]))
            ys.append(float(coordinates[1]))
        else:
            for part in coordinates:
                walk(part)

    for feature in features:
        if feature["geometry"]:
            walk(feature["geometry"]["coordinates"])
    if not xs:
        return None
    return [[min(ys), min(xs)], [max(ys), max(xs)]]


def export_html(ctx: Context, cpts_id: int) -> ExportFile:
    exports._readable(ctx, cpts_id)
    view = cpts_service.read(ctx, cpts_id)
    view["indicators"] = indicator_exports.for_cpts(ctx, cpts_id)
    shapes = repo.export_shapes(ctx.conn, cpts_id, list(view["communes"]))
    content = render_html(view, shapes).encode("utf-8")
    return ExportFile(content, MEDIA_TYPE, exports.file_name(cpts_id, view["name"], "html"))
