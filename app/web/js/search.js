// The search box of the top bar: name, INSEE code or postal code; arrows and Enter choose a
// result, which the map zooms to.

import { clear, h } from "./dom.js";
import { formatInteger } from "./format.js";

export class SearchBox {
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
      this.timer = setTimeout(() => this.search(input.value.trim()), 180);
    });
    input.addEventListener("keydown", (event) => this.onKey(event));
    input.addEventListener("blur", () => setTimeout(() => this.close(), 150));
  }

  async search(query) {
    const serial = ++this.serial;
    if (query.length < 2) { this.close(); return; }
    let results = [];
    try { results = await this.api.search(query); } catch { results = []; }
    if (serial !== this.serial) return;
    this.results = results;
    this.active = results.length ? 0 : -1;
    this.render();
  }

  render() {
    const items = this.results.map((commune, index) => h("li", {
      id: `search-option-${index}`, role: "option", "aria-selected": index === this.active ? "true" : "false",
      onmousedown: (event) => { event.preventDefault(); this.choose(index); },
    }, `${commune.nom} `, h("span", { class: "muted" },
      `${commune.code} · ${commune.departement} · ${formatInteger(commune.population)} hab.`)));
    clear(this.list, items.length ? items : h("li", { role: "option", "aria-disabled": "true" }, "Aucune commune trouvée"));
    this.list.hidden = false;
    this.input.setAttribute("aria-expanded", "true");
    if (this.active >= 0) this.input.setAttribute("aria-activedescendant", `search-option-${this.active}`);
  }

  onKey(event) {
    if (this.list.hidden && event.key !== "Enter") return;
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      const step = event.key === "ArrowDown" ? 1 : -1;
      this.active = (this.active + step + this.results.length) % Math.max(1, this.results.length);
      this.render();
    } else if (event.key === "Enter") {
      event.preventDefault();
      if (this.active >= 0) this.choose(this.active);
      else this.search(this.input.value.trim());
    } else if (event.key === "Escape") {
      this.close();
    }
  }

  choose(index) {
    const commune = this.results[index];
    if (!commune) return;
    this.input.value = `${commune.nom} (${commune.code})`;
    this.close();
    this.onChoose(commune);
  }

  close() {
    this.list.hidden = true;
    this.input.setAttribute("aria-expanded", "false");
    this.input.removeAttribute("aria-activedescendant");
  }
}
