// The history panel: every version with its diff (communes added and removed, population and
// class before and after, who, when, why), and the stage steps with their comments.

import { clear, h } from "./dom.js";
import { formatDateTime, statusLabel, versionSummary } from "./format.js";

const EVENT_LABELS = {
  created: "Création",
  submitted: "Soumission à l'ARS",
  stage_requested: "Demande de passage de stade",
  stage_accepted: "Stade validé",
  changes_requested: "Modifications demandées",
  archived: "Archivage",
  restored: "Restauration",
};

export async function loadHistory(api, cptsId, box) {
  clear(box, h("p", { class: "muted" }, "Chargement de l'historique…"));
  const [versions, events] = await Promise.all([api.versions(cptsId), api.history(cptsId)]);
  const codes = new Set();
  for (const version of versions) for (const code of [...version.added, ...version.removed]) codes.add(code);
  for (const event of events) for (const comment of event.comments || []) if (comment.commune) codes.add(comment.commune);
  const names = {};
  if (codes.size) {
    try {
      const described = await api.units([...codes].slice(0, 5000));
      for (const unit of described.units) names[unit.code] = unit.nom;
    } catch { /* codes alone then */ }
  }
  const label = (code) => (names[code] ? `${names[code]} (${code})` : code);
  const versionItems = [...versions].reverse().map((version) => h("div", { class: "history-version", "data-version": version.version },
    h("strong", {}, `Version ${version.version}`), ` — ${formatDateTime(version.created_at)}`,
    version.author_email ? ` — ${version.author_email}` : "",
    h("div", {}, versionSummary(version), ` · ${statusLabel(version.status)}`, version.archived ? " · archivée" : ""),
    version.reason ? h("div", { class: "muted" }, `Motif : ${version.reason}`) : null,
    version.added.length ? h("div", { class: "diff-added" }, "Ajoutées : ", version.added.map(label).join(", ")) : null,
    version.removed.length ? h("div", { class: "diff-removed" }, "Retirées : ", version.removed.map(label).join(", ")) : null));
  const eventItems = [...events].reverse().filter((e) => e.kind !== "created").map((event) => h("div", { class: "history-version" },
    h("strong", {}, EVENT_LABELS[event.kind] || event.kind), ` — ${formatDateTime(event.at)}`,
    event.actor_email ? ` — ${event.actor_email}` : "",
    event.to_status ? h("div", {}, `Stade : ${statusLabel(event.from_status)} → ${statusLabel(event.to_status)}`) : null,
    event.comment ? h("div", {}, `« ${event.comment} »`) : null,
    (event.comments || []).length ? h("ul", {}, event.comments.map((c) => h("li", {}, `${label(c.commune)} : ${c.body}`))) : null));
  clear(box,
    h("h4", {}, `Versions (${versions.length})`), versionItems,
    eventItems.length ? [h("h4", {}, "Étapes du dossier"), eventItems] : null);
  return { versions, events };
}
