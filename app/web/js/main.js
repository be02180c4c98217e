// Entry point of the map page: finds the folium map and layers named in the page's JSON
// configuration, draws the national overview (CPTS outlines) first, then loads the perimeters
// with their communes, and wires the three views, the search box, the mode tabs and the
// keyboard shortcuts (Ctrl+Z / Ctrl+Y in the edit mode). Below `overview_max_zoom` the coverage
// and zones blanches views show the overview; from there on (and always in the edit mode) the
// communes' vector tiles.

import { announce } from "./announce.js";
import { Api } from "./api.js";
import { CommunesLayer } from "./communes-layer.js";
import { setPalette } from "./colors.js";
import { CoverageView, Perimeters } from "./coverage.js";
import { $, $$, h, toast } from "./dom.js";
import { CoverageCharts, loadChartLibrary } from "./charts.js";
import { EditMode } from "./edit.js";
import { setStatusLabels } from "./format.js";
import { LabelsLayer } from "./labels.js";
import { PageLayout } from "./layout.js";
import { OverviewLayer } from "./overview.js";
import { SearchBox } from "./search.js";
import { TerritoryBox } from "./territory.js";
import { ChoroplethControl, choroplethStyle } from "./choropleth.js";
import { ImportPanel } from "./imports.js";
import { TokensPanel } from "./tokens.js";
import { KeyboardMap } from "./keyboard-map.js";
import { formatHash, parseHash } from "./urlstate.js";
import { WhiteZonesView } from "./whitezones.js";

const config = JSON.parse(document.getElementById("cpts-map-config").textContent);
setStatusLabels(config.statuses);  // the stages as the server defines them
setPalette(config.palette);  // the map's colours (app/domain/cpts_palette.json)
const map = window[config.names.map];
const metrics = { started: performance.timeOrigin, firstRender: null, clicks: [], clickPaints: [], indicatorClicks: [], territories: [], steps: {} };
const mark = (step) => { metrics.steps[step] = Math.round(performance.now()); };
mark("module");
window.cptsMap = { metrics, config };

const api = new Api();
const perimeters = new Perimeters();
const communes = new CommunesLayer(map, window[config.names.layers.communes]);
const overview = new OverviewLayer(map);
const labelsPane = map.createPane("labels");
labelsPane.style.zIndex = "450";
labelsPane.style.pointerEvents = "none";
const labels = new LabelsLayer(map, api);
const initial = parseHash(window.location.hash);
window.cptsMap.labels = labels;
const draw = { control: window[config.names.draw.control], items: window[config.names.draw.items] };

let mode = "coverage";

const coverage = new CoverageView({
  api, perimeters, communes, map, statuses: config.statuses,
  onOpenCpts: (id) => { switchMode("edit"); if (layout.editAllowed) edit.open(id); },
  onShowOverlaps: async () => {  // the list of the overlapping communes of my territory
    switchMode("white");
    const regions = territory?.regions;
    await white.loadScope(regions?.length === 1 ? `region:${regions[0]}` : "national");
    const list = $("#overlap-communes");
    if (list) { list.open = true; list.querySelector("summary").focus(); }
  },
});
let territory = null;
const edit = new EditMode({
  api, map, communes, perimeters, draw, metrics,
  onSaved: () => Promise.all([loadOverview(), loadPerimeters()]),
  onOpened: () => saveUrl(),
});
const white = new WhiteZonesView({
  api, map, communes, statuses: config.statuses,
  onAttach: (id, codes) => { switchMode("edit"); if (layout.editAllowed) edit.open(id, { add: codes }); },
  onLoaded: () => saveUrl(),
  charts: new CoverageCharts({ api, map, communes, chartUrl: config.vendor.chartjs }),
});

// The widths: the panel as a drawer below 1024 px (a fiche opens it), no editing below 800 px.
const layout = new PageLayout({
  map, toggle: $("#drawer-toggle"), panel: $("#panel"), card: $("#commune-card"),
  onEditDisallowed: () => { if (mode === "edit") switchMode("coverage"); },
});

