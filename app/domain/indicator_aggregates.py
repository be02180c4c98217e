"""Aggregating indicator values over a set of units (a perimeter, a département, a région,
France) by each column's declared rule, and cutting a map's values into classes.

Rules (every result also says how much of the population had a value, `coverage`):
- `sum`: the total over the units that have a value;
- `mean`: Σ value × weight / Σ weight over the units that have both (weight: the unit's
  population, or another column of the table);
- `share`: for each declared category, the population of the units in it over the population
  of the set; the population of units without a value is given apart;
- `min`, `max`: the extreme value and the units that hold it.
A table may give Paris, Lyon or Marseille as a whole while perimeters count arrondissements:
each arrondissement then takes the city's value, except for a sum, which counts the city's
value only when all its arrondissements are in the set.

Pure functions, no HTTP and no SQL. Classes are computed with `mapclassify`.
"""

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from app.domain.indicators import Column

MAX_EXTREME_UNITS = 5
PALETTE = ("#fff5eb", "#fdd0a2", "#fdae6b", "#fd8d3c", "#f16913", "#d94801", "#8c2d04")
CATEGORY_PALETTE = ("#d7301f", "#fc8d59", "#fdcc8a", "#91bfdb", "#4575b4", "#999999",
                    "#66a61e", "#e7298a", "#7570b3", "#a6761d")
JENKS_SAMPLE = 256  # values kept, at regular ranks, for Fisher-Jenks (exact below that)
MAX_CLASSES = len(PALETTE)
Scheme = Literal["quantiles", "jenks"]


@dataclass(frozen=True)
class Row:
    numbers: tuple[float | None, ...]
    categories: tuple[str | None, ...]


@dataclass(frozen=True)
class Geography:
    """What aggregation needs of the units: population and Paris/Lyon/Marseille links."""

    population: Mapping[str, int]
    parents: Mapping[str, str | None]
    arrondissements: Mapping[str, tuple[str, ...]]


def _resolve(values: Mapping[str, Row], code: str, position: int, geo: Geography,
             inherit: bool) -> Row | None:
    row = values.get(code)
    if row is not None and (row.numbers[position] is not None
                            or row.categories[position] is not None):
        return row
    parent = geo.parents.get(code)
    if inherit and parent:
        row = values.get(parent)
        if row is not None and (row.numbers[position] is not None
                                or row.categories[position] is not None):
            return row
    return None


def _parent_sums(values: Mapping[str, Row], units: set[str], position: int,
                 geo: Geography) -> list[tuple[str, float, int]]:
    """Cities given as a whole for a sum: counted when all their arrondissements are in the set
    and none has its own value."""
    found: list[tuple[str, float, int]] = []
    parents = {p for p in (geo.parents.get(u) for u in units) if p}
    for parent in parents:
        own = geo.arrondissements.get(parent, ())
        row = values.get(parent)
        if row is None or row.numbers[position] is None or not own:
            continue
        if set(own) <= units and all(_resolve(values, u, position, geo, False) is None
                                     for u in own):
            found.append((parent, row.numbers[position] or 0.0,
                          sum(geo.population.get(u, 0) for u in own)))
    return found


def aggregate_column(values: Mapping[str, Row], columns: Sequence[Column], position: int,
                     units: Sequence[str], geo: Geography) -> dict[str, Any]:
    """The aggregate of one column over `units` (unit codes), by its declared rule."""
    column = columns[position]
    unit_set = set(units)
    total = sum(geo.population.get(u, 0) for u in unit_set)
    out: dict[str, Any] = {"population": total}
    if column.aggregation == "share":
        by_category: dict[str, int] = {c.value: 0 for c in column.categories}
        without = 0
        for code in unit_set:
            row = _resolve(values, code, position, geo, True)
            category = row.categories[position] if row is not None else None
            if category is None or category not in by_category:
                without += geo.population.get(code, 0)
            else:
                by_category[category] += geo.population.get(code, 0)
        out["categories"] = [
            {"value": c.value, "label": c.label, "population": by_category[c.value],
             "share": by_category[c.value] / total if total else None}
            for c in column.categories]
        out["population_without_value"] = without
        out["coverage"] = (total - without) / total if total else None
        return out
    inherit = column.aggregation != "sum"
    weight_position = next((i for i, c in enumerate(columns) if c.key == column.weight), None)
    pairs: list[tuple[str, float, float]] = []  # unit, value, weight
    covered = 0
    for code in unit_set:
        row = _resolve(values, code, position, geo, inherit)
        if row is None:
            continue
        value = row.numbers[position]
        if value is None:
            continue
        weight: float | None = float(geo.population.get(code, 0))
        if weight_position is not None:
            weight_row = _resolve(values, code, weight_position, geo,
                                  columns[weight_position].aggregation != "sum")
            weight = weight_row.numbers[weight_position] if weight_row is not None else None
        if column.aggregation == "mean" and weight is None:
            continue
        pairs.append((code, value, weight or 0.0))
        covered += geo.population.get(code, 0)
    if column.aggregation == "sum":
        for parent, value, population in _parent_sums(values, unit_set, position, geo):
            pairs.append((parent, value, 0.0))
            covered += population
    out["coverage"] = covered / total if total else None
    out["units_with_value"] = len(pairs)
    if not pairs:
        out["value"] = None
        return out
    if column.aggregation == "sum":
        out["value"] = sum(v for _, v, _ in pairs)
    elif column.aggregation == "mean":
        weights = sum(w for _, _, w in pairs)
        out["value"] = sum(v * w for _, v, w in pairs) / weights if weights else None
    else:
        extreme = (min if column.aggregation == "min" else max)(v for _, v, _ in pairs)
        out["value"] = extreme
        out["communes"] = sorted(c for c, v, _ in pairs if v == extreme)[:MAX_EXTREME_UNITS]
    return out


