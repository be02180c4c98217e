// The territory type-ahead of the zones blanches view: région, département, EPCI or bassin de
// vie by name or code (`4` and `04` both give the département 04), arrows and Enter choose.

import { h } from "./dom.js";
import { TypeAhead } from "./typeahead.js";

export class TerritoryBox extends TypeAhead {
  constructor({ api, input, list, onChoose }) {
    super({
      input, list, onChoose, idPrefix: "territory-option", emptyText: "Aucun territoire trouvé",
      fetch: async (query) => (await api.territories(query)).results,
      describe: (territory) => [`${territory.nom} `,
        h("span", { class: "muted" }, `${territory.kind_label} ${territory.code}`)],
      label: (territory) => territory.label,
      attributes: (territory) => ({ "data-scope": territory.scope || "" }),
    });
  }
}
