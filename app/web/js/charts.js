// What `GET /api/coverage` answers, drawn in the zones blanches view: coverage by stage and by
// département as charts (Chart.js, served by the app, loaded the first time it is needed),
// the overlapping communes and pairs of CPTS as lists one can open, and the exports.

import { $, clear, h } from "./dom.js";
import { formatInteger, plural } from "./format.js";

let library = null;

/** Chart.js, loaded once from the app's own copy (a classic script: `window.Chart`). */
export function loadChartLibrary(url) {
  if (window.Chart) return Promise.resolve(window.Chart);
  if (!library) {
    library = new Promise((resolve, reject) => {
      const script = document.createElement("script");
      script.src = url;
      script.onload = () => resolve(window.Chart);
      script.onerror = () => { library = null; reject(new Error("Graphiques indisponibles.")); };
      document.head.append(script);
    });
  }
  return library;
}

/** The bars of the stage chart: the share of the population each stage covers (a stage not
 * counted as covered says so in its label, not only by its paler colour). */
export function stageBars(report) {
  return report.by_stage.map((stage) => ({
    label: stage.counted ? stage.label : `${stage.label} (non compté)`,
    value: Math.round(stage.coverage_rate * 1000) / 10, counted: stage.counted,
  }));
}

/** The charts' font and colours, from the theme's style sheet (its custom properties). */
export function chartLook(style) {
  const value = (name, fallback) => style.getPropertyValue(name).trim() || fallback;
  return {
    font: style.fontFamily, ink: style.color,
    counted: value("--accent", "#00558c"), notCounted: value("--chart-muted", "#6a89a3"),
    departement: value("--ok", "#17643a"),
  };
}

/** The bars of the département chart, least covered first. */
export function departementBars(report) {
  return [...report.by_departement]
    .map((d) => ({ label: `${d.nom ?? d.departement} (${d.departement})`, value: Math.round(d.coverage_rate * 1000) / 10 }))
    .sort((a, b) => a.value - b.value || a.label.localeCompare(b.label, "fr"));
}

export class CoverageCharts {
  constructor({ api, map, communes, chartUrl }) {
    this.api = api;
    this.map = map;
    this.communes = communes;
    this.chartUrl = chartUrl;
    this.charts = [];
  }

  async render(report, params) {
    const box = $("#white-charts");
    for (const chart of this.charts) chart.destroy();
    this.charts = [];
    const stages = stageBars(report);
    const departements = departementBars(report);
    const stageCanvas = h("canvas", { id: "chart-stages", role: "img",
      "aria-label": `Part de la population couverte par stade : ${stages.map((s) => `${s.label} ${s.value} %`).join(", ")}` });
    const depCanvas = h("canvas", { id: "chart-departements", role: "img",
      "aria-label": `Part de la population couverte par département : ${departements.map((d) => `${d.label} ${d.value} %`).join(", ")}` });
    clear(box,
      h("h3", {}, "Couverture par stade"), h("div", { class: "chart", style: null }, stageCanvas),
      h("h3", {}, "Couverture par département"),
      h("div", { class: "chart", "data-bars": departements.length }, depCanvas));
    depCanvas.parentElement.style.height = `${Math.max(90, 26 * departements.length + 40)}px`;
    this.renderOverlaps(report);
    this.renderExports(params);
    let Chart;
    try { Chart = await loadChartLibrary(this.chartUrl); } catch (error) {
      box.append(h("p", { class: "notice error" }, error.message));
      return;
    }
    const look = chartLook(getComputedStyle(box));
    Chart.defaults.font.family = look.font;
    Chart.defaults.color = look.ink;
    const common = {
      animation: false, responsive: true, maintainAspectRatio: false, indexAxis: "y",
      scales: { x: { min: 0, max: 100, ticks: { callback: (value) => `${value} %` } } },
      plugins: { legend: { display: false }, tooltip: { callbacks: { label: (item) => `${String(item.raw).replace(".", ",")} % de la population` } } },
    };
    this.charts.push(new Chart(stageCanvas, {
      type: "bar", options: common,
      data: { labels: stages.map((s) => s.label), datasets: [{ data: stages.map((s) => s.value),
        backgroundColor: stages.map((s) => (s.counted ? look.counted : look.notCounted)) }] },
    }));
    this.charts.push(new Chart(depCanvas, {
      type: "bar", options: common,
      data: { labels: departements.map((d) => d.label), datasets: [{ data: departements.map((d) => d.value), backgroundColor: look.departement }] },
    }));
    box.dataset.drawn = String(Date.now());
  }

  renderOverlaps(report) {
    const box = $("#white-overlaps");
    const units = report.overlaps || [];
    const pairs = report.overlap_pairs || [];
    const zoomTo = async (codes) => {
      this.communes.highlight(codes);
      try {
        const { bbox } = await this.api.units(codes.slice(0, 5000));
        if (bbox) this.map.fitBounds([[bbox[1], bbox[0]], [bbox[3], bbox[2]]], { maxZoom: 12, padding: [30, 30] });
      } catch { /* stay */ }
    };
    clear(box,
      h("details", { id: "overlap-communes", open: units.length > 0 && units.length <= 20 },
        h("summary", {}, `${plural(units.length, "commune")} en chevauchement`),
        units.length ? h("ul", { class: "overlap-list" }, units.map((u) => h("li", {},
          h("button", { type: "button", class: "link", "data-overlap-commune": u.commune, onclick: () => zoomTo([u.commune]) },
            `${u.nom} (${u.commune})`),
          ` — ${formatInteger(u.population)} hab. · ${u.cpts.map((c) => c.name ?? "CPTS non visible").join(" · ")}`)))
          : h("p", { class: "muted" }, "Aucune commune revendiquée par plusieurs CPTS.")),
      h("details", { id: "overlap-pairs" },
        h("summary", {}, `${plural(pairs.length, "paire")} de CPTS qui se chevauchent`),
        pairs.length ? h("ul", { class: "overlap-list" }, pairs.map((p) => h("li", {},
          h("button", { type: "button", class: "link", onclick: () => zoomTo(p.communes) },
            p.cpts.map((c) => c.name ?? "CPTS non visible").join(" / ")),
          ` — ${plural(p.communes.length, "commune")}, ${formatInteger(p.population)} hab.`)))
          : h("p", { class: "muted" }, "Aucune paire.")));
  }

  renderExports(params) {
    const link = (format, label, extra = {}) => h("a", {
      href: `/api/coverage?${new URLSearchParams({ ...params, format, ...extra })}`, download: "", "data-format": format }, label);
    clear($("#white-exports"),
      h("h3", {}, "Exporter"),
      h("div", { class: "row" }, link("xlsx", "Classeur XLSX"), link("csv", "CSV (zones)"),
        link("csv", "CSV (chevauchements)", { table: "overlaps" }), link("geojson", "GeoJSON")),
      h("p", { class: "muted small" },
        "Pour Excel, prenez le XLSX : les codes INSEE y restent du texte (un CSV ouvert d'un double-clic change 04013 en 4013)."));
  }
}
