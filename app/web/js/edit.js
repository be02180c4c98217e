// The edit mode of one CPTS: a click adds or removes a commune (an arrondissement in Paris,
// Lyon and Marseille), rectangle and lasso select by the stated share rule, whole EPCI or
// bassin de vie, undo and redo; the panel is recomputed by the server after every change;
// save with If-Match, and a way out when someone else saved first.

import { coverageFill, cptsColor, editColours, zoneBlanchePattern } from "./colors.js";
import { $, clear, h, toast } from "./dom.js";
import { codesIn, formatInteger, plural, statusLabel } from "./format.js";
import { loadHistory } from "./history.js";
import { renderManage, scenarioNote } from "./manage.js";
import { refreshIndicators } from "./indicators.js";
import { renderEmpty, renderFigures, renderPending, renderTitle, renderWarnings } from "./panel.js";
import { renderStages } from "./stages.js";
import { PerimeterStore } from "./store.js";

const EXPORTS = [
  ["csv", "CSV (Excel)"], ["xlsx", "Classeur XLSX"], ["geojson", "GeoJSON"],
  ["gpkg", "GeoPackage"], ["html", "Carte HTML autonome"],
];

export class EditMode {
  constructor({ api, map, communes, perimeters, draw, metrics, onSaved, onOpened = () => {} }) {
    this.api = api;
    this.map = map;
    this.communes = communes;
    this.perimeters = perimeters;
    this.draw = draw;
    this.metrics = metrics;
    this.onSaved = onSaved;
    this.onOpened = onOpened;
    this.store = new PerimeterStore();
    this.cpts = null;       // the CPTS as read (null: a new one)
    this.newName = null;
    this.actions = null;
    this.active = false;    // a perimeter is open
    this.seq = 0;
    this.controller = null;
    this.names = {};
    this.selectionRemoves = false;
    this.shapeDrawn = false;      // a rectangle or lasso is being drawn
    this.shapeEndedAt = -Infinity;
    this.store.subscribe((event) => this.onStoreChange(event));
    this.bindPanel();
  }

  get editable() { return this.active && (this.cpts === null || Boolean(this.actions?.edit)); }

  // --- style ---------------------------------------------------------------------------------

  style() {
    return (code) => {
      if (this.active && this.store.has(code)) {
        const edit = editColours();
        return { fill: true, fillColor: edit.fill, fillOpacity: edit.opacity, weight: 1.6, color: edit.outline, opacity: 1 };
      }
      const others = this.perimeters.covering(code, null).filter((id) => id !== this.cpts?.id);
      const fill = coverageFill(others);
      const color = fill.kind === "white" ? zoneBlanchePattern() : others.length > 1 ? "#555" : cptsColor(others[0]);
      return { fill: true, fillColor: color, fillOpacity: fill.kind === "white" ? 0.35 : editColours().others_opacity,
               weight: 0.4, color: "#666", opacity: 0.5 };
    };
  }

  // --- panel bindings ------------------------------------------------------------------------

  bindPanel() {
    $("#edit-open").addEventListener("click", () => {
      const id = Number($("#edit-cpts-select").value);
      if (id) this.open(id);
    });
    $("#edit-new").addEventListener("click", () => {
      $("#edit-new-form").hidden = false;
      $("#edit-new-name").focus();
    });
    $("#edit-new-cancel").addEventListener("click", () => { $("#edit-new-form").hidden = true; });
    $("#edit-new-form").addEventListener("submit", (event) => {
      event.preventDefault();
      const name = $("#edit-new-name").value.trim();
      if (name) this.startNew(name);
    });
    $("#edit-undo").addEventListener("click", () => this.undo());
    $("#edit-redo").addEventListener("click", () => this.redo());
    $("#edit-box").addEventListener("click", () => this.startDrawing("rectangle"));
    $("#edit-lasso").addEventListener("click", () => this.startDrawing("polygon"));
    $("#edit-save-form").addEventListener("submit", (event) => { event.preventDefault(); this.save(); });
    $("#edit-discard").addEventListener("click", () => this.discard());
    $("#edit-close").addEventListener("click", () => this.close());
    $("#edit-add-form").addEventListener("submit", (event) => { event.preventDefault(); this.addByText(); });
    $("#edit-history").addEventListener("toggle", () => { if ($("#edit-history").open) this.refreshHistory(); });
    this.map.on("draw:created", (event) => this.onDrawn(event));
    this.map.on("draw:drawstart", () => { this.shapeDrawn = true; });
    this.map.on("draw:drawstop", () => { this.shapeDrawn = false; this.shapeEndedAt = performance.now(); });
  }

