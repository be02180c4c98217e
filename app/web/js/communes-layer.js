// The communes vector-tile layer (Leaflet.VectorGrid, declared by folium): one style function
// decided by the current view, restyling of single communes or of every drawn feature, clicks.

export class CommunesLayer {
  constructor(map, layer) {
    this.map = map;
    this.layer = layer;
    this.resolve = () => ({ fill: false, weight: 0.3, color: "#888" });
    this.highlighted = new Set();
    this.detailed = true;
    layer.options.vectorTileLayerStyles.communes = (properties, zoom) => this.styleOf(properties.code, zoom);
  }

  /**
   * Let the tiles download now but draw them only once `ready` resolves (the perimeters that
   * colour them), so that the first render is a single pass with the right colours.
   */
  holdDrawingUntil(ready) {
    const fetchTile = this.layer._getVectorTilePromise.bind(this.layer);
    this.layer._getVectorTilePromise = (...args) =>
      Promise.all([fetchTile(...args), ready]).then(([tile]) => tile);
  }

  styleOf(code, zoom = this.map.getZoom()) {
    let style = this.resolve(code);
    // Below zoom 8 a commune is a few pixels wide: borders would only blur the colours.
    if (zoom < 8 && style.stroke !== false) style = { ...style, stroke: false };
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
    const style = (properties, zoom) => this.styleOf(properties.code, zoom);
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
