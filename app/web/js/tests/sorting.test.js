import assert from "node:assert/strict";
import { test } from "node:test";

import { nextDirection, sortRows } from "../sorting.js";

const zones = [
  { label: "Zone b", population: 1200, communes_count: 3 },
  { label: "Zone a", population: 54000, communes_count: 12 },
  { label: "Zone c", population: null, communes_count: 1 },
  { label: "Zone é", population: 1200, communes_count: 2 },
];

test("zones sort by population, largest first, empty last", () => {
  const sorted = sortRows(zones, "population", "descending", "label");
  assert.deepEqual(sorted.map((z) => z.label), ["Zone a", "Zone b", "Zone é", "Zone c"]);
});

test("ascending keeps empty values last", () => {
  const sorted = sortRows(zones, "population", "ascending", "label");
  assert.deepEqual(sorted.map((z) => z.label), ["Zone b", "Zone é", "Zone a", "Zone c"]);
});

test("text sorts in French order, accents folded", () => {
  const sorted = sortRows(zones, "label", "ascending");
  assert.deepEqual(sorted.map((z) => z.label), ["Zone a", "Zone b", "Zone c", "Zone é"]);
});

test("the input is not modified", () => {
  const copy = [...zones];
  sortRows(zones, "communes_count");
  assert.deepEqual(zones, copy);
});

test("a header toggles its direction; a new numeric column starts descending", () => {
  assert.equal(nextDirection("population", "descending", "population"), "ascending");
  assert.equal(nextDirection("population", "ascending", "communes_count"), "descending");
  assert.equal(nextDirection("population", "descending", "label"), "ascending");
});
