"""`cpts geodata load`: fetch or reuse the sources, build (cached), load a scope, report."""

import hashlib
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.db import connect
from app.errors import ProblemError
from app.settings import Settings
from geodata import build as build_module
from geodata.build import Built, SourceSet
from geodata.holes import RULE_LABELS
from geodata.load import (
    Scope,
    current_release,
    filter_scope,
    migration_plan,
    resolve_scope,
    write_release,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LoadOutcome:
    release_id: int | None   # None when the requested release was already loaded
    scope: Scope
    report: dict[str, Any]
    seconds: float


def read_sources(settings: Settings, source_dir: Path | None,
                 population_year: int | None = None, cog_package: str | None = None
                 ) -> SourceSet:
    package = cog_package or settings.cog_package
    if source_dir is not None:
        from geodata.official import official_sources

        return official_sources(source_dir, settings.cache_dir, population_year, package)
    if population_year is not None:
        raise ProblemError(
            400, "population_year_without_source",
            "--population-year ne s'emploie qu'avec --source (fichiers officiels) : les sources "
            "par défaut ont leur propre millésime.")
    from geodata.registry import registry_sources

    return registry_sources(settings.cache_dir, package)


def built_for(sources: SourceSet, cache_dir: Path, show_progress: bool) -> tuple[Built, bool]:
    """The national build for these sources, from the cache when it has it."""
    key = hashlib.sha256(sources.fingerprint().encode()).hexdigest()[:20]
    directory = cache_dir / "build" / key
    cached = build_module.restore(directory)
    if cached is not None:
        return cached, True
    built = build_module.build(sources, show_progress=show_progress)
    build_module.save(built, directory)
    return built, False


def load_geodata(
    settings: Settings,
    *,
    departements: Sequence[str] = (),
    regions: Sequence[str] = (),
    everything: bool = False,
    source_dir: Path | None = None,
    population_year: int | None = None,
    force: bool = False,
    show_progress: bool = True,
    cog_package: str | None = None,
    dry_run: bool = False,
) -> LoadOutcome:
    """Load (or with `dry_run`, only report what a load would do to the stored perimeters)."""
    started = time.perf_counter()
    sources = read_sources(settings, source_dir, population_year, cog_package)
    with connect(settings.database_url) as conn:
        current = current_release(conn)
    built, from_cache = built_for(sources, settings.cache_dir, show_progress)
    scope = resolve_scope(built, departements, regions, everything)
    if dry_run:
        with connect(settings.database_url) as conn, conn.transaction():
            conn.execute("SET TRANSACTION READ ONLY")
            plan = migration_plan(conn, built, sources.cog_year)
        holes = built.report.holes
        return LoadOutcome(None, scope, {
            "dry_run": True, "cog_year": sources.cog_year,
            "cog_year_before": None if current is None else current["cog_year"],
            "build_from_cache": from_cache, "migration": plan.report(),
            "holes": sum(len(h) for h in holes.values()),
            "holes_area_m2": sum(e["area_m2"] for h in holes.values() for e in h)},
            time.perf_counter() - started)
    if (not force and current is not None and current["sources"] == sources.release_sources()
            and current["scope"] == scope.describe()):
        return LoadOutcome(None, scope, {"already_loaded": current["id"]},
                           time.perf_counter() - started)

    chosen = filter_scope(built, scope)
    report = built.report.as_dict() | {"build_from_cache": from_cache}
    report["counts"] = report["counts"] | {
        "loaded_communes": int((chosen.units["type"] == "COM").sum()),
        "loaded_arrondissements": int((chosen.units["type"] == "ARM").sum()),
        "loaded_population": int(chosen.units.loc[chosen.units["type"] == "COM",
                                                  "population"].sum()),
    }
    with connect(settings.database_url) as conn:
        release_id = write_release(conn, chosen, sources, scope, report, national=built)
        conn.autocommit = True
        for table in ("commune", "unit_adjacency", "commune_history", "region", "departement",
                      "epci", "bassin_de_vie"):
            conn.execute(f"VACUUM ANALYZE {table}".encode())
    return LoadOutcome(release_id, scope, report, time.perf_counter() - started)


def format_migration(migration: dict[str, Any]) -> list[str]:
    """The migration report, one block per CPTS."""
    year = migration["cog_year"]
    lines = [f"Migration des périmètres au COG {year} : {migration['cpts_changed']} CPTS "
             f"changée(s), {migration['codes_retired']} code(s) en vigueur retiré(s), "
             f"{len(migration['codes_restored'])} commune(s) rétablie(s), "
             f"{migration['alerts']} alerte(s), {migration['new_overlaps']} nouveau(x) "
             f"recouvrement(s)."]
    for entry in migration["cpts"]:
        kind = " (scénario)" if entry["is_scenario"] else (
            " (archivée)" if entry["archived"] else "")
        lines.append(f"  CPTS {entry['cpts_id']} « {entry['name']} »{kind} v{entry['version']}")
        for old, new in entry["replaced"].items():
            lines.append(f"    {old} → {', '.join(new)}")
        for new, origin in entry["restored"].items():
            lines.append(f"    + {new} (rétablie à partir de {origin})")
        lines.append(
            "    population " + f"{entry['population_before']:,}".replace(",", "\u202f")
            + " → " + f"{entry['population_after']:,}".replace(",", "\u202f")
            + f" ; taille {entry['size_class_before']} → {entry['size_class_after']}")
        for alert in entry["alerts"]:
            lines.append(f"    alerte {alert['code']} : {alert['detail']}")
        for overlap in entry["new_overlaps"]:
            lines.append(f"    nouveau recouvrement sur {overlap['commune']} avec la CPTS "
                         f"{overlap['cpts_id']} « {overlap['name']} »")
    for entry in migration.get("not_migrated", []):
        lines.append(f"  CPTS {entry['cpts_id']} « {entry['name']} » non migrée : communes "
                     f"hors du chargement ({', '.join(entry['missing'])}).")
    return lines


def format_report(outcome: LoadOutcome) -> str:
    report = outcome.report
    if report.get("dry_run"):
        before = report["cog_year_before"]
        return "\n".join([
            f"Simulation (rien n'est écrit, {outcome.seconds:.1f} s) : COG "
            f"{before if before is not None else '(aucun chargé)'} → COG {report['cog_year']}"
            f" ; {report['holes']} trous sur terre attribués à une commune "
            f"({report['holes_area_m2'] / 1e6:.1f} km²).", *format_migration(report["migration"])])
    if outcome.release_id is None:
        return (f"Déjà chargé (version {report['already_loaded']}) : rien à faire "
                f"({outcome.seconds:.1f} s). Utilisez --force pour recharger.")
    counts = report["counts"]
    lines = [f"Chargement terminé en {outcome.seconds:.1f} s (version {outcome.release_id})."]
    lines.append("Étapes (s) : " + ", ".join(f"{k} {v}" for k, v in report["steps"].items())
                 + (" — construction reprise du cache" if report["build_from_cache"] else ""))
    lines.append(
        f"COG : {counts['communes']} communes, {counts['arrondissements']} arrondissements "
        f"municipaux, {counts['history']} anciens codes ; {counts['own_polygon']} contours "
        f"propres.")
    for code, parts in report["rebuilt_from_predecessors"].items():
        lines.append(f"  {code} : contour reconstitué à partir de {', '.join(parts)}")
    without = list(report["without_polygon"].items())
    for code, note in without[:12]:
        lines.append(f"  {code} : sans contour — {note}")
    if len(without) > 12:
        lines.append(f"  … et {len(without) - 12} autres communes sans contour (voir le "
                     "rapport de la version chargée).")
    for zone, topo in report["topology"].items():
        lines.append(
            f"Topologie {zone} (EPSG:{topo['epsg']}) : {topo['units']} unités, "
            f"{topo['invalid_before']} avec des bords discordants avant, "
            f"{topo['invalid_after']} après ; {topo['overlap_faces']} recouvrements "
            f"({topo['overlap_area_m2'] / 1e6:.3f} km²) attribués, {topo['gap_faces_filled']} "
            f"interstices comblés ; {topo.get('holes_filled', 0)} trous sur terre attribués "
            f"({topo.get('holes_area_filled_m2', 0.0) / 1e6:.1f} km²), "
            f"{topo.get('holes_left', 0)} laissés hors de toute commune.")
        for hole in report.get("holes", {}).get(zone, []):
            lines.append(
                f"  trou de {hole['area_m2'] / 1e6:.3f} km² ({hole['lat']:.4f} N, "
                f"{hole['lon']:.4f} E) → {hole['code']} {hole['nom']} "
                f"[{RULE_LABELS[hole['rule']]}"
                + (f" : {', '.join(hole['evidence'])}" if hole["evidence"] else "") + "]")
        for place in report.get("outside_communes", {}).get(zone, []):
            lines.append(f"  hors de toute commune : {', '.join(place['evidence'])} "
                         f"({place['area_m2'] / 1e6:.2f} km²)")
    lines.append("Sommets : " + ", ".join(f"{k} {v}" for k, v in counts["vertices"].items()))
    lines.append(f"Contiguïtés : {counts['adjacency_pairs']} paires ; couches : "
                 + ", ".join(f"{k} {v}" for k, v in counts["layers"].items()))
    outside = report["outside_map"]
    lines.append(f"Hors carte (collectivités d'outre-mer, sans contour) : {len(outside)} communes"
                 f" ({', '.join(sorted({o['collectivite'] for o in outside}))}).")
    scope = ("toute la France" if outcome.scope.departements is None
             else "départements " + ", ".join(outcome.scope.departements))
    lines.append(
        f"Chargé ({scope}) : {counts['loaded_communes']} communes, "
        f"{counts['loaded_arrondissements']} arrondissements, population "
        + f"{counts['loaded_population']:,}".replace(",", "\u202f") + ".")
    lines.append("Lignes écrites : " + ", ".join(f"{k} {v}" for k, v in report["loaded"].items()))
    lines.extend(format_migration(report["migration"]))
    return "\n".join(lines)
