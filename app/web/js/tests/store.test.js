import assert from "node:assert/strict";
import { test } from "node:test";

import { PerimeterStore } from "../store.js";

test("a click adds a commune and undo restores the perimeter", () => {
  const store = new PerimeterStore(["06088"]);
  store.toggle("06123");
  assert.deepEqual(store.codes(), ["06088", "06123"]);
  assert.ok(store.dirty);
  store.undo();
  assert.deepEqual(store.codes(), ["06088"]);
  assert.ok(!store.dirty);
  store.redo();
  assert.deepEqual(store.codes(), ["06088", "06123"]);
});

test("a click on a member removes it; a new action clears the redo stack", () => {
  const store = new PerimeterStore(["06088", "06123"]);
  store.toggle("06088");
  assert.deepEqual(store.diff(), { add: [], remove: ["06088"] });
  store.undo();
  assert.ok(store.canRedo);
  store.add(["06149"]);
  assert.ok(!store.canRedo);
});

test("a rectangle adds many communes in one undoable step, skipping members", () => {
  const store = new PerimeterStore(["a"]);
  const step = store.add(["a", "b", "c", "b"], "rectangle");
  assert.deepEqual(step.added, ["b", "c"]);
  assert.equal(store.undoStack.length, 1);
  store.undo();
  assert.deepEqual(store.codes(), ["a"]);
  assert.equal(store.add(["a"]), null, "nothing changes: no step");
});

test("rebasing on someone else's version keeps my changes", () => {
  const store = new PerimeterStore(["a", "b"]);
  store.add(["c"]);
  store.remove(["a"]);
  const diff = store.rebase(["a", "b", "x"]);
  assert.deepEqual(store.codes(), ["b", "c", "x"]);
  assert.deepEqual(diff, { add: ["c"], remove: ["a"] });
  assert.ok(!store.canUndo);
});

test("listeners hear every change", () => {
  const store = new PerimeterStore();
  const events = [];
  store.subscribe((event) => events.push(event.kind));
  store.toggle("a");
  store.undo();
  store.redo();
  store.reset(["b"]);
  assert.deepEqual(events, ["change", "undo", "redo", "reset"]);
});
