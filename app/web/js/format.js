// Pure formatting for the panels, in French: numbers, populations, size classes, headroom,
// stages and version diffs. No DOM here: unit-tested with `node --test`.

export const NARROW_NBSP = "\u202f";
export const NBSP = "\u00a0";

// The stages and their labels are defined once, on the server (app/domain/cpts_access.py):
// the page's configuration carries them (`statuses: [{id, label}]`, in order) and main.js
// hands them over at start-up.
let STAGES = [];
let STATUS_LABELS = {};

/** Use the server's stage list (in order, with labels). */
export function setStatusLabels(statuses) {
  STAGES = statuses.map((status) => status.id);
  STATUS_LABELS = Object.fromEntries(statuses.map((status) => [status.id, status.label]));
}

/** The stage after `status` (null at the last one or for an unknown one). */
export function nextStage(status) {
  const index = STAGES.indexOf(status);
  return index >= 0 && index + 1 < STAGES.length ? STAGES[index + 1] : null;
}

/** The département of a commune or arrondissement code (97x overseas, 2A/2B in Corsica). */
export function departementOf(code) {
  return code.startsWith("97") ? code.slice(0, 3) : code.slice(0, 2);
}

/** The commune codes of a sentence written with their names when known: "04070" → "Digne-les-Bains (04070)". */
export function nameCodes(text, names = {}) {
  return String(text).replace(/(?<![(\w])(\d[\dAB]\d{3})(?![)\w])/g, (code) => communeLabel(code, names));
}

/** The commune codes a sentence mentions. */
export function codesIn(text) {
  return [...String(text).matchAll(/(?<![(\w])(\d[\dAB]\d{3})(?![)\w])/g)].map((match) => match[1]);
}

/**
 * What covers a commune card (`GET /api/communes/{code}`): for Paris, Lyon and Marseille the
 * CPTS of its arrondissements and those left uncovered; never « zone blanche » while some
 * arrondissement is covered (or claimed by a CPTS the user may not see).
 */
export function coveringSummary(card) {
  const cpts = card.cpts || [];
  const arrondissements = card.arrondissements || [];
  const covered = new Set(cpts.flatMap((c) => c.communes || []));
  const hidden = card.hidden_cpts?.count ?? card.hidden_cpts?.cpts ?? 0;
  if (arrondissements.length) {
    const uncovered = arrondissements.filter((code) => !covered.has(code));
    return {
      plm: true, cpts, uncovered, white: cpts.length === 0 && !hidden,
      heading: `CPTS qui couvrent ses arrondissements (${arrondissements.length - uncovered.length} sur ${arrondissements.length} couverts)`,
    };
  }
  return { plm: false, cpts, uncovered: [], white: cpts.length === 0 && !hidden,
           heading: cpts.length > 1 ? "CPTS qui la couvrent (chevauchement)" : "CPTS qui la couvre" };
}

/** "Digne-les-Bains (04070)" when the name is known, else the code alone. */
export function communeLabel(code, names = {}) {
  return names[code] ? `${names[code]} (${code})` : code;
}

/** 1234567 → "1 234 567" (narrow no-break spaces, as the French typographic rule wants). */
export function formatInteger(value) {
  if (value === null || value === undefined || Number.isNaN(Number(value))) return "—";
  const number = Math.round(Number(value));
  const sign = number < 0 ? "−" : "";
  const digits = String(Math.abs(number));
  const groups = [];
  for (let end = digits.length; end > 0; end -= 3) {
    groups.unshift(digits.slice(Math.max(0, end - 3), end));
  }
  return sign + groups.join(NARROW_NBSP);
}

/** 0.8534 → "85,3 %" */
export function formatPercent(rate, digits = 1) {
  if (rate === null || rate === undefined || Number.isNaN(Number(rate))) return "—";
  return (Number(rate) * 100).toFixed(digits).replace(".", ",") + NBSP + "%";
}

export function plural(count, singular, pluralForm = singular + "s") {
  return `${formatInteger(count)}${NBSP}${Math.abs(count) >= 2 ? pluralForm : singular}`;
}

/** "48 210 habitants (population municipale 2023)" */
export function formatPopulation(population, year) {
  const people = plural(population, "habitant");
  return year ? `${people} (population municipale ${year})` : people;
}

export function statusLabel(status) {
  return STATUS_LABELS[status] ?? status ?? "—";
}

export function sizeClassLabel(sizeClass) {
  return sizeClass ? `taille ${sizeClass}` : "—";
}

/** The two headroom sentences of the panel: to the next class and to the previous one. */
export function headroomText(headroom) {
  if (!headroom) return { next: "", previous: "" };
  const next = headroom.next_class
    ? `Encore ${plural(headroom.population_to_next, "habitant")} pour passer en taille ${headroom.next_class}.`
    : "Taille maximale (4) : pas de classe au-dessus.";
  const previous = headroom.previous_class
    ? `Marge de ${plural(headroom.population_to_previous, "habitant")} avant de redescendre en taille ${headroom.previous_class}.`
    : "Taille 1 : pas de classe en dessous.";
  return { next, previous };
}

/** "+3 / −1 communes" */
export function diffCounts(added, removed) {
  return `+${added.length} / −${removed.length} ${Math.max(added.length, removed.length) >= 2 ? "communes" : "commune"}`;
}

/** One line of a version: diff, population before → after, class before → after. */
export function versionSummary(version) {
  const parts = [diffCounts(version.added ?? [], version.removed ?? [])];
  if (version.population_before !== null && version.population_before !== undefined) {
    parts.push(`${formatInteger(version.population_before)} → ${formatInteger(version.population)} habitants`);
  } else {
    parts.push(`${formatInteger(version.population)} habitants`);
  }
  if (version.size_class_before && version.size_class_before !== version.size_class) {
    parts.push(`taille ${version.size_class_before} → ${version.size_class}`);
  } else {
    parts.push(`taille ${version.size_class}`);
  }
  return parts.join(" · ");
}

/** "12/03/2025 à 14:05" in Paris time. */
export function formatDateTime(value) {
  if (!value) return "—";
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) return String(value);
  const parts = new Intl.DateTimeFormat("fr-FR", {
    timeZone: "Europe/Paris", day: "2-digit", month: "2-digit", year: "numeric",
    hour: "2-digit", minute: "2-digit", hour12: false,
  }).formatToParts(date);
  const get = (type) => parts.find((p) => p.type === type)?.value ?? "";
  return `${get("day")}/${get("month")}/${get("year")} à ${get("hour")}:${get("minute")}`;
}

/** The severity class of a warning, for its colour in the panel. */
export function warningLevel(warning, overlaps = []) {
  if (warning.code === "overlap") {
    return overlaps.some((o) => o.severity === "conflict") ? "conflict" : "warning";
  }
  return warning.code === "near_threshold" ? "info" : "warning";
}

/** The overlap lines: "Chevauche CPTS X (lettre d'intention) sur 2 communes : 06088, 06123 — 12 000 habitants". */
export function overlapLines(overlaps, names = {}) {
  return overlaps.map((overlap) => {
    const communes = overlap.communes.map((code) => communeLabel(code, names));
    return `${overlap.name} (${statusLabel(overlap.status)}) : ${plural(overlap.communes.length, "commune")} — ${communes.join(", ")} — ${plural(overlap.population, "habitant")}`;
  });
}
