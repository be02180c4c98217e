import assert from "node:assert/strict";
import { test } from "node:test";

import { claimantsText, claimsText, insideRings, mercatorPoint, mercatorRings, OverviewLayer, ringsBox } from "../overview.js";

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

test("the pointer names one CPTS, or the claimants of an overlap", () => {
  assert.equal(claimantsText([]), "");
  assert.equal(claimantsText(["CPTS du Ferion"]), "CPTS du Ferion");
  assert.equal(claimantsText(["CPTS A", "CPTS B"]), "CPTS A · CPTS B — chevauchement");
});

test("claimants the user may not see are counted with the card's sentence, never named", () => {
  const one = "1 projet non publié ou hors de vos régions recouvre cette commune.";
  assert.equal(claimsText(["CPTS A"]), "CPTS A");
  assert.equal(claimsText(["CPTS A"], one), `CPTS A — ${one}`);
  assert.equal(claimsText(["CPTS A", "CPTS B"], one), `CPTS A · CPTS B — chevauchement — ${one}`);
  assert.equal(claimsText(["CPTS A"], null, "3 900 lits"), "CPTS A — 3 900 lits");
  assert.equal(claimsText(["CPTS A"], one, "3 900 lits"), `CPTS A — 3 900 lits — ${one}`);
  // nothing shown of the commune (filtered out by the legend): no sentence alone either
  assert.equal(claimsText([], one), "");
});

test("a point is inside a shape by the even-odd rule (a hole is outside)", () => {
  const rings = mercatorRings({ type: "Polygon", coordinates: [
    [[0, 0], [10, 0], [10, 10], [0, 10], [0, 0]], [[4, 4], [6, 4], [6, 6], [4, 6], [4, 4]]] });
  const at = (lat, lon) => insideRings(rings, ...mercatorPoint(lat, lon));
  assert.equal(at(2, 2), true);
  assert.equal(at(5, 5), false, "in the hole");
  assert.equal(at(12, 5), false);
  const box = ringsBox(rings);
  assert.ok(box[0] === 0.5 && box[2] > box[0] && box[3] > box[1]);
});

test("the commune hover adds the outlines and the hidden claimants the overview knows of", () => {
  const one = "1 projet non publié ou hors de vos régions recouvre cette commune.";
  const layer = { otherClaims: new Map([
    ["06083", { code: "06083", names: [], hidden: 1, hidden_text: one }],
    ["06088", { code: "06088", names: ["CPTS B"], hidden: 0, hidden_text: null }],
  ]) };
  const claimsOf = (code, names) => OverviewLayer.prototype.claimsOf.call(layer, code, names);
  assert.equal(claimsOf("06083", ["CPTS A"]), `CPTS A — ${one}`);
  assert.equal(claimsOf("06088", ["CPTS A"]), "CPTS A · CPTS B — chevauchement");
  assert.equal(claimsOf("06088", ["CPTS A", "CPTS B"]), "CPTS A · CPTS B — chevauchement");
  assert.equal(claimsOf("06004", ["CPTS A"]), "CPTS A");
  assert.equal(OverviewLayer.prototype.claimsOf.call({}, "06004", ["CPTS A"]), "CPTS A");
});