  fillChooser() {
    const select = $("#edit-cpts-select");
    const current = select.value;
    const options = [...this.perimeters.list].filter((c) => !c.archived)
      .sort((a, b) => a.name.localeCompare(b.name, "fr"))
      .map((c) => h("option", { value: c.id }, `${c.name} — ${statusLabel(c.status)}`));
    clear(select, options.length ? options : h("option", { value: "" }, "Aucune CPTS visible"));
    if (current) select.value = current;
  }

  // --- opening and closing -------------------------------------------------------------------

  async open(id, { add = [], zoom = true } = {}) {
    this.message("");
    let cpts;
    let actions;
    try {
      [cpts, actions] = await Promise.all([this.api.cpts(id), this.api.actions(id)]);
    } catch (error) {
      this.message(error.message, "error");
      return;
    }
    this.cpts = cpts;
    this.actions = actions;
    this.newName = null;
    this.active = true;
    this.store.reset(cpts.communes);
    if (add.length) this.store.add(add, "rattachement");
    $("#edit-cpts-select").value = String(id);
    this.showSession();
    this.communes.restyleAll();
    this.names = await this.describe(cpts.communes);
    this.renderAll();
    if (add.length) this.simulate();
    else { renderFigures(cpts, { seq: this.seq, names: this.names }); refreshIndicators(this.api, cpts.communes); }
    if (zoom) await this.zoomTo(this.store.codes());
    $("#edit-session").dataset.opened = String(id);
    this.onOpened();
  }

  startNew(name) {
    this.cpts = null;
    this.actions = { edit: true, request_stage: false, accept_stage: false, request_changes: false, archive: false, export: false };
    this.newName = name;
    this.active = true;
    this.store.reset([]);
    $("#edit-new-form").hidden = true;
    this.showSession();
    this.communes.restyleAll();
    this.renderAll();
    renderEmpty();
    this.message(`Nouvelle CPTS « ${name} » : cliquez sur les communes de son territoire.`, "info");
    $("#edit-add-input").focus();  // the keyboard stays in the panel, where adding goes on
  }

  close() {
    if (this.store.dirty && !window.confirm("Fermer sans enregistrer les modifications ?")) return;
    this.active = false;
    this.cpts = null;
    this.store.reset([]);
    $("#edit-session").hidden = true;
    $("#edit-chooser").hidden = false;
    this.communes.restyleAll();
    this.onOpened();
  }

  showSession() {
    $("#edit-chooser").hidden = true;
    $("#edit-session").hidden = false;
    $("#edit-history").open = false;
    clear($("#history-list"), h("p", { class: "muted" }, "Ouvrez pour charger l'historique."));
  }

  renderAll() {
    renderTitle(this.cpts, { dirty: this.store.dirty, readOnly: !this.editable, newName: this.newName });
    for (const element of document.querySelectorAll("[data-edit-only]")) element.hidden = !this.editable;
    $("#edit-undo").disabled = !this.store.canUndo;
    $("#edit-redo").disabled = !this.store.canRedo;
    $("#edit-save").disabled = !(this.store.dirty || (!this.cpts && this.store.size > 0));
    this.renderMembers();
    this.renderExports();
    const note = scenarioNote(this.cpts);
    $("#edit-scenario").hidden = !note;
    $("#edit-scenario").textContent = note ? `⚑ ${note}` : "";
    renderManage($("#edit-manage"), {
      api: this.api, cpts: this.cpts, actions: this.actions, dirty: this.store.dirty,
      onDone: async (message) => { await this.reload(); this.message(message, "ok"); },
      onError: (error) => this.message(error.message, "error"),
    });
    renderStages($("#edit-stage"), {
      api: this.api, cpts: this.cpts, actions: this.actions || {}, names: this.names,
      // the confirmation stays visible: written again once the CPTS is read anew
      onDone: async (message) => { await this.reload(); this.message(message, "ok"); },
      onError: (error) => this.message(error.message, "error"),
    });
  }

