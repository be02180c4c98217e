import assert from "node:assert/strict";
import { test } from "node:test";

import { chartLook, departementBars, stageBars } from "../charts.js";

const report = {
  by_stage: [
    { status: "lettre_intention", label: "lettre d'intention", counted: true, coverage_rate: 0.1234 },
    { status: "aci_signe", label: "ACI signé", counted: false, coverage_rate: 0.5 },
  ],
  by_departement: [
    { departement: "06", nom: "Alpes-Maritimes", coverage_rate: 0.8 },
    { departement: "04", nom: "Alpes-de-Haute-Provence", coverage_rate: 0.31 },
  ],
};

test("the stage chart gives each stage's share of the population, in percent, saying which are not counted", () => {
  assert.deepEqual(stageBars(report), [
    { label: "lettre d'intention", value: 12.3, counted: true },
    { label: "ACI signé (non compté)", value: 50, counted: false },
  ]);
});

test("the département chart puts the least covered first, named with its code", () => {
  assert.deepEqual(departementBars(report).map((bar) => [bar.label, bar.value]),
    [["Alpes-de-Haute-Provence (04)", 31], ["Alpes-Maritimes (06)", 80]]);
});

test("the charts take the theme's font and colours, with the default theme's as fallback", () => {
  const style = (values) => ({ fontFamily: "Marianne, arial, sans-serif", color: "#161616",
    getPropertyValue: (name) => values[name] ?? "" });
  assert.deepEqual(chartLook(style({ "--accent": " #000091", "--chart-muted": "#6a6af4", "--ok": "#18753c" })),
    { font: "Marianne, arial, sans-serif", ink: "#161616", counted: "#000091", notCounted: "#6a6af4", departement: "#18753c" });
  const fallback = chartLook(style({}));
  assert.equal(fallback.counted, "#00558c");
  assert.equal(fallback.notCounted, "#6a89a3");
});
