// Entry point of the map page: finds the folium map and layers named in the page's JSON
// configuration, draws the national overview (CPTS outlines) first, then loads the perimeters
// with their communes, and wires the three views, the search box, the mode tabs and the
// keyboard shortcuts (Ctrl+Z / Ctrl+Y in the edit mode). Below `overview_max_zoom` the coverage
// and zones blanches views show the overview; from there on (and always in the edit mode) the
// communes' vector tiles.

import { Api } from "./api.js";
import { CommunesLayer } from "./communes-layer.js";
import { CoverageView, Perimeters } from "./coverage.js";
import { $, $$, h, toast } from "./dom.js";
import { EditMode } from "./edit.js";
import { OverviewLayer } from "./overview.js";
import { SearchBox } from "./search.js";
import { WhiteZonesView } from "./whitezones.js";

const config = JSON.parse(document.getElementById("cpts-map-config").textContent);
const map = window[config.names.map];
const metrics = { started: performance.timeOrigin, firstRender: null, clicks: [], steps: {} };
const mark = (step) => { metrics.steps[step] = Math.round(performance.now()); };
mark("module");
window.cptsMap = { metrics, config };

const api = new Api();
const perimeters = new Perimeters();
const communes = new CommunesLayer(map, window[config.names.layers.communes]);
const overview = new OverviewLayer(map);
const draw = { control: window[config.names.draw.control], items: window[config.names.draw.items] };

let mode = "coverage";

const coverage = new CoverageView({
  api, perimeters, communes, map, statuses: config.statuses,
  onOpenCpts: (id) => { switchMode("edit"); edit.open(id); },
});
const edit = new EditMode({
  api, map, communes, perimeters, draw, metrics,
  onSaved: () => Promise.all([loadOverview(), loadPerimeters()]),
});
const white = new WhiteZonesView({
  api, map, communes, statuses: config.statuses,
  onAttach: (id, codes) => { switchMode("edit"); edit.open(id, { add: codes }); },
});

// One style function for the communes' tiles, deciding at each draw from the current view:
// the edit colours while a perimeter is open in the edit mode, the coverage colours otherwise.
// (Deciding at draw time, not when the view is switched, is what paints a perimeter the moment
// it is opened or started, whatever the order of the calls.)
const editPaint = edit.style();
const coveragePaint = coverage.style();
function paint(code) {
  return mode === "edit" && edit.active ? editPaint(code) : coveragePaint(code);
}
communes.setStyle(paint);

/** Whether the communes' tiles are shown (else the overview of the CPTS outlines). */
function showsCommunes() {
  return mode === "edit" || map.getZoom() >= config.overview_max_zoom;
}

function updateLayers() {
  const note = $("#zoom-note");
  if (note) note.hidden = showsCommunes();
  if (showsCommunes()) {
    overview.hide();
    communes.show();
  } else {
    map.removeLayer(communes.layer);
    overview.show();
  }
}

async function loadOverview(request = api.overview()) {
  const data = await request;
  mark("overview_data");
  perimeters.loadSummary(data);
  overview.shown = coverage.shown;
  overview.load(data);
  mark("overview_built");
  coverage.renderLegend();  // (the edit tab's chooser is filled with the perimeters)
}

async function loadPerimeters() {
  const data = await api.perimeters([]);
  perimeters.load(data);
  coverage.renderLegend();
  edit.fillChooser();
  communes.restyleAll();
}

function switchMode(next) {
  mode = next;
  document.body.dataset.mode = next;
  for (const tab of $$("[role=tab]")) {
    const selected = tab.dataset.mode === next;
    tab.setAttribute("aria-selected", String(selected));
    tab.tabIndex = selected ? 0 : -1;
    $(`#${tab.getAttribute("aria-controls")}`).hidden = !selected;
  }
  if (next !== "white") communes.highlight([]);
  communes.restyleAll();
  updateLayers();
}

function bindTabs() {
  const tabs = $$("[role=tab]");
  tabs.forEach((tab, index) => {
    tab.addEventListener("click", () => switchMode(tab.dataset.mode));
    tab.addEventListener("keydown", (event) => {
      if (event.key !== "ArrowRight" && event.key !== "ArrowLeft") return;
      const next = tabs[(index + (event.key === "ArrowRight" ? 1 : tabs.length - 1)) % tabs.length];
      next.focus();
      switchMode(next.dataset.mode);
    });
  });
}

