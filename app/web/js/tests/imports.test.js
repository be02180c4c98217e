import assert from "node:assert/strict";
import { test } from "node:test";

import { setStatusLabels } from "../format.js";
import { importStages, refusalLines, reportLines } from "../imports.js";

const STATUSES = [
  { id: "pre_projet", label: "pré-projet" }, { id: "lettre_intention", label: "lettre d'intention" },
  { id: "projet_sante", label: "projet de santé" }, { id: "aci_signe", label: "ACI signé" },
];
setStatusLabels(STATUSES);
const S = "\u202f";
const N = "\u00a0";

test("a carrier creates drafts only; agencies choose any stage", () => {
  assert.deepEqual(importStages(STATUSES, "carrier").map((s) => s.id), ["pre_projet"]);
  assert.equal(importStages(STATUSES, "ars").length, 4);
});

test("a dry run's report: a summary, one line per CPTS with its line, warnings, communes outside", () => {
  const lines = reportLines({
    dry_run: true, rows: 12, created: 1, updated: 1, unchanged: 0,
    cpts: [
      { line: 2, name: "CPTS du Var", action: "created", status: "lettre_intention", communes: ["83001", "83002"],
        population: 12500, overlaps: [] },
      { line: 7, name: "CPTS Nice", action: "updated", status: "projet_sante", communes: ["06088"],
        population: 342669, overlaps: [{ name: "CPTS Est", communes: ["06088"] }] },
    ],
    warnings: [{ line: 9, code: "duplicate_row", detail: "commune répétée" }],
    uncovered: { names: ["HORS CPTS"], communes: ["06001", "06002", "06003"], population: 4000 },
  });
  assert.deepEqual(lines.map((l) => l.kind), ["summary", "cpts", "cpts", "warning", "uncovered"]);
  assert.equal(lines[0].text, `Vérification : rien n'est encore enregistré. 12${N}lignes lues : 1${N}CPTS créée, 1${N}CPTS mise à jour.`);
  assert.equal(lines[1].text, `Ligne 2 : « CPTS du Var » créée (lettre d'intention), 2${N}communes, 12${S}500${N}habitants`);
  assert.equal(lines[2].line, 7);
  assert.match(lines[2].text, /mise à jour \(projet de santé\), 1\u00a0commune, 342\u202f669\u00a0habitants · chevauche « CPTS Est » \(1\u00a0commune\)$/);
  assert.equal(lines[3].text, "Ligne 9 : commune répétée");
  assert.equal(lines[4].text, `Communes notées hors CPTS : 3${N}communes, 4${S}000${N}habitants.`);
});

test("an import refused: every error with its line, file-level errors as they are", () => {
  const lines = refusalLines({ detail: "Import refusé …", errors: [
    { line: null, code: "missing_column", detail: "Colonne code_commune absente." },
    { line: 4, code: "unknown_commune", detail: "commune 99999 inconnue" },
    { line: 6, code: "ambiguous_cpts", detail: "Ligne 6 : plusieurs CPTS s'appellent « X »." },
  ] });
  assert.deepEqual(lines.map((l) => [l.line, l.text]), [
    [null, "Colonne code_commune absente."],
    [4, "Ligne 4 : commune 99999 inconnue"],
    [6, "Ligne 6 : plusieurs CPTS s'appellent « X »."],
  ]);
  assert.deepEqual(refusalLines({ detail: "Fichier trop volumineux." }).map((l) => l.text), ["Fichier trop volumineux."]);
});
