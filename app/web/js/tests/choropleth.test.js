import assert from "node:assert/strict";
import { test } from "node:test";

import { choroplethStyle, indicatorOptions } from "../choropleth.js";
import { NO_DATA_COLOUR } from "../indicators.js";

const TABLES = [{
  table: "medecins", title: "Démographie médicale", current_version: 4,
  versions: [
    { version_id: 4, vintage: "2024", columns: [
      { key: "mg", label: "Médecins généralistes", aggregation: "sum" },
      { key: "zonage", label: "Zonage", aggregation: "share",
        categories: [{ value: "1_ZIP", label: "ZIP" }, { value: "2_ZAC", label: "ZAC" }] }] },
    { version_id: 2, vintage: "2023", columns: [{ key: "ancien", label: "Ancien", aggregation: "sum" }] },
  ],
}];

test("the mappable indicators: the current version of each table, a share per category", () => {
  assert.deepEqual(indicatorOptions(TABLES), [
    { value: "medecins.mg", indicator: "medecins.mg", label: "Médecins généralistes (Démographie médicale, 2024)" },
    { value: "medecins.zonage:1_ZIP", indicator: "medecins.zonage", category: "1_ZIP",
      label: "Zonage : part de la population en ZIP (Démographie médicale, 2024)" },
    { value: "medecins.zonage:2_ZAC", indicator: "medecins.zonage", category: "2_ZAC",
      label: "Zonage : part de la population en ZAC (Démographie médicale, 2024)" },
  ]);
  assert.deepEqual(indicatorOptions(null), []);
});

test("a commune takes its class colour, the « sans donnée » grey without a value", () => {
  const answer = { classes: { "06083": "#08519c" } };
  assert.equal(choroplethStyle(answer, "06083").fillColor, "#08519c");
  assert.equal(choroplethStyle(answer, "06104").fillColor, NO_DATA_COLOUR);
});