  renderMembers() {
    const codes = this.store.codes();
    clear($("#edit-members-list"), codes.map((code) => h("li", { "data-code": code }, this.names[code] ? `${this.names[code]} (${code})` : code)));
    $("#edit-members summary").textContent = `Communes du périmètre (${codes.length})`;
  }

  renderExports() {
    const box = $("#edit-exports");
    clear(box);
    if (!this.cpts || !this.actions?.export) return;
    box.append(h("h4", {}, "Exporter la version enregistrée"),
      h("div", { class: "row" }, EXPORTS.map(([format, label]) => h("a", {
        href: `/api/cpts/${this.cpts.id}/export?format=${format}`, download: "", "data-format": format }, label))));
  }

  // --- changes -------------------------------------------------------------------------------

  /**
   * Whether a rectangle or a lasso is being drawn, or has just been finished: the click that
   * ends a drag (it follows the mouseup that finished the shape) is part of the drawing.
   */
  drawingShape() {
    return this.shapeDrawn || performance.now() - this.shapeEndedAt < 400;
  }

  /** A click on the map in the edit mode (ignored, but consumed, while a shape is drawn). */
  click(code, properties) {
    if (this.active && this.drawingShape()) return true;
    if (!this.editable) return false;
    const started = performance.now();
    if (properties?.nom) this.names[code] = properties.nom;
    this.pendingClick = { started, seq: this.seq + 1 };
    const step = this.store.toggle(code);
    if (!step) return true;
    // the commune is restyled now; the tile canvases repaint in the next frame, before this
    requestAnimationFrame(() => this.metrics.clickPaints?.push(performance.now() - started));
    this.showLast(code, step.added.length > 0);
    return true;
  }

  onStoreChange(event) {
    if (!this.active) return;
    const step = event.step;
    if (step) this.communes.restyle([...step.added, ...step.removed]);
    if (event.kind === "reset" || event.kind === "rebase") return;
    // said with the figures, once they come (an undo says what it put back)
    this.change = this.describeChange(event.kind === "undo" && step ? { added: step.removed, removed: step.added } : step);
    renderPending(this.store.size);
    this.renderAll();
    this.simulate();
  }

  /** « Menton ajoutée », « 12 communes ajoutées, Èze retirée »: what a change did. */
  describeChange(step) {
    if (!step) return "";
    const said = (codes, word) => (codes.length === 1 ? `${this.names[codes[0]] || codes[0]} ${word}`
      : codes.length ? plural(codes.length, `commune ${word}`, `communes ${word}s`) : null);
    return [said(step.added, "ajoutée"), said(step.removed, "retirée")].filter(Boolean).join(", ");
  }

  undo() { if (this.editable) this.store.undo(); }
  redo() { if (this.editable) this.store.redo(); }

  async simulate() {
    const seq = ++this.seq;
    const codes = this.store.codes();
    if (this.controller) this.controller.abort();
    const click = this.pendingClick?.seq === seq ? { started: this.pendingClick.started, metrics: this.metrics } : null;
    refreshIndicators(this.api, codes, click);
    if (codes.length === 0) { renderEmpty(); this.recordClick(seq); return; }
    this.controller = new AbortController();
    const body = this.cpts ? { cpts_id: this.cpts.id, communes: codes } : { communes: codes };
    let result;
    try {
      result = await this.api.simulate(body, this.controller.signal);
    } catch (error) {
      if (error.name === "AbortError") return;
      if (seq === this.seq) this.message(error.message, "error");
      return;
    }
    if (seq !== this.seq) return;
    renderFigures(result, { seq, names: this.names, saved: Boolean(this.cpts), change: this.change });
    this.recordClick(seq);
    this.lastResult = result;
    this.nameWarnings(result, seq);
  }

  /** Alerts cite communes by code: fetch the names not known yet, then write them again. */
  async nameWarnings(result, seq) {
    const unknown = [...new Set((result.warnings || []).flatMap((w) => codesIn(w.detail)))].filter((c) => !this.names[c]);
    if (!unknown.length) return;
    Object.assign(this.names, await this.describe(unknown));
    if (seq === this.seq) renderWarnings(result, this.names);
  }

