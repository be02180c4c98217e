import assert from "node:assert/strict";
import { test } from "node:test";

import { choroplethStyle, indicatorOptions } from "../choropleth.js";

test("the mappable columns: the current version of each table, categorical ones left out", () => {
  const options = indicatorOptions([{
    table: "medecins", title: "Démographie médicale", current_version: 4,
    versions: [
      { version_id: 4, vintage: "2024", columns: [
        { key: "mg", label: "Médecins généralistes", aggregation: "sum" },
        { key: "zonage", label: "Zonage", aggregation: "share" }] },
      { version_id: 2, vintage: "2023", columns: [{ key: "ancien", label: "Ancien", aggregation: "sum" }] },
    ],
  }]);
  assert.deepEqual(options, [{ value: "medecins.mg", label: "Médecins généralistes (Démographie médicale, 2024)" }]);
  assert.deepEqual(indicatorOptions(null), []);
});

test("a commune takes its class colour, grey without a value", () => {
  const answer = { classes: { "06083": "#08519c" } };
  assert.equal(choroplethStyle(answer, "06083").fillColor, "#08519c");
  assert.equal(choroplethStyle(answer, "06104").fillColor, "#f2f2f2");
});
