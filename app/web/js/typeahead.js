// A type-ahead list box (ARIA combobox): the input asks the server after a short pause, arrows
// move through the results, Enter or a click chooses one, Escape closes. The search box of the
// top bar and the territory box of the coverage views are two settings of this one class.

import { clear, h } from "./dom.js";

export class TypeAhead {
  /**
   * @param {object} options
   * @param {HTMLInputElement} options.input
   * @param {HTMLElement} options.list
   * @param {(query: string) => Promise<object[]>} options.fetch  the results of a query
   * @param {(item: object) => void} options.onChoose
   * @param {(item: object) => (string|Node)[]} options.describe  the option's content
   * @param {(item: object) => string} options.label  the input's text once chosen
   * @param {string} options.idPrefix  ids of the options (`aria-activedescendant`)
   * @param {string} options.emptyText
   * @param {number} [options.minLength]
   * @param {number} [options.delay]  ms of pause before asking
   * @param {(item: object) => object} [options.attributes]  extra attributes of an option
   */
  constructor(options) {
    Object.assign(this, { minLength: 1, delay: 150, attributes: () => ({}) }, options);
    this.results = [];
    this.active = -1;
    this.timer = null;
    this.serial = 0;
    this.input.addEventListener("input", () => {
      clearTimeout(this.timer);
      this.timer = setTimeout(() => this.search(this.input.value.trim()), this.delay);
    });
    this.input.addEventListener("keydown", (event) => this.onKey(event));
    this.input.addEventListener("blur", () => setTimeout(() => this.close(), 150));
  }

  async search(query) {
    const serial = ++this.serial;
    if (query.length < this.minLength) { this.close(); return; }
    let results = [];
    try { results = await this.fetch(query); } catch { results = []; }
    if (serial !== this.serial) return;
    this.results = results;
    this.active = results.length ? 0 : -1;
    this.render();
  }

  render() {
    const items = this.results.map((item, index) => h("li", {
      id: `${this.idPrefix}-${index}`, role: "option", ...this.attributes(item),
      "aria-selected": index === this.active ? "true" : "false",
      onmousedown: (event) => { event.preventDefault(); this.choose(index); },
    }, ...this.describe(item)));
    clear(this.list, items.length ? items : h("li", { role: "option", "aria-disabled": "true" }, this.emptyText));
    this.list.hidden = false;
    this.input.setAttribute("aria-expanded", "true");
    if (this.active >= 0) this.input.setAttribute("aria-activedescendant", `${this.idPrefix}-${this.active}`);
  }

  onKey(event) {
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      if (!this.results.length || this.list.hidden) return;
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
    const item = this.results[index];
    if (!item) return;
    this.input.value = this.label(item);
    this.close();
    this.onChoose(item);
  }

  close() {
    this.list.hidden = true;
    this.input.setAttribute("aria-expanded", "false");
    this.input.removeAttribute("aria-activedescendant");
  }
}
