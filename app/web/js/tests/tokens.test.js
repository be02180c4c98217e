import assert from "node:assert/strict";
import { test } from "node:test";

import { tokenState } from "../tokens.js";

const NOW = new Date("2026-03-01T12:00:00Z");

test("a token is revoked, expired or active, with the date that says so", () => {
  assert.equal(tokenState({ revoked_at: "2026-02-01T10:00:00Z", expires_at: null }, NOW).state, "revoked");
  assert.match(tokenState({ revoked_at: "2026-02-01T10:00:00Z" }, NOW).label, /^révoqué le 01\/02\/2026/);
  assert.equal(tokenState({ revoked_at: null, expires_at: "2026-02-28T00:00:00Z" }, NOW).state, "expired");
  const active = tokenState({ revoked_at: null, expires_at: "2026-04-01T08:00:00Z" }, NOW);
  assert.equal(active.state, "active");
  assert.match(active.label, /^valable jusqu'au 01\/04\/2026/);
  assert.deepEqual(tokenState({ revoked_at: null, expires_at: null }, NOW), { state: "active", label: "sans expiration" });
});
