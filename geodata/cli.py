"""The `cpts geodata` commands."""

import argparse
import sys
from pathlib import Path
from typing import Any

from app.settings import get_settings


def _codes(value: str) -> list[str]:
    return [code.strip().upper() for code in value.split(",") if code.strip()]


def _load(args: argparse.Namespace) -> int:
    from geodata.pipeline import format_report, load_geodata

    outcome = load_geodata(
        get_settings(),
        departements=args.departements or [],
        regions=args.regions or [],
        everything=args.all,
        source_dir=args.source,
        population_year=args.population_year,
        force=args.force,
        show_progress=not args.quiet and sys.stderr.isatty(),
        cog_package=args.cog_package,
        dry_run=args.dry_run,
    )
    print(format_report(outcome))
    return 0


def add_geodata_commands(commands: Any) -> None:
    geodata = commands.add_parser("geodata", help="communes et couches de référence") \
        .add_subparsers(dest="geodata", required=True)
    load = geodata.add_parser(
        "load", help="charge les communes (toute la France, ou des départements ou régions)")
    load.add_argument("--departements", type=_codes, help="ex. 06,13,2A")
    load.add_argument("--regions", type=_codes, help="ex. 93,84")
    load.add_argument("--all", action="store_true", help="toute la France (par défaut)")
    load.add_argument("--source", type=Path,
                      help="dossier des fichiers officiels (ADMIN EXPRESS COG, populations INSEE)")
    load.add_argument("--population-year", type=int, metavar="ANNÉE",
                      help="millésime des populations des fichiers officiels (ex. 2023), "
                           "si le nom de la table INSEE ne le dit pas")
    load.add_argument("--cog-package", metavar="VERSION",
                      help="version du paquet @etalab/decoupage-administratif qui donne le COG "
                           "(ex. 7.0.0 ; par défaut le réglage COG_PACKAGE)")
    load.add_argument("--dry-run", action="store_true",
                      help="n'écrit rien : affiche la migration des périmètres que ferait le "
                           "chargement")
    load.add_argument("--force", action="store_true", help="recharge même si déjà à jour")
    load.add_argument("--quiet", action="store_true", help="sans barre de progression")
    load.set_defaults(func=_load)
