// The national coverage map (below the communes' zoom): one generalised outline per CPTS in its
// colour, the communes several CPTS claim hatched on top, and the regions underneath in the dots
// of the zones blanches, which show wherever no displayed CPTS lies. It looks like the commune
// layer at these zooms (fills without borders) for a thousand shapes instead of 35,000.
//
// The shapes are drawn by hand on one canvas: coordinates are kept as Web Mercator fractions in
// typed arrays (no Leaflet object per point), so building and redrawing France takes a few
// milliseconds where L.geoJSON took hundreds.
//
// The pointer over a CPTS or an overlap names the CPTS (`claimantsText`, the same words as
// over a commune at higher zooms): names come from the overview the server sent this user, so
// a CPTS they may not see is never named. Where CPTS outside the overview claim a commune too
// (`other_claims`: outlines the user may see, and drafts or scenarios it may not), the pointer
// adds their names or the commune card's sentence counting them (`claimsText`; the server words
// it, `HiddenClaims.notice`); they are not hatched, as the commune layer and the card do not
// call them an overlap either. With an indicator chosen (`setChoropleth`), each CPTS
// is painted in the colour of its class (GET /api/indicators/map?level=cpts) instead.

import { coverageStyle } from "./coverage.js";
import { cptsColor, cptsOpacity, mixWithWhite, zoneBlanchePattern } from "./colors.js";
import { choroplethColour, mapValueText, NO_DATA_COLOUR } from "./indicators.js";

// The commune layer's fill opacity (coverage.js), flattened over white: shapes drawn opaque
// hide what lies underneath (the dotted ground), which translucent ones would let through.
export const MUTED_GROUND = "#e3e3e3";
// The indicator map: the ground where no CPTS lies, and the borders between CPTS.
export const CHOROPLETH_GROUND = "#ffffff";
const CHOROPLETH_BORDER = "#4d4d4d";

/** What the pointer over one or several CPTS reads: « A », or « A · B — chevauchement ». */
export function claimantsText(names) {
  if (!names.length) return "";
  return names.length > 1 ? `${names.join(" · ")} — chevauchement` : names[0];
}

/**
 * What the pointer reads over a commune: the claimants' names (`claimantsText`), the value of
 * the one CPTS on the indicator map, then the sentence that counts the claimants this user may
 * not see, as the commune card words it (« A — 1 projet non publié ou hors de vos régions
 * recouvre cette commune. »); "" without a name.
 */
export function claimsText(names, hiddenText = null, value = null) {
  if (!names.length) return "";
  return [claimantsText(names), value, hiddenText].filter(Boolean).join(" — ");
}

/** A point as Web Mercator fractions [x, y] (as `mercatorRings` stores the shapes). */
export function mercatorPoint(lat, lon) {
  return [(lon + 180) / 360, mercatorY(lat)];
}

/** The bounding box [x0, y0, x1, y1] of flat rings. */
export function ringsBox(rings) {
  const box = [Infinity, Infinity, -Infinity, -Infinity];
  for (const ring of rings) {
    for (let i = 0; i < ring.length; i += 2) {
      if (ring[i] < box[0]) box[0] = ring[i];
      if (ring[i] > box[2]) box[2] = ring[i];
      if (ring[i + 1] < box[1]) box[1] = ring[i + 1];
      if (ring[i + 1] > box[3]) box[3] = ring[i + 1];
    }
  }
  return box;
}

