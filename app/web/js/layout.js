// The page at every width: below 1024 px the panel is a drawer (its toggle « Panneau » opens and
// closes it, Escape closes it and gives the focus back to the toggle, a commune's fiche opens
// it); below 1366 px the layer box folds into its button; below 800 px the edit mode is off
// (its tab says why). Leaflet is told whenever the map's box changes size. The breakpoints are
// the ones of app/web/css/map.css.

export const BREAKPOINTS = { phone: 600, edit: 800, drawer: 1024, layers: 1366 };

/** How the page is laid out at `width` CSS pixels. */
export function layoutFor(width) {
  return {
    drawer: width < BREAKPOINTS.drawer,  // the panel slides in and out
    overlay: width < BREAKPOINTS.phone,  // ... over the whole map
    layersCollapsed: width < BREAKPOINTS.layers,
    editAllowed: width >= BREAKPOINTS.edit,
  };
}

/**
 * Whether an Escape key press closes the drawer: an open drawer, the focus in it or on its
 * toggle (or nowhere, when the drawer covers the map), and no list box of a type-ahead open
 * (Escape closes that list first).
 */
export function escapeClosesDrawer({ drawer, open, inDrawer, onToggle, onBody, overlay, listOpen }) {
  if (!drawer || !open || listOpen) return false;
  return inDrawer || onToggle || (overlay && onBody);
}

export class PageLayout {
  /**
   * @param {object} options
   * @param {L.Map} options.map
   * @param {HTMLElement} options.toggle  the drawer's toggle button
   * @param {HTMLElement} options.panel
   * @param {HTMLElement} [options.card]  the commune's fiche: when it changes, the drawer opens
   * @param {() => void} [options.onEditDisallowed]  the window became too narrow to edit
   */
  constructor({ map, toggle, panel, card, onEditDisallowed = () => {} }) {
    Object.assign(this, { map, toggle, panel, card, onEditDisallowed });
    this.current = null;
    this.open = false;
  }

  start() {
    this.apply();
    // narrow screens hide the e-mail and may cut the role (map.css): the badge's title says both
    const email = document.querySelector(".user-email")?.textContent.trim();
    const badge = document.querySelector(".role-badge");
    if (email && badge) badge.title = `Votre rôle : ${badge.textContent.trim()} — connecté en tant que ${email}`;
    window.addEventListener("resize", () => this.apply());
    this.toggle.addEventListener("click", () => (this.open ? this.closeDrawer() : this.openDrawer()));
    document.addEventListener("keydown", (event) => this.onKey(event), true);
    // the views of the tabs and the skip link's target live in the drawer
    for (const tab of document.querySelectorAll("[role=tab]")) {
      tab.addEventListener("click", () => this.showPanel());
    }
    document.querySelector('.skip-link[href="#panel"]')?.addEventListener("click", () => this.showPanel());
    // ... and the map's skip link uncovers the map on a phone
    document.querySelector('.skip-link[data-skip="map"]')?.addEventListener("click", () => {
      if (this.current.overlay) this.closeDrawer();
    });
    if (this.card) new MutationObserver(() => this.showPanel()).observe(this.card, { childList: true });
    // the map's box changes with the drawer and the widths: Leaflet measures it again
    new ResizeObserver(() => this.map.invalidateSize()).observe(this.map.getContainer());
    this.initLayerBox();
  }

  get editAllowed() { return this.current?.editAllowed ?? true; }

  apply() {
    const next = layoutFor(window.innerWidth);
    const previous = this.current;
    this.current = next;
    document.body.dataset.layout = next.overlay ? "phone" : next.drawer ? "drawer" : "wide";
    document.body.dataset.editAllowed = String(next.editAllowed);
    const editTab = document.getElementById("tab-edit");
    if (editTab) {
      const reason = document.getElementById("edit-narrow");
      if (next.editAllowed) {
        editTab.removeAttribute("aria-describedby");
        editTab.removeAttribute("title");
      } else {
        editTab.setAttribute("aria-describedby", "edit-narrow");
        editTab.title = reason?.textContent.trim() ?? "";
      }
    }
    if (previous && previous.editAllowed && !next.editAllowed) this.onEditDisallowed();
    if (!previous || previous.drawer !== next.drawer) this.setOpen(false);
  }

  setOpen(open) {
    this.open = open;
    document.body.dataset.drawer = open ? "open" : "closed";
    this.toggle.setAttribute("aria-expanded", String(open || !this.current.drawer));
  }

  openDrawer() { if (this.current.drawer) this.setOpen(true); }

  closeDrawer({ focusToggle = false } = {}) {
    if (!this.current.drawer) return;
    this.setOpen(false);
    if (focusToggle) this.toggle.focus();
  }

  /** Brings the panel into view (a fiche, a tab, the skip link): opens the drawer if any. */
  showPanel() { if (this.current?.drawer && !this.open) this.setOpen(true); }

  onKey(event) {
    if (event.key !== "Escape" || event.defaultPrevented) return;
    const target = event.target;
    const closes = escapeClosesDrawer({
      drawer: this.current.drawer, open: this.open, overlay: this.current.overlay,
      inDrawer: this.panel.contains(target), onToggle: target === this.toggle,
      onBody: target === document.body || target === document.documentElement,
      listOpen: target?.getAttribute?.("aria-expanded") === "true" && target.getAttribute("role") === "combobox",
    });
    if (closes) this.closeDrawer({ focusToggle: true });
  }

  // --- the layer box: open beside a wide map, its button below 1366 px -------------------------
  // (created collapsed, app/services/map_page.py; map.css keeps it open from 1366 px on)

  initLayerBox() {
    const container = this.map.getContainer().querySelector(".leaflet-control-layers");
    if (!container) return;
    const link = container.querySelector(".leaflet-control-layers-toggle");  // (named in main.js)
    // Leaflet opens it on its button (Enter, a click; Space here too) and hides the button: the
    // focus goes to the first box. Leaflet closes it when the pointer leaves it; the keyboard
    // closes it too: Escape, or the focus leaving it for another element.
    const collapse = () => container.classList.remove("leaflet-control-layers-expanded");
    link?.addEventListener("click", () => setTimeout(() => container.querySelector("input")?.focus()));
    link?.addEventListener("keydown", (event) => {
      if (event.key !== " ") return;
      event.preventDefault();
      link.click();
    });
    container.addEventListener("keydown", (event) => {
      if (event.key !== "Escape" || !this.current.layersCollapsed) return;
      collapse();
      link?.focus();
    });
    container.addEventListener("focusout", (event) => {
      const next = event.relatedTarget;
      if (this.current.layersCollapsed && next && !container.contains(next)) collapse();
    });
  }
}