// One style function for the communes' tiles, deciding at each draw from the current view:
// the edit colours while a perimeter is open in the edit mode, the coverage colours otherwise.
// (Deciding at draw time, not when the view is switched, is what paints a perimeter the moment
// it is opened or started, whatever the order of the calls.)
const editPaint = edit.style();
const coveragePaint = coverage.style();
let choropleth = null;  // the indicator map, when one is chosen (coverage and zones blanches views)
function paint(code) {
  if (mode === "edit" && edit.active) return editPaint(code);
  if (mode !== "edit" && choropleth?.answer) return choroplethStyle(choropleth.answer, code);
  return coveragePaint(code);
}
communes.setStyle(paint);

/** Whether the communes' tiles are shown (else the overview of the CPTS outlines). */
function showsCommunes() {
  return mode === "edit" || map.getZoom() >= config.overview_max_zoom;
}

function updateLayers() {
  const note = $("#zoom-note");
  if (note) note.hidden = showsCommunes();
  choropleth?.setLevel(showsCommunes() ? "commune" : "cpts");
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
  coverage.renderRequests();
  edit.fillChooser();
  communes.restyleAll();
}

/** The view, the map's centre and zoom, the open CPTS and the territory, in the address. */
function saveUrl() {
  const center = map.getCenter();
  const hash = formatHash({
    mode, zoom: map.getZoom(), center: [center.lat, center.lng],
    cpts: mode === "edit" && edit.active ? edit.cpts?.id : undefined,
    territory: mode === "white" && white.report ? white.scope() : undefined,
  });
  if (hash !== window.location.hash) window.history.replaceState(null, "", hash);
}

function labelledCpts() {
  return new Set(perimeters.list.filter((c) => !c.archived && coverage.shown.has(c.status)).map((c) => c.id));
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
  labels.setCpts(labelledCpts(), next !== "edit");
  if (next === "white") loadChartLibrary(config.vendor.chartjs).catch(() => {});  // ahead of the charts
  saveUrl();
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
    const active = document.activeElement;
    const inField = ["INPUT", "TEXTAREA"].includes(active?.tagName);
    // the add field, when empty, has nothing of its own to undo: Ctrl+Z undoes the last change
    if (inField && !(active.id === "edit-add-input" && active.value === "")) return;
    if (key === "z" && !event.shiftKey) { event.preventDefault(); edit.undo(); }
    else if (key === "y" || (key === "z" && event.shiftKey)) { event.preventDefault(); edit.redo(); }
  });
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && edit.drawing) edit.drawing.disable();
  });
}

/** What lies at a point with no commune, in the card. */
async function showPlace(latlng) {
  try {
    const place = await api.place(latlng.lat.toFixed(6), latlng.lng.toFixed(6));
    if (place.commune) coverage.showCard(place.commune.code);
    else coverage.showPlace(place.message);
  } catch (error) {
    coverage.showPlace(error.message);
  }
}

function bindHover() {
  const box = h("div", { class: "hover-name", id: "hover-name", role: "status", hidden: true });
  map.getContainer().append(box);
  communes.layer.on("mouseover", (event) => {
    const properties = event.layer?.properties;
    if (!properties?.code) return;
    const covering = perimeters.covering(properties.code, null).map((id) => perimeters.byId.get(id)?.name).filter(Boolean);
    box.replaceChildren(h("strong", {}, `${properties.nom ?? ""} (${properties.code})`),
      h("div", {}, covering.length ? overview.claimsOf(properties.code, covering)
        : communesOutside(properties.code) ? "Hors de votre territoire" : "Zone blanche (aucune CPTS)"));
    box.hidden = false;
  });
  communes.layer.on("mouseout", () => { box.hidden = true; });
  map.on("mousemove", (event) => {
    if (map.hasLayer(overview.group)) {  // the national overview: the CPTS under the pointer
      const text = overview.hoverText(event.latlng);
      if (text !== box.textContent) box.replaceChildren(text);
      box.hidden = !text;
    }
    if (box.hidden) return;
    box.style.left = `${event.containerPoint.x + 14}px`;
    box.style.top = `${event.containerPoint.y + 14}px`;
  });
  map.on("zoomstart movestart mouseout", () => { box.hidden = true; });
}

