import assert from "node:assert/strict";
import { test } from "node:test";

import {
  areaCount, choroplethColour, comparisonTitles, coverageNote, formatResult, indicatorRows, legendLines,
  legendSource, legendTitle, mapValueText,
} from "../indicators.js";

const S = "\u202f";
const NBSP = "\u00a0";

const ANSWER = {
  comparisons: [
    { level: "departement", code: "06", nom: "Alpes-Maritimes" },
    { level: "region", code: "93", nom: "Provence-Alpes-Côte d'Azur" },
    { level: "france", code: null, nom: "France" },
  ],
  tables: [{
    table: "essai", title: "Essai",
    indicators: [
      { key: "medecins", label: "Médecins", unit: "médecins", aggregation: "sum", source: "ARS", vintage: "2024",
        result: { value: 1252, coverage: 0.5 },
        comparisons: { departement: { value: 352 }, region: { value: 1252 }, france: { value: 1252 } } },
      { key: "zonage", label: "Zonage", aggregation: "share", source: "ARS", vintage: "2024",
        result: { categories: [{ value: "1_ZIP", label: "ZIP", share: 0.345 }, { value: "2_ZAC", label: "ZAC", share: 0.5 },
                                { value: "3_HZ", label: "hors zonage", share: 0 }], coverage: 1 },
        comparisons: {} },
    ],
  }],
};

test("sums, means and shares as people read them", () => {
  const [medecins, zonage] = ANSWER.tables[0].indicators;
  assert.equal(formatResult(medecins, medecins.result), `1${S}252 médecins`);
  assert.equal(formatResult({ aggregation: "mean", unit: "%" }, { value: 20.1234 }), "20,1 %");
  assert.equal(formatResult(zonage, zonage.result), `ZIP 34,5${NBSP}%, ZAC 50,0${NBSP}%`);
  assert.equal(formatResult(medecins, { value: null }), "—");
  assert.equal(formatResult(medecins, undefined), "—");
});

test("the coverage note appears only when values are missing", () => {
  assert.equal(coverageNote({ coverage: 0.5 }), `valeurs pour 50${NBSP}% de la population`);
  assert.equal(coverageNote({ coverage: 1 }), "");
});

test("one row per indicator with its comparison columns", () => {
  const rows = indicatorRows(ANSWER);
  assert.deepEqual(rows.map((r) => r.key), ["essai.medecins", "essai.zonage"]);
  assert.deepEqual(rows[0].comparisons, ["352 médecins", `1${S}252 médecins`, `1${S}252 médecins`]);
  assert.deepEqual(rows[1].comparisons, ["—", "—", "—"]);
  assert.equal(rows[0].source, "ARS, 2024");
  assert.deepEqual(comparisonTitles(ANSWER), ["Alpes-Maritimes", "Provence-Alpes-Côte d'Azur", "France"]);
});

test("map colours and legend", () => {
  const map = { classes: { "06083": "#fd8d3c" },
                legend: [{ colour: "#fd8d3c", label: "1 à 2,8", count: 2, lower: 1, upper: 2.8 }] };
  assert.equal(choroplethColour(map, "06083"), "#fd8d3c");
  assert.equal(choroplethColour(map, "06088"), null);
  assert.deepEqual(legendLines(map), [{ colour: "#fd8d3c", label: "1 à 2,8", count: 2 }]);
});

test("a share's classes read in per cent, with the category in the title", () => {
  const map = {
    category: "1_ZIP", unit: "part de la population en ZIP", source: "ARS", vintage: "2024",
    indicator: { label: "Zonage médecins", aggregation: "share", source: "", vintage: "" },
    legend: [{ colour: "#fdae6b", label: "0 à 0,25", count: 3, lower: 0, upper: 0.25 },
             { colour: "#d94801", label: "0,25 à 1", count: 1, lower: 0.25, upper: 1 }],
  };
  assert.deepEqual(legendLines(map).map((line) => line.label),
    [`0,0${NBSP}% à 25,0${NBSP}%`, `25,0${NBSP}% à 100,0${NBSP}%`]);
  assert.equal(legendTitle(map), "Zonage médecins : part de la population en ZIP");
  assert.equal(legendSource(map), "Source : ARS, millésime 2024");
  const count = { indicator: { label: "Pharmacies", unit: "pharmacies", aggregation: "sum", source: "ARS PACA", vintage: "2025" },
                  legend: [{ colour: "#fff", label: "1 à 3 pharmacies", count: 2, lower: 1, upper: 3 }] };
  assert.equal(legendLines(count)[0].label, "1 à 3 pharmacies");
  assert.equal(legendTitle(count), "Pharmacies (pharmacies)");
  assert.equal(legendSource(count), "Source : ARS PACA, millésime 2025");
  assert.equal(areaCount(2, "cpts"), "2 CPTS");
  assert.equal(areaCount(1, "commune"), `1${NBSP}commune`);
  assert.equal(areaCount(3, "commune"), `3${NBSP}communes`);
});

test("one area's value on the map, as the pointer reads it", () => {
  const lits = { indicator: { unit: "lits", aggregation: "sum" }, values: { 7: 3900, 8: 2.25 } };
  assert.equal(mapValueText(lits, "7"), `3${S}900 lits`);
  assert.equal(mapValueText(lits, "8"), "2,3 lits");
  assert.equal(mapValueText(lits, "9"), "sans donnée");
  const share = { category: "ZIP", indicator: { aggregation: "share" }, values: { 7: 0.25 } };
  assert.equal(mapValueText(share, "7"), `25,0${NBSP}%`);
  const zones = { indicator: { aggregation: "share" }, values: { "06088": "1_ZIP" },
                  legend: [{ value: "1_ZIP", label: "ZIP" }] };
  assert.equal(mapValueText(zones, "06088"), "ZIP");
});
