import assert from "node:assert/strict";
import { test } from "node:test";

import { liveMessage } from "../announce.js";
import { directionOf, neighbourToward } from "../keyboard-map.js";

// Menton and its neighbours (points of the reference geography)
const MENTON = { code: "06083", lat: 43.7950, lon: 7.5168 };
const AROUND = [
  { code: "06104", nom: "Roquebrune-Cap-Martin", lat: 43.7634, lon: 7.4605 },  // south-west
  { code: "06035", nom: "Castellar", lat: 43.8232, lon: 7.4990 },              // north
  { code: "06036", nom: "Castillon", lat: 43.8363, lon: 7.4640 },              // north-west
  { code: "06067", nom: "Gorbio", lat: 43.7859, lon: 7.4435 },                 // west, further
  { code: "06113", nom: "Sainte-Agnès", lat: 43.8050, lon: 7.4590 },           // west, nearer
];

test("arrow keys give east/north unit vectors, other keys none", () => {
  assert.deepEqual(directionOf("ArrowUp"), [0, 1]);
  assert.deepEqual(directionOf("ArrowDown"), [0, -1]);
  assert.deepEqual(directionOf("ArrowLeft"), [-1, 0]);
  assert.deepEqual(directionOf("ArrowRight"), [1, 0]);
  assert.equal(directionOf("Enter"), null);
  assert.equal(directionOf("a"), null);
});

test("each arrow goes to the neighbour lying most in its direction", () => {
  assert.equal(neighbourToward(MENTON, AROUND, [0, 1]).code, "06035");   // up: Castellar
  assert.equal(neighbourToward(MENTON, AROUND, [-1, 0]).code, "06113");  // left: Sainte-Agnès
  assert.equal(neighbourToward(MENTON, AROUND, [0, -1]).code, "06104");  // down: Roquebrune
});

test("no neighbour that way (Italy east of Menton): null, never a neighbour behind", () => {
  assert.equal(neighbourToward(MENTON, AROUND, [1, 0]), null);
  assert.equal(neighbourToward(MENTON, [], [0, 1]), null);
});

test("longitudes are shrunk by the latitude: a neighbour 0.1° east and 0.06° north is east", () => {
  const from = { lat: 60, lon: 10 };
  const east = { code: "E", lat: 60.06, lon: 10.1 };     // 0.05 east on the plane, 0.06 north
  const north = { code: "N", lat: 60.1, lon: 10.02 };
  assert.equal(neighbourToward(from, [east, north], [0, 1]).code, "N");
  assert.equal(neighbourToward(from, [east, north], [1, 0]).code, "E");
});

test("the angle counts first, the distance breaks near ties", () => {
  const from = { lat: 45, lon: 5 };
  const near = { code: "near", lat: 45.01, lon: 5.002 };   // ~16° off north, close
  const far = { code: "far", lat: 45.2, lon: 5.0 };       // due north, far
  const offAxis = { code: "off", lat: 45.01, lon: 5.012 }; // ~50° off north
  assert.equal(neighbourToward(from, [far, offAxis], [0, 1]).code, "far");
  assert.equal(neighbourToward(from, [near, far], [0, 1]).code, "near");
});

test("the live region is written once per change, never twice with the same words", () => {
  assert.equal(liveMessage("", "Population : 1 000 habitants"), "Population : 1 000 habitants");
  assert.equal(liveMessage("Population : 1 000 habitants", "Population :  1 000\nhabitants"), null);
  assert.equal(liveMessage("a", ""), null);
  assert.equal(liveMessage("a", null), null);
  assert.equal(liveMessage("a", "b"), "b");
});

test("the no-break spaces inside numbers are kept", () => {
  assert.equal(liveMessage("", "Population : 12\u202f345\u00a0habitants"), "Population : 12\u202f345\u00a0habitants");
});
