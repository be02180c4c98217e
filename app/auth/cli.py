"""The `cpts users …` and `cpts tokens …` commands (run on the server: no login needed)."""

import argparse
import getpass
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from app.auth import api_tokens
from app.auth import users as accounts
from app.auth.audit import Actor
from app.auth.lockout import GateState, LoginRules
from app.auth.principal import user_from_row
from app.db import Conn, connect
from app.errors import ProblemError
from app.repo import tokens as tokens_repo
from app.repo import users as users_repo
from app.settings import get_settings


@contextmanager
def _transaction() -> Iterator[Conn]:
    with connect(get_settings().database_url) as conn, conn.transaction():
        yield conn


def _scope(value: str) -> tuple[str, str]:
    kind, _, code = value.partition(":")
    if kind not in ("region", "cpts") or not code:
        raise argparse.ArgumentTypeError("attendu : region:<code> ou cpts:<id>")
    return kind, code


def _read_password(args: argparse.Namespace) -> str:
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    elif sys.stdin.isatty():
        password = getpass.getpass("Mot de passe : ")
        if getpass.getpass("Mot de passe (encore) : ") != password:
            raise ProblemError(422, "password_mismatch", "Les deux saisies diffèrent.")
    else:
        raise ProblemError(422, "password_required",
                           "Donnez le mot de passe sur l'entrée standard avec --password-stdin.")
    if not password:
        raise ProblemError(422, "password_required", "Mot de passe vide.")
    return password


def _users_create(args: argparse.Namespace) -> int:
    regions = list(args.region or [])
    cpts_ids: list[int] = list(args.cpts or [])
    for kind, code in args.scope or []:
        if kind == "region":
            regions.append(code)
        elif code.isdigit():
            cpts_ids.append(int(code))
        else:
            raise ProblemError(422, "invalid_scope", f"« {code} » n'est pas un numéro de CPTS.")
    role = accounts.parse_role(args.role)
    password = _read_password(args)
    with _transaction() as conn:
        user = accounts.create_user(conn, email=args.email, role=role, regions=regions,
                                    cpts_ids=cpts_ids, password=password,
                                    actor=Actor.command_line())
    print(f"compte créé : {user.email} ({user.role.value}) n° {user.id}")
    return 0


def _state(row: dict[str, Any], rules: LoginRules, conn: Conn) -> str:
    if row["disabled"]:
        return f"désactivé depuis le {row['disabled_at']:%Y-%m-%d}"
    gate = accounts.login_gate(conn, row["email"], rules)
    if gate.state is GateState.LOCKED and gate.until is not None:
        return f"verrouillé jusqu'à {gate.until.astimezone():%H:%M}"
    return "actif"


def _users_list(args: argparse.Namespace) -> int:
    rules = LoginRules.from_settings(get_settings())
    with connect(get_settings().database_url) as conn:
        rows = users_repo.list_users(conn)
        print(f"{'n°':>4}  {'adresse':<36} {'rôle':<9} {'périmètre':<20} {'état':<28} "
              f"dernière connexion")
        for row in rows:
            user = user_from_row(row)
            scope = (",".join(sorted(user.regions)) if user.regions
                     else ",".join(f"cpts:{i}" for i in sorted(user.cpts_ids)) or "-")
            last = f"{row['last_login_at']:%Y-%m-%d %H:%M}" if row["last_login_at"] else "jamais"
            print(f"{user.id:>4}  {user.email:<36} {user.role.value:<9} {scope:<20} "
                  f"{_state(row, rules, conn):<28} {last}")
    print(f"{len(rows)} compte(s)")
    return 0


def _users_disable(args: argparse.Namespace) -> int:
    with _transaction() as conn:
        changed = accounts.set_disabled(conn, args.email, True, Actor.command_line())
    print("compte désactivé, sessions fermées" if changed else "compte déjà désactivé")
    return 0


def _users_enable(args: argparse.Namespace) -> int:
    with _transaction() as conn:
        changed = accounts.set_disabled(conn, args.email, False, Actor.command_line())
    print("compte réactivé" if changed else "compte déjà actif")
    return 0


