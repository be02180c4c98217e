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

test("the stripes of an overlap differ enough to be told apart, whatever the CPTS ids", async () => {
  const { overlapColors, colorDistance, MIN_STRIPE_DISTANCE } = await import("../colors.js");
  let replaced = 0;
  for (let a = 1; a < 60; a += 1) {
    for (let b = a + 1; b < 60; b += 7) {
      for (const c of [b + 1, b + 3, b + 11]) {
        const colors = overlapColors([a, b, c]);
        assert.equal(colors.length, 3);
        for (let i = 0; i < 3; i += 1) {
          for (let j = i + 1; j < 3; j += 1) assert.ok(colorDistance(colors[i], colors[j]) >= MIN_STRIPE_DISTANCE, `${a},${b},${c}`);
        }
        if (colors[1] !== cptsColor(b) || colors[2] !== cptsColor(c)) replaced += 1;
      }
    }
  }
  assert.ok(replaced > 0, "near colours do happen and are replaced");
  // a claimant whose colour is distinct keeps it (the legend's colour)
  const distinct = overlapColors([1, 2]);
  assert.equal(distinct[0], cptsColor(1));
  assert.ok(colorDistance(cptsColor(1), cptsColor(2)) < MIN_STRIPE_DISTANCE || distinct[1] === cptsColor(2));
  assert.ok(colorDistance("#000000", "#ffffff") > 99);
});

test("the hatching repeats without a seam inside a tile and across 256-pixel tiles", async () => {
  const { stripeIndex, stripePeriod } = await import("../colors.js");
  for (const count of [2, 3, 4]) {
    const period = stripePeriod(count);
    assert.equal(256 % period, 0);
    const seen = new Set();
    for (let x = 0; x < 300; x += 1) {
      for (let y = 0; y < 40; y += 1) {
        const index = stripeIndex(x, y, count);
        seen.add(index);
        assert.equal(index, stripeIndex(x + 256, y, count));
        assert.equal(index, stripeIndex(x, y + 256, count));
        assert.equal(index, stripeIndex(x + 1, y - 1, count), "constant along a diagonal");
      }
    }
    assert.deepEqual([...seen].sort(), [...Array(count).keys()]);
    // every stripe is at least floor(period / count) pixels wide along x
    const widths = Array(count).fill(0);
    for (let x = 0; x < period; x += 1) widths[stripeIndex(x, 0, count)] += 1;
    assert.ok(Math.min(...widths) >= Math.floor(period / count));
  }
});
