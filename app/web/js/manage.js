// What the server lets the user do to the CPTS open in the edit mode, beyond its perimeter:
// rename it (PATCH name with If-Match), archive or restore it (with a reason), as
// GET /api/map/cpts/{id}/actions allows; and the mark of an agency's private scenario, so
// that an ARS edit is never mistaken for the official map. `manageControls` and
// `scenarioNote` are pure and unit-tested with `node --test`.

import { clear, h } from "./dom.js";

/** The controls to show for a CPTS and the server's allowed actions. */
export function manageControls(cpts, actions) {
  if (!cpts || !actions) return [];
  const controls = [];
  if (actions.edit && !cpts.archived) controls.push("rename");
  if (actions.archive && !cpts.archived) controls.push("archive");
  if (actions.restore && cpts.archived) controls.push("restore");
  return controls;
}

/** The words of the private-scenario mark (null for a CPTS of the official map). */
export function scenarioNote(cpts) {
  if (!cpts?.is_scenario) return null;
  return "Scénario privé de l'ARS : visible de votre agence seulement, jamais compté dans la "
    + "couverture officielle ni montré aux porteurs.";
}

export function renderManage(box, { api, cpts, actions, dirty, onDone, onError }) {
  clear(box);
  const controls = manageControls(cpts, actions);
  if (!controls.length) return;
  const run = async (button, action, message) => {
    button.disabled = true;
    try { await action(); await onDone(message); } catch (error) { onError(error); } finally { button.disabled = false; }
  };
  const parts = [h("h4", {}, "Gérer la CPTS")];
  if (controls.includes("rename")) {
    const name = h("input", { id: "manage-name", value: cpts.name, maxlength: 200, required: true });
    const button = h("button", { type: "submit", id: "manage-rename" }, "Renommer");
    parts.push(h("form", { class: "manage-rename", onsubmit: (event) => {
      event.preventDefault();
      const next = name.value.trim();
      if (!next || next === cpts.name) return;
      if (dirty) { onError(new Error("Enregistrez ou abandonnez d'abord les changements du périmètre, puis renommez.")); return; }
      run(button, () => api.rename(cpts.id, cpts.version, next), `CPTS renommée « ${next} ».`);
    } }, h("label", { for: "manage-name" }, "Nom"), h("div", { class: "row" }, name, button)));
  }
  if (controls.includes("archive") || controls.includes("restore")) {
    const restore = controls.includes("restore");
    const reason = h("input", { id: "manage-reason", maxlength: 2000,
      placeholder: restore ? "ex. projet relancé" : "ex. fusion avec la CPTS voisine" });
    const button = h("button", { type: "button", id: restore ? "manage-restore" : "manage-archive",
      class: restore ? "" : "danger" }, restore ? "Restaurer cette CPTS" : "Archiver cette CPTS");
    button.addEventListener("click", () => run(button,
      () => (restore ? api.restore : api.archive).call(api, cpts.id, cpts.version, reason.value.trim() || null),
      restore ? `CPTS « ${cpts.name} » restaurée : elle compte de nouveau dans la couverture.`
        : `CPTS « ${cpts.name} » archivée : elle ne compte plus dans la couverture, son historique reste.`));
    parts.push(h("label", { for: "manage-reason" }, restore ? "Motif de la restauration (facultatif)" : "Motif de l'archivage (facultatif)"),
      reason, h("div", { class: "row" }, button));
  }
  box.append(...parts);
}
