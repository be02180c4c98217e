"""The coverage of a territory as one GeoPackage for desktop GIS (`GET /api/coverage?…&format=
gpkg`): layers `cpts`, `cpts_communes`, `communes`, `zones_blanches` and `chevauchements`, with
French field names, in Lambert-93 for metropolitan France and in the legal CRS of each DROM
(a territory reaching a DROM gets that DROM's features in layers suffixed `_971`, `_972`…), and
a QGIS style per layer in the `layer_styles` table, so that QGIS opens it coloured.

Everything comes from the coverage report (`app.services.coverage.compute`): the perimeters as
they stood on the day, at the counted stages. A CPTS is drawn, with its units, only when the
user may read it entirely (`app.services.ogc.known_visibility`: `visibility_of` on the CPTS
drawn); a unit held by CPTS the user may not see names those it may see
(`split_claims`) and counts the others; zones blanches and overlaps name CPTS through the
coverage's own namer (the report's view).
"""

import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar
from xml.sax.saxutils import quoteattr

import numpy as np
import numpy.typing as npt
import shapely

from app.domain.coverage import scope_mask
from app.domain.cpts_access import STATUS_LABELS, STATUSES, Visibility, split_claims
from app.domain.cpts_colours import PALETTE, rgb
from app.domain.dissolve import dissolve
from app.domain.perimeter import Claim
from app.domain.size_rules import size_class_for
from app.ogc.protocol import transformer_for
from app.repo import ogc as ogc_repo
from app.services import coverage as coverage_service
from app.services.coverage import CoverageReport
from app.services.coverage_exports import file_name
from app.services.cpts import Context
from app.services.exports import MEDIA_TYPES, ExportFile
from app.services.ogc import known_visibility

# Lambert-93 for metropolitan France (Corsica included); each DROM in its legal projection.
METRO_CRS = 2154
DROM_CRS = {"971": 5490, "972": 5490, "973": 2972, "974": 2975, "976": 4471}
LAYERS = ("cpts", "cpts_communes", "communes", "zones_blanches", "chevauchements")
DECIMALS = 2  # centimetres


def zone_of(departement: str) -> str:
    return departement if departement in DROM_CRS else "metro"


def crs_of(zone: str) -> int:
    return DROM_CRS.get(zone, METRO_CRS)


def layer_name(layer: str, zone: str) -> str:
    return layer if zone == "metro" else f"{layer}_{zone}"


Row = dict[str, Any]
Layers = dict[str, dict[str, tuple[list[Row], list[Any]]]]  # layer -> zone -> rows, shapes


def _add(layers: Layers, layer: str, zone: str, row: Row, shape: Any) -> None:
    rows, shapes = layers.setdefault(layer, {}).setdefault(zone, ([], []))
    rows.append(row)
    shapes.append(shape)


def _label(entry: dict[str, Any]) -> str:
    stage = STATUS_LABELS.get(entry["status"], entry["status"])
    return f"{entry['name']} (n° {entry['id']})" if entry["named"] else f"non visible ({stage})"