function bindKeyboard() {
  document.addEventListener("keydown", (event) => {
    if (mode !== "edit" || !(event.ctrlKey || event.metaKey)) return;
    const key = event.key.toLowerCase();
    const inField = ["INPUT", "TEXTAREA"].includes(document.activeElement?.tagName);
    if (inField) return;
    if (key === "z" && !event.shiftKey) { event.preventDefault(); edit.undo(); }
    else if (key === "y" || (key === "z" && event.shiftKey)) { event.preventDefault(); edit.redo(); }
  });
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && edit.drawing) edit.drawing.disable();
  });
}

function bindMap() {
  communes.onClick((code, properties) => {
    if (mode === "edit" && edit.click(code, properties)) return;
    if (mode === "edit" && !edit.active) toast("Choisissez ou créez une CPTS pour modifier son périmètre.");
    switchMode(mode === "white" ? "white" : "coverage");
    coverage.showCard(code);
  });
  map.on("click", async (event) => {  // the overview: which commune is under the click
    if (!map.hasLayer(overview.group) || edit.drawingShape()) return;
    let found;
    try { found = await api.unitAt(event.latlng.lat.toFixed(6), event.latlng.lng.toFixed(6)); } catch { return; }
    coverage.showCard(found.code);
  });
  L.control.scale({ imperial: false }).addTo(map);
  const note = L.control({ position: "bottomleft" });
  note.onAdd = () => h("div", { class: "map-note", id: "zoom-note" },
    `Contours des CPTS : les communes s'affichent à partir du zoom ${config.overview_max_zoom}.`);
  note.addTo(map);
  const outreMer = L.control({ position: "bottomleft" });
  outreMer.onAdd = () => h("div", { class: "map-note outre-mer", role: "group", "aria-label": "Aller outre-mer" },
    [["Métropole", [[41.3, -5.2], [51.1, 9.6]]], ["Guadeloupe", [[15.8, -61.85], [16.52, -61.0]]],
     ["Martinique", [[14.38, -61.25], [14.9, -60.8]]], ["Guyane", [[2.1, -54.6], [5.8, -51.6]]],
     ["La Réunion", [[-21.4, 55.2], [-20.85, 55.85]]], ["Mayotte", [[-13.0, 45.0], [-12.6, 45.3]]]]
      .map(([label, bounds]) => h("button", { type: "button", onclick: () => map.fitBounds(bounds) }, label)));
  outreMer.addTo(map);
  map.on("zoomend", updateLayers);
  if (config.names.basemap) {
    const basemap = window[config.names.basemap];
    basemap.once("tileerror", () => {
      map.removeLayer(basemap);
      toast("Fond de carte injoignable : il est masqué.");
    });
  }
}

async function start() {
  document.body.dataset.mode = "coverage";
  bindTabs();
  bindKeyboard();
  bindMap();
  new SearchBox({
    api, input: $("#search-input"), list: $("#search-results"),
    onChoose: (commune) => {
      if (commune.bbox) {
        const [w, s, e, n] = commune.bbox;
        map.fitBounds([[s, w], [n, e]], { maxZoom: 13, padding: [40, 40] });
      }
      communes.highlight([commune.code]);
      if (mode !== "edit") coverage.showCard(commune.code);
    },
  });
  for (const element of $$("[data-needs=create]")) element.hidden = !config.can_create;
  coverage.renderFilters($("fieldset[data-filters=coverage]"), () => {
    coverage.renderLegend();
    overview.restyle();
    communes.restyleAll();
  });
  map.fitBounds(config.france_bounds, { animate: false });
  // The overview first; the communes of every CPTS (for the commune tiles, the card and the
  // edit mode) once it is painted. Commune tiles wait for them to be drawn in their colours.
  // (a GET: the overview needs no CSRF token, so it does not wait for /api/me)
  const overviewRequest = api.overview();
  const overviewLoaded = api.me().then(() => { mark("me"); return loadOverview(overviewRequest); });
  const perimetersLoaded = overviewLoaded.then(() => overview.painted()).then(() => loadPerimeters());
  communes.holdDrawingUntil(perimetersLoaded);
  let tiles = 0;
  communes.layer.on("tileload", () => { tiles += 1; if (tiles === 1) mark("first_tile"); });
  updateLayers();
  await overviewLoaded;
  mark("overview");
  if (showsCommunes()) {
    await perimetersLoaded;
    await communes.loaded();
    mark("tiles_loaded");
  } else {
    await overview.painted();
    mark("overview_drawn");
  }
  metrics.firstRender = performance.now();
  await perimetersLoaded;
  mark("perimeters");
  document.body.dataset.ready = "true";
}

start().catch((error) => {
  console.error(error);
  toast(`La carte n'a pas pu démarrer : ${error.message}`, { duration: 15000 });
});