def aggregate(values: Mapping[str, Row], columns: Sequence[Column], units: Sequence[str],
              geo: Geography) -> list[dict[str, Any]]:
    return [aggregate_column(values, columns, i, units, geo) for i in range(len(columns))]


def headline(column: Column, result: Mapping[str, Any], category: str | None = None
             ) -> float | None:
    """The one number a map shows for a result: the value, or the share of a category (the
    first declared one by default)."""
    if column.aggregation != "share":
        value = result.get("value")
        return None if value is None else float(value)
    wanted = category or (column.categories[0].value if column.categories else None)
    for entry in result.get("categories", ()):
        if entry["value"] == wanted:
            return None if entry["share"] is None else float(entry["share"])
    return None


# --- Classes for a map -----------------------------------------------------------------------

def french_number(value: float, digits: int = 2) -> str:
    text = f"{value:,.{digits}f}".replace(",", "\u202f").replace(".", ",")
    if "," in text:
        text = text.rstrip("0").rstrip(",")
    return text


def class_bounds(values: Sequence[float], scheme: Scheme, k: int) -> list[float]:
    """Upper bounds of the classes (the last one is the maximum), computed by `mapclassify`:
    quantiles, or Fisher-Jenks natural breaks on at most `JENKS_SAMPLE` values taken at regular
    ranks (the exact breaks when there are fewer values)."""
    import numpy as np

    data = np.asarray(sorted(values), dtype=float)
    distinct = np.unique(data)
    k = max(1, min(k, MAX_CLASSES, len(distinct)))
    if k < 2:
        return [float(data[-1])]
    import mapclassify  # type: ignore[import-untyped]  # first use only: loads scikit-learn

    if scheme == "jenks" and len(data) > JENKS_SAMPLE:
        data = data[np.linspace(0, len(data) - 1, JENKS_SAMPLE).round().astype(int)]
    # Warnings silenced: « numba not installed » (the pure Python version is used), « not
    # enough unique values » (fewer classes are made, which the legend shows).
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        classifier = mapclassify.Quantiles if scheme == "quantiles" else mapclassify.FisherJenks
        bins = classifier(data, k=k).bins
    bounds = sorted({float(b) for b in bins})
    bounds[-1] = float(distinct[-1])
    return bounds


def legend(bounds: Sequence[float], values: Sequence[float], unit: str | None,
           minimum: float) -> list[dict[str, Any]]:
    """The legend of the classes: bounds, French label, colour and number of areas in each."""
    colours = PALETTE[-len(bounds):] if len(bounds) > 2 else PALETTE[2::2][:len(bounds)]
    suffix = f" {unit}" if unit else ""
    counts = [0] * len(bounds)
    for value in values:
        counts[class_of(bounds, value)] += 1
    out = []
    lower = minimum
    for index, upper in enumerate(bounds):
        out.append({"lower": lower, "upper": upper, "colour": colours[index],
                    "label": f"{french_number(lower)} à {french_number(upper)}{suffix}",
                    "count": counts[index]})
        lower = upper
    return out


def class_of(bounds: Sequence[float], value: float) -> int:
    for index, upper in enumerate(bounds):
        if value <= upper:
            return index
    return len(bounds) - 1


# --- The same rules on arrays, for every click and every territory ---------------------------