def build_layers(ctx: Context, report: CoverageReport) -> Layers:
    """Rows and shapes (projected to their zone's CRS) of every layer, by CRS zone."""
    index = coverage_service.unit_index(ctx.graph)
    mask = scope_mask(index, report.query.scope)
    codes = [index.codes[i] for i in np.flatnonzero(mask)]
    graph, view = ctx.graph, report.view
    year = graph.population_year
    statuses = set(report.coverage.statuses)
    counted = {i: p for i, p in report.perimeters.items() if p.status in statuses}
    in_scope = set(codes)
    holders: dict[str, list[Claim]] = {}
    for perimeter in counted.values():
        for code in perimeter.codes(index):
            if code in in_scope:
                holders.setdefault(code, []).append(Claim(code, perimeter.cpts_id,
                                                          perimeter.name, perimeter.status,
                                                          False))
    shown = sorted({c.cpts_id for claims in holders.values() for c in claims})
    visibility = known_visibility(ctx, shown)
    readable = [i for i in shown if visibility.get(i) is Visibility.FULL]
    geometries = _projected(ogc_repo.unit_geometries(ctx.conn, codes, "geom"),
                            {c: zone_of(graph.units[c].departement) for c in codes})
    outlines = ogc_repo.outlines_on(ctx.conn, readable, report.query.at)
    outline_zones = {i: zone_of(graph.units[counted[i].codes(index)[0]].departement)
                     for i in readable if len(counted[i].positions)}
    projected_outlines = _projected({i: w for i, w in outlines.items() if w is not None},
                                    outline_zones)
    zone_ids = {c: z["id"] for z in view["white_zones"] for c in z["communes"]}
    overlaps = {o["commune"]: o for o in view["overlaps"]}
    rule = ctx.rule(report.query.at)
    layers: Layers = {}

    for cpts_id in readable:
        perimeter = counted[cpts_id]
        units = perimeter.codes(index)
        zone = zone_of(graph.units[units[0]].departement) if units else "metro"
        _add(layers, "cpts", zone, {
            "cpts_id": cpts_id, "nom": perimeter.name, "stade": perimeter.status,
            "stade_libelle": STATUS_LABELS[perimeter.status],
            "population": perimeter.population, "millesime_population": year,
            "taille": size_class_for(perimeter.population, rule), "regle_taille": rule.id,
            "communes": len(units), "date_perimetres": view["at"]},
            projected_outlines.get(cpts_id))
        for code in units:
            unit = graph.units[code]
            _add(layers, "cpts_communes", zone_of(unit.departement), {
                "cpts_id": cpts_id, "cpts_nom": perimeter.name, "stade": perimeter.status,
                "code": code, "nom": unit.nom, "departement": unit.departement,
                "population": unit.population, "millesime_population": year},
                geometries.get(code))

    for code in codes:
        unit = graph.units[code]
        named, hidden = split_claims(holders.get(code, []), visibility)
        overlap = overlaps.get(code)
        _add(layers, "communes", zone_of(unit.departement), {
            "code": code, "nom": unit.nom, "departement": unit.departement,
            "region": unit.region, "epci": unit.epci, "bassin_de_vie": unit.bassin_de_vie,
            "population": unit.population, "millesime_population": year,
            "couverte": "oui" if code in holders else "non",
            "nb_cpts": len(holders.get(code, [])),
            "cpts": " ; ".join(sorted(c.name for c in named)) or None,
            "cpts_non_nommees": hidden.cpts,
            "zone_blanche": zone_ids.get(code),
            "chevauchement": None if overlap is None else overlap["severity"]},
            geometries.get(code))

    for zone in view["white_zones"]:
        pieces = [geometries[c] for c in zone["communes"] if c in geometries]
        _add(layers, "zones_blanches", zone_of(zone["departements"][0]), {
            "zone_id": zone["id"], "communes": len(zone["communes"]),
            "codes": " ".join(zone["communes"]), "population": zone["population"],
            "millesime_population": year, "superficie_km2": zone["area_km2"],
            "departements": " ".join(zone["departements"]),
            "enclave": "oui" if zone["enclave"] else "non",
            "deborde_du_perimetre": "oui" if zone["extends_outside_scope"] else "non",
            "nb_cpts_voisines": len(zone["adjacent_cpts"]),
            "cpts_voisines": " ; ".join(_label(a) for a in zone["adjacent_cpts"]) or None},
            dissolve(pieces) if pieces else None)

    for overlap in view["overlaps"]:
        _add(layers, "chevauchements", zone_of(overlap["departement"]), {
            "code": overlap["commune"], "nom": overlap["nom"],
            "departement": overlap["departement"], "population": overlap["population"],
            "millesime_population": year, "gravite": overlap["severity"],
            "nb_cpts": len(overlap["cpts"]),
            "cpts": " ; ".join(_label(c) for c in overlap["cpts"]),
            "cpts_non_nommees": sum(1 for c in overlap["cpts"] if not c["named"])},
            geometries.get(overlap["commune"]))
    return layers


K = TypeVar("K")


