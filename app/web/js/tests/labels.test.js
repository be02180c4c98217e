import assert from "node:assert/strict";
import { test } from "node:test";

import { labelKinds, placeLabels } from "../labels.js";

test("régions at low zoom, départements in between, communes from zoom 10", () => {
  assert.deepEqual(labelKinds(5), ["region"]);
  assert.deepEqual(labelKinds(8), ["cpts", "departement"]);
  assert.deepEqual(labelKinds(11), ["cpts", "commune"]);
  assert.deepEqual(labelKinds(14), ["commune"]);
  assert.deepEqual(labelKinds(8, { showCpts: false }), ["departement"]);
});

test("a name that would overlap one already written is left out, the first one wins", () => {
  const size = { x: 500, y: 300 };
  const kept = placeLabels([
    { text: "Nice", x: 100, y: 100, width: 40, height: 15 },
    { text: "Saint-André-de-la-Roche", x: 110, y: 104, width: 150, height: 15 },
    { text: "Menton", x: 300, y: 100, width: 50, height: 15 },
    { text: "Hors champ", x: 900, y: 100, width: 50, height: 15 },
  ], size);
  assert.deepEqual(kept.map((label) => label.text), ["Nice", "Menton"]);
});
