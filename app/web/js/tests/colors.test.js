import assert from "node:assert/strict";
import { test } from "node:test";

import { WHITE_ZONE, coverageFill, cptsColor, mixWithWhite } from "../colors.js";

test("each CPTS gets a stable colour, and neighbours in the list differ", () => {
  assert.equal(cptsColor(7), cptsColor(7));
  const colors = new Set(Array.from({ length: 40 }, (_, i) => cptsColor(i + 1)));
  assert.equal(colors.size, 40);
  for (const color of colors) assert.match(color, /^#[0-9a-f]{6}$/);
});

test("no CPTS colour is the zone blanche red", () => {
  for (let id = 1; id < 500; id += 1) assert.notEqual(cptsColor(id), WHITE_ZONE);
});

test("a commune is white zone, single or overlap", () => {
  assert.equal(coverageFill([]).kind, "white");
  assert.deepEqual(coverageFill([3]).colors, [cptsColor(3)]);
  const overlap = coverageFill([9, 2]);
  assert.equal(overlap.kind, "overlap");
  assert.deepEqual(overlap.colors, [cptsColor(2), cptsColor(9)]);
});

test("a colour flattened over white keeps its hue and lightens with transparency", () => {
  assert.equal(mixWithWhite("#d7191c", 1), "#d7191c");
  assert.equal(mixWithWhite("#d7191c", 0), "#ffffff");
  assert.equal(mixWithWhite("#000000", 0.6), "#666666");
});
