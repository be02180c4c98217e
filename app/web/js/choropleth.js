// An indicator on the map (coverage and zones blanches views): the user picks a column of an
// indicator table they may read (or, for a column by category, the share of the population in
// one category: « part de la population en ZIP »); GET /api/indicators/map gives the class
// colour of each area and the legend. From the communes' zoom on, the communes' tiles are
// painted with it; below (the national overview), each CPTS outline in the colour of its
// aggregated value (level=cpts). The legend follows the level shown: title and unit, classes
// as a list (read by screen readers), « Sans donnée », source and vintage.
// `indicatorOptions` and `choroplethStyle` are pure and unit-tested with `node --test`.

import { clear, h } from "./dom.js";
import {
  areaCount, choroplethColour, legendLines, legendSource, legendTitle, NO_DATA_COLOUR,
} from "./indicators.js";

const NO_VALUE = { fill: true, fillColor: NO_DATA_COLOUR, fillOpacity: 0.8, weight: 0.4, color: "#777", opacity: 0.5 };
const LEVEL_NOTES = {
  commune: "Valeur de chaque commune.",
  cpts: "Valeur agrégée de chaque CPTS (vue nationale) ; les communes s'affichent en zoomant.",
};

/**
 * The indicators that can be mapped (the current version of each readable table): each
 * column, and for a column by category one entry per category, its share of the population.
 * `value` identifies the entry in the chooser; `indicator` and `category` are what the
 * server is asked.
 */
export function indicatorOptions(tables) {
  const options = [];
  for (const table of tables || []) {
    const current = (table.versions || []).find((v) => v.version_id === table.current_version) || table.versions?.[0];
    for (const column of current?.columns || []) {
      const indicator = `${table.table}.${column.key}`;
      const where = `(${table.title}, ${current.vintage})`;
      if (column.aggregation === "share") {
        for (const category of column.categories || []) {
          options.push({ value: `${indicator}:${category.value}`, indicator, category: category.value,
                         label: `${column.label} : part de la population en ${category.label} ${where}` });
        }
      } else {
        options.push({ value: indicator, indicator, label: `${column.label} ${where}` });
      }
    }
  }
  return options;
}

/** The style of a commune on the indicator map (grey when it has no value). */
export function choroplethStyle(answer, code) {
  const colour = choroplethColour(answer, code);
  if (!colour) return NO_VALUE;
  return { fill: true, fillColor: colour, fillOpacity: 0.8, weight: 0.4, color: "#555", opacity: 0.5 };
}

export class ChoroplethControl {
  /** `level`: « commune » or « cpts », the level the map shows now (see `setLevel`). */
  constructor({ api, root, onChange, level = "commune" }) {
    this.api = api;
    this.onChange = onChange;
    this.level = level;
    this.options = new Map();
    this.choice = null;    // the chosen option
    this.answers = {};     // its answer per level, fetched when the level is first shown
    this.select = h("select", { id: "choropleth-indicator" }, h("option", { value: "" }, "Aucun (couverture par les CPTS)"));
    this.legend = h("div", { id: "choropleth-legend", class: "choropleth-legend", "aria-live": "polite" });
    this.select.addEventListener("change", () => this.choose(this.select.value));
    clear(root, h("label", { for: "choropleth-indicator" }, "Indicateur affiché sur la carte"), this.select, this.legend);
  }

  /** The answer painting the communes' tiles (null: coverage colours). */
  get answer() { return this.answers.commune ?? null; }

  /** The answer painting the CPTS outlines of the overview (null: coverage colours). */
  get cptsAnswer() { return this.answers.cpts ?? null; }

  async load() {
    try {
      const options = indicatorOptions(await this.api.get("/api/indicators/tables"));
      this.options = new Map(options.map((o) => [o.value, o]));
      this.select.append(...options.map((o) => h("option", { value: o.value }, o.label)));
      if (!options.length) this.legend.append(h("p", { class: "muted small" }, "Aucune table d'indicateurs lisible."));
    } catch (error) {
      clear(this.legend, h("p", { class: "notice error" }, error.message));
    }
  }

  /** The map now shows communes (« commune ») or CPTS outlines (« cpts »). */
  async setLevel(level) {
    if (level === this.level) return;
    this.level = level;
    if (this.choice) await this.show();
  }

  async choose(value) {
    this.choice = this.options.get(value) ?? null;
    this.answers = {};
    if (!this.choice) {
      clear(this.legend);
      delete this.legend.dataset.indicator;
      delete this.legend.dataset.level;
      this.onChange();
      return;
    }
    await this.show();
  }

  /** Draw the chosen indicator at the current level (fetched the first time). */
  async show() {
    const { choice, level } = this;
    if (!this.answers[level]) {
      clear(this.legend, h("p", { class: "muted" }, "Calcul des classes…"));
      const params = { indicator: choice.indicator, level };
      if (choice.category) params.category = choice.category;
      let answer;
      try {
        answer = await this.api.get("/api/indicators/map", params);
      } catch (error) {
        if (this.choice === choice) clear(this.legend, h("p", { class: "notice error" }, error.message));
        return;
      }
      if (this.choice !== choice) return;  // another choice came since
      this.answers[level] = answer;
      if (this.level !== level) return;    // the level changed meanwhile: its own call draws it
    }
    this.renderLegend(this.answers[level], level);
    this.onChange();
  }

  renderLegend(answer, level) {
    this.legend.dataset.indicator = this.choice.value;
    this.legend.dataset.level = level;
    const swatch = (colour, className = "swatch") => {
      const element = h("span", { class: className, "aria-hidden": "true", "data-colour": colour });
      element.style.background = colour;
      return element;
    };
    const lines = legendLines(answer);
    clear(this.legend,
      h("p", { class: "small choropleth-title" }, legendTitle(answer)),
      h("p", { class: "muted small" }, LEVEL_NOTES[level]),
      h("ul", { class: "legend-keys", "aria-label": `Classes (${answer.scheme === "jenks" ? "seuils naturels de Jenks" : "quantiles"})` },
        lines.map((line) => h("li", { "data-colour": line.colour }, swatch(line.colour),
          `${line.label} — ${areaCount(line.count ?? 0, level)}`)),
        h("li", { "data-colour": NO_DATA_COLOUR, class: "no-data" }, swatch(NO_DATA_COLOUR, "swatch no-value"), "Sans donnée"),
        level === "cpts" ? h("li", { class: "no-cpts" }, swatch("#ffffff"), "Hors des CPTS affichées") : null),
      lines.length ? null : h("p", { class: "muted small" }, "Aucune valeur à afficher."),
      h("p", { class: "muted small choropleth-source" }, legendSource(answer)));
  }
}
