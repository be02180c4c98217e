// Sorting of table rows (zones blanches): by one key, numbers as numbers, text in French
// order, ties broken by a stable secondary key. Pure.

const collator = new Intl.Collator("fr", { sensitivity: "base", numeric: true });

export function compareValues(a, b) {
  const emptyA = a === null || a === undefined || a === "";
  const emptyB = b === null || b === undefined || b === "";
  if (emptyA || emptyB) return emptyA === emptyB ? 0 : emptyA ? 1 : -1;
  if (typeof a === "number" && typeof b === "number") return a - b;
  return collator.compare(String(a), String(b));
}

/**
 * A sorted copy of `rows` by `key` ("ascending" or "descending"); empty values last either way;
 * ties keep the order of `tieKey` (ascending), then the input order.
 */
export function sortRows(rows, key, direction = "descending", tieKey = null) {
  const sign = direction === "ascending" ? 1 : -1;
  return rows
    .map((row, index) => ({ row, index }))
    .sort((x, y) => {
      const a = x.row[key];
      const b = y.row[key];
      const empty = (v) => v === null || v === undefined || v === "";
      if (empty(a) !== empty(b)) return empty(a) ? 1 : -1;
      const primary = sign * compareValues(a, b);
      if (primary !== 0) return primary;
      if (tieKey) {
        const tie = compareValues(x.row[tieKey], y.row[tieKey]);
        if (tie !== 0) return tie;
      }
      return x.index - y.index;
    })
    .map(({ row }) => row);
}

/** The next direction when a column header is activated: a new column starts descending. */
export function nextDirection(currentKey, currentDirection, key) {
  if (currentKey !== key) return key === "label" ? "ascending" : "descending";
  return currentDirection === "descending" ? "ascending" : "descending";
}
