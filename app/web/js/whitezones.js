// The zones blanches view of a scope (France, a region, a département, an EPCI): coverage
// figures with their denominator and the stages counted, a table sortable by population, a
// click zooms to the zone, and "attach to a neighbour" shows the neighbour's new population
// and class (and the full simulation) before anything is saved.

import { announce } from "./announce.js";
import { $, $$, clear, h } from "./dom.js";
import {
  formatInteger, formatPercent, headroomText, plural, sizeClassLabel, statusLabel,
} from "./format.js";
import { nextDirection, sortRows } from "./sorting.js";
import { ProposalPanel } from "./proposals.js";

export function zoneRows(zones, names = {}) {
  return zones.map((zone) => {
    const first = zone.communes[0];
    const label = names[first]
      ? `${names[first]}${zone.communes.length > 1 ? ` et ${plural(zone.communes.length - 1, "autre")}` : ""}`
      : zone.id;
    return { ...zone, label, communes_count: zone.communes.length, neighbours: zone.adjacent_cpts.length };
  });
}

export class WhiteZonesView {
  constructor({ api, map, communes, statuses, onAttach, onLoaded = () => {}, charts = null }) {
    this.api = api;
    this.map = map;
    this.communes = communes;
    this.statuses = statuses;
    this.onAttach = onAttach;
    this.onLoaded = onLoaded;
    this.charts = charts;
    this.counted = new Set(statuses.map((s) => s.id));
    this.rows = [];
    this.sortKey = "population";
    this.sortDirection = "descending";
    this.names = {};
    this.selected = null;
    this.bind();
    this.proposals = new ProposalPanel(this);
  }

  bind() {
    const fieldset = $("fieldset[data-filters=white]");
    for (const status of this.statuses) {
      const box = h("input", { type: "checkbox", value: status.id, checked: true });
      box.addEventListener("change", () => {
        if (box.checked) this.counted.add(status.id); else this.counted.delete(status.id);
      });
      fieldset.append(h("label", {}, box, status.label));
    }
    const kind = $("#white-scope-kind");
    kind.addEventListener("change", () => { $("#white-scope-code").hidden = kind.value === "national"; });
    $("#white-form").addEventListener("submit", (event) => { event.preventDefault(); this.load(); });
    for (const button of $$("#white-table th button")) {
      button.addEventListener("click", () => {
        const key = button.dataset.sort;
        this.sortDirection = nextDirection(this.sortKey, this.sortDirection, key);
        this.sortKey = key;
        this.renderTable();
      });
    }
  }

  /** Show the zones blanches of a scope ("departement:06", "national"…) chosen elsewhere. */
  async loadScope(scope, label = null) {
    const [kind, code = ""] = scope.split(":");
    $("#white-scope-kind").value = kind;
    $("#white-scope-code").value = code;
    $("#white-scope-code").hidden = kind === "national";
    if (label) $("#white-territory").value = label;
    await this.load();
  }

  scope() {
    const kind = $("#white-scope-kind").value;
    const code = $("#white-scope-code").value.trim();
    return kind === "national" ? "national" : `${kind}:${code}`;
  }

  async load() {
    const summary = $("#white-summary");
    if (this.counted.size === 0) {
      clear(summary, h("p", { class: "notice error" }, "Cochez au moins un stade compté comme couvert."));
      return;
    }
    clear(summary, h("p", { class: "muted" }, "Calcul de la couverture…"));
    let report;
    const params = { scope: this.scope(), statuses: [...this.counted].join(",") };
    try {
      report = await this.api.coverage(params);
    } catch (error) {
      clear(summary, h("p", { class: "notice error" }, error.message));
      return;
    }
    this.report = report;
    // the charts are drawn while the names of the zones are asked for
    const charts = this.charts ? this.charts.render(report, params) : Promise.resolve();
    const firsts = report.white_zones.map((zone) => zone.communes[0]).slice(0, 5000);
    this.names = {};
    if (firsts.length) {
      try {
        const described = await this.api.units(firsts);
        for (const unit of described.units) this.names[unit.code] = unit.nom;
      } catch { /* ids then */ }
    }
    this.rows = zoneRows(report.white_zones, this.names);
    clear(summary,
      h("p", {}, h("strong", {}, `${formatPercent(report.coverage_rate)} de la population couverte`),
        ` (${formatInteger(report.population_covered)} sur ${formatInteger(report.population_total)} habitants, population municipale ${report.population_year})`),
      h("p", {}, `${plural(report.communes_uncovered, "commune non couverte", "communes non couvertes")} sur ${formatInteger(report.communes_total)} · ${plural(report.white_zones.length, "zone blanche", "zones blanches")}`),
      h("p", { class: "muted small" }, `${report.scope_name ?? "France entière"} — ${report.covered_means ?? ""}`));
    announce(`${report.scope_name ?? "France entière"} : ${formatPercent(report.coverage_rate)} de la population couverte, `
      + `${plural(report.communes_uncovered, "commune non couverte", "communes non couvertes")}, `
      + `${plural(report.white_zones.length, "zone blanche", "zones blanches")}.`);
    this.renderTable();
    await charts;
    this.onLoaded();
  }

