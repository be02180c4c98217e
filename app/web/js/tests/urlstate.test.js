import assert from "node:assert/strict";
import { test } from "node:test";

import { formatHash, parseHash } from "../urlstate.js";

test("the address carries the view, the CPTS, the territory and the map's view", () => {
  const state = { mode: "edit", cpts: 12, zoom: 11, center: [43.70312, 7.26619], territory: "departement:06" };
  const hash = formatHash(state);
  assert.equal(hash, "#vue=edition&cpts=12&territoire=departement:06&z=11&lat=43.7031&lon=7.2662");
  assert.deepEqual(parseHash(hash), { ...state, center: [43.7031, 7.2662] });
});

test("a damaged address gives only what it holds correctly", () => {
  assert.deepEqual(parseHash("#vue=nulle&cpts=-3&z=11&lat=abc&lon=7"), {});
  assert.deepEqual(parseHash("#territoire=region:93;DROP"), {});
  assert.deepEqual(parseHash(""), {});
  assert.deepEqual(parseHash("#vue=zones-blanches&territoire=national"), { mode: "white", territory: "national" });
});
