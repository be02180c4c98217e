// The national coverage map (below the communes' zoom): one generalised outline per CPTS in its
// colour, the communes several CPTS claim hatched on top, and the regions underneath in the red
// of the zones blanches, which shows wherever no displayed CPTS lies. It looks like the commune
// layer at these zooms (fills without borders) for a few hundred shapes instead of 35,000.

import { coverageStyle } from "./coverage.js";
import { cptsColor, mixWithWhite, WHITE_ZONE } from "./colors.js";

// The commune layer's fill opacities (coverage.js), flattened over white: shapes drawn opaque
// hide what lies underneath (the red ground), which translucent ones would let through.
const SINGLE_OPACITY = 0.6;
const WHITE_OPACITY = 0.85;
const HIDDEN = { fill: false, stroke: false };

export class OverviewLayer {
  constructor(map, { renderer } = {}) {
    this.map = map;
    this.renderer = renderer;
    this.group = L.layerGroup();
    this.shapes = [];      // { layer, kind, ids }
    this.shown = null;
    this.statusOf = new Map();
  }

  /** Build the shapes from `GET /api/map/overview` (replaces the previous ones). */
  load(data) {
    // built off the map, then added at once: one projection and one redraw, not one per shape
    const attached = this.map.hasLayer(this.group);
    if (attached) this.map.removeLayer(this.group);
    this.group.clearLayers();
    this.shapes = [];
    this.statusOf = new Map(data.cpts.map((cpts) => [cpts.id, cpts.status]));
    const options = { renderer: this.renderer, interactive: false, smoothFactor: 0.5 };
    const add = (geometry, kind, ids) => {
      const layer = L.geoJSON(geometry, { ...options, style: () => HIDDEN });
      this.shapes.push({ layer, kind, ids });
      this.group.addLayer(layer);
    };
    const ground = mixWithWhite(WHITE_ZONE, WHITE_OPACITY);
    for (const geometry of data.land) {
      const layer = L.geoJSON(geometry, { ...options, style: () => ({
        fill: true, fillColor: ground, fillOpacity: 1, stroke: true, color: ground, weight: 0.6, opacity: 1 }) });
      this.group.addLayer(layer);
    }
    for (const cpts of data.cpts) {
      const geometry = data.outlines[String(cpts.id)];
      if (geometry && !cpts.archived) add(geometry, "cpts", [cpts.id]);
    }
    for (const overlap of data.overlaps) {
      add(overlap.geometry, "underlay", overlap.cpts);
      add(overlap.geometry, "hatch", overlap.cpts);
    }
    this.restyle();
    if (attached) this.group.addTo(this.map);
  }

  /** Show only the CPTS whose stage is in `statuses` (a Set), as the legend's filters say. */
  setShown(statuses) {
    this.shown = statuses;
    this.restyle();
  }

  restyle() {
    for (const shape of this.shapes) shape.layer.setStyle(this.styleOf(shape));
  }

  styleOf({ kind, ids }) {
    const visible = ids.filter((id) => !this.shown || this.shown.has(this.statusOf.get(id)));
    if (kind === "cpts") {
      if (!visible.length) return HIDDEN;
      const color = mixWithWhite(cptsColor(ids[0]), SINGLE_OPACITY);
      // a border in its own colour closes the hairline seams between neighbours
      return { fill: true, fillColor: color, fillOpacity: 1, stroke: true, color, weight: 0.8, opacity: 1 };
    }
    if (visible.length < 2) return HIDDEN;
    if (kind === "underlay") return { fill: true, fillColor: "#ffffff", fillOpacity: 1, stroke: false };
    const { fillColor, fillOpacity } = coverageStyle(visible);
    return { fill: true, fillColor, fillOpacity, stroke: false };
  }

  show() { if (!this.map.hasLayer(this.group)) this.group.addTo(this.map); }
  hide() { if (this.map.hasLayer(this.group)) this.map.removeLayer(this.group); }

  /** Resolves once the shapes are painted (the canvas redraws on the next animation frame). */
  painted() {
    return new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(() => resolve())));
  }
}
