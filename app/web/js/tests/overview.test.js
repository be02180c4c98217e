import assert from "node:assert/strict";
import { test } from "node:test";

import { mercatorRings } from "../overview.js";

test("rings become flat Web Mercator fractions, holes and parts included", () => {
  const [outer, hole] = mercatorRings({ type: "Polygon", coordinates: [
    [[0, 0], [90, 0], [90, 45], [0, 0]], [[10, 1], [20, 1], [20, 2], [10, 1]]] });
  assert.ok(outer instanceof Float64Array);
  assert.equal(outer.length, 8);
  assert.deepEqual([...outer.slice(0, 4)], [0.5, 0.5, 0.75, 0.5]);
  assert.ok(outer[5] < 0.5, "north is up: y decreases");
  assert.equal(hole.length, 8);
  const parts = mercatorRings({ type: "MultiPolygon", coordinates: [
    [[[0, 0], [1, 0], [1, 1], [0, 0]]], [[[5, 5], [6, 5], [6, 6], [5, 5]]]] });
  assert.equal(parts.length, 2);
  assert.deepEqual(mercatorRings({ type: "Point", coordinates: [0, 0] }), []);
});
