// The names written on the map, served by the app (no external basemap): région names at
// low zoom, département names in between, commune names from zoom 10, and each visible CPTS
// named on its outline. Drawn on one canvas above the shapes, most important first, a name
// left out where it would overlap one already written.

/** Which kinds of names are written at a zoom level. */
export function labelKinds(zoom, { showCpts = true } = {}) {
  const kinds = [];
  if (showCpts && zoom >= 7 && zoom < 13) kinds.push("cpts");
  if (zoom < 7) kinds.push("region");
  else if (zoom < 10) kinds.push("departement");
  if (zoom >= 10) kinds.push("commune");
  return kinds;
}

/** Boxes [x0, y0, x1, y1] overlap (with a margin). */
export function overlaps(a, b, margin = 2) {
  return a[0] - margin < b[2] && b[0] - margin < a[2] && a[1] - margin < b[3] && b[1] - margin < a[3];
}

/**
 * Keep the labels that fit, in the given order (most important first): each is
 * { text, x, y, width, height }; returns the kept ones with their box.
 */
export function placeLabels(labels, size) {
  const kept = [];
  for (const label of labels) {
    const box = [label.x - label.width / 2, label.y - label.height / 2,
      label.x + label.width / 2, label.y + label.height / 2];
    if (box[2] < 0 || box[3] < 0 || box[0] > size.x || box[1] > size.y) continue;
    if (kept.some((other) => overlaps(box, other.box))) continue;
    kept.push({ ...label, box });
  }
  return kept;
}

const FONTS = {
  cpts: "600 13px system-ui, sans-serif",
  region: "700 15px system-ui, sans-serif",
  departement: "600 13px system-ui, sans-serif",
  commune: "12px system-ui, sans-serif",
};
const INK = { cpts: "#1a1a6e", region: "#111", departement: "#222", commune: "#1b1b1b" };

export class LabelsLayer {
  constructor(map, api, { pane = "labels" } = {}) {
    this.map = map;
    this.api = api;
    this.pane = pane;
    this.areas = { region: [], departement: [] };
    this.cpts = [];
    this.communes = [];
    this.communesKey = null;
    this.showCpts = true;
    this.visibleCpts = null;  // ids shown by the filters (null: all)
    this.timer = null;
    this.serial = 0;
    const Layer = L.Layer.extend({ onAdd: () => this.onAdd(), onRemove: () => this.onRemove() });
    this.layer = new Layer();
  }

  /** Régions, départements and CPTS from `GET /api/map/orientation`. */
  load(data) {
    this.areas = { region: data.regions, departement: data.departements };
    this.cpts = data.cpts;
    this.redraw();
  }

  setCpts(visibleIds, show = true) {
    this.visibleCpts = visibleIds;
    this.showCpts = show;
    this.redraw();
  }

  onAdd() {
    this.canvas = L.DomUtil.create("canvas", "leaflet-zoom-hide cpts-labels");
    this.canvas.style.pointerEvents = "none";
    this.canvas.setAttribute("aria-hidden", "true");
    this.map.getPane(this.pane).appendChild(this.canvas);
    this.events = { moveend: () => { this.redraw(); this.fetchCommunes(); }, resize: () => this.redraw() };
    this.map.on(this.events);
    this.redraw();
    this.fetchCommunes();
  }

  onRemove() {
    this.map.off(this.events);
    this.canvas.remove();
    this.canvas = null;
  }

  /** Commune names of the view (zoom ≥ 10), asked once the map stops moving. */
  fetchCommunes() {
    clearTimeout(this.timer);
    if (this.map.getZoom() < 10) return;
    this.timer = setTimeout(async () => {
      const bounds = this.map.getBounds().pad(0.2);
      const round = (value) => Math.round(value * 50) / 50;
      const bbox = [round(bounds.getWest()), round(bounds.getSouth()), round(bounds.getEast()), round(bounds.getNorth())].join(",");
      if (bbox === this.communesKey) return;
      const serial = ++this.serial;
      let found;
      try { found = await this.api.labels(bbox); } catch { return; }
      if (serial !== this.serial) return;
      this.communesKey = bbox;
      this.communes = found.communes;
      this.redraw();
    }, 120);
  }

  candidates(zoom) {
    const list = [];
    for (const kind of labelKinds(zoom, { showCpts: this.showCpts })) {
      if (kind === "cpts") {
        for (const c of this.cpts) {
          if (!this.visibleCpts || this.visibleCpts.has(c.id)) list.push({ kind, text: c.name, lat: c.lat, lon: c.lon });
        }
      } else if (kind === "commune") {
        for (const c of this.communes) list.push({ kind, text: c.nom, lat: c.lat, lon: c.lon });
      } else {
        for (const a of this.areas[kind]) list.push({ kind, text: a.nom, lat: a.lat, lon: a.lon });
      }
    }
    return list;
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
    const measured = this.candidates(map.getZoom()).map((label) => {
      context.font = FONTS[label.kind];
      const point = map.latLngToContainerPoint([label.lat, label.lon]);
      return { ...label, x: point.x, y: point.y, width: context.measureText(label.text).width, height: 15 };
    });
    this.placed = placeLabels(measured, size);
    context.textAlign = "center";
    context.textBaseline = "middle";
    context.lineJoin = "round";
    for (const label of this.placed) {
      context.font = FONTS[label.kind];
      context.strokeStyle = "rgba(255,255,255,0.92)";
      context.lineWidth = 3.5;
      context.strokeText(label.text, label.x, label.y);
      context.fillStyle = INK[label.kind];
      context.fillText(label.text, label.x, label.y);
    }
  }

  /** The names written now (for the tests and the benchmarks). */
  written() {
    return (this.placed || []).map((label) => ({ kind: label.kind, text: label.text }));
  }
}
