// The DSFR classes theme.js gives the panel's controls (the same mapping as the server's,
// app/services/theme.py). The elements are small stand-ins with the few DOM members read.
import test from "node:test";
import assert from "node:assert/strict";

import { dsfrClasses } from "../theme.js";

function element(tag, { classes = [], type = null, inside = [], contains = [] } = {}) {
  const list = new Set(classes);
  return {
    tagName: tag.toUpperCase(),
    type: type || (tag === "button" ? "button" : undefined),
    classList: { contains: (name) => list.has(name), [Symbol.iterator]: () => list.values() },
    getAttribute: (name) => (name === "type" ? type : null),
    closest: (selector) => (selector.split(",").some((part) => inside.includes(part.trim())) ? {} : null),
    querySelector: (selector) => (contains.some((part) => selector.includes(part)) ? {} : null),
  };
}

test("buttons: primary and submit filled, others secondary, small", () => {
  assert.deepEqual(dsfrClasses(element("button")), ["fr-btn", "fr-btn--secondary", "fr-btn--sm"]);
  assert.deepEqual(dsfrClasses(element("button", { classes: ["primary"] })), ["fr-btn", "fr-btn--sm"]);
  assert.deepEqual(dsfrClasses(element("button", { type: "submit" })), ["fr-btn", "fr-btn--sm"]);
});

test("left alone: link-like and sort buttons, tabs, Leaflet's controls, already themed", () => {
  assert.deepEqual(dsfrClasses(element("button", { classes: ["link"] })), []);
  assert.deepEqual(dsfrClasses(element("button", { inside: ["th"] })), []);
  assert.deepEqual(dsfrClasses(element("button", { inside: ["[role='tablist']"] })), []);
  assert.deepEqual(dsfrClasses(element("a", { inside: [".leaflet-container"] })), []);
  assert.deepEqual(dsfrClasses(element("button", { classes: ["fr-btn"] })), []);
});

test("fields, selects, labels; checkboxes and their labels keep their look", () => {
  assert.deepEqual(dsfrClasses(element("input", { type: "search" })), ["fr-input"]);
  assert.deepEqual(dsfrClasses(element("input")), ["fr-input"]);
  assert.deepEqual(dsfrClasses(element("textarea")), ["fr-input"]);
  assert.deepEqual(dsfrClasses(element("select")), ["fr-select"]);
  assert.deepEqual(dsfrClasses(element("input", { type: "checkbox" })), []);
  assert.deepEqual(dsfrClasses(element("input", { type: "hidden" })), []);
  assert.deepEqual(dsfrClasses(element("label")), ["fr-label"]);
  assert.deepEqual(dsfrClasses(element("label", { contains: ["checkbox"] })), []);
});

test("notices become DSFR alerts of their kind", () => {
  assert.deepEqual(dsfrClasses(element("p", { classes: ["notice", "error"] })),
    ["fr-alert", "fr-alert--error", "fr-alert--sm"]);
  assert.deepEqual(dsfrClasses(element("div", { classes: ["notice", "warn"] })),
    ["fr-alert", "fr-alert--warning", "fr-alert--sm"]);
  assert.deepEqual(dsfrClasses(element("p", { classes: ["notice", "info"] })),
    ["fr-alert", "fr-alert--info", "fr-alert--sm"]);
  assert.deepEqual(dsfrClasses(element("p", { classes: ["muted"] })), []);
});
