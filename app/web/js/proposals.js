// « Proposer un plan » in the zones blanches view: a plan covering every uncovered commune of
// the chosen territory (POST /api/proposals, nothing written), its proposed CPTS drawn in the
// map's palette (colors.js) by the index the server gave each (`colour`: neighbours differ, as
// for the CPTS, and apart from the CPTS drawn around them where it can), a table of new CPTS and attachments, sliders for the main options, and
// « Enregistrer comme scénario » (POST /api/proposals/scenarios: private agency scenarios).
// The pure functions at the top are unit-tested with `node --test`.

import { announce } from "./announce.js";
import { cptsOpacity, currentPalette } from "./colors.js";
import { clear, h } from "./dom.js";
import { formatInteger, plural } from "./format.js";

export const DEFAULT_OPTIONS = Object.freeze({
  min_population: 40000, max_size_class: 4, seed: 2024,
  weights: Object.freeze({ epci: 1, bassin_de_vie: 1, compactness: 1, balance: 1, signed_changes: 1 }),
});

export const WEIGHT_LABELS = {
  epci: "Suivre les EPCI",
  bassin_de_vie: "Suivre les bassins de vie",
  compactness: "Formes compactes",
  balance: "Populations équilibrées",
  signed_changes: "Ménager les CPTS signées",
};

/** The request body of a plan: a territory ("departement:06") or a list of communes. */
export function proposalBody(scope, statuses, options = DEFAULT_OPTIONS) {
  const body = { statuses: [...statuses], options: {
    min_population: Number(options.min_population), max_size_class: Number(options.max_size_class),
    seed: Number(options.seed), weights: Object.fromEntries(
      Object.entries(options.weights).map(([key, value]) => [key, Number(value)])) } };
  if (Array.isArray(scope)) body.units = scope; else body.scope = scope;
  return body;
}

/** The colour of a proposed perimeter: its index (`colour`, from the server) in the palette. */
export function planColour(index) {
  const colours = currentPalette().cpts;
  return colours[((Number(index) % colours.length) + colours.length) % colours.length];
}

/** One row per proposed CPTS and per attachment, each in the colour of its shape on the map. */
export function planRows(answer) {
  const groups = answer.groups.map((group) => ({
    kind: "group", key: group.id, colour: planColour(group.colour),
    label: group.name, communes: group.units, population: group.population,
    sizeClass: `${group.size_class}`, reachesFloor: group.reaches_floor,
    epci: group.epci.map((e) => e.nom || e.code),
    note: group.reasons.map((r) => r.detail).join(" "),
  }));
  const attachments = answer.attachments.map((attachment) => ({
    kind: "attachment", key: `cpts-${attachment.cpts_id}`, colour: planColour(attachment.colour),
    label: `${attachment.name} (${attachment.status_label})`, communes: attachment.units,
    population: attachment.population,
    sizeClass: `${attachment.size_class_before} → ${attachment.size_class_after}`,
    reachesFloor: attachment.population_after >= answer.options.min_population,
    epci: attachment.epci.map((e) => e.nom || e.code),
    note: `${formatInteger(attachment.population_before)} → ${formatInteger(attachment.population_after)} habitants`,
  }));
  return [...groups, ...attachments];
}

/** The body that saves a plan as agency scenarios. */
export function scenarioBody(answer) {
  return {
    groups: answer.groups.map((g) => ({ communes: g.communes, siege_commune: g.siege_commune, name: g.name })),
    attachments: answer.attachments.map((a) => ({ cpts_id: a.cpts_id, communes: a.communes })),
    reason: `Plan proposé pour ${answer.scope_name || answer.scope}`,
  };
}

/** The one-paragraph summary of a plan. */
export function planSummary(answer) {
  const s = answer.summary;
  return `${plural(s.groups, "nouvelle CPTS proposée", "nouvelles CPTS proposées")} `
    + `(${formatInteger(s.groups_reaching_floor)} au seuil de ${formatInteger(answer.options.min_population)} habitants), `
    + `${plural(s.attachments, "rattachement")} à des CPTS voisines · couverture `
    + `${(answer.coverage_before.coverage_rate * 100).toFixed(1)} % → ${(answer.coverage_after.coverage_rate * 100).toFixed(1)} %`;
}

/** How a proposed perimeter is drawn: its palette colour at the CPTS' opacity (the opacity the
 * palette was checked at for colour-blind readers), attachments with a dashed outline. */
export function planStyle(properties) {
  return { color: "#222", weight: 1.5, fillColor: planColour(properties.colour), fillOpacity: cptsOpacity(),
    dashArray: properties.kind === "attachment" ? "4 3" : null };
}

/** A table swatch in a colour (set through the CSSOM: the page's CSP forbids style attributes). */
function swatch(colour) {
  const element = h("span", { class: "swatch", "data-color": colour });
  element.style.background = colour;
  return element;
}

function slider(id, label, min, max, step, value, onInput) {
  const output = h("output", { for: id }, String(value));
  const input = h("input", { id, type: "range", min, max, step, value });
  input.addEventListener("input", () => { output.textContent = input.value; onInput(Number(input.value)); });
  return h("label", { class: "slider", for: id }, `${label} `, output, input);
}

