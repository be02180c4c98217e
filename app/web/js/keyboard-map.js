// Choosing a commune on the map from the keyboard. When the map has the focus, an arrow key
// moves a focus ring from the commune under the map's centre (or the one reached before) to the
// neighbouring commune in that direction (`GET /api/map/neighbours/{code}`: its outline, and the
// neighbours with their points); the map pans to keep it in view and its name is announced
// politely; Enter does what a click on it does (the fiche in the coverage view, in or out of
// the perimeter in the edit mode); Échap hides the ring. Shift + arrows still pan the map
// (Leaflet), + and − zoom. `directionOf` and `neighbourToward` are pure and unit-tested.

const DIRECTIONS = {
  ArrowUp: [0, 1], ArrowDown: [0, -1], ArrowRight: [1, 0], ArrowLeft: [-1, 0],
};
const MAX_ANGLE = (70 * Math.PI) / 180;  // a neighbour further off the direction is not "that way"

/** The unit vector of an arrow key (x east, y north), or null for another key. */
export function directionOf(key) {
  return DIRECTIONS[key] ?? null;
}

/**
 * The neighbour lying the most in `direction` ([x, y], east and north) from `from` ({lat, lon}),
 * or null when none lies within 70° of it. Distances on a local plane (longitudes shrunk by
 * the cosine of the latitude); the angle counts first, the distance breaks near ties.
 */
export function neighbourToward(from, neighbours, direction) {
  const shrink = Math.cos((from.lat * Math.PI) / 180);
  const candidates = neighbours.map((neighbour) => {
    const dx = (neighbour.lon - from.lon) * shrink;
    const dy = neighbour.lat - from.lat;
    const distance = Math.hypot(dx, dy);
    const cosine = distance ? (dx * direction[0] + dy * direction[1]) / distance : -1;
    return { neighbour, distance, angle: Math.acos(Math.max(-1, Math.min(1, cosine))) };
  }).filter((c) => c.distance > 0 && c.angle <= MAX_ANGLE);
  if (!candidates.length) return null;
  const farthest = Math.max(...candidates.map((c) => c.distance));
  const score = (c) => c.angle + 0.35 * (c.distance / farthest);
  return candidates.reduce((best, c) => (score(c) < score(best) ? c : best)).neighbour;
}

const RING_OUTER = { color: "#ffffff", weight: 8, opacity: 1, fill: false, interactive: false };
const RING_INNER = { color: "#161616", weight: 4, opacity: 1, fill: false, interactive: false };
const HINT = "Carte des communes. Flèches : passer d'une commune à sa voisine ; Entrée : "
  + "choisir la commune (fiche, ou ajout et retrait en mode édition) ; Échap : effacer la "
  + "sélection ; Maj + flèches : déplacer la carte ; + et − : zoomer.";

export class KeyboardMap {
  /**
   * @param map the Leaflet map
   * @param api the page's Api (unitAt, neighbours)
   * @param onEnter (code, properties) => …: the same path as a click on the commune
   * @param describe (commune) => the sentence announced when the ring reaches it
   * @param announce (text) => …: the page's polite live region
   */
  constructor({ map, api, onEnter, describe, announce }) {
    this.map = map;
    this.api = api;
    this.onEnter = onEnter;
    this.describe = describe;
    this.announce = announce;
    this.current = null;        // the commune in the ring: {code, nom, lat, lon, geometry, neighbours}
    this.cache = new Map();     // code -> answer of /api/map/neighbours
    this.queue = Promise.resolve();
    const pane = map.createPane("keyboard-focus");
    pane.style.zIndex = "440";  // above the communes (410) and the outlines (430)
    pane.style.pointerEvents = "none";
    this.ring = L.layerGroup([], { pane: "keyboard-focus" }).addTo(map);
    this.bind();
  }

  bind() {
    const container = this.map.getContainer();
    const hint = document.createElement("p");
    hint.id = "map-keyboard-hint";
    hint.className = "sr-only";
    hint.textContent = HINT;
    container.before(hint);
    container.setAttribute("role", "application");
    container.setAttribute("aria-roledescription", "carte");
    container.setAttribute("aria-label", "Carte des communes et des CPTS");
    container.setAttribute("aria-describedby", hint.id);
    if (container.tabIndex < 0) container.tabIndex = 0;
    container.addEventListener("keydown", (event) => this.onKeyDown(event));
    // « Aller à la carte »: the map takes the focus (the address keeps the view's state)
    for (const link of document.querySelectorAll("a[data-skip=map]")) {
      link.href = `#${container.id}`;
      link.addEventListener("click", (event) => { event.preventDefault(); container.focus(); });
    }
  }

  onKeyDown(event) {
    // keys typed on a control of the map (zoom, layers, drawing) are the control's
    if (event.target !== this.map.getContainer() || event.altKey || event.ctrlKey || event.metaKey) return;
    const direction = directionOf(event.key);
    if (direction && !event.shiftKey) {
      event.preventDefault();
      event.stopPropagation();  // not to Leaflet's keyboard handler, which would pan
      this.queue = this.queue.then(() => this.step(direction)).catch((error) => this.announce(error.message));
    } else if (event.key === "Enter" && this.current) {
      event.preventDefault();
      const { code, nom } = this.current;
      this.queue = this.queue.then(() => this.onEnter(code, { code, nom }));
    } else if (event.key === "Escape" && this.current) {
      this.clear();
    }
  }

  async read(code) {
    let found = this.cache.get(code);
    if (!found) {
      found = await this.api.neighbours(code);
      this.cache.set(code, found);
    }
    return found;
  }

  /** The commune the next move starts from: the one in the ring if still in view, else the
   * one under the map's centre. */
  async origin() {
    if (this.current && this.map.getBounds().contains([this.current.lat, this.current.lon])) {
      return this.current;
    }
    const centre = this.map.getCenter();
    let code;
    try {
      ({ code } = await this.api.unitAt(centre.lat.toFixed(6), centre.lng.toFixed(6)));
    } catch {
      return null;
    }
    return this.read(code);
  }

  async step(direction) {
    const from = await this.origin();
    if (!from) {
      this.announce("Aucune commune au centre de la carte : déplacez la carte (Maj + flèches).");
      return;
    }
    const next = neighbourToward(from, from.neighbours, direction);
    if (!next) {
      if (from !== this.current) await this.show(from);
      else this.announce(`Pas de commune voisine de ${from.nom} dans cette direction.`);
      return;
    }
    await this.show(await this.read(next.code));
  }

  async show(commune) {
    this.current = commune;
    this.ring.clearLayers();
    const options = { pane: "keyboard-focus" };
    this.ring.addLayer(L.geoJSON(commune.geometry, { ...options, style: () => RING_OUTER, interactive: false }));
    this.ring.addLayer(L.geoJSON(commune.geometry, { ...options, style: () => RING_INNER, interactive: false }));
    const inner = this.map.getBounds().pad(-0.15);
    if (!inner.contains([commune.lat, commune.lon])) this.map.panTo([commune.lat, commune.lon]);
    this.map.getContainer().dataset.keyboardCommune = commune.code;
    this.announce(this.describe(commune));
  }

  clear() {
    this.current = null;
    this.ring.clearLayers();
    delete this.map.getContainer().dataset.keyboardCommune;
    this.announce("Sélection au clavier effacée.");
  }
}
