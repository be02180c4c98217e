"""The `cpts` command line: database, geodata, server, accounts, imports and exports."""

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from app.errors import ProblemError
from app.settings import Settings, get_settings


def _db_upgrade(args: argparse.Namespace) -> int:
    from app import migrations
    from app.db import connect
    from app.dbadmin import database_name, ensure_database

    settings = get_settings()
    if ensure_database(settings.database_url):
        print(f"base {database_name(settings.database_url)} créée")
    with connect(settings.database_url) as conn:
        applied = migrations.upgrade(conn, settings.migrations_dir)
    for migration in applied:
        print(f"appliquée : {migration.name}")
    print(f"{len(applied)} migration(s) appliquée(s) ; schéma à jour")
    return 0


def _db_status(args: argparse.Namespace) -> int:
    from app import migrations
    from app.db import connect

    settings = get_settings()
    with connect(settings.database_url) as conn:
        states = migrations.status(conn, settings.migrations_dir)
    pending = 0
    for state in states:
        if state.applied_at is None:
            pending += 1
            mark = "en attente"
        else:
            mark = f"appliquée le {state.applied_at:%Y-%m-%d %H:%M}"
            if state.modified:
                mark += " (fichier modifié depuis !)"
        print(f"{state.migration.name:<40} {mark}")
    print(f"{len(states) - pending} appliquée(s), {pending} en attente")
    return 0


def _db_dump(args: argparse.Namespace) -> int:
    from app.backup import dump

    target = dump(get_settings().database_url, args.file, with_geodata=not args.without_geodata)
    print(f"sauvegarde écrite : {target} ({target.stat().st_size / 1e6:.1f} Mo)")
    return 0


def _db_restore(args: argparse.Namespace) -> int:
    from app.backup import restore

    restore(get_settings().database_url, args.file)
    print(f"sauvegarde {args.file} restaurée")
    return 0


def server_options(settings: Settings) -> dict[str, Any]:
    """uvicorn's options for the service. The client address (login limits per address, the
    audit log) is the peer of the connection, unless that peer is one of the reverse proxies
    named in FORWARDED_ALLOW_IPS: only then are X-Forwarded-For and X-Forwarded-Proto believed
    (uvicorn alone would believe them from any local client)."""
    proxies = ",".join(part.strip() for part in settings.forwarded_allow_ips.split(",")
                       if part.strip())
    return {"host": settings.host, "port": settings.port, "log_config": None,
            "access_log": False, "proxy_headers": bool(proxies),
            "forwarded_allow_ips": proxies or "", "server_header": False}


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    options = server_options(get_settings())
    options.update({key: value for key, value in (("host", args.host), ("port", args.port))
                    if value})
    uvicorn.run("app.main:create_app", factory=True, workers=args.workers, **options)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="cpts", description="Territoires des CPTS")
    commands = parser.add_subparsers(dest="command", required=True)

    db = commands.add_parser("db", help="base de données").add_subparsers(dest="db", required=True)
    db.add_parser("upgrade", help="crée la base si besoin et applique les migrations") \
        .set_defaults(func=_db_upgrade)
    db.add_parser("status", help="liste les migrations appliquées et en attente") \
        .set_defaults(func=_db_status)
    dump = db.add_parser("dump", help="sauvegarde la base (pg_dump, format custom)")
    dump.add_argument("file", type=Path)
    dump.add_argument("--without-geodata", action="store_true",
                      help="sans les communes ni les couches (rechargeables)")
    dump.set_defaults(func=_db_dump)
    restore = db.add_parser("restore", help="restaure une sauvegarde dans une base vide")
    restore.add_argument("file", type=Path)
    restore.set_defaults(func=_db_restore)

    serve = commands.add_parser("serve", help="lance le service web")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.add_argument("--workers", type=int, default=1)
    serve.set_defaults(func=_serve)

    from geodata.cli import add_geodata_commands

    add_geodata_commands(commands)

    from app.auth.cli import add_auth_commands

    add_auth_commands(commands)

    from app.imports_cli import add_import_commands

    add_import_commands(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    from app.logs import configure_logging

    configure_logging(get_settings().log_level)
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except ProblemError as exc:
        print(f"erreur [{exc.code}] : {exc.detail}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
