"""The `cpts import FILE` and `cpts export ID` commands (run on the server: no login needed).

They act as the command line in the audit log (`Actor.command_line()`) with administrator
rights, like `cpts users create`: whoever runs them already holds the database. With
`--as EMAIL` they act with that account's rights instead, and the audit log names it.
An imported file is held to the limits of an upload (settings `MAX_UPLOAD_BYTES`,
`MAX_XLSX_UNCOMPRESSED_BYTES`, `MAX_IMPORT_ROWS`).
"""

import argparse
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from app.auth.audit import Actor
from app.auth.principal import user_from_row
from app.auth.users import find_user
from app.db import connect
from app.domain.upload_limits import mebibytes, thousands
from app.errors import ProblemError
from app.services.cpts import COMMAND_LINE_USER, Context, command_line_context
from app.settings import Settings, get_settings


@contextmanager
def command_context(as_email: str | None) -> Iterator[Context]:
    """A context on one connection, committed when the block ends without error."""
    settings = get_settings()
    with connect(settings.database_url) as conn, conn.transaction():
        actor = Actor.command_line()
        user = COMMAND_LINE_USER
        if as_email is not None:
            user = user_from_row(find_user(conn, as_email))
            actor = Actor(user.id, user.email, "cli", origin=actor.origin)
        yield command_line_context(conn, user=user, actor=actor,
                                   publish_signed=settings.publish_signed_cpts)


def _print_issue(issue: dict[str, Any], stream: Any) -> None:
    where = f"ligne {issue['line']:>5}" if issue.get("line") is not None else "fichier    "
    print(f"  {where}  [{issue['code']}] {issue['detail']}", file=stream)


def print_report(report: dict[str, Any]) -> None:
    mode = "simulation (rien n'est enregistré)" if report["dry_run"] else "import enregistré"
    source = report["format"] + (f", {report['encoding']}" if report["encoding"] else "") + (
        f", feuille « {report['sheet']} »" if report["sheet"] else "")
    print(f"{mode} — {report['rows']} ligne(s) lue(s) ({source})")
    print(f"CPTS créées : {report['created']}, modifiées : {report['updated']}, inchangées : "
          f"{report['unchanged']}")
    for cpts in report["cpts"]:
        overlaps = ", ".join(o["name"] for o in cpts["overlaps"])
        print(f"  {cpts['action']:<9} {cpts['name'][:50]:<50} {cpts['units']:>4} unités "
              f"{cpts['population']:>9} hab. ({cpts['population_year']}) taille "
              f"{cpts['size_class']}" + (f" — recouvre : {overlaps}" if overlaps else ""))
    uncovered = report["uncovered"]
    if uncovered["communes"]:
        print(f"Non couvertes ({', '.join(uncovered['names'])}) : "
              f"{len(uncovered['communes'])} commune(s), {uncovered['population']} hab.")
    if report["warnings"]:
        print(f"{len(report['warnings'])} avertissement(s) :")
        for warning in report["warnings"]:
            _print_issue(warning, sys.stdout)


def read_limited(path: Path, settings: Settings) -> bytes:
    """The file, if it is no larger than an upload may be (`MAX_UPLOAD_BYTES`)."""
    limit = settings.max_upload_bytes
    with path.open("rb") as file:
        data = file.read(limit + 1)
    if len(data) > limit:
        shown = (mebibytes(limit) if limit >= 1024 * 1024
                 else f"{thousands(limit)} octets")
        raise ProblemError(413, "upload_too_large",
                           f"Fichier trop volumineux : la limite est de {shown} "
                           f"(MAX_UPLOAD_BYTES).")
    return data


def _import(args: argparse.Namespace) -> int:
    from app.api.imports import upload_limits  # the limits of `POST /api/imports/cpts`
    from app.services.imports import ImportOptions, import_cpts

    path = Path(args.file)
    if not path.is_file():
        raise ProblemError(404, "file_not_found", f"Fichier introuvable : {path}.")
    settings = get_settings()
    options = ImportOptions(dry_run=args.dry_run, share=args.share, sheet=args.sheet,
                            status=args.status, filename=path.name,
                            limits=upload_limits(settings))
    try:
        data = read_limited(path, settings)
        with command_context(args.as_email) as ctx:
            report = import_cpts(ctx, data, options)
    except ProblemError as exc:
        print(f"import refusé [{exc.code}] : {exc.detail}", file=sys.stderr)
        for issue in exc.errors:
            _print_issue(issue, sys.stderr)
        return 1
    if args.json:
        print(json.dumps(report, ensure_ascii=False, indent=2))
    else:
        print_report(report)
    return 0


def _export(args: argparse.Namespace) -> int:
    from app.services.exports import export_cpts

    with command_context(args.as_email) as ctx:
        exported = export_cpts(ctx, args.id, args.format, with_communes=not args.outline_only)
    target = Path(args.output) if args.output else Path(exported.filename)
    target.write_bytes(exported.content)
    print(f"{target} ({len(exported.content)} octets)")
    return 0


def add_import_commands(commands: Any) -> None:
    importer = commands.add_parser(
        "import", help="importe un fichier de CPTS (CSV, XLSX ou GeoJSON), tout ou rien")
    importer.add_argument("file", help="fichier de lignes cpts;code_commune, ou GeoJSON")
    importer.add_argument("--dry-run", action="store_true",
                          help="tout vérifier et afficher le compte rendu sans rien enregistrer")
    importer.add_argument("--share", type=float, default=0.5,
                          help="GeoJSON : part minimale de la surface d'une commune dans le "
                               "polygone (défaut 0.5)")
    importer.add_argument("--sheet", help="XLSX : la feuille à lire")
    importer.add_argument("--status", default=None,
                          help="stade des CPTS créées (par défaut : pré-projet)")
    importer.add_argument("--as", dest="as_email", metavar="EMAIL",
                          help="agir avec les droits de ce compte (défaut : administrateur)")
    importer.add_argument("--json", action="store_true", help="compte rendu complet en JSON")
    importer.set_defaults(func=_import)

    exporter = commands.add_parser("export", help="exporte le périmètre d'une CPTS")
    exporter.add_argument("id", type=int, help="numéro de la CPTS")
    exporter.add_argument("--format", choices=("csv", "xlsx", "geojson", "gpkg"), default="csv")
    exporter.add_argument("-o", "--output", help="fichier écrit (défaut : nom proposé)")
    exporter.add_argument("--outline-only", action="store_true",
                          help="GeoJSON : le contour seul, sans les communes")
    exporter.add_argument("--as", dest="as_email", metavar="EMAIL",
                          help="agir avec les droits de ce compte (défaut : administrateur)")
    exporter.set_defaults(func=_export)
