import assert from "node:assert/strict";
import { test } from "node:test";

import {
  diffCounts, formatDateTime, formatInteger, formatPercent, formatPopulation, headroomText,
  codesIn, communeLabel, coveringSummary, departementOf, nameCodes, nextStage, overlapLines, plural, setStatusLabels, statusLabel,
  versionSummary,
} from "../format.js";

// as the page configuration carries them (app/domain/cpts_access.py stage_list())
setStatusLabels([
  { id: "pre_projet", label: "pré-projet" }, { id: "lettre_intention", label: "lettre d'intention" },
  { id: "projet_sante", label: "projet de santé" }, { id: "aci_signe", label: "ACI signé" },
]);

const S = "\u202f";

test("integers use narrow no-break spaces between thousands", () => {
  assert.equal(formatInteger(0), "0");
  assert.equal(formatInteger(999), "999");
  assert.equal(formatInteger(40000), `40${S}000`);
  assert.equal(formatInteger(1234567), `1${S}234${S}567`);
  assert.equal(formatInteger(-2500), `−2${S}500`);
  assert.equal(formatInteger(null), "—");
});

test("percentages have a comma and a no-break space", () => {
  assert.equal(formatPercent(0.8534), "85,3\u00a0%");
  assert.equal(formatPercent(1, 0), "100\u00a0%");
});

test("plurals follow the French rule (0 and 1 are singular)", () => {
  assert.equal(plural(0, "commune"), "0\u00a0commune");
  assert.equal(plural(1, "commune"), "1\u00a0commune");
  assert.equal(plural(2, "commune"), "2\u00a0communes");
});

test("a population carries its vintage", () => {
  assert.equal(formatPopulation(48210, 2023), `48${S}210\u00a0habitants (population municipale 2023)`);
});

test("headroom says how many people to the next and the previous class", () => {
  const text = headroomText({ next_class: 3, population_to_next: 1790, previous_class: 1,
                              population_to_previous: 38211 });
  assert.equal(text.next, `Encore 1${S}790\u00a0habitants pour passer en taille 3.`);
  assert.equal(text.previous, `Marge de 38${S}211\u00a0habitants avant de redescendre en taille 1.`);
  const top = headroomText({ next_class: null, population_to_next: null, previous_class: 3,
                             population_to_previous: 5 });
  assert.match(top.next, /Taille maximale/);
  const bottom = headroomText({ next_class: 2, population_to_next: 1, previous_class: null,
                                population_to_previous: null });
  assert.equal(bottom.next, "Encore 1\u00a0habitant pour passer en taille 2.");
  assert.match(bottom.previous, /Taille 1/);
});

test("stages take the labels and the order the server gives", () => {
  assert.equal(statusLabel("lettre_intention"), "lettre d'intention");
  assert.equal(statusLabel("aci_signe"), "ACI signé");
  assert.equal(statusLabel("inconnu"), "inconnu");
  assert.equal(nextStage("pre_projet"), "lettre_intention");
  assert.equal(nextStage("aci_signe"), null);
});

test("communes are named with their code, départements read from the code", () => {
  assert.equal(communeLabel("04070", { "04070": "Digne-les-Bains" }), "Digne-les-Bains (04070)");
  assert.equal(communeLabel("04070"), "04070");
  assert.equal(departementOf("04070"), "04");
  assert.equal(departementOf("2A004"), "2A");
  assert.equal(departementOf("97411"), "974");
});

test("the card of Marseille sums its arrondissements and is no zone blanche when one is covered", () => {
  const card = { code: "13055", arrondissements: ["13201", "13202", "13203"],
                 cpts: [{ id: 4, name: "CPTS Marseille 1-2", communes: ["13201", "13202"] }] };
  const summary = coveringSummary(card);
  assert.equal(summary.plm, true);
  assert.equal(summary.white, false);
  assert.deepEqual(summary.uncovered, ["13203"]);
  assert.match(summary.heading, /2 sur 3 couverts/);
  assert.equal(coveringSummary({ code: "06083", cpts: [] }).white, true);
  assert.equal(coveringSummary({ code: "06083", cpts: [], hidden_cpts: { count: 1 } }).white, false);
});

test("alerts name the communes they cite", () => {
  const names = { "04070": "Digne-les-Bains", "04001": "Aiglun" };
  assert.equal(nameCodes("Enclave : 04070 et 04001, 04999.", names),
    "Enclave : Digne-les-Bains (04070) et Aiglun (04001), 04999.");
  assert.equal(nameCodes("Digne-les-Bains (04070) déjà nommée", names), "Digne-les-Bains (04070) déjà nommée");
  assert.equal(nameCodes("40 000 habitants, 2023", names), "40 000 habitants, 2023");
  assert.deepEqual(codesIn("Morceaux : 04070, 2A004 ; 123456"), ["04070", "2A004"]);
});

test("a version line gives the diff, the population and the class change", () => {
  assert.equal(diffCounts(["a", "b"], []), "+2 / −0 communes");
  const line = versionSummary({ added: ["06088"], removed: [], population: 45000,
                                population_before: 38000, size_class: 2, size_class_before: 1 });
  assert.equal(line, `+1 / −0 commune · 38${S}000 → 45${S}000 habitants · taille 1 → 2`);
});

test("dates are shown in Paris time", () => {
  assert.equal(formatDateTime("2025-03-12T13:05:00Z"), "12/03/2025 à 14:05");
});

test("overlap lines name the other CPTS, its stage, the communes and the people", () => {
  const [line] = overlapLines([{ name: "CPTS Nice Est", status: "lettre_intention",
    communes: ["06088"], population: 340000, severity: "warning" }], { "06088": "Nice" });
  assert.equal(line, `CPTS Nice Est (lettre d'intention) : 1\u00a0commune — Nice (06088) — 340${S}000\u00a0habitants`);
});
