"""Proposed plans covering every zone blanche, on the national scenario (`cpts_bench_coverage`,
prepared by `benchmarks.coverage`): time of a plan for the largest région and for the whole of
France, and its quality against the naive plan on the same zones.

Timed: the service functions an HTTP request runs (`app.services.proposals.compute` then
`view`), as an administrator, after one unmeasured warm-up (reference graph, perimeters, border
lengths, PySAL's import). The largest région is the one holding the most units. Targets: ≤ 5 s
for the région, ≤ 60 s for France.

Quality, on France with a cap at taille 3 (`max_size_class=3`), the max-p plan against the
naive one (each zone attached whole to the bordering CPTS with the longest shared border; a zone
with none is a group), same zones, same CPTS:
- share of new groups reaching the floor (40,000);
- share of the perimeters the plan creates or changes (new groups and CPTS after an
  attachment) that stand between the floor and the cap;
- EPCI and bassins de vie split (for each, the number of destinations its planned units go to,
  minus one), summed;
- compactness: mean Polsby-Popper ratio of the new groups, and the mean loss of ratio of the
  CPTS receiving units;
- CPTS pushed over the cap, and signed CPTS changed.
"""

import statistics
import time
from typing import Any

from app.db import connect
from app.domain.proposals import Plan
from app.repo.reference import read_graph
from app.services import proposals as service
from benchmarks import Figure
from benchmarks.coverage import prepare
from benchmarks.scenario import admin_context

REGION_TARGET_S = 5.0
FRANCE_TARGET_S = 60.0
REGION_RUNS = 3
QUALITY_CAP = 3


def _query(ctx: Any, scope: str, **options: Any) -> service.ProposalQuery:
    return service.parse_query(ctx, scope=scope, units=None, statuses=None,
                               min_population=None, max_size_class=options.get("cap"),
                               weights=None, seed=None, method=options.get("method"))


def _timed(ctx: Any, query: service.ProposalQuery) -> tuple[float, service.Planned]:
    started = time.perf_counter()
    planned = service.compute(ctx, query)
    service.view(ctx, planned)
    return time.perf_counter() - started, planned


def quality(plan: Plan, floor: int, cap: int) -> dict[str, float]:
    groups, attachments = plan.groups, plan.attachments
    changed = [g.size_class for g in groups if g.population >= floor] + [
        a.size_class_after for a in attachments if a.population_after >= floor]
    return {
        "groups": len(groups),
        "groups_at_floor": sum(1 for g in groups if g.reaches_floor) / len(groups)
        if groups else 1.0,
        "perimeters_in_range": sum(1 for size in changed if size <= cap)
        / (len(groups) + len(attachments)) if groups or attachments else 1.0,
        "epci_split": plan.costs.epci_split,
        "bassin_de_vie_split": plan.costs.bassin_de_vie_split,
        "group_compactness": statistics.fmean(g.compactness for g in groups) if groups else 0.0,
        "attachment_compactness_loss": statistics.fmean(
            max(0.0, a.compactness_before - a.compactness_after) for a in attachments)
        if attachments else 0.0,
        "over_cap": sum(1 for a in attachments if a.size_class_after > cap),
        "signed_changed": sum(1 for a in attachments if a.status == "aci_signe"),
    }


def run() -> list[Figure]:
    url = prepare()
    with connect(url) as conn:
        ctx = admin_context(conn, read_graph(conn))
        counts: dict[str, int] = {}
        for unit in ctx.graph.units.values():
            if unit.is_unit:
                counts[unit.region] = counts.get(unit.region, 0) + 1
        region = max(counts, key=lambda code: (counts[code], code))
        region_query = _query(ctx, f"region:{region}")
        _timed(ctx, region_query)  # warm-up: graph, perimeters, shapes, PySAL's import
        region_runs = [_timed(ctx, region_query) for _ in range(REGION_RUNS)]
        region_s = max(seconds for seconds, _ in region_runs)
        region_plan = region_runs[0][1].plan
        france_s, france = _timed(ctx, _query(ctx, "national"))
        floor = france.plan.options.min_population
        capped = service.compute(ctx, _query(ctx, "national", cap=QUALITY_CAP)).plan
        naive = service.compute(ctx, _query(ctx, "national", method="naive")).plan
    smart, plain = quality(capped, floor, QUALITY_CAP), quality(naive, floor, QUALITY_CAP)

    def side(key: str, digits: int = 3) -> str:
        return f"max-p {smart[key]:.{digits}g} / naïf {plain[key]:.{digits}g}"

    def ratio(key: str) -> float | None:
        return plain[key] / smart[key] if smart[key] else None

    return [
        Figure(f"proposals.region_{region}", region_s, "s", REGION_TARGET_S,
               note=f"{counts[region]} communes; {service.describe_plan(region_plan)}; "
                    f"max of {REGION_RUNS} runs"),
        Figure("proposals.france", france_s, "s", FRANCE_TARGET_S,
               note=service.describe_plan(france.plan)),
        Figure("proposals.quality.groups_at_floor", smart["groups_at_floor"], "share",
               note=side("groups_at_floor") + f" ({smart['groups']:.0f} / "
                                               f"{plain['groups']:.0f} groupes)"),
        Figure("proposals.quality.perimeters_in_range", smart["perimeters_in_range"], "share",
               note=side("perimeters_in_range") + f" (seuil {floor}, taille ≤ {QUALITY_CAP})"),
        Figure("proposals.quality.epci_split", smart["epci_split"], "splits",
               baseline_ratio=ratio("epci_split"), note=side("epci_split", 5)),
        Figure("proposals.quality.bassin_de_vie_split", smart["bassin_de_vie_split"], "splits",
               baseline_ratio=ratio("bassin_de_vie_split"), note=side("bassin_de_vie_split", 5)),
        Figure("proposals.quality.group_compactness", smart["group_compactness"], "Polsby-Popper",
               note=side("group_compactness")),
        Figure("proposals.quality.attachment_compactness_loss",
               smart["attachment_compactness_loss"], "Polsby-Popper",
               note=side("attachment_compactness_loss")),
        Figure("proposals.quality.over_cap", smart["over_cap"], "CPTS",
               note=side("over_cap", 5) + f" (CPTS poussées au-delà de la taille {QUALITY_CAP})"),
        Figure("proposals.quality.signed_changed", smart["signed_changed"], "CPTS",
               note=side("signed_changed", 5)),
    ]