function communesOutside(code) { return coverage.outside(code); }

let featureClick = null;

/** Leaflet's zoom buttons say "Zoom in" / "Zoom out": in French. */
function frenchZoomButtons() {
  const container = map.getContainer();
  for (const [selector, label] of [[".leaflet-control-zoom-in", "Zoom avant"], [".leaflet-control-zoom-out", "Zoom arrière"]]) {
    const button = container.querySelector(selector);
    if (!button) continue;
    button.title = label;
    button.setAttribute("aria-label", label);
  }
  // the layer box's toggle (hidden while the box is open) and Leaflet's attribution prefix
  const layers = container.querySelector(".leaflet-control-layers-toggle");
  if (layers) { layers.title = "Couches"; layers.setAttribute("aria-label", "Couches affichées"); }
  map.attributionControl?.setPrefix('<a href="https://leafletjs.com" hreflang="en" '
    + 'title="Bibliothèque JavaScript de cartes interactives">Leaflet</a>');
}

/** A commune chosen on the map, by a click or by Enter on the keyboard's focus ring: its
 * fiche, or in the edit mode in or out of the perimeter. */
function chooseCommune(code, properties) {
  if (mode === "edit" && edit.click(code, properties)) return;
  if (mode === "edit" && !edit.active) toast("Choisissez ou créez une CPTS pour modifier son périmètre.");
  switchMode(mode === "white" ? "white" : "coverage");
  coverage.showCard(code);
}

/** What is said when the keyboard's focus ring reaches a commune. */
function keyboardSentence(commune) {
  const name = `${commune.nom} (${commune.code})`;
  if (mode === "edit" && edit.active) {
    return `${name} : ${edit.store.has(commune.code) ? "dans le périmètre" : "hors du périmètre"}. Entrée pour l'${edit.store.has(commune.code) ? "en retirer" : "y ajouter"}.`;
  }
  const covering = perimeters.covering(commune.code, null).map((id) => perimeters.byId.get(id)?.name).filter(Boolean);
  const state = covering.length ? covering.join(", ") : communesOutside(commune.code) ? "hors de votre territoire" : "zone blanche";
  return `${name} : ${state}. Entrée pour sa fiche.`;
}