/** The plan panel of the zones blanches view (`view`: its scope() and counted stages). */
export class ProposalPanel {
  constructor(view) {
    this.view = view;
    this.api = view.api;
    this.map = view.map;
    this.options = structuredClone(DEFAULT_OPTIONS);
    this.layer = null;
    this.answer = null;
    this.box = h("section", { class: "proposals", id: "white-proposals", hidden: true });
    document.getElementById("white-detail")?.before(this.box);
    this.api.get("/api/me").then((me) => {
      this.role = me.role;
      if (["admin", "ars", "observer"].includes(me.role)) this.renderControls();
    }).catch(() => {});
  }

  renderControls() {
    this.box.hidden = false;
    const weights = Object.entries(WEIGHT_LABELS).map(([key, label]) => slider(
      `plan-weight-${key}`, label, 0, 5, 0.5, this.options.weights[key],
      (value) => { this.options.weights[key] = value; }));
    this.result = h("div", { id: "plan-result" });
    clear(this.box,
      h("h3", {}, "Proposer un plan"),
      h("p", { class: "muted small" }, "Chaque commune non couverte du territoire est rattachée à une CPTS voisine ou regroupée dans une nouvelle CPTS proposée. Rien n'est enregistré."),
      h("details", {}, h("summary", {}, "Options"),
        slider("plan-min-population", "Seuil de population", 10000, 100000, 5000, this.options.min_population,
          (value) => { this.options.min_population = value; }),
        slider("plan-max-size-class", "Taille maximale après rattachement", 1, 4, 1, this.options.max_size_class,
          (value) => { this.options.max_size_class = value; }),
        ...weights),
      h("button", { type: "button", class: "primary", id: "plan-propose", onclick: () => this.propose() }, "Proposer un plan"),
      this.result);
  }

  async propose() {
    const body = proposalBody(this.view.scope(), this.view.counted, this.options);
    clear(this.result, h("p", { class: "muted" }, "Calcul du plan…"));
    try {
      const [answer, shapes] = await Promise.all([
        this.api.post("/api/proposals", body),
        this.api.request("POST", "/api/proposals", { body, params: { format: "geojson" } }).then((r) => r.data),
      ]);
      this.answer = answer;
      this.draw(shapes);
      this.renderPlan(answer);
    } catch (error) {
      clear(this.result, h("p", { class: "notice error" }, error.message));
    }
  }

  draw(collection) {
    if (this.layer) this.layer.remove();
    if (typeof L === "undefined" || !collection?.features?.length) return;
    // eslint-disable-next-line no-undef
    this.layer = L.geoJSON(collection, { style: (feature) => planStyle(feature.properties) }).addTo(this.map);
    // what is drawn, for the page's tests (Leaflet may paint on a canvas)
    this.box.dataset.shapes = String(this.layer.getLayers().length);
    const bounds = this.layer.getBounds();
    if (bounds.isValid()) this.map.fitBounds(bounds, { padding: [20, 20], maxZoom: 11 });
  }

  renderPlan(answer) {
    const rows = planRows(answer).map((row) => h("tr", { "data-plan": row.key, class: row.reachesFloor ? "" : "below-floor" },
      h("td", {}, swatch(row.colour), " ", row.kind === "group" ? "Nouvelle CPTS" : "Rattachement"),
      h("td", {}, row.label, row.note ? h("div", { class: "muted small" }, row.note) : null),
      h("td", { class: "num" }, formatInteger(row.communes)),
      h("td", { class: "num" }, formatInteger(row.population)),
      h("td", {}, row.sizeClass),
      h("td", { class: "small" }, row.epci.slice(0, 3).join(", "))));
    const costs = answer.costs;
    const canSave = ["admin", "ars"].includes(this.role) && rows.length > 0;
    clear(this.result,
      h("p", {}, planSummary(answer)),
      h("table", { class: "plan-table", id: "plan-table" },
        h("thead", {}, h("tr", {}, ...["", "Périmètre", "Communes", "Habitants", "Taille", "EPCI"].map((t) => h("th", {}, t)))),
        h("tbody", {}, rows)),
      h("p", { class: "muted small" }, `Coûts : EPCI partagés ${costs.epci_split}, bassins de vie partagés ${costs.bassin_de_vie_split}, `
        + `compacité ${costs.compactness}, équilibre ${costs.balance}, CPTS modifiées ${costs.signed_changes} — total ${costs.total}`),
      canSave ? h("button", { type: "button", id: "plan-save", onclick: () => this.save() }, "Enregistrer comme scénario") : null,
      h("div", { id: "plan-saved" }));
    announce(planSummary(answer));  // once per plan (the panel itself is not a live region)
  }

  async save() {
    const box = document.getElementById("plan-saved");
    clear(box, h("p", { class: "muted" }, "Enregistrement…"));
    try {
      const saved = await this.api.post("/api/proposals/scenarios", scenarioBody(this.answer));
      clear(box, h("p", { class: "notice info" },
        `${plural(saved.length, "scénario enregistré", "scénarios enregistrés")} (privés à l'ARS, jamais comptés dans la couverture) : `
        + saved.map((s) => `n° ${s.id}`).join(", ")));
      announce(box.textContent);
    } catch (error) {
      clear(box, h("p", { class: "notice error" }, error.message));
    }
  }
}