class Compiled:
    """The values of one table resolved for every unit (arrondissements inheriting their city's
    value except for sums), as arrays: `aggregate` then gives, for any set of units, exactly
    what `aggregate_column` gives, in well under a millisecond per column."""

    def __init__(self, values: Mapping[str, Row], columns: Sequence[Column],
                 geo: Geography, units: Sequence[str]) -> None:
        import numpy as np

        self.columns = tuple(columns)
        self.codes = list(units)
        self.index = {code: i for i, code in enumerate(self.codes)}
        size, width = len(self.codes), len(columns)
        self.population = np.array([geo.population.get(c, 0) for c in self.codes], dtype=float)
        self.numbers = np.full((width, size), np.nan)
        self.categories = np.full((width, size), -1, dtype=np.int64)
        category_index = [{c.value: k for k, c in enumerate(col.categories)} for col in columns]
        for code, row in values.items():
            i = self.index.get(code)
            if i is not None:
                self._fill(i, row, range(width), category_index)
        for i, code in enumerate(self.codes):  # arrondissements: the city's value
            parent = geo.parents.get(code)
            inherited = values.get(parent) if parent else None
            if inherited is None:
                continue
            missing = [j for j in range(width) if columns[j].aggregation != "sum"
                       and np.isnan(self.numbers[j, i]) and self.categories[j, i] < 0]
            self._fill(i, inherited, missing, category_index)
        self.weights = np.empty((width, size))
        for j, column in enumerate(columns):
            other = next((k for k, c in enumerate(columns) if c.key == column.weight), None)
            self.weights[j] = self.population if other is None else self.numbers[other]
        # Sums given for a whole city: (column, value, indices of its arrondissements).
        self.city_sums: list[tuple[int, float, Any]] = []
        for parent, own in geo.arrondissements.items():
            city = values.get(parent)
            indices = [self.index[c] for c in own if c in self.index]
            if city is None or len(indices) != len(own):
                continue
            for j, column in enumerate(columns):
                value = city.numbers[j]
                if column.aggregation == "sum" and value is not None and bool(
                        np.isnan(self.numbers[j, indices]).all()):
                    self.city_sums.append((j, float(value), np.array(indices)))

    def _fill(self, i: int, row: Row, positions: Sequence[int] | range,
              category_index: list[dict[str, int]]) -> None:
        for j in positions:
            number, category = row.numbers[j], row.categories[j]
            if number is not None:
                self.numbers[j, i] = number
            elif category is not None:
                self.categories[j, i] = category_index[j].get(category, -1)

    def indices(self, units: Sequence[str]) -> Any:
        import numpy as np

        return np.array(sorted({self.index[c] for c in units if c in self.index}),
                        dtype=np.int64)

    def aggregate(self, idx: Any, only: int | None = None) -> list[dict[str, Any]]:
        """The results of every column (or of column `only`) over the units at `idx`."""
        import numpy as np

        population = self.population[idx]
        total = float(population.sum())
        results: list[dict[str, Any]] = []
        for j, column in enumerate(self.columns):
            if only is not None and j != only:
                continue
            out: dict[str, Any] = {"population": int(total)}
            if column.aggregation == "share":
                categories = self.categories[j, idx]
                known = categories >= 0
                counts = np.bincount(categories[known], weights=population[known],
                                     minlength=len(column.categories))
                out["categories"] = [
                    {"value": c.value, "label": c.label, "population": int(counts[k]),
                     "share": float(counts[k]) / total if total else None}
                    for k, c in enumerate(column.categories)]
                without = total - float(counts.sum())
                out["population_without_value"] = int(without)
                out["coverage"] = (total - without) / total if total else None
                results.append(out)
                continue
            values = self.numbers[j, idx]
            weights = self.weights[j, idx]
            has = ~np.isnan(values)
            if column.aggregation == "mean":
                has &= ~np.isnan(weights)
            covered = float(population[has].sum())
            count = int(has.sum())
            extra = 0.0
            if column.aggregation == "sum":
                members = set(idx.tolist()) if self.city_sums else set()
                for position, value, city in self.city_sums:
                    if position == j and set(city.tolist()) <= members:
                        extra += value
                        count += 1
                        covered += float(self.population[city].sum())
            out["coverage"] = covered / total if total else None
            out["units_with_value"] = count
            if not count:
                out["value"] = None
            elif column.aggregation == "sum":
                out["value"] = float(values[has].sum()) + extra
            elif column.aggregation == "mean":
                weight = float(weights[has].sum())
                out["value"] = float((values[has] * weights[has]).sum()) / weight if weight \
                    else None
            else:
                chosen = values[has]
                extreme = float(chosen.min() if column.aggregation == "min" else chosen.max())
                out["value"] = extreme
                at = idx[has][chosen == extreme]
                out["communes"] = sorted(self.codes[i] for i in at)[:MAX_EXTREME_UNITS]
            results.append(out)
        return results
