// The territory type-ahead of the zones blanches view: région, département, EPCI or bassin de
// vie by name or code (`4` and `04` both give the département 04), arrows and Enter choose.

import { clear, h } from "./dom.js";

export class TerritoryBox {
  constructor({ api, input, list, onChoose }) {
    this.api = api;
    this.input = input;
    this.list = list;
    this.onChoose = onChoose;
    this.results = [];
    this.active = -1;
    this.timer = null;
    this.serial = 0;
    input.addEventListener("input", () => {
      clearTimeout(this.timer);
      this.timer = setTimeout(() => this.search(input.value.trim()), 150);
    });
    input.addEventListener("keydown", (event) => this.onKey(event));
    input.addEventListener("blur", () => setTimeout(() => this.close(), 150));
  }

  async search(query) {
    const serial = ++this.serial;
    if (!query) { this.close(); return; }
    let results = [];
    try { results = (await this.api.territories(query)).results; } catch { results = []; }
    if (serial !== this.serial) return;
    this.results = results;
    this.active = results.length ? 0 : -1;
    this.render();
  }

  render() {
    const items = this.results.map((territory, index) => h("li", {
      id: `territory-option-${index}`, role: "option", "data-scope": territory.scope || "",
      "aria-selected": index === this.active ? "true" : "false",
      onmousedown: (event) => { event.preventDefault(); this.choose(index); },
    }, `${territory.nom} `, h("span", { class: "muted" }, `${territory.kind_label} ${territory.code}`)));
    clear(this.list, items.length ? items : h("li", { role: "option", "aria-disabled": "true" }, "Aucun territoire trouvé"));
    this.list.hidden = false;
    this.input.setAttribute("aria-expanded", "true");
    if (this.active >= 0) this.input.setAttribute("aria-activedescendant", `territory-option-${this.active}`);
  }

  onKey(event) {
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      if (!this.results.length) return;
      event.preventDefault();
      const step = event.key === "ArrowDown" ? 1 : -1;
      this.active = (this.active + step + this.results.length) % this.results.length;
      this.render();
    } else if (event.key === "Enter") {
      event.preventDefault();
      if (this.active >= 0 && !this.list.hidden) this.choose(this.active);
      else this.search(this.input.value.trim());
    } else if (event.key === "Escape") {
      this.close();
    }
  }

  choose(index) {
    const territory = this.results[index];
    if (!territory) return;
    this.input.value = territory.label;
    this.close();
    this.onChoose(territory);
  }

  close() {
    this.list.hidden = true;
    this.input.setAttribute("aria-expanded", "false");
    this.input.removeAttribute("aria-activedescendant");
  }
}
