"""Which colour each CPTS takes on the map: a colouring of the graph of neighbouring CPTS with a
small palette that colour-blind readers can tell apart, so that two CPTS that touch (or share a
commune) never look alike. Pure functions of the CPTS' units and the units' adjacency.

The palette itself lives in `cpts_palette.json` (the one source: the page receives it in its
configuration, the exports read it here, the node tests check its distances under simulated
deuteranopia, protanopia and tritanopia). A CPTS gets an index into `PALETTE.cpts`.

The colouring is greedy in the order of the ids, each CPTS trying first the colour `id mod k`
and then the next ones: a CPTS keeps its colour when CPTS that do not touch it change, and one
created later (a greater id) does not recolour the older ones. When a CPTS finds every colour
taken by its neighbours (rare: k colours, maps of nearly planar graphs), the graph is coloured
again by DSatur (Brélaz 1979), which needs fewer colours; what conflicts remain are the fewest
the two orders give.
"""

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PALETTE_FILE = Path(__file__).with_name("cpts_palette.json")


@dataclass(frozen=True)
class Palette:
    """The map's colours (see `cpts_palette.json`)."""

    cpts: tuple[str, ...]
    cpts_opacity: float
    zone_blanche_ground: str
    zone_blanche_ink: str
    edit_fill: str
    edit_outline: str
    raw: dict[str, Any]

    def colour(self, index: int | None, cpts_id: int) -> str:
        """The hex colour of a CPTS from its index (its id when it has none: archived)."""
        return self.cpts[(cpts_id if index is None else index) % len(self.cpts)]


def _load() -> Palette:
    raw = json.loads(PALETTE_FILE.read_text(encoding="utf-8"))
    return Palette(cpts=tuple(raw["cpts"]), cpts_opacity=float(raw["cpts_opacity"]),
                   zone_blanche_ground=raw["zone_blanche"]["ground"],
                   zone_blanche_ink=raw["zone_blanche"]["ink"],
                   edit_fill=raw["edit"]["fill"], edit_outline=raw["edit"]["outline"], raw=raw)


PALETTE = _load()


def rgb(hex_colour: str) -> str:
    """`#rrggbb` as `r,g,b` (QGIS styles)."""
    return ",".join(str(int(hex_colour[i:i + 2], 16)) for i in (1, 3, 5))


def neighbours(units_of: Mapping[int, Iterable[str]],
               adjacency: Mapping[str, Iterable[str]]) -> dict[int, set[int]]:
    """The CPTS each CPTS touches: one of its units borders one of the other's, or they share
    one. Every CPTS of `units_of` is a key (with an empty set when it touches none)."""
    owners: dict[str, list[int]] = {}
    for cpts_id, codes in units_of.items():
        for code in codes:
            owners.setdefault(code, []).append(cpts_id)
    touching: dict[int, set[int]] = {cpts_id: set() for cpts_id in units_of}
    for code, here in owners.items():
        if len(here) > 1:
            for cpts_id in here:
                touching[cpts_id].update(here)
        for other in adjacency.get(code, ()):
            there = owners.get(other)
            if there is None or there == here:
                continue
            for cpts_id in here:
                touching[cpts_id].update(there)
    for cpts_id, found in touching.items():
        found.discard(cpts_id)
    return touching


def _free(cpts_id: int, taken: set[int], k: int) -> int | None:
    for step in range(k):
        colour = (cpts_id + step) % k
        if colour not in taken:
            return colour
    return None


def _least_shared(cpts_id: int, near: Iterable[int], colours: Mapping[int, int], k: int) -> int:
    counts = [0] * k
    for other in near:
        if other in colours:
            counts[colours[other]] += 1
    return min(range(k), key=lambda c: (counts[c], (c - cpts_id) % k))


def _greedy(graph: Mapping[int, set[int]], k: int) -> dict[int, int]:
    colours: dict[int, int] = {}
    for cpts_id in sorted(graph):
        taken = {colours[other] for other in graph[cpts_id] if other in colours}
        free = _free(cpts_id, taken, k)
        colours[cpts_id] = _least_shared(cpts_id, graph[cpts_id], colours, k) \
            if free is None else free
    return colours


def _dsatur(graph: Mapping[int, set[int]], k: int) -> dict[int, int]:
    colours: dict[int, int] = {}
    seen: dict[int, set[int]] = {cpts_id: set() for cpts_id in graph}
    left = set(graph)
    while left:
        cpts_id = max(left, key=lambda c: (len(seen[c]), len(graph[c]), -c))
        left.discard(cpts_id)
        free = _free(cpts_id, seen[cpts_id], k)
        colour = _least_shared(cpts_id, graph[cpts_id], colours, k) if free is None else free
        colours[cpts_id] = colour
        for other in graph[cpts_id]:
            seen[other].add(colour)
    return colours


def conflicts(graph: Mapping[int, set[int]], colours: Mapping[int, int]) -> int:
    """How many pairs of neighbouring CPTS share a colour."""
    return sum(1 for a, near in graph.items() for b in near if a < b and colours[a] == colours[b])


def assign(units_of: Mapping[int, Iterable[str]], adjacency: Mapping[str, Iterable[str]],
           k: int = len(PALETTE.cpts)) -> dict[int, int]:
    """A colour index (0 … k-1) for each CPTS of `units_of` (its id → its current units), so
    that neighbouring CPTS differ. Deterministic: the same CPTS and units give the same
    colours, whatever the order of the mapping."""
    graph = neighbours(units_of, adjacency)
    colours = _greedy(graph, k)
    if conflicts(graph, colours):
        fallback = _dsatur(graph, k)
        if conflicts(graph, fallback) < conflicts(graph, colours):
            return fallback
    return colours
