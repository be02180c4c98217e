// The state of the map in the address (after #), so that a link shows the same thing:
// view, zoom and centre, territory of the zones blanches, CPTS open in the edit mode.
// Pure functions: unit-tested with `node --test`.

const VIEWS = { couverture: "coverage", edition: "edit", "zones-blanches": "white" };
const NAMES = Object.fromEntries(Object.entries(VIEWS).map(([name, id]) => [id, name]));

/** "#vue=edition&cpts=12&z=11&lat=43.7&lon=7.2" → { mode, cpts, zoom, center, territory } */
export function parseHash(hash) {
  const params = new URLSearchParams(String(hash || "").replace(/^#/, ""));
  const state = {};
  if (VIEWS[params.get("vue")]) state.mode = VIEWS[params.get("vue")];
  const cpts = Number(params.get("cpts"));
  if (Number.isInteger(cpts) && cpts > 0) state.cpts = cpts;
  const zoom = Number(params.get("z"));
  const lat = Number(params.get("lat"));
  const lon = Number(params.get("lon"));
  if (params.has("z") && params.has("lat") && params.has("lon") && [zoom, lat, lon].every(Number.isFinite)
      && zoom >= 0 && zoom <= 20 && Math.abs(lat) <= 90 && Math.abs(lon) <= 180) {
    state.zoom = zoom;
    state.center = [lat, lon];
  }
  const territory = params.get("territoire");
  if (territory && /^(national|(region|departement|epci):[0-9AB]{1,9})$/.test(territory)) state.territory = territory;
  return state;
}

/** The inverse of parseHash (coordinates rounded to ~10 m). */
export function formatHash({ mode, cpts, zoom, center, territory }) {
  const params = new URLSearchParams();
  if (mode && NAMES[mode]) params.set("vue", NAMES[mode]);
  if (cpts) params.set("cpts", String(cpts));
  if (territory) params.set("territoire", territory);
  if (center && zoom !== undefined) {
    params.set("z", String(Math.round(zoom * 2) / 2));
    params.set("lat", center[0].toFixed(4));
    params.set("lon", center[1].toFixed(4));
  }
  return `#${params.toString().replaceAll("%3A", ":")}`;
}
