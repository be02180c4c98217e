// The territorial diagnosis in the edit panel: every indicator table the user may read,
// aggregated over the perimeter being edited (GET /api/indicators?units=…), beside the same
// figures for its département, its région and France; and the legend of an indicator map
// (GET /api/indicators/map). Pure formatting functions first (tested with node), then the DOM.

import { formatInteger, formatPercent } from "./format.js";

const NUMBER = new Intl.NumberFormat("fr-FR", { maximumFractionDigits: 1 });

/** One aggregate as people read it: « 52 médecins », « 20,1 % », « ZIP 34,5 %, ZAC 50 % ». */
export function formatResult(indicator, result) {
  if (!result) return "—";
  if (indicator.aggregation === "share") {
    const parts = (result.categories || []).filter((c) => c.share)
      .map((c) => `${c.label} ${formatPercent(c.share)}`);
    return parts.length ? parts.join(", ") : "—";
  }
  if (result.value === null || result.value === undefined) return "—";
  const value = indicator.aggregation === "sum" && Number.isInteger(result.value)
    ? formatInteger(result.value) : NUMBER.format(result.value);
  return indicator.unit ? `${value} ${indicator.unit}` : value;
}

/** The coverage note of a result, when part of the population has no value. */
export function coverageNote(result) {
  if (!result || result.coverage === null || result.coverage === undefined || result.coverage >= 0.995) return "";
  return `valeurs pour ${formatPercent(result.coverage, 0)} de la population`;
}

/** Rows of the panel's table: one per indicator, with the perimeter and each comparison. */
export function indicatorRows(answer) {
  const levels = (answer.comparisons || []).map((c) => c.level);
  const rows = [];
  for (const table of answer.tables || []) {
    for (const indicator of table.indicators || []) {
      rows.push({
        table: table.title,
        key: `${table.table}.${indicator.key}`,
        label: indicator.label,
        source: `${indicator.source}, ${indicator.vintage}`,
        value: formatResult(indicator, indicator.result),
        note: coverageNote(indicator.result),
        comparisons: levels.map((level) => formatResult(indicator, indicator.comparisons?.[level])),
      });
    }
  }
  return rows;
}

/** Column titles of the comparisons: « Alpes-Maritimes », « Provence-Alpes-Côte d'Azur », « France ». */
export function comparisonTitles(answer) {
  return (answer.comparisons || []).map((c) => c.nom || c.level_label || c.level);
}

/** The colour of an area on an indicator map (null: no value, left unpainted). */
export function choroplethColour(mapAnswer, code) {
  return mapAnswer?.classes?.[code] ?? null;
}

/** Legend lines of an indicator map: colour, label and how many areas. */
export function legendLines(mapAnswer) {
  return (mapAnswer?.legend || []).map((entry) => ({
    colour: entry.colour, label: entry.label, count: entry.count,
  }));
}

// --- The panel block ----------------------------------------------------------------------

let controller = null;
let sequence = 0;

function block() {
  let box = document.getElementById("edit-indicators");
  if (!box) {
    const after = document.getElementById("edit-warnings");
    if (!after) return null;
    box = document.createElement("section");
    box.id = "edit-indicators";
    box.className = "indicators";
    box.setAttribute("aria-live", "polite");
    after.after(box);
  }
  return box;
}

function cell(tag, text, className) {
  const element = document.createElement(tag);
  element.textContent = text;
  if (className) element.className = className;
  return element;
}

export function renderIndicators(box, answer) {
  const rows = indicatorRows(answer);
  box.replaceChildren();
  box.dataset.state = "ready";
  if (!rows.length) return;
  box.append(cell("h4", "Diagnostic"));
  const table = document.createElement("table");
  table.className = "indicators-table small";
  const head = document.createElement("tr");
  head.append(cell("th", "Indicateur"), cell("th", "Périmètre"),
    ...comparisonTitles(answer).map((title) => cell("th", title)));
  table.append(head);
  for (const row of rows) {
    const line = document.createElement("tr");
    line.dataset.indicator = row.key;
    const label = cell("td", row.label);
    label.title = `${row.table} — ${row.source}`;
    const value = cell("td", row.value, "value");
    if (row.note) value.append(cell("div", row.note, "muted small"));
    line.append(label, value, ...row.comparisons.map((text) => cell("td", text, "muted")));
    table.append(line);
  }
  box.append(table);
}

/** Fetch and draw the indicators of the units being edited; a newer call wins. */
export async function refreshIndicators(api, codes) {
  const box = block();
  if (!box) return;
  const seq = ++sequence;
  if (controller) controller.abort();
  if (!codes.length) { box.replaceChildren(); return; }
  controller = new AbortController();
  box.dataset.state = "pending";
  try {
    const { data } = await api.request("GET", "/api/indicators",
      { params: { units: codes.join(",") }, signal: controller.signal });
    if (seq === sequence) renderIndicators(box, data);
  } catch (error) {
    if (error.name !== "AbortError" && seq === sequence) {
      box.replaceChildren(cell("p", `Indicateurs indisponibles : ${error.message}`, "muted small"));
    }
  }
}