  recordClick(seq) {
    const click = this.pendingClick;
    if (click && click.seq === seq) {
      this.metrics.clicks.push(performance.now() - click.started);
      this.pendingClick = null;
    }
  }

  async showLast(code, added) {
    const box = $("#edit-last");
    clear(box, h("p", {}, `${this.names[code] || code} (${code}) ${added ? "ajoutée" : "retirée"}.`));
    let card;
    try { card = await this.api.commune(code); } catch { return; }
    this.names[code] = card.nom;
    const buttons = [];
    if (card.epci) {
      buttons.push(h("button", { type: "button", "data-group": "epci",
        onclick: () => this.addGroup("epci", card.epci) }, `Ajouter tout l'EPCI « ${card.epci_nom || card.epci} »`));
    }
    if (card.bassin_de_vie) {
      buttons.push(h("button", { type: "button", "data-group": "bassin_de_vie",
        onclick: () => this.addGroup("bassin_de_vie", card.bassin_de_vie) },
      `Ajouter tout le bassin de vie « ${card.bassin_de_vie_nom || card.bassin_de_vie} »`));
    }
    clear(box, h("p", {}, `${card.nom} (${code}) ${added ? "ajoutée" : "retirée"} — ${formatInteger(card.population)} hab.`),
      buttons.length ? h("div", { class: "row" }, buttons) : null);
  }

  async addGroup(kind, code) {
    try {
      const group = await this.api.group(kind, code);
      const step = this.store.add(group.communes, `${kind === "epci" ? "EPCI" : "bassin de vie"} ${group.nom}`);
      Object.assign(this.names, await this.describe(group.communes));
      toast(step ? `${plural(step.added.length, "commune")} de « ${group.nom} » ajoutées.` : `« ${group.nom} » est déjà dans le périmètre.`);
    } catch (error) {
      this.message(error.message, "error");
    }
  }

  async addByText() {
    const input = $("#edit-add-input");
    const text = input.value.trim();
    if (!text) return;
    let found;
    try { [found] = await this.api.search(text); } catch { found = null; }
    if (!found) { this.message(`Aucune commune ne correspond à « ${text} ».`, "error"); return; }
    if (!found.is_unit) {
      this.message(`${found.nom} se compose d'arrondissements : ajoutez-les un par un ou cliquez-les sur la carte.`, "info");
      return;
    }
    this.names[found.code] = found.nom;
    this.store.toggle(found.code);
    this.showLast(found.code, this.store.has(found.code));
    input.value = "";
    if (found.bbox) {  // show where it is
      const [w, s, e, n] = found.bbox;
      this.map.fitBounds([[s, w], [n, e]], { maxZoom: 12, padding: [40, 40], animate: false });
    }
  }

  startDrawing(kind) {
    if (!this.editable) return;
    const options = { showArea: false, shapeOptions: { color: editColours().outline } };
    if (kind === "polygon") options.allowIntersection = false;
    this.drawing?.disable();
    this.drawing = kind === "rectangle" ? new L.Draw.Rectangle(this.map, options) : new L.Draw.Polygon(this.map, options);
    this.drawing.enable();
    toast(kind === "rectangle" ? "Tracez un rectangle sur la carte (Échap pour annuler)."
      : "Cliquez les sommets du polygone, puis le premier point pour fermer (Échap pour annuler).");
  }

  async onDrawn(event) {
    this.draw.items.clearLayers();
    if (!this.editable) return;
    const geometry = event.layer.toGeoJSON().geometry;
    try {
      const found = await this.api.selection(geometry);
      const label = event.layerType === "rectangle" ? "rectangle" : "lasso";
      const step = this.store.add(found.communes, label);
      Object.assign(this.names, await this.describe(found.communes));
      this.renderMembers();
      toast(`${plural(step ? step.added.length : 0, "commune ajoutée", "communes ajoutées")}. ${found.rule}`);
    } catch (error) {
      this.message(error.message, "error");
    }
  }

  async describe(codes) {
    const names = {};
    if (!codes.length) return names;
    try {
      const found = await this.api.units(codes.slice(0, 5000));
      for (const unit of found.units) names[unit.code] = unit.nom;
    } catch { /* names are a comfort */ }
    return names;
  }

