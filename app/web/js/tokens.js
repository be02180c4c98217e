// Personal API tokens from the page: create one (its secret shown this once, to copy), list
// mine (name, prefix, dates, last use) and revoke one. GET/POST /api/tokens, DELETE
// /api/tokens/{id}. `tokenState` is pure and unit-tested with `node --test`.

import { clear, h } from "./dom.js";
import { formatDateTime } from "./format.js";

/** How a token stands at `now`: "revoked", "expired" or "active", with its French label. */
export function tokenState(token, now = new Date()) {
  if (token.revoked_at) return { state: "revoked", label: `révoqué le ${formatDateTime(token.revoked_at)}` };
  if (token.expires_at && new Date(token.expires_at) <= now) {
    return { state: "expired", label: `expiré le ${formatDateTime(token.expires_at)}` };
  }
  return { state: "active", label: token.expires_at ? `valable jusqu'au ${formatDateTime(token.expires_at)}` : "sans expiration" };
}

/** The tokens box: a creation form, the secret of the new token, and the list. */
export class TokensPanel {
  constructor({ api, root }) {
    this.api = api;
    this.name = h("input", { id: "token-name", required: true, maxlength: 100, placeholder: "ex. script QGIS" });
    this.days = h("input", { id: "token-days", type: "number", min: 1, max: 3650, placeholder: "sans expiration", size: 8 });
    this.secret = h("div", { id: "token-secret", "aria-live": "polite" });
    this.list = h("ul", { id: "token-list", class: "token-list" });
    this.message = h("div", { id: "token-message", role: "status" });
    const form = h("form", { id: "token-form", onsubmit: (event) => { event.preventDefault(); this.create(); } },
      h("label", { for: "token-name" }, "Nom du jeton"), this.name,
      h("label", { for: "token-days" }, "Durée de validité en jours (facultatif)"), this.days,
      h("div", { class: "row" }, h("button", { type: "submit", id: "token-create" }, "Créer un jeton")));
    clear(root, h("p", { class: "muted small" }, "Un jeton permet à un script ou à QGIS de lire l'API en votre nom "
      + "(en-tête Authorization: Bearer …)."), form, this.secret, this.message, this.list);
  }

  async load() {
    try {
      this.render(await this.api.tokens());
    } catch (error) {
      clear(this.message, h("p", { class: "notice error" }, error.message));
    }
  }

  render(tokens) {
    const now = new Date();
    clear(this.list, tokens.length ? tokens.map((token) => {
      const { state, label } = tokenState(token, now);
      return h("li", { dataset: { token: token.id, state } },
        h("strong", {}, token.name), ` (${token.prefix}…) · créé le ${formatDateTime(token.created_at)} · ${label}`,
        token.last_used_at ? ` · dernière utilisation le ${formatDateTime(token.last_used_at)}` : " · jamais utilisé",
        state === "active" ? h("button", { type: "button", class: "token-revoke", onclick: () => this.revoke(token) }, "Révoquer") : null);
    }) : h("li", { class: "muted" }, "Aucun jeton."));
  }

  async create() {
    clear(this.message);
    try {
      const days = this.days.value ? Number(this.days.value) : null;
      const token = await this.api.createToken(this.name.value.trim(), days);
      const value = h("input", { id: "token-value", readonly: true, value: token.token, size: 40,
        "aria-label": "Le nouveau jeton" });
      clear(this.secret, h("div", { class: "notice ok" },
        h("p", {}, `Jeton « ${token.name} » créé. Copiez-le maintenant : il ne sera plus jamais affiché.`), value,
        h("button", { type: "button", onclick: () => { value.select(); navigator.clipboard?.writeText(token.token).catch(() => {}); } }, "Copier")));
      this.name.value = "";
      this.days.value = "";
      value.focus();
      value.select();
      await this.load();
    } catch (error) {
      clear(this.message, h("p", { class: "notice error" }, error.message));
    }
  }

  async revoke(token) {
    clear(this.message);
    try {
      await this.api.revokeToken(token.id);
      clear(this.secret);
      clear(this.message, h("p", { class: "notice ok" }, `Jeton « ${token.name} » révoqué.`));
      await this.load();
    } catch (error) {
      clear(this.message, h("p", { class: "notice error" }, error.message));
    }
  }
}
