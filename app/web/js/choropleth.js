// An indicator on the map (coverage and zones blanches views): the user picks a column of an
// indicator table they may read; GET /api/indicators/map gives each commune's class colour
// and the legend; the communes' tiles are painted with it until « Aucun » is chosen again.
// `indicatorOptions` and `choroplethStyle` are pure and unit-tested with `node --test`.

import { clear, h } from "./dom.js";
import { choroplethColour, legendLines } from "./indicators.js";
import { plural } from "./format.js";

const NO_VALUE = { fill: true, fillColor: "#f2f2f2", fillOpacity: 0.7, weight: 0.4, color: "#999", opacity: 0.5 };

/** The columns that can be mapped (the current version of each readable table). */
export function indicatorOptions(tables) {
  const options = [];
  for (const table of tables || []) {
    const current = (table.versions || []).find((v) => v.version_id === table.current_version) || table.versions?.[0];
    for (const column of current?.columns || []) {
      if (column.aggregation === "share") continue;  // a categorical column needs its category
      options.push({ value: `${table.table}.${column.key}`, label: `${column.label} (${table.title}, ${current.vintage})` });
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
  constructor({ api, root, onChange }) {
    this.api = api;
    this.answer = null;
    this.onChange = onChange;
    this.select = h("select", { id: "choropleth-indicator" }, h("option", { value: "" }, "Aucun (couverture par les CPTS)"));
    this.legend = h("div", { id: "choropleth-legend", class: "choropleth-legend", "aria-live": "polite" });
    this.select.addEventListener("change", () => this.choose(this.select.value));
    clear(root, h("label", { for: "choropleth-indicator" }, "Indicateur affiché sur les communes"), this.select, this.legend);
  }

  async load() {
    try {
      const options = indicatorOptions(await this.api.get("/api/indicators/tables"));
      this.select.append(...options.map((o) => h("option", { value: o.value }, o.label)));
      if (!options.length) this.legend.append(h("p", { class: "muted small" }, "Aucune table d'indicateurs lisible."));
    } catch (error) {
      clear(this.legend, h("p", { class: "notice error" }, error.message));
    }
  }

  async choose(indicator) {
    if (!indicator) {
      this.answer = null;
      clear(this.legend);
      delete this.legend.dataset.indicator;
      this.onChange();
      return;
    }
    clear(this.legend, h("p", { class: "muted" }, "Calcul des classes…"));
    try {
      const answer = await this.api.get("/api/indicators/map", { indicator });
      if (this.select.value !== indicator) return;  // another choice came since
      this.answer = answer;
      this.legend.dataset.indicator = indicator;
      clear(this.legend,
        h("p", { class: "small" }, `${answer.indicator?.label ?? indicator}${answer.unit ? ` (${answer.unit})` : ""}`),
        h("ul", { class: "legend-keys" }, legendLines(answer).map((line) => {
          const swatch = h("span", { class: "swatch", "data-colour": line.colour });
          swatch.style.background = line.colour;
          return h("li", {}, swatch, `${line.label} — ${plural(line.count ?? 0, "commune")}`);
        }), h("li", {}, h("span", { class: "swatch no-value" }), "Sans valeur")),
        h("p", { class: "muted small" }, "Les communes s'affichent en zoomant sur un territoire."));
      this.onChange();
    } catch (error) {
      clear(this.legend, h("p", { class: "notice error" }, error.message));
    }
  }
}