def _users_unlock(args: argparse.Namespace) -> int:
    with _transaction() as conn:
        accounts.unlock(conn, args.email, Actor.command_line())
    print("compte déverrouillé")
    return 0


def _users_password(args: argparse.Namespace) -> int:
    password = _read_password(args)
    with _transaction() as conn:
        accounts.set_password(conn, args.email, password, Actor.command_line())
    print("mot de passe changé, sessions fermées")
    return 0


def _tokens_create(args: argparse.Namespace) -> int:
    with _transaction() as conn:
        owner = user_from_row(accounts.find_user(conn, args.email))
        issued = api_tokens.issue(conn, owner, name=args.name, expires_in_days=args.expires_days,
                                  actor=Actor.command_line())
    print(f"jeton n° {issued.row['id']} « {args.name} » pour {owner.email} ; il ne sera plus "
          f"affiché :", file=sys.stderr)
    print(issued.token)
    return 0


def _tokens_list(args: argparse.Namespace) -> int:
    with connect(get_settings().database_url) as conn:
        owner = accounts.find_user(conn, args.email)
        rows = tokens_repo.list_for_user(conn, owner["id"])
    for row in rows:
        used = f"{row['last_used_at']:%Y-%m-%d %H:%M}" if row["last_used_at"] else "jamais"
        state = f"révoqué le {row['revoked_at']:%Y-%m-%d}" if row["revoked_at"] else "actif"
        print(f"{row['id']:>5}  {row['prefix']}…  {row['name']:<30} utilisé : {used:<16} {state}")
    print(f"{len(rows)} jeton(s)")
    return 0


def _tokens_revoke(args: argparse.Namespace) -> int:
    with _transaction() as conn:
        api_tokens.revoke(conn, args.id, Actor.command_line(), requester=None)
    print(f"jeton n° {args.id} révoqué")
    return 0


def add_auth_commands(commands: Any) -> None:
    users = commands.add_parser("users", help="comptes utilisateurs") \
        .add_subparsers(dest="users", required=True)
    create = users.add_parser("create", help="crée un compte")
    create.add_argument("--email", required=True)
    create.add_argument("--role", required=True, help="admin, ars, carrier ou observer")
    create.add_argument("--region", nargs="+", help="régions (ars, observer), ex. 93 84")
    create.add_argument("--cpts", nargs="+", type=int, help="CPTS du porteur (numéros)")
    create.add_argument("--scope", nargs="+", type=_scope, help="region:93 ou cpts:12")
    create.add_argument("--password-stdin", action="store_true",
                        help="lit le mot de passe sur l'entrée standard")
    create.set_defaults(func=_users_create)
    users.add_parser("list", help="liste les comptes").set_defaults(func=_users_list)
    for name, func, text in (("disable", _users_disable, "désactive un compte"),
                             ("enable", _users_enable, "réactive un compte"),
                             ("unlock", _users_unlock, "efface les échecs de connexion")):
        sub = users.add_parser(name, help=text)
        sub.add_argument("--email", required=True)
        sub.set_defaults(func=func)
    password = users.add_parser("password", help="change le mot de passe d'un compte")
    password.add_argument("--email", required=True)
    password.add_argument("--password-stdin", action="store_true")
    password.set_defaults(func=_users_password)

    tokens = commands.add_parser("tokens", help="jetons d'accès pour les scripts") \
        .add_subparsers(dest="tokens", required=True)
    create_token = tokens.add_parser("create", help="crée un jeton et l'affiche (une fois)")
    create_token.add_argument("--email", required=True)
    create_token.add_argument("--name", default="script")
    create_token.add_argument("--expires-days", type=int)
    create_token.set_defaults(func=_tokens_create)
    list_tokens = tokens.add_parser("list", help="liste les jetons d'un compte")
    list_tokens.add_argument("--email", required=True)
    list_tokens.set_defaults(func=_tokens_list)
    revoke = tokens.add_parser("revoke", help="révoque un jeton")
    revoke.add_argument("id", type=int)
    revoke.set_defaults(func=_tokens_revoke)
