// The communes vector-tile layer (Leaflet.VectorGrid, declared by folium): one style function
// decided by the current view, restyling of single communes or of every drawn feature, clicks.

export class CommunesLayer {
  constructor(map, layer) {
    this.map = map;
    this.layer = layer;
    this.resolve = () => ({ fill: false, weight: 0.3, color: "#888" });
    this.highlighted = new Set();
    layer.options.vectorTileLayerStyles.communes = (properties) => this.styleOf(properties.code);
  }

  styleOf(code) {
    const style = this.resolve(code);
    if (this.highlighted.has(code)) return { ...style, weight: 3, color: "#111", opacity: 1 };
    return style;
  }

  /** Use another style function (code → Leaflet path options) and redraw what is shown. */
  setStyle(resolve) {
    this.resolve = resolve;
    this.restyleAll();
  }

  /** Redraw some communes in every loaded tile (a click, an undo). */
  restyle(codes) {
    for (const code of codes) this.layer.resetFeatureStyle(code);
  }

  /** Redraw every commune of the loaded tiles with the current style (a filter changed). */
  restyleAll() {
    const tiles = this.layer._vectorTiles || {};
    const style = (properties) => this.styleOf(properties.code);
    for (const key of Object.keys(tiles)) {
      const tile = tiles[key];
      for (const id of Object.keys(tile._features || {})) {
        this.layer._updateStyles(tile._features[id].feature, tile, style);
      }
    }
  }

  highlight(codes) {
    const previous = [...this.highlighted];
    this.highlighted = new Set(codes);
    this.restyle([...previous, ...codes]);
  }

  onClick(handler) {
    this.layer.on("click", (event) => {
      const properties = event.layer?.properties || {};
      if (properties.code) handler(properties.code, properties, event);
    });
  }

  /** Resolves when every tile of the view is drawn. */
  loaded() {
    return new Promise((resolve) => {
      if (this.layer._map && this.layer.isLoading && !this.layer.isLoading()) {
        resolve();
        return;
      }
      this.layer.once("load", () => resolve());
    });
  }

  show() {
    if (!this.map.hasLayer(this.layer)) this.layer.addTo(this.map);
  }
}
