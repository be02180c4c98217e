import assert from "node:assert/strict";
import { test } from "node:test";

import { BREAKPOINTS, escapeClosesDrawer, layoutFor } from "../layout.js";

test("the four screen widths and a phone get their own layout", () => {
  assert.deepEqual(layoutFor(1920), { drawer: false, overlay: false, layersCollapsed: false, editAllowed: true });
  assert.deepEqual(layoutFor(1366), { drawer: false, overlay: false, layersCollapsed: false, editAllowed: true });
  assert.deepEqual(layoutFor(1024), { drawer: false, overlay: false, layersCollapsed: true, editAllowed: true });
  assert.deepEqual(layoutFor(800), { drawer: true, overlay: false, layersCollapsed: true, editAllowed: true });
  assert.deepEqual(layoutFor(390), { drawer: true, overlay: true, layersCollapsed: true, editAllowed: false });
});

test("each breakpoint is the first width of the wider layout", () => {
  assert.equal(layoutFor(BREAKPOINTS.drawer - 1).drawer, true);
  assert.equal(layoutFor(BREAKPOINTS.drawer).drawer, false);
  assert.equal(layoutFor(BREAKPOINTS.layers - 1).layersCollapsed, true);
  assert.equal(layoutFor(BREAKPOINTS.layers).layersCollapsed, false);
  assert.equal(layoutFor(BREAKPOINTS.edit - 1).editAllowed, false);
  assert.equal(layoutFor(BREAKPOINTS.edit).editAllowed, true);
  assert.equal(layoutFor(BREAKPOINTS.phone - 1).overlay, true);
  assert.equal(layoutFor(BREAKPOINTS.phone).overlay, false);
});

test("Escape closes an open drawer from inside it or from its toggle", () => {
  const open = { drawer: true, open: true, overlay: false, inDrawer: false, onToggle: false, onBody: false, listOpen: false };
  assert.equal(escapeClosesDrawer({ ...open, inDrawer: true }), true);
  assert.equal(escapeClosesDrawer({ ...open, onToggle: true }), true);
  assert.equal(escapeClosesDrawer(open), false, "the focus elsewhere (the search box, the map): not the drawer's key");
  assert.equal(escapeClosesDrawer({ ...open, onBody: true }), false, "beside the map, the focus nowhere");
  assert.equal(escapeClosesDrawer({ ...open, onBody: true, overlay: true }), true, "over the whole map, the focus nowhere");
});

test("Escape first closes an open list box, and does nothing with no drawer or a closed one", () => {
  const inside = { drawer: true, open: true, overlay: false, inDrawer: true, onToggle: false, onBody: false, listOpen: false };
  assert.equal(escapeClosesDrawer({ ...inside, listOpen: true }), false);
  assert.equal(escapeClosesDrawer({ ...inside, open: false }), false);
  assert.equal(escapeClosesDrawer({ ...inside, drawer: false }), false, "a wide screen: the panel is not a drawer");
});