  renderTable() {
    const table = $("#white-table");
    table.hidden = false;
    for (const th of $$("th", table)) {
      const key = th.querySelector("button")?.dataset.sort;
      if (key === this.sortKey) th.setAttribute("aria-sort", this.sortDirection);
      else th.removeAttribute("aria-sort");
    }
    const rows = sortRows(this.rows, this.sortKey, this.sortDirection, "label");
    clear($("tbody", table), rows.map((row) => {
      const tr = h("tr", { tabindex: 0, "data-zone": row.id, class: row.id === this.selected ? "selected" : "" },
        h("td", {}, row.label, row.enclave ? h("span", { class: "muted small" }, " (enclave)") : null),
        h("td", { class: "num" }, formatInteger(row.communes_count)),
        h("td", { class: "num" }, formatInteger(row.population)),
        h("td", { class: "num" }, formatInteger(row.neighbours)));
      tr.addEventListener("click", () => this.select(row));
      tr.addEventListener("keydown", (event) => {
        if (event.key === "Enter" || event.key === " ") { event.preventDefault(); this.select(row); }
      });
      return tr;
    }));
    if (!rows.length) clear($("tbody", table), h("tr", {}, h("td", { colspan: 4 }, "Aucune zone blanche : tout le territoire est couvert.")));
  }

  async select(zone) {
    this.selected = zone.id;
    for (const tr of $$("#white-table tbody tr")) tr.classList.toggle("selected", tr.dataset.zone === zone.id);
    this.communes.highlight(zone.communes);
    const box = $("#white-detail");
    clear(box, h("p", { class: "muted" }, "Chargement de la zone…"));
    let described = { units: [], bbox: null };
    try { described = await this.api.units(zone.communes.slice(0, 5000)); } catch { /* keep going */ }
    if (described.bbox) {
      const [w, s, e, n] = described.bbox;
      this.map.fitBounds([[s, w], [n, e]], { maxZoom: 12, padding: [30, 30] });
    }
    const names = Object.fromEntries(described.units.map((u) => [u.code, u.nom]));
    const neighbours = zone.adjacent_cpts.map((cpts) => h("tr", {},
      h("td", {}, cpts.named ? cpts.name : "CPTS non visible", h("div", { class: "muted small" }, statusLabel(cpts.status))),
      h("td", {}, `${formatInteger(cpts.population)} → ${formatInteger(cpts.population_with_zone)}`),
      h("td", {}, `${cpts.size_class} → ${cpts.size_class_with_zone}`),
      h("td", {}, cpts.named && cpts.id ? h("button", { type: "button", "data-attach": cpts.id,
        onclick: () => this.tryAttach(zone, cpts) }, "Rattacher…") : null)));
    clear(box,
      h("h3", {}, `Zone ${zone.label}`),
      h("p", {}, `${plural(zone.communes_count, "commune")} · ${formatInteger(zone.population)} habitants`,
        zone.extends_outside_scope ? " · se prolonge hors du territoire choisi" : ""),
      h("p", { class: "small" }, zone.communes.map((code) => (names[code] ? `${names[code]} (${code})` : code)).join(", ")),
      h("h4", {}, "Rattacher à une CPTS voisine"),
      zone.adjacent_cpts.length
        ? h("table", {}, h("thead", {}, h("tr", {}, h("th", {}, "CPTS"), h("th", {}, "Population"), h("th", {}, "Taille"), h("th", {}, ""))),
            h("tbody", {}, neighbours))
        : h("p", { class: "muted" }, "Aucune CPTS voisine : la zone appelle une nouvelle CPTS."),
      h("div", { id: "white-attach" }));
  }

  async tryAttach(zone, neighbour) {
    const box = $("#white-attach");
    clear(box, h("p", { class: "muted" }, "Simulation du rattachement…"));
    try {
      const [result, actions] = await Promise.all([
        this.api.simulate({ cpts_id: neighbour.id, add: zone.communes }),
        this.api.actions(neighbour.id).catch(() => ({ edit: false })),
      ]);
      const headroom = headroomText(result.headroom);
      clear(box, h("div", { class: "notice info", "data-simulation": neighbour.id },
        h("strong", {}, `${neighbour.name} avec la zone (rien n'est enregistré)`),
        h("p", {}, `${formatInteger(result.population_before)} → ${formatInteger(result.population)} habitants (population municipale ${result.population_year}) · ${sizeClassLabel(neighbour.size_class)} → ${sizeClassLabel(result.size_class)}`),
        h("p", { class: "small" }, headroom.next, " ", headroom.previous),
        (result.warnings || []).length ? h("ul", { class: "small" }, result.warnings.map((w) => h("li", {}, w.detail))) : null,
        actions.edit ? h("button", { type: "button", class: "primary", onclick: () => this.onAttach(neighbour.id, zone.communes) },
          "Ouvrir en édition avec la zone ajoutée") : h("p", { class: "muted small" }, "Vous ne pouvez pas modifier cette CPTS.")));
    } catch (error) {
      clear(box, h("p", { class: "notice error" }, error.message));
    }
  }
}