/** Whether [x, y] lies inside flat rings, by the even-odd rule the canvas fills with. */
export function insideRings(rings, x, y) {
  let inside = false;
  for (const ring of rings) {
    const n = ring.length / 2;
    for (let i = 0, j = n - 1; i < n; j = i, i += 1) {
      const xi = ring[2 * i], yi = ring[2 * i + 1], xj = ring[2 * j], yj = ring[2 * j + 1];
      if ((yi > y) !== (yj > y) && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
    }
  }
  return inside;
}

function mercatorY(lat) {
  const sin = Math.sin((Math.max(-85.0511, Math.min(85.0511, lat)) * Math.PI) / 180);
  return 0.5 - Math.log((1 + sin) / (1 - sin)) / (4 * Math.PI);
}

/** The rings of a GeoJSON (Multi)Polygon as flat arrays of Web Mercator fractions [x, y, …]. */
export function mercatorRings(geometry) {
  const polygons = geometry.type === "Polygon" ? [geometry.coordinates]
    : geometry.type === "MultiPolygon" ? geometry.coordinates : [];
  const rings = [];
  for (const polygon of polygons) {
    for (const ring of polygon) {
      const flat = new Float64Array(ring.length * 2);
      ring.forEach(([lon, lat], index) => {
        flat[2 * index] = (lon + 180) / 360;
        flat[2 * index + 1] = mercatorY(lat);
      });
      rings.push(flat);
    }
  }
  return rings;
}

export class OverviewLayer {
  constructor(map) {
    this.map = map;
    this.shapes = [];      // { rings, kind, ids, style }
    this.shown = null;
    this.statusOf = new Map();
    this.nameOf = new Map();
    this.choropleth = null;  // the answer of GET /api/indicators/map?level=cpts, when one is shown
    const Layer = L.Layer.extend({
      onAdd: () => this.onAdd(),
      onRemove: () => this.onRemove(),
    });
    this.group = new Layer();
  }

  /** Build the shapes from `GET /api/map/overview` (replaces the previous ones). */
  load(data) {
    this.statusOf = new Map(data.cpts.map((cpts) => [cpts.id, cpts.status]));
    this.nameOf = new Map(data.cpts.map((cpts) => [cpts.id, cpts.name]));
    const shapes = data.land.map((geometry) => ({ rings: mercatorRings(geometry), kind: "land", ids: [] }));
    for (const cpts of data.cpts) {
      const geometry = data.outlines[String(cpts.id)];
      if (geometry && !cpts.archived) shapes.push({ rings: mercatorRings(geometry), kind: "cpts", ids: [cpts.id] });
    }
    for (const overlap of data.overlaps) {
      const rings = mercatorRings(overlap.geometry);
      shapes.push({ rings, kind: "underlay", ids: overlap.cpts }, { rings, kind: "hatch", ids: overlap.cpts });
    }
    // per commune, what the pointer adds to its claimants at every zoom (see `claimsOf`)
    this.otherClaims = new Map((data.other_claims || []).map((other) => [other.code, other]));
    for (const other of data.other_claims || []) {  // never drawn: read by the pointer only
      shapes.push({ rings: mercatorRings(other.geometry), kind: "others", ids: other.cpts,
                    names: other.names, hiddenText: other.hidden_text });
    }
    shapes.forEach((shape, index) => {
      if (shape.kind === "land") shape.index = index;
      else shape.box = ringsBox(shape.rings);
    });
    this.shapes = shapes;
    this.restyle();
  }

  /**
   * The regions of the ground outside the user's territory (one flag per region, in the
   * ground's order) are drawn muted: their communes are nobody's zone blanche to this user.
   */
  setMuted(flags) {
    this.muted = flags;
    this.restyle();
  }

  /** Show only the CPTS whose stage is in `statuses` (a Set), as the legend's filters say. */
  setShown(statuses) {
    this.shown = statuses;
    this.restyle();
  }

  /** Paint each CPTS in its class colour (an answer of level « cpts »), or back to coverage (null). */
  setChoropleth(answer) {
    this.choropleth = answer || null;
    this.restyle();
  }

  /** The ids of the CPTS shown (by the legend's filters). */
  visibleIds(ids) {
    return ids.filter((id) => !this.shown || this.shown.has(this.statusOf.get(id)));
  }

  /**
   * The CPTS under a point, as drawn: the claimants of an overlap there, else the CPTS whose
   * outline is on top; [] over the ground. Only CPTS of the overview (what this user may see).
   */
  idsAt(latlng) {
    const [x, y] = mercatorPoint(latlng.lat, latlng.lng);
    let found = [];
    for (const shape of this.shapes) {
      if (shape.kind === "land" || shape.kind === "underlay" || shape.kind === "others") continue;
      if (shape.kind === "cpts" && !shape.style) continue;  // filtered out
      const box = shape.box;
      if (x < box[0] || x > box[2] || y < box[1] || y > box[3]) continue;
      if (!insideRings(shape.rings, x, y)) continue;
      if (shape.kind === "hatch") {
        // (named on the indicator map too, where the classes are painted over it)
        const claimants = this.visibleIds(shape.ids);
        if (claimants.length > 1) return claimants;
      } else found = shape.ids;  // drawn later, on top
    }
    return this.visibleIds(found);
  }

  /** The names under a point (see `idsAt`). */
  namesAt(latlng) {
    return this.idsAt(latlng).map((id) => this.nameOf.get(id)).filter(Boolean);
  }

  /** The claims of CPTS outside the overview on the commune under a point, when one of its
   * listed claimants is shown: { ids, names, hiddenText }; else null. */
  othersAt(latlng) {
    const [x, y] = mercatorPoint(latlng.lat, latlng.lng);
    for (const shape of this.shapes) {
      if (shape.kind !== "others") continue;
      const box = shape.box;
      if (x < box[0] || x > box[2] || y < box[1] || y > box[3]) continue;
      if (insideRings(shape.rings, x, y) && this.visibleIds(shape.ids).length) return shape;
    }
    return null;
  }

  /** What the pointer reads at a point (`claimsText`): the names, on the indicator map the
   * value of the CPTS (« H3VE — 3 900 lits »), the count of claimants the user may not see;
   * "" over the ground. */
  hoverText(latlng) {
    const others = this.othersAt(latlng);
    const ids = others ? this.visibleIds(others.ids) : this.idsAt(latlng);
    const names = ids.map((id) => this.nameOf.get(id)).filter(Boolean).concat(others?.names ?? []);
    const value = this.choropleth && ids.length === 1 && names.length === 1
      ? mapValueText(this.choropleth, String(ids[0])) : null;
    return claimsText(names, others?.hiddenText, value);
  }

  /**
   * What the pointer reads over the commune `code` whose visible claimants are `names` (the
   * commune tiles' hover): their names, those of the outlines the user may see claiming it
   * too, and the card's sentence counting the claimants this user may not see.
   */
  claimsOf(code, names) {
    const other = this.otherClaims?.get(code);
    const all = other ? [...names, ...other.names.filter((name) => !names.includes(name))] : names;
    return claimsText(all, other?.hidden_text ?? null);
  }

  restyle() {
    for (const shape of this.shapes) shape.style = this.styleOf(shape);
    this.redraw();
  }

  styleOf({ kind, ids, index }) {
    if (kind === "land") {
      if (this.choropleth) return { fill: CHOROPLETH_GROUND, stroke: "#b0b0b0", weight: 0.6 };
      const ground = this.muted?.[index] ? MUTED_GROUND : zoneBlanchePattern();
      return { fill: ground, stroke: ground, weight: 0.6 };
    }
    const visible = this.visibleIds(ids);
    if (this.choropleth) {
      // each CPTS in its class colour, with a border; no hatching over the classes
      if (kind !== "cpts" || !visible.length) return null;
      const fill = choroplethColour(this.choropleth, String(ids[0])) ?? NO_DATA_COLOUR;
      return { fill, stroke: CHOROPLETH_BORDER, weight: 0.7 };
    }
    if (kind === "cpts") {
      if (!visible.length) return null;
      const color = mixWithWhite(cptsColor(ids[0]), cptsOpacity());
      // a border in its own colour closes the hairline seams between neighbours
      return { fill: color, stroke: color, weight: 0.8 };
    }
    if (kind === "others" || visible.length < 2) return null;
    if (kind === "underlay") return { fill: "#ffffff" };
    const { fillColor, fillOpacity } = coverageStyle(visible);
    return { fill: fillColor, opacity: fillOpacity };
  }

  // --- the canvas ----------------------------------------------------------------------------

  onAdd() {
    this.canvas = L.DomUtil.create("canvas", "leaflet-zoom-hide cpts-overview");
    this.canvas.style.pointerEvents = "none";
    this.map.getPanes().overlayPane.appendChild(this.canvas);
    this.events = { moveend: () => this.redraw(), zoomend: () => this.redraw(), resize: () => this.redraw() };
    this.map.on(this.events);
    this.redraw();
  }

  onRemove() {
    this.map.off(this.events);
    this.canvas.remove();
    this.canvas = null;
  }

  redraw() {
    const canvas = this.canvas;
    if (!canvas) return;
    const map = this.map;
    const size = map.getSize();
    const ratio = window.devicePixelRatio || 1;
    const topLeft = map.containerPointToLayerPoint([0, 0]);
    L.DomUtil.setPosition(canvas, topLeft);
    canvas.width = Math.round(size.x * ratio);
    canvas.height = Math.round(size.y * ratio);
    canvas.style.width = `${size.x}px`;
    canvas.style.height = `${size.y}px`;
    const context = canvas.getContext("2d");
    context.setTransform(ratio, 0, 0, ratio, 0, 0);
    context.clearRect(0, 0, size.x, size.y);
    // a point's pixel in the canvas: fraction × world size − (pixel origin + top left)
    const scale = map.options.crs.scale(map.getZoom());
    const origin = map.getPixelOrigin().add(topLeft);
    context.lineJoin = "round";
    for (const shape of this.shapes) {
      const style = shape.style;
      if (!style) continue;
      context.beginPath();
      for (const ring of shape.rings) {
        context.moveTo(ring[0] * scale - origin.x, ring[1] * scale - origin.y);
        for (let i = 2; i < ring.length; i += 2) {
          context.lineTo(ring[i] * scale - origin.x, ring[i + 1] * scale - origin.y);
        }
        context.closePath();
      }
      context.globalAlpha = style.opacity ?? 1;
      context.fillStyle = style.fill;
      context.fill("evenodd");
      if (style.stroke) {
        context.strokeStyle = style.stroke;
        context.lineWidth = style.weight;
        context.stroke();
      }
    }
    context.globalAlpha = 1;
  }

  show() { if (!this.map.hasLayer(this.group)) this.group.addTo(this.map); }
  hide() { if (this.map.hasLayer(this.group)) this.map.removeLayer(this.group); }

  /** Resolves once the shapes are on screen (drawn synchronously, shown with the next frame:
   * the second animation frame callback runs after it). */
  painted() {
    return new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(() => resolve())));
  }
}