def _projected(stored: dict[K, bytes], zones: dict[K, str]) -> dict[K, Any]:
    """WKB geometries in WGS84, each projected to the CRS of its zone (centimetres)."""
    found: dict[K, Any] = {}
    for zone in sorted(set(zones.values())):
        keys = [k for k in stored if zones.get(k) == zone]
        if keys:
            shapes = _project(shapely.from_wkb([stored[k] for k in keys]), crs_of(zone))
            found |= dict(zip(keys, shapes, strict=True))
    return found


# --- Writing the file ------------------------------------------------------------------------

EMPTY_COLUMNS: dict[str, tuple[str, ...]] = {
    "cpts": ("cpts_id", "nom", "stade", "population"),
    "cpts_communes": ("cpts_id", "cpts_nom", "code", "nom"),
    "communes": ("code", "nom", "couverte"),
    "zones_blanches": ("zone_id", "population"),
    "chevauchements": ("code", "nom", "gravite"),
}


def _project(shapes: Sequence[Any] | npt.NDArray[Any], srid: int) -> npt.NDArray[Any]:
    transformer = transformer_for(4326, srid)

    def project(coordinates: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        x, y = transformer.transform(coordinates[:, 0], coordinates[:, 1])
        return np.round(np.column_stack([x, y]), DECIMALS)

    return np.asarray(shapely.transform(np.array(list(shapes), dtype=object), project))


def write_gpkg(layers: Layers, path: Path) -> list[tuple[str, str, int]]:
    """Every layer (an empty metropolitan layer when the territory has none of it), then the
    style table; returns the layers written with their CRS."""
    import geopandas
    import pandas
    import pyogrio

    written: list[tuple[str, str, int]] = []
    for layer in LAYERS:
        zones = layers.get(layer) or {"metro": ([], [])}
        for zone in sorted(zones, key=lambda z: (z != "metro", z)):
            rows, shapes = zones[zone]
            srid = crs_of(zone)
            frame = geopandas.GeoDataFrame(
                rows or pandas.DataFrame(columns=list(EMPTY_COLUMNS[layer])),
                geometry=geopandas.GeoSeries(np.array(shapes, dtype=object),
                                             crs=f"EPSG:{srid}")
                if shapes else geopandas.GeoSeries([], crs=f"EPSG:{srid}"),
                crs=f"EPSG:{srid}")
            name = layer_name(layer, zone)
            pyogrio.write_dataframe(frame, path, layer=name, driver="GPKG",
                                    geometry_type="MultiPolygon", promote_to_multi=True,
                                    use_arrow=True)
            written.append((name, layer, srid))
    styles = pandas.DataFrame([{
        "f_table_catalog": "", "f_table_schema": "", "f_table_name": name,
        "f_geometry_column": "geom", "styleName": STYLE_NAMES[layer],
        "styleQML": qml(layer), "styleSLD": "", "useAsDefault": True,
        "description": "Style de l'application CPTS — territoires", "owner": "",
        "ui": "", "update_time": pandas.Timestamp.now(tz="UTC").isoformat()}
        for name, layer, _ in written])
    pyogrio.write_dataframe(styles, path, layer="layer_styles", driver="GPKG",
                            layer_options={"FID": "id"})
    return written


def to_gpkg(ctx: Context, report: CoverageReport) -> ExportFile:
    layers = build_layers(ctx, report)
    with tempfile.TemporaryDirectory(prefix="cpts-couverture-") as directory:
        path = Path(directory) / "couverture.gpkg"
        write_gpkg(layers, path)
        content = path.read_bytes()
    return ExportFile(content, MEDIA_TYPES["gpkg"], file_name(report, "gpkg"))


# --- QGIS styles ---------------------------------------------------------------------------

STYLE_NAMES = {"cpts": "CPTS par stade", "cpts_communes": "Communes des CPTS par stade",
               "communes": "Communes couvertes ou non", "zones_blanches": "Zones blanches",
               "chevauchements": "Chevauchements par gravité"}
# The map's palette (app/domain/cpts_palette.json): a palette colour per stage, at the map's
# opacity, and the zones blanches as dark dots on a pale ground (a texture, not a red).
STAGE_COLOURS = {stage: rgb(PALETTE.cpts[index])
                 for stage, index in PALETTE.raw["stages"].items()}
CPTS_ALPHA = round(255 * PALETTE.cpts_opacity)


def _fill(colour: str, outline: str, *, alpha: int = 170, style: str = "solid",
          width: str = "0.26", outline_style: str = "solid") -> str:
    options = {"color": f"{colour},{alpha}", "outline_color": f"{outline},255",
               "outline_style": outline_style, "outline_width": width,
               "outline_width_unit": "MM",
               "style": style, "joinstyle": "bevel"}
    props = "".join(f'<Option type="QString" name="{k}" value="{v}"/>'
                    for k, v in options.items())
    legacy = "".join(f'<prop k="{k}" v="{v}"/>' for k, v in options.items())
    return (f'<layer class="SimpleFill" enabled="1" locked="0" pass="0">'
            f'<Option type="Map">{props}</Option>{legacy}</layer>')


def _symbol(name: str, *layers: str) -> str:
    return (f'<symbol type="fill" name="{name}" alpha="1" clip_to_extent="1" force_rhr="0">'
            + "".join(layers) + "</symbol>")


def _categorized(field: str, categories: Sequence[tuple[str, str, str]]) -> str:
    """`categories`: (value, label, symbol layer XML)."""
    cats = "".join(f'<category render="true" symbol="{i}" value={quoteattr(value)} '
                   f'label={quoteattr(label)}/>'
                   for i, (value, label, _) in enumerate(categories))
    symbols = "".join(_symbol(str(i), layer) for i, (_, _, layer) in enumerate(categories))
    return (f'<renderer-v2 type="categorizedSymbol" attr="{field}" symbollevels="0" '
            f'enableorderby="0" forceraster="0"><categories>{cats}</categories>'
            f'<symbols>{symbols}</symbols></renderer-v2>')


def _single(layer: str) -> str:
    return ('<renderer-v2 type="singleSymbol" symbollevels="0" enableorderby="0" '
            f'forceraster="0"><symbols>{_symbol("0", layer)}</symbols></renderer-v2>')


def _zone_blanche(outline: str, width: str) -> str:
    """The ground, then the dots (Qt's sparse dot brush) in the ink colour."""
    return (_fill(rgb(PALETTE.zone_blanche_ground), outline, alpha=255, width=width)
            + _fill(rgb(PALETTE.zone_blanche_ink), outline, alpha=255, style="dense6",
                    outline_style="no"))


def _stages(alpha: int, outline: str, width: str) -> list[tuple[str, str, str]]:
    return [(s, STATUS_LABELS[s], _fill(STAGE_COLOURS[s], outline, alpha=alpha, width=width))
            for s in STATUSES]


RENDERERS: dict[str, Callable[[], str]] = {
    "cpts": lambda: _categorized("stade", _stages(CPTS_ALPHA, "40,40,40", "0.6")),
    "cpts_communes": lambda: _categorized("stade", _stages(CPTS_ALPHA, "120,120,120", "0.1")),
    "communes": lambda: _categorized("couverte", [
        ("oui", "couverte", _fill(rgb(PALETTE.cpts[3]), "150,150,150", alpha=120,
                                  width="0.1")),
        ("non", "non couverte (zone blanche)", _zone_blanche("150,150,150", "0.1"))]),
    "zones_blanches": lambda: _single(_zone_blanche("122,20,20", "0.5")),
    "chevauchements": lambda: _categorized("gravite", [
        ("information", "information", _fill("255,255,51", "150,150,0",
                                             style="b_diagonal", alpha=255)),
        ("warning", "avertissement", _fill("255,127,0", "160,80,0", style="b_diagonal",
                                           alpha=255)),
        ("conflict", "conflit", _fill("152,78,163", "90,30,100", style="b_diagonal",
                                      alpha=255))]),
}


def qml(layer: str) -> str:
    """A QGIS style document (QML) for one layer."""
    return ("<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>"
            '<qgis version="3.28.0" styleCategories="Symbology">'
            + RENDERERS[layer]() + "<blendMode>0</blendMode>"
            "<featureBlendMode>0</featureBlendMode><layerOpacity>1</layerOpacity></qgis>")
