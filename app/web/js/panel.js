// The figures of the perimeter being edited, redrawn after every change: population and its
// vintage, size class and rule, headroom, number of communes, warnings.

import { announce } from "./announce.js";
import { $, clear, h } from "./dom.js";
import {
  formatInteger, formatPopulation, headroomText, overlapLines, plural, sizeClassLabel,
  nameCodes, statusLabel, warningLevel,
} from "./format.js";

export function renderPending(count) {
  const box = $("#edit-figures");
  box.dataset.state = "pending";
  const units = box.querySelector("[data-figure=units]");
  if (units) units.textContent = plural(count, "commune");
  const population = box.querySelector("[data-figure=population]");
  if (population) population.classList.add("pending");
}

export function renderEmpty() {
  const box = $("#edit-figures");
  box.dataset.state = "ready";
  clear(box, h("p", { class: "muted" }, "Périmètre vide : cliquez sur des communes pour le composer."));
  clear($("#edit-warnings"));
  announce("Périmètre vide.");
}

/** The figures as one sentence, said once per change (the panel itself is not a live region). */
export function figuresSentence(result, change = "") {
  return `${change ? `${change}. ` : ""}Population : ${plural(result.population, "habitant")}, `
    + `${sizeClassLabel(result.size_class)}, ${plural(result.units, "commune")}.`;
}

/** @param result the answer of POST /api/simulations/perimeter (or a CPTS read)
 * @param change what changed, said before the figures (« Menton ajoutée ») */
export function renderFigures(result, { seq, names = {}, saved = true, change = "" } = {}) {
  const box = $("#edit-figures");
  const headroom = headroomText(result.headroom);
  clear(box,
    h("dl", {},
      h("dt", {}, "Population"),
      h("dd", {}, h("span", { class: "big", "data-figure": "population", "data-value": result.population },
        formatInteger(result.population)), ` habitants`,
        h("div", { class: "muted small" }, `population municipale ${result.population_year}`)),
      h("dt", {}, "Taille ACI"),
      h("dd", {}, h("span", { class: "class-badge", "data-figure": "size-class" }, sizeClassLabel(result.size_class)),
        h("div", { class: "muted small" }, `règle ${result.size_rule}, ${result.size_rule_bound ?? ""}`),
        result.funding_ceiling_eur ? h("div", { class: "muted small" },
          `plafond annuel de la taille : ${formatInteger(result.funding_ceiling_eur)} €`) : null),
      h("dt", {}, "Marge"),
      h("dd", { "data-figure": "headroom" }, h("div", {}, headroom.next), h("div", {}, headroom.previous)),
      h("dt", {}, "Communes"),
      h("dd", { "data-figure": "units" }, plural(result.units, "commune")),
      h("dt", {}, "Départements"),
      h("dd", {}, (result.departements || []).join(", ") || "—"),
      saved && result.population_before !== undefined && result.population_before !== null
        && result.population_before !== result.population
        ? [h("dt", {}, "Avant"), h("dd", {}, formatPopulation(result.population_before))]
        : null));
  box.dataset.state = "ready";
  if (seq !== undefined) box.dataset.seq = String(seq);
  renderWarnings(result, names);
  announce(figuresSentence(result, change));
}

export function renderWarnings(result, names = {}) {
  const box = $("#edit-warnings");
  const warnings = result.warnings || [];
  const overlaps = result.overlaps || [];
  const items = [];
  if (overlaps.length) {
    for (const [index, line] of overlapLines(overlaps, names).entries()) {
      const severity = overlaps[index].severity;
      items.push(h("li", { class: severity === "conflict" ? "conflict" : "" },
        `${severity === "conflict" ? "Conflit" : severity === "warning" ? "Chevauchement" : "Chevauchement (brouillons)"} avec ${line}`));
    }
  }
  for (const warning of warnings) {
    if (warning.code === "overlap") continue;
    items.push(h("li", { class: warningLevel(warning, overlaps), "data-warning": warning.code }, nameCodes(warning.detail, names)));
  }
  const shown = items.slice(0, 6);
  const more = items.slice(6);
  clear(box, items.length
    ? [h("h4", {}, `Alertes (${items.length})`), h("ul", {}, shown),
       more.length ? h("details", {}, h("summary", {}, `${more.length} autres alertes`), h("ul", {}, more)) : null]
    : h("p", { class: "notice ok" }, "Aucune alerte : un seul morceau, sans enclave ni chevauchement."));
}

export function renderTitle(cpts, { dirty, readOnly, newName }) {
  const title = cpts
    ? `${cpts.name} — ${statusLabel(cpts.status)}, version ${cpts.version}`
    : `Nouvelle CPTS « ${newName ?? ""} » (non enregistrée)`;
  clear($("#edit-title"), title, dirty ? h("span", { class: "muted small" }, " · modifications non enregistrées") : null);
  $("#edit-readonly").hidden = !readOnly;
}
