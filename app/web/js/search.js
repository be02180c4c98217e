// The search box of the top bar: name, INSEE code or postal code; arrows and Enter choose a
// result, which the map zooms to.

import { h } from "./dom.js";
import { formatInteger } from "./format.js";
import { TypeAhead } from "./typeahead.js";

export class SearchBox extends TypeAhead {
  constructor({ api, input, list, onChoose }) {
    super({
      input, list, onChoose, minLength: 2, delay: 180, idPrefix: "search-option",
      emptyText: "Aucune commune trouvée",
      fetch: (query) => api.search(query),
      describe: (commune) => [`${commune.nom} `, h("span", { class: "muted" },
        `${commune.code} · ${commune.departement} · ${formatInteger(commune.population)} hab.`)],
      label: (commune) => `${commune.nom} (${commune.code})`,
    });
  }
}