  // --- saving --------------------------------------------------------------------------------

  async save() {
    if (!this.editable) return;
    const reason = $("#edit-reason").value.trim() || null;
    this.message("Enregistrement…", "info");
    try {
      if (!this.cpts) {
        const created = await this.api.createCpts({ name: this.newName, communes: this.store.codes(), reason });
        await this.afterSave(created.id, `CPTS « ${created.name} » créée (version ${created.version}) : ${plural(created.units, "commune")}, ${formatInteger(created.population)} habitants, taille ${created.size_class}.`);
        return;
      }
      const saved = await this.api.patchCpts(this.cpts.id, this.cpts.version, { communes: this.store.codes(), reason });
      await this.afterSave(saved.id, `Version ${saved.version} enregistrée : ${plural(saved.units, "commune")}, ${formatInteger(saved.population)} habitants, taille ${saved.size_class}.`);
    } catch (error) {
      if (error.status === 412 || error.code === "stale_version") this.showConflict(error);
      else this.message(error.message, "error");
    }
  }

  async afterSave(id, message) {
    $("#edit-reason").value = "";
    await this.onSaved();
    await this.open(id, { zoom: false });
    this.message(message, "ok");
  }

  showConflict(error) {
    const current = error.problem?.errors?.[0]?.current_version;
    const box = $("#edit-message");
    clear(box, h("div", { class: "notice error", "data-conflict": "true" },
      h("strong", {}, "Quelqu'un a enregistré cette CPTS avant vous"),
      h("p", {}, `Vous modifiiez la version ${this.cpts.version}` + (current ? `, la version actuelle est la ${current}.` : ".") +
        " Rien n'a été enregistré de votre côté, et vos changements ne sont pas perdus."),
      h("div", { class: "row" },
        h("button", { type: "button", class: "primary", id: "conflict-rebase", onclick: () => this.rebase() },
          "Reprendre mes changements sur la version actuelle"),
        h("button", { type: "button", id: "conflict-reload", onclick: () => this.discard(true) },
          "Abandonner mes changements"))));
    box.querySelector("#conflict-rebase").focus();
  }

  /** Re-read the CPTS, replay my changes on its current perimeter, let me check and save. */
  async rebase() {
    const fresh = await this.api.cpts(this.cpts.id);
    const before = this.store.codes();
    this.cpts = fresh;
    const diff = this.store.rebase(fresh.communes);
    this.communes.restyle([...before, ...fresh.communes]);
    Object.assign(this.names, await this.describe(fresh.communes));
    this.renderAll();
    await this.simulate();
    this.message(`Vos changements (+${diff.add.length} / −${diff.remove.length}) sont réappliqués sur la version ${fresh.version} : vérifiez le panneau puis enregistrez.`, "warn");
  }

  async discard(force = false) {
    if (!this.cpts) { this.close(); return; }
    if (!force && this.store.dirty && !window.confirm("Abandonner les modifications non enregistrées ?")) return;
    await this.open(this.cpts.id, { zoom: false });
    this.message("Périmètre rechargé depuis la dernière version enregistrée.", "info");
  }

  async reload() {
    await this.onSaved();
    if (this.cpts) await this.open(this.cpts.id, { zoom: false });
  }

  async refreshHistory() {
    if (!this.cpts) {
      clear($("#history-list"), h("p", { class: "muted" }, "Pas encore d'historique : la CPTS n'est pas enregistrée."));
      return;
    }
    try { await loadHistory(this.api, this.cpts.id, $("#history-list")); } catch (error) {
      clear($("#history-list"), h("p", { class: "notice error" }, error.message));
    }
  }

  message(text, kind = "info") {
    const box = $("#edit-message");
    clear(box, text ? h("p", { class: `notice ${kind}` }, text) : null);
  }

  async zoomTo(codes) {
    if (!codes.length) return;
    try {
      const { bbox } = await this.api.units(codes.slice(0, 5000));
      if (bbox) this.map.fitBounds([[bbox[1], bbox[0]], [bbox[3], bbox[2]]], { maxZoom: 12, padding: [20, 20], animate: false });
    } catch { /* stay where we are */ }
  }
}