function bindMap() {
  communes.onClick((code, properties, event) => {
    featureClick = event?.originalEvent ?? null;
    chooseCommune(code, properties);
  });
  // A click on the overview, or where the commune tiles hold no commune (the sea, a hole of
  // the reference geography): the DOM event, since Leaflet skips events on tile canvases.
  map.getContainer().addEventListener("click", async (event) => {
    if (event === featureClick || edit.drawingShape() || map.dragging?.moved?.()) return;
    if (event.target.closest?.(".leaflet-control, .leaflet-marker-pane, .leaflet-popup-pane, .hover-name")) return;
    if (mode === "edit" && !map.hasLayer(overview.group)) return;
    if (mode === "edit") switchMode("coverage");
    await showPlace(map.mouseEventToLatLng(event));
  });
  map.on("moveend", () => saveUrl());
  L.control.scale({ imperial: false }).addTo(map);
  frenchZoomButtons();
  window.cptsMap.keyboard = new KeyboardMap({ map, api, onEnter: chooseCommune, describe: keyboardSentence, announce });
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

/** The import of a listing (who may create or change CPTS) and the personal API tokens,
 * built when their box is first opened. */
function bindTools() {
  const importBox = $("#import-box");
  importBox.hidden = !["admin", "ars", "carrier"].includes(config.user.role);
  importBox.addEventListener("toggle", () => {
    if (!importBox.open || importBox.dataset.built) return;
    importBox.dataset.built = "true";
    new ImportPanel({
      api, root: $("#import-panel"), statuses: config.statuses, role: config.user.role,
      onImported: () => Promise.all([loadOverview(), loadPerimeters()]),
    });
  });
  const choroplethBox = $("#choropleth-box");
  choroplethBox.addEventListener("toggle", () => {
    if (!choroplethBox.open || choroplethBox.dataset.built) return;
    choroplethBox.dataset.built = "true";
    choropleth = new ChoroplethControl({
      api, root: $("#choropleth-panel"), level: showsCommunes() ? "commune" : "cpts",
      onChange: () => { communes.restyleAll(); overview.setChoropleth(choropleth.cptsAnswer); },
    });
    choropleth.load();
  });
  const tokensBox = $("#tokens-box");
  tokensBox.addEventListener("toggle", () => {
    if (!tokensBox.open || tokensBox.dataset.built) return;
    tokensBox.dataset.built = "true";
    new TokensPanel({ api, root: $("#tokens-panel") }).load();
  });
}

/** Names on the map, the user's own territory (where the map opens), muted regions. */
function applyOrientation(data) {
  labels.load(data);
  territory = data.territory;
  overview.setMuted(data.muted_land);
  coverage.setScope(data.territory.departements);
  mark("orientation");
}

/** What the address asked for, once the perimeters are there. */
async function applyInitialState() {
  if (initial.mode && initial.mode !== mode) switchMode(initial.mode);
  if (initial.mode === "edit" && initial.cpts && layout.editAllowed) await edit.open(initial.cpts, { zoom: !initial.center });
  if (initial.mode === "white" && initial.territory) await white.loadScope(initial.territory);
}

async function start() {
  document.body.dataset.mode = "coverage";
  layout.start();
  bindTabs();
  bindKeyboard();
  bindMap();
  bindHover();
  labels.layer.addTo(map);
  new TerritoryBox({
    api, input: $("#white-territory"), list: $("#white-territory-results"),
    onChoose: async (territory) => {
      const started = performance.now();
      // the figures first, the zoom after: once the map moves, its tiles take the browser's six
      // connections to the server and the coverage request would wait behind them
      if (territory.scope) await white.loadScope(territory.scope, territory.label);
      if (territory.bbox) {
        const [w, s, e, n] = territory.bbox;
        map.fitBounds([[s, w], [n, e]], { animate: false, padding: [20, 20] });
      }
      // zoomed, figures, table and charts drawn (Chart.js draws synchronously, no animation)
      metrics.territories.push(performance.now() - started);
    },
  });
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
  bindTools();
  coverage.renderFilters($("fieldset[data-filters=coverage]"), () => {
    coverage.renderLegend();
    overview.restyle();
    communes.restyleAll();
    labels.setCpts(labelledCpts(), mode !== "edit");
  });
  // where the map opens: the address, else the user's territory (in the page), else France
  const home = config.territory?.bounds;
  if (initial.center) map.setView(initial.center, initial.zoom, { animate: false });
  else if (home) {
    // regions open on the overview (a few ms to paint), a carrier's CPTS on its communes
    const maxZoom = config.territory.cpts?.length ? 11 : config.overview_max_zoom - 0.5;
    map.fitBounds([[home[1], home[0]], [home[3], home[2]]], { animate: false, maxZoom });
  }
  else map.fitBounds(config.france_bounds, { animate: false });
  territory = config.territory;
  coverage.setScope(config.territory?.departements);
  // names and muted regions: not needed for the first paint, applied when they come
  const orientationLoaded = api.orientation().then(applyOrientation).catch((error) => console.warn(error));
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
  await orientationLoaded;
  labels.setCpts(labelledCpts(), mode !== "edit");
  await applyInitialState();
  saveUrl();
  document.body.dataset.ready = "true";
}

start().catch((error) => {
  console.error(error);
  toast(`La carte n'a pas pu démarrer : ${error.message}`, { duration: 15000 });
});
