// The DSFR theme (UI_THEME=dsfr) in the browser: the page's markup is the same in both themes;
// this module, loaded only in the DSFR theme (app/services/theme.py), gives the panel's
// controls the DSFR's classes — buttons, fields, selects, labels, notices — including those the
// other modules build later (a MutationObserver watches the page). The server does the same to
// the pages it writes itself (app.services.theme.themed_html).

/** The DSFR classes an element takes, or [] (same mapping as app/services/theme.py). */
export function dsfrClasses(element) {
  const tag = element.tagName.toLowerCase();
  const classes = element.classList;
  if ([...classes].some((name) => name.startsWith("fr-"))) return [];
  if (element.closest(".leaflet-container, [role='tablist'], .search-results")) return [];
  switch (tag) {
    case "button": {
      // the sort buttons of a table's header, and buttons drawn as links
      if (element.closest("th") || classes.contains("link")) return [];
      if (classes.contains("primary") || element.type === "submit") return ["fr-btn", "fr-btn--sm"];
      return ["fr-btn", "fr-btn--secondary", "fr-btn--sm"];
    }
    case "input": {
      const type = (element.getAttribute("type") || "text").toLowerCase();
      if (["hidden", "checkbox", "radio", "submit", "button", "file", "color", "range"].includes(type)) return [];
      return ["fr-input"];
    }
    case "textarea": return ["fr-input"];
    case "select": return ["fr-select"];
    case "label": return element.querySelector("input[type=checkbox], input[type=radio]") ? [] : ["fr-label"];
    case "p":
    case "div": {
      if (!classes.contains("notice")) return [];
      const kind = classes.contains("error") ? "error" : classes.contains("warn") ? "warning"
        : classes.contains("ok") ? "success" : "info";
      return ["fr-alert", `fr-alert--${kind}`, "fr-alert--sm"];
    }
    default: return [];
  }
}

const SELECTOR = "button, input, textarea, select, label, p.notice, div.notice";

/** Give `root` and every control under it its DSFR classes. */
export function applyDsfr(root) {
  if (!(root instanceof Element)) return;
  const elements = root.matches(SELECTOR) ? [root, ...root.querySelectorAll(SELECTOR)]
    : root.querySelectorAll(SELECTOR);
  for (const element of elements) {
    const classes = dsfrClasses(element);
    if (classes.length) element.classList.add(...classes);
  }
}

/** Apply now to `scope`, then to whatever is added under it. */
export function watch(scope) {
  applyDsfr(scope);
  const observer = new MutationObserver((mutations) => {
    for (const mutation of mutations) {
      for (const node of mutation.addedNodes) applyDsfr(node);
      if (mutation.type === "attributes") applyDsfr(mutation.target);
    }
  });
  observer.observe(scope, { childList: true, subtree: true, attributes: true, attributeFilter: ["class"] });
  return observer;
}

if (typeof document !== "undefined" && document.documentElement.dataset.theme === "dsfr") {
  for (const scope of document.querySelectorAll("#panel, #toast")) watch(scope);
}
