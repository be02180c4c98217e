import assert from "node:assert/strict";
import { test } from "node:test";

import { manageControls, scenarioNote } from "../manage.js";

test("rename, archive and restore follow the server's allowed actions", () => {
  const cpts = { id: 1, name: "CPTS A", archived: false };
  assert.deepEqual(manageControls(cpts, { edit: true, archive: true, restore: false }), ["rename", "archive"]);
  assert.deepEqual(manageControls(cpts, { edit: true, archive: false, restore: false }), ["rename"]);
  assert.deepEqual(manageControls(cpts, { edit: false, archive: false, restore: false }), []);
  assert.deepEqual(manageControls({ ...cpts, archived: true }, { edit: false, archive: false, restore: true }), ["restore"]);
  assert.deepEqual(manageControls(null, { edit: true }), [], "a CPTS not saved yet has nothing to manage");
});

test("a private scenario is marked, a CPTS of the official map is not", () => {
  assert.match(scenarioNote({ is_scenario: true }), /^Scénario privé de l'ARS/);
  assert.equal(scenarioNote({ is_scenario: false }), null);
  assert.equal(scenarioNote(null), null);
});
