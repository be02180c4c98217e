// The coverage view: communes coloured by the CPTS that cover them (hatching where several
// do, dotted where none does), filters by stage, the legend, and the commune card.

import {
  coverageFill, cptsColor, cptsOpacity, hatchPattern, setColours, swatchBackground, zoneBlanchePattern,
} from "./colors.js";
import { announce } from "./announce.js";
import { $, clear, h } from "./dom.js";
import { coveringSummary, departementOf, formatInteger, formatPopulation, plural, statusLabel } from "./format.js";

const MUTED_STYLE = { fill: true, fillColor: "#e3e3e3", fillOpacity: 0.9, weight: 0.4, color: "#9a9a9a", opacity: 0.5 };

export class Perimeters {
  /** Every visible CPTS with its units, indexed by unit code. */
  constructor() {
    this.list = [];
    this.byId = new Map();
    this.byCode = new Map();
    this.populationYear = null;
  }

  /**
   * The CPTS without their units (`GET /api/map/overview`): enough for the legend, the
   * chooser and the national map; the units come with `load`.
   */
  loadSummary(data) {
    this.list = data.cpts;
    this.populationYear = data.population_year;
    this.byId = new Map(this.list.map((cpts) => [cpts.id, cpts]));
    if (setColours(this.list)) styles.clear();
    this.shared = data.overlaps.map((overlap) => overlap.cpts);
  }

  /** Resolves once `load` has given every CPTS its units. */
  whenComplete() {
    if (!this.completed) this.completed = new Promise((resolve) => { this.complete = resolve; });
    return this.completed;
  }

  /** The ids of the CPTS of each unit claimed by more than one. */
  overlapGroups() {
    return this.byCode.size ? [...this.byCode.values()].filter((ids) => ids.length > 1) : this.shared || [];
  }

  load(data) {
    this.list = data.cpts;
    this.populationYear = data.population_year;
    this.byId = new Map(this.list.map((cpts) => [cpts.id, cpts]));
    if (setColours(this.list)) styles.clear();  // (the styles below keep their colours)
    this.whenComplete();
    this.complete();
    this.byCode = new Map();
    for (const cpts of this.list) {
      if (cpts.archived) continue;
      for (const code of cpts.communes) {
        const ids = this.byCode.get(code);
        if (ids) ids.push(cpts.id);
        else this.byCode.set(code, [cpts.id]);
      }
    }
  }

  /** Ids of the CPTS covering `code` among those whose stage is in `statuses`. */
  covering(code, statuses) {
    const ids = this.byCode.get(code) || [];
    return statuses ? ids.filter((id) => statuses.has(this.byId.get(id).status)) : ids;
  }
}

const styles = new Map();

/** The style of a commune covered by `ids` (one shared object per combination). */
export function coverageStyle(ids) {
  const key = ids.join(",");
  let style = styles.get(key);
  if (!style) {
    style = makeCoverageStyle(ids);
    styles.set(key, style);
  }
  return style;
}

function makeCoverageStyle(ids) {
  const fill = coverageFill(ids);
  if (fill.kind === "white") {
    return { fill: true, fillColor: zoneBlanchePattern(), fillOpacity: 0.9, weight: 0.4, color: "#7a1414", opacity: 0.6 };
  }
  if (fill.kind === "single") {
    return { fill: true, fillColor: fill.colors[0], fillOpacity: cptsOpacity(), weight: 0.4, color: "#444", opacity: 0.45 };
  }
  return { fill: true, fillColor: hatchPattern(fill.colors), fillOpacity: 0.9, weight: 0.6, color: "#222", opacity: 0.7 };
}

export class CoverageView {
  constructor({ api, perimeters, communes, map, statuses, onOpenCpts, onShowOverlaps = () => {} }) {
    this.api = api;
    this.perimeters = perimeters;
    this.communes = communes;
    this.map = map;
    this.statuses = statuses;
    this.shown = new Set(statuses.map((s) => s.id));
    this.onOpenCpts = onOpenCpts;
    this.onShowOverlaps = onShowOverlaps;
    this.cardCode = null;
  }

  /** Communes outside these départements (the user's territory) are muted, not zones blanches. */
  setScope(departements) {
    this.scope = departements ? new Set(departements) : null;
  }

  outside(code) {
    return Boolean(this.scope) && !this.scope.has(departementOf(code));
  }

  style() {
    return (code) => {
      const ids = this.perimeters.covering(code, this.shown);
      return ids.length === 0 && this.outside(code) ? MUTED_STYLE : coverageStyle(ids);
    };
  }

  renderFilters(fieldset, onChange) {
    for (const status of this.statuses) {
      const box = h("input", { type: "checkbox", value: status.id, checked: this.shown.has(status.id) });
      box.addEventListener("change", () => {
        if (box.checked) this.shown.add(status.id);
        else this.shown.delete(status.id);
        onChange();
      });
      fieldset.append(h("label", {}, box, status.label));
    }
  }

