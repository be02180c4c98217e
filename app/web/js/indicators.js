// The territorial diagnosis in the edit panel: every indicator table the user may read,
// aggregated over the perimeter being edited (GET /api/indicators?units=…), beside the same
// figures for its département, its région and France; and the legend of an indicator map
// (GET /api/indicators/map). Pure formatting functions first (tested with node), then the DOM.

import { formatInteger, formatPercent, plural } from "./format.js";

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

/** The fill of an area without a value on an indicator map (communes and CPTS alike). */
export const NO_DATA_COLOUR = "#bdbdbd";

/** The colour of an area on an indicator map (null: no value). */
export function choroplethColour(mapAnswer, code) {
  return mapAnswer?.classes?.[code] ?? null;
}

/** Whether the map shows the share of the population in one category (values from 0 to 1). */
function isShare(mapAnswer) {
  return Boolean(mapAnswer?.category) && mapAnswer?.indicator?.aggregation === "share";
}

/** How many areas: « 3 communes », « 1 CPTS ». */
export function areaCount(count, level) {
  return level === "cpts" ? `${formatInteger(count)} CPTS` : plural(count, "commune");
}

/**
 * Legend lines of an indicator map: colour, label and how many areas; the classes of a share
 * in per cent (« 25,0 % à 50,0 % »), the others as the server wrote them.
 */
export function legendLines(mapAnswer) {
  const share = isShare(mapAnswer);
  return (mapAnswer?.legend || []).map((entry) => ({
    colour: entry.colour, count: entry.count,
    label: share && entry.lower !== undefined
      ? `${formatPercent(entry.lower)} à ${formatPercent(entry.upper)}` : entry.label,
  }));
}

/** The legend's title: « Médecins généralistes (médecins) », « Zonage médecins : part de la
 * population en ZIP ». */
export function legendTitle(mapAnswer) {
  const indicator = mapAnswer?.indicator || {};
  const label = indicator.label ?? "";
  if (isShare(mapAnswer)) return `${label} : ${mapAnswer.unit}`;
  return indicator.unit ? `${label} (${indicator.unit})` : label;
}

/** The value of one area on an indicator map as people read it: « 3 900 lits », « 25,0 % »,
 * « sans donnée ». */
export function mapValueText(mapAnswer, key) {
  const value = mapAnswer?.values?.[key];
  if (value === undefined || value === null) return "sans donnée";
  if (isShare(mapAnswer)) return formatPercent(value);
  if (typeof value !== "number") {  // a category
    return (mapAnswer.legend || []).find((entry) => entry.value === value)?.label ?? String(value);
  }
  const unit = mapAnswer.indicator?.unit;
  const text = Number.isInteger(value) ? formatInteger(value) : NUMBER.format(value);
  return unit ? `${text} ${unit}` : text;
}

/** Where the figures come from: « Source : ARS, millésime 2024 ». */
export function legendSource(mapAnswer) {
  const indicator = mapAnswer?.indicator || {};
  const source = indicator.source || mapAnswer?.source;
  const vintage = indicator.vintage || mapAnswer?.vintage;
  return [source ? `Source : ${source}` : null, vintage ? `millésime ${vintage}` : null]
    .filter(Boolean).join(", ");
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
  // four columns of figures are wider than the panel at 800 px: the table scrolls sideways in
  // its own region (reachable and scrollable from the keyboard) rather than being cut
  const region = cell("div", null, "table-scroll");
  Object.assign(region, { tabIndex: 0 });
  region.setAttribute("role", "region");
  region.setAttribute("aria-label", "Diagnostic du périmètre");
  region.append(table);
  box.append(region);
}

/**
 * Fetch and draw the indicators of the units being edited; a newer call wins. `click`
 * ({ started, metrics }) is the edit click that asked for them: the time from it to the
 * indicators drawn goes to `metrics.indicatorClicks` (benchmarks/indicators.py reads it).
 */
export async function refreshIndicators(api, codes, click = null) {
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
    if (seq === sequence) {
      renderIndicators(box, data);
      click?.metrics.indicatorClicks?.push(performance.now() - click.started);
    }
  } catch (error) {
    if (error.name !== "AbortError" && seq === sequence) {
      box.replaceChildren(cell("p", `Indicateurs indisponibles : ${error.message}`, "muted small"));
    }
  }
}
