// Importing a listing from the page (ARS, administrators; carriers for their drafts): a CSV,
// XLSX or GeoJSON file and the stage of the CPTS it creates are sent first as a dry run
// (POST /api/imports/cpts?dry_run=true), whose report is shown line by line (every refusal
// with its line); « Confirmer l'import » then sends the same file for real. The report's
// reading is pure (`reportLines`, `refusalLines`) and unit-tested with `node --test`.

import { clear, h } from "./dom.js";
import { formatInteger, plural, statusLabel } from "./format.js";

const ACTIONS = { created: "créée", updated: "mise à jour", unchanged: "inchangée" };

/** The stages a role may give the CPTS an import creates (a carrier: drafts only). */
export function importStages(statuses, role) {
  if (role === "carrier") return statuses.filter((status) => status.id === "pre_projet");
  return statuses;
}

/** The lines of an accepted (dry-run or real) import report, in file order:
 * `{kind: "cpts"|"warning"|"uncovered"|"summary", line, text}`. */
export function reportLines(report) {
  const lines = [];
  const counts = [
    report.created ? plural(report.created, "CPTS créée", "CPTS créées") : null,
    report.updated ? plural(report.updated, "CPTS mise à jour", "CPTS mises à jour") : null,
    report.unchanged ? plural(report.unchanged, "CPTS inchangée", "CPTS inchangées") : null,
  ].filter(Boolean);
  lines.push({ kind: "summary", line: null,
    text: `${report.dry_run ? "Vérification : rien n'est encore enregistré. " : "Import enregistré. "}`
      + `${plural(report.rows, "ligne lue", "lignes lues")}${counts.length ? ` : ${counts.join(", ")}` : ""}.` });
  for (const cpts of report.cpts) {
    const overlaps = cpts.overlaps.length
      ? ` · chevauche ${cpts.overlaps.map((o) => `« ${o.name} » (${plural(o.communes.length, "commune")})`).join(", ")}`
      : "";
    lines.push({ kind: "cpts", line: cpts.line,
      text: `Ligne ${cpts.line} : « ${cpts.name} » ${ACTIONS[cpts.action] ?? cpts.action}`
        + ` (${statusLabel(cpts.status)}), ${plural(cpts.communes.length, "commune")},`
        + ` ${plural(cpts.population, "habitant")}${overlaps}` });
  }
  for (const warning of report.warnings) {
    lines.push({ kind: "warning", line: warning.line,
      text: warning.line !== null && warning.line !== undefined && !warning.detail.startsWith("Ligne")
        ? `Ligne ${warning.line} : ${warning.detail}` : warning.detail });
  }
  if (report.uncovered?.communes?.length) {
    lines.push({ kind: "uncovered", line: null,
      text: `Communes notées hors CPTS : ${plural(report.uncovered.communes.length, "commune")}, `
        + `${plural(report.uncovered.population, "habitant")}.` });
  }
  return lines;
}

/** The refusals of a refused import (problem+json `errors`), each with its line. */
export function refusalLines(problem) {
  const errors = problem?.errors?.length ? problem.errors : [{ line: null, detail: problem?.detail ?? "Import refusé." }];
  return errors.map((error) => {
    const detail = error.detail ?? "";
    const withLine = error.line !== null && error.line !== undefined && !/^Ligne\s/.test(detail);
    return { kind: "error", line: error.line ?? null, text: withLine ? `Ligne ${error.line} : ${detail}` : detail };
  });
}

/** The import form and its report, in the box `root`. */
export class ImportPanel {
  constructor({ api, root, statuses, role, onImported }) {
    this.api = api;
    this.root = root;
    this.onImported = onImported;
    this.pending = null;  // the file and stage checked by the last dry run
    const stages = importStages(statuses, role);
    const preferred = role === "carrier" ? "pre_projet" : "lettre_intention";
    this.file = h("input", { type: "file", id: "import-file", accept: ".csv,.xlsx,.geojson,.json,text/csv,application/geo+json" });
    this.stage = h("select", { id: "import-stage" },
      stages.map((s) => h("option", { value: s.id, selected: s.id === preferred }, s.label)));
    this.report = h("div", { id: "import-report", class: "import-report", "aria-live": "polite" });
    this.confirm = h("button", { type: "button", id: "import-confirm", class: "primary", hidden: true,
      onclick: () => this.run(false) }, "Confirmer l'import");
    const form = h("form", { id: "import-form", class: "import-form",
      onsubmit: (event) => { event.preventDefault(); this.run(true); } },
      h("label", { for: "import-file" }, "Fichier (CSV, XLSX ou GeoJSON)"), this.file,
      h("label", { for: "import-stage" }, "Stade des CPTS créées"), this.stage,
      h("p", { class: "muted small" }, "Colonnes attendues : cpts;code_commune (ou nom de commune et département), "
        + "ou des polygones GeoJSON. Tout ou rien : une seule ligne refusée et rien n'est enregistré."),
      h("div", { class: "row" }, h("button", { type: "submit", id: "import-check" }, "Vérifier le fichier"), this.confirm));
    this.file.addEventListener("change", () => this.reset());
    this.stage.addEventListener("change", () => this.reset());
    clear(root, form, this.report);
  }

  reset() {
    this.pending = null;
    this.confirm.hidden = true;
    clear(this.report);
  }

  show(lines, state) {
    this.report.dataset.state = state;
    const notice = state === "refused" ? "error" : state === "imported" ? "ok" : "info";
    const head = lines[0]?.kind === "summary" ? lines.shift() : null;
    clear(this.report,
      head ? h("p", { class: `notice ${notice}`, id: "import-summary" }, head.text) : null,
      state === "refused" ? h("p", { class: "notice error", id: "import-summary" },
        `Import refusé, rien n'a été enregistré : ${plural(lines.length, "erreur")}.`) : null,
      h("ul", { class: "import-lines" }, lines.map((line) =>
        h("li", { class: `import-${line.kind}`, dataset: { line: line.line ?? "" } }, line.text))));
  }

  async run(dryRun) {
    const file = dryRun ? this.file.files[0] : this.pending?.file;
    const status = dryRun ? this.stage.value : this.pending?.status;
    if (!file) { this.show([{ kind: "error", line: null, text: "Choisissez d'abord un fichier." }], "missing"); return; }
    this.confirm.hidden = true;
    this.report.dataset.state = "busy";
    clear(this.report, h("p", { class: "muted" }, dryRun ? "Vérification du fichier…" : "Import en cours…"));
    try {
      const report = await this.api.importCpts(file, { dry_run: dryRun, status });
      this.show(reportLines(report), dryRun ? "checked" : "imported");
      if (dryRun) {
        this.pending = { file, status };
        this.confirm.hidden = false;
        this.confirm.textContent = `Confirmer l'import (${formatInteger(report.cpts.length)} CPTS)`;
      } else {
        this.pending = null;
        await this.onImported?.(report);
      }
    } catch (error) {
      this.pending = null;
      this.show(refusalLines(error.problem?.errors ? error.problem : { detail: error.message }), "refused");
    }
  }
}
