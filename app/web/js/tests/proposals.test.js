import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";

import { setPalette } from "../colors.js";
import {
  DEFAULT_OPTIONS, planColour, planRows, planStyle, planSummary, proposalBody, scenarioBody,
} from "../proposals.js";

// The one palette, as the page gets it in its configuration.
const PALETTE = JSON.parse(readFileSync(new URL("../../../domain/cpts_palette.json", import.meta.url), "utf8"));
setPalette(PALETTE);

const ANSWER = {
  scope: "departement:06", scope_name: "Alpes-Maritimes",
  options: { min_population: 40000, max_size_class: 3, seed: 2024 },
  groups: [{
    id: "P1", name: "Proposition — Breil-sur-Roya (06)", colour: 4, communes: ["06023", "06163"], units: 2,
    population: 3100, size_class: 1, reaches_floor: false, siege_commune: "06023",
    epci: [{ code: "200039857", nom: "CA de la Riviera Française", communes: 2, split: false }],
    reasons: [{ code: "zone_below_floor", detail: "La zone ne compte que 3 100 habitants." },
              { code: "no_neighbour", detail: "Aucune CPTS voisine consultable ne peut la recevoir." }],
  }],
  attachments: [{
    cpts_id: 12, name: "CPTS DU FERION", colour: 1, status_label: "lettre d'intention",
    communes: ["06021", "06022"], units: 2, population: 900, population_before: 41000,
    population_after: 41900, size_class_before: 2, size_class_after: 2,
    epci: [{ code: "200030195", nom: null, communes: 2, split: true }],
  }],
  summary: { groups: 1, groups_reaching_floor: 0, attachments: 1 },
  coverage_before: { coverage_rate: 0.9912 }, coverage_after: { coverage_rate: 1 },
};

test("a plan is asked for a territory or for a list of communes, options as numbers", () => {
  const body = proposalBody("departement:06", new Set(["aci_signe", "projet_sante"]),
    { ...DEFAULT_OPTIONS, min_population: "30000", weights: { ...DEFAULT_OPTIONS.weights, epci: "2.5" } });
  assert.equal(body.scope, "departement:06");
  assert.equal(body.units, undefined);
  assert.deepEqual(body.statuses, ["aci_signe", "projet_sante"]);
  assert.equal(body.options.min_population, 30000);
  assert.equal(body.options.weights.epci, 2.5);
  assert.equal(body.options.max_size_class, 4);
  const listed = proposalBody(["06023", "06163"], ["aci_signe"]);
  assert.deepEqual(listed.units, ["06023", "06163"]);
  assert.equal(listed.scope, undefined);
});

test("rows: new CPTS then attachments, each in its map colour, flagged below the floor", () => {
  const rows = planRows(ANSWER);
  assert.deepEqual(rows.map((r) => r.kind), ["group", "attachment"]);
  assert.equal(rows[0].colour, PALETTE.cpts[4]);
  assert.equal(rows[1].colour, PALETTE.cpts[1]);
  assert.equal(rows[0].reachesFloor, false);
  assert.match(rows[0].note, /3 100 habitants/);
  assert.equal(rows[1].sizeClass, "2 → 2");
  assert.equal(rows[1].reachesFloor, true);
  assert.deepEqual(rows[1].epci, ["200030195"]);
  assert.equal(rows[1].label, "CPTS DU FERION (lettre d'intention)");
});

test("rows and shapes take the palette colour of the index the server gave, at the CPTS' opacity", () => {
  const rows = planRows(ANSWER);
  const features = [{ kind: "group", ...ANSWER.groups[0] }, { kind: "attachment", ...ANSWER.attachments[0] }];
  features.forEach((properties, i) => {
    const style = planStyle(properties);
    assert.equal(style.fillColor, PALETTE.cpts[properties.colour]);
    assert.equal(style.fillColor, rows[i].colour, "the table's swatch is the shape's fill");
    assert.equal(style.fillOpacity, PALETTE.cpts_opacity);
  });
  assert.equal(planStyle(features[1]).dashArray, "4 3");
  assert.equal(planStyle(features[0]).dashArray, null);
});

test("neighbouring proposed perimeters (different indices) differ on the map; no other palette", () => {
  // the server gives neighbours different indices; every index is a different palette colour
  const n = PALETTE.cpts.length;
  const colours = Array.from({ length: n }, (_, i) => planColour(i));
  assert.deepEqual(colours, PALETTE.cpts);
  assert.equal(new Set(colours).size, n);
  assert.equal(planColour(n + 2), PALETTE.cpts[2], "an index past the palette wraps round");
  const neighbours = { ...ANSWER, groups: [ANSWER.groups[0], { ...ANSWER.groups[0], id: "P2", colour: 5 }] };
  const [first, second] = planRows(neighbours);
  assert.notEqual(first.colour, second.colour);
  assert.notEqual(planStyle(neighbours.groups[0]).fillColor, planStyle(neighbours.groups[1]).fillColor);
});

test("saving sends each group with its siège and each attachment by CPTS id", () => {
  const body = scenarioBody(ANSWER);
  assert.deepEqual(body.groups, [{ communes: ["06023", "06163"], siege_commune: "06023",
                                   name: "Proposition — Breil-sur-Roya (06)" }]);
  assert.deepEqual(body.attachments, [{ cpts_id: 12, communes: ["06021", "06022"] }]);
  assert.match(body.reason, /Alpes-Maritimes/);
});

test("the summary states the floor and the coverage before and after", () => {
  const text = planSummary(ANSWER);
  assert.match(text, /1\u00a0nouvelle CPTS proposée/);
  assert.match(text, /40\u202f000 habitants/);
  assert.match(text, /99\.1 % → 100\.0 %/);
});
