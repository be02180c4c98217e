// The stage workflow from the page: a carrier asks for the next stage; the agency in charge
// accepts it or asks for changes, with comments on given communes. Buttons the user's role
// cannot use are not shown (the server decides, through /api/map/cpts/{id}/actions).

import { clear, h } from "./dom.js";
import { nextStage, statusLabel } from "./format.js";

export function renderStages(box, { api, cpts, actions, names, onDone, onError }) {
  clear(box);
  if (!cpts) return;
  const parts = [h("h4", {}, "Stade du dossier")];
  parts.push(h("p", {}, `Stade actuel : ${statusLabel(cpts.status)}`,
    cpts.pending_status ? ` · passage au stade « ${statusLabel(cpts.pending_status)} » demandé` : ""));
  const run = async (action, message) => {
    try { await action(); onDone(message); } catch (error) { onError(error); }
  };
  if (actions.request_stage && nextStage(cpts.status)) {
    const comment = h("textarea", { id: "stage-request-comment", rows: 2, maxlength: 4000 });
    parts.push(h("label", { for: "stage-request-comment" }, "Message à l'ARS (facultatif)"), comment,
      h("div", { class: "row" }, h("button", { type: "button", class: "primary", id: "stage-request",
        onclick: () => run(() => api.requestStage(cpts.id, comment.value || null),
          `Passage au stade « ${statusLabel(nextStage(cpts.status))} » demandé.`) },
      `Demander la validation : ${statusLabel(nextStage(cpts.status))}`)));
  }
  if (cpts.pending_status) {  // the carrier's message, next to « Valider »
    const message = h("p", { class: "notice info", id: "stage-request-message" }, "Message du porteur : chargement…");
    parts.push(message);
    api.history(cpts.id).then((history) => {
      const events = history.events || history;
      const request = [...events].reverse().find((event) => event.kind === "stage_requested");
      message.textContent = request?.comment ? `Message du porteur : « ${request.comment} »` : "Le porteur n'a pas laissé de message.";
    }).catch(() => { message.textContent = "Message du porteur indisponible."; });
  }
  if (actions.accept_stage) {
    parts.push(h("div", { class: "row" }, h("button", { type: "button", class: "primary", id: "stage-accept",
      onclick: () => run(() => api.acceptStage(cpts.id, cpts.version, null),
        `Stade « ${statusLabel(cpts.pending_status)} » validé.`) },
    `Valider le stade « ${statusLabel(cpts.pending_status)} »`)));
  }
  if (actions.request_changes) {
    const comment = h("textarea", { id: "changes-comment", rows: 2, maxlength: 4000, required: true });
    const communeSelect = h("select", { id: "changes-commune" },
      cpts.communes.map((code) => h("option", { value: code }, names[code] ? `${names[code]} (${code})` : code)));
    const communeComment = h("input", { id: "changes-commune-comment", maxlength: 4000 });
    const list = h("ul", { class: "small" });
    const perCommune = [];
    parts.push(
      h("h4", {}, "Demander des modifications"),
      h("label", { for: "changes-comment" }, "Commentaire général"), comment,
      h("label", { for: "changes-commune" }, "Commentaire sur une commune"), communeSelect,
      h("div", { class: "row" }, communeComment, h("button", { type: "button", onclick: () => {
        if (!communeComment.value.trim()) return;
        perCommune.push({ commune: communeSelect.value, body: communeComment.value.trim() });
        list.append(h("li", {}, `${communeSelect.selectedOptions[0].textContent} : ${communeComment.value.trim()}`));
        communeComment.value = "";
      } }, "Ajouter")),
      list,
      h("div", { class: "row" }, h("button", { type: "button", id: "stage-changes", onclick: () => {
        if (!comment.value.trim()) { comment.focus(); return; }
        run(() => api.requestChanges(cpts.id, comment.value.trim(), perCommune), "Demande de modifications envoyée.");
      } }, "Renvoyer avec des demandes de modifications")));
  }
  if (parts.length > 2 || cpts.pending_status) box.append(...parts);
  else box.append(...parts.slice(0, 2));
}