  renderLegend() {
    const visible = this.perimeters.list.filter((c) => !c.archived && this.shown.has(c.status));
    const overlaps = this.perimeters.overlapGroups().filter((ids) =>
      ids.filter((id) => this.shown.has(this.perimeters.byId.get(id)?.status)).length > 1).length;
    clear($("#coverage-status"),
      `${plural(visible.length, "CPTS affichée", "CPTS affichées")} · `,
      overlaps ? h("button", { type: "button", class: "link", id: "coverage-overlaps", onclick: () => this.onShowOverlaps() },
        `${plural(overlaps, "commune")} en chevauchement`) : `${plural(overlaps, "commune")} en chevauchement`);
    announce($("#coverage-status").textContent);  // once per change (same words: nothing)
    const items = visible.sort((a, b) => a.name.localeCompare(b.name, "fr")).map((cpts) =>
      h("li", {},
        h("span", { class: "swatch", "data-color": cptsColor(cpts.id) }),
        h("button", { type: "button", class: "link", title: "Ouvrir ce périmètre",
                      onclick: () => this.onOpenCpts(cpts.id) },
          cpts.name),
        h("span", { class: "muted small" }, ` ${statusLabel(cpts.status)}`),
        cpts.is_scenario ? h("span", { class: "scenario-tag", title: "Scénario privé de l'ARS" }, " ⚑ scénario privé") : null));
    clear($("#legend"),
      h("ul", { class: "legend-keys" },
        h("li", {}, h("span", { class: "swatch white-zone" }), "Zone blanche (aucune CPTS)"),
        h("li", {}, h("span", { class: "swatch overlap" }), "Chevauchement de CPTS (hachures)"),
        this.scope ? h("li", {}, h("span", { class: "swatch muted-zone" }), "Hors de votre territoire") : null),
      h("h4", {}, "CPTS"),
      items.length ? h("ul", {}, items) : h("p", { class: "muted" }, "Aucune CPTS à ces stades."));
    for (const swatch of document.querySelectorAll("#legend .swatch[data-color]")) {
      swatch.style.background = swatch.dataset.color;
    }
    // the textures of the map itself (app/web/js/colors.js), not a look-alike in CSS
    for (const [kind, selector] of [["white", ".swatch.white-zone"], ["overlap", ".swatch.overlap"]]) {
      for (const swatch of document.querySelectorAll(`#legend ${selector}`)) swatch.style.background = swatchBackground(kind);
    }
  }

  /** A place without a commune: what lies there, as the server says it. */
  showPlace(message) {
    this.cardCode = null;
    clear($("#commune-card"), h("h3", {}, "À cet endroit"), h("p", { class: "notice info", "data-place": "true" }, message));
  }

  /** The stage requests waiting (visible CPTS with a requested stage), each opened in a click. */
  renderRequests() {
    const waiting = this.perimeters.list.filter((c) => c.pending_status && !c.archived)
      .sort((a, b) => a.name.localeCompare(b.name, "fr"));
    const box = $("#requests");
    box.hidden = waiting.length === 0;
    clear(box, h("h3", {}, `Demandes à traiter (${waiting.length})`),
      h("ul", { class: "overlap-list" }, waiting.map((c) => h("li", { "data-request": c.id },
        h("button", { type: "button", class: "link", onclick: () => this.onOpenCpts(c.id) }, c.name),
        ` — ${statusLabel(c.status)} → ${statusLabel(c.pending_status)}`))));
  }

  async showCard(code) {
    this.cardCode = code;
    const box = $("#commune-card");
    clear(box, h("p", { class: "muted" }, "Chargement de la fiche…"));
    let card;
    try {
      card = await this.api.commune(code);
    } catch (error) {
      clear(box, h("p", { class: "notice error" }, error.message));
      announce(error.message);
      return;
    }
    await this.perimeters.whenComplete();
    if (this.cardCode !== code) return;
    // the server's answer: the CPTS the user may see (for Paris, Lyon, Marseille: those of
    // the arrondissements), figures from the loaded perimeters
    const summary = coveringSummary(card);
    const covering = summary.cpts.map((c) => ({ ...c, ...(this.perimeters.byId.get(c.id) || {}) }));
    clear(box,
      h("h3", {}, `${card.nom} (${card.code})`),
      h("dl", {},
        h("dt", {}, "Population"), h("dd", {}, formatPopulation(card.population, card.population_year)),
        h("dt", {}, "Département"), h("dd", {}, `${card.departement_nom ?? ""} (${card.departement})`),
        h("dt", {}, "Région"), h("dd", {}, card.region_nom ?? card.region),
        h("dt", {}, "EPCI"), h("dd", {}, card.epci ? `${card.epci_nom ?? ""} (${card.epci})` : "—"),
        h("dt", {}, "Bassin de vie"), h("dd", {}, card.bassin_de_vie ? `${card.bassin_de_vie_nom ?? ""} (${card.bassin_de_vie})` : "—"),
        h("dt", {}, "Superficie"), h("dd", {}, card.area_km2 ? `${String(card.area_km2.toFixed(1)).replace(".", ",")} km²` : "—"),
        h("dt", {}, "Codes postaux"), h("dd", {}, (card.codes_postaux || []).join(", ") || "—")),
      card.polygon_note ? h("p", { class: "notice info" }, card.polygon_note) : null,
      h("h4", {}, summary.heading),
      covering.length
        ? h("ul", { "data-covering": "true" }, covering.map((cpts) => h("li", {},
            h("button", { type: "button", class: "link", onclick: () => this.onOpenCpts(cpts.id) }, cpts.name),
            ` — ${statusLabel(cpts.status)}`,
            cpts.population !== undefined ? `, ${formatInteger(cpts.population)} hab., taille ${cpts.size_class}` : "",
            summary.plm ? ` — ${plural(cpts.communes.length, "arrondissement")}` : "")))
        : null,
      card.hidden_cpts?.detail ? h("p", { class: "muted small" }, card.hidden_cpts.detail) : null,
      summary.plm && summary.uncovered.length
        ? h("p", { class: "notice warn" }, `Arrondissements sans CPTS : ${summary.uncovered.join(", ")}`) : null,
      summary.white ? h("p", { class: "notice error" }, "Aucune CPTS visible : zone blanche.") : null);
    announce(`Fiche de ${card.nom} (${card.code}) : ${covering.map((c) => c.name).join(", ") || "zone blanche"}.`);
  }
}
