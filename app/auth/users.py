"""Managing accounts (create, disable, enable, unlock, change password), each change audited."""

import re
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg

from app.auth.audit import Actor, change, record
from app.auth.lockout import Gate, LoginRules, account_gate
from app.auth.passwords import check_new_password, hash_password
from app.auth.policy import ROLE_LABELS, Role, User, scope_problems
from app.auth.principal import user_from_row
from app.db import Conn
from app.domain.names import check_characters
from app.errors import ProblemError
from app.repo import login_attempts
from app.repo import sessions as sessions_repo
from app.repo import users as repo

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def normalise_email(email: str) -> str:
    email = check_characters(email.strip().lower(), "L'adresse électronique")
    if len(email) > 320 or not _EMAIL.match(email):
        raise ProblemError(422, "invalid_email", f"« {email} » n'est pas une adresse électronique.")
    return email


def parse_role(value: str) -> Role:
    try:
        return Role(value)
    except ValueError:
        roles = ", ".join(role.value for role in Role)
        raise ProblemError(422, "invalid_role",
                           f"Rôle inconnu : « {value} » (rôles : {roles}).") from None


def find_user(conn: Conn, email: str) -> dict[str, Any]:
    row = repo.by_email(conn, normalise_email(email))
    if row is None:
        raise ProblemError(404, "unknown_user", f"Aucun compte pour {email.strip().lower()}.")
    return row


def create_user(conn: Conn, *, email: str, role: Role, regions: Iterable[str],
                cpts_ids: Iterable[int], password: str | None, actor: Actor) -> User:
    email = normalise_email(email)
    regions, cpts_ids = sorted(set(regions)), sorted(set(cpts_ids))
    problems = scope_problems(role, regions, cpts_ids)
    if problems:
        raise ProblemError(422, "invalid_scope", " ".join(problems),
                           errors=[{"detail": problem} for problem in problems])
    if password is not None:
        check_new_password(password, email)
    if repo.email_exists(conn, email):
        raise ProblemError(409, "email_taken", f"Un compte existe déjà pour {email}.")
    try:
        with conn.transaction():
            user_id = repo.insert_user(
                conn, email=email, role=role.value, regions=regions, cpts_ids=cpts_ids,
                password_hash=None if password is None else hash_password(password))
    except psycopg.errors.ForeignKeyViolation:
        raise ProblemError(422, "unknown_cpts",
                           f"Aucune CPTS ne porte le numéro {', '.join(map(str, cpts_ids))}."
                           ) from None
    scopes = {"regions": regions} if regions else {"cpts": cpts_ids} if cpts_ids else {}
    record(conn, actor, action="user.create", entity="user", entity_id=user_id,
           summary=f"Compte {email} créé ({ROLE_LABELS[role]}).",
           changes={"email": change(None, email), "role": change(None, role.value),
                    **{name: change(None, value) for name, value in scopes.items()}},
           regions=regions)
    row = repo.by_id(conn, user_id)
    assert row is not None
    return user_from_row(row)


def set_disabled(conn: Conn, email: str, disabled: bool, actor: Actor) -> bool:
    """Disable (closing its sessions) or re-enable an account; False when nothing changed."""
    row = find_user(conn, email)
    if row["disabled"] == disabled:
        return False
    repo.set_disabled(conn, row["id"], disabled)
    if disabled:
        sessions_repo.delete_for_user(conn, row["id"])
    verb = "désactivé" if disabled else "réactivé"
    record(conn, actor, action="user.disable" if disabled else "user.enable", entity="user",
           entity_id=row["id"], summary=f"Compte {row['email']} {verb}.",
           changes={"disabled": change(not disabled, disabled)}, regions=row["regions"])
    return True


def set_password(conn: Conn, email: str, password: str, actor: Actor) -> None:
    """A new password; every open session of the account is closed."""
    row = find_user(conn, email)
    check_new_password(password, row["email"])
    repo.set_password_hash(conn, row["id"], hash_password(password))
    sessions_repo.delete_for_user(conn, row["id"])
    record(conn, actor, action="user.password", entity="user", entity_id=row["id"],
           summary=f"Mot de passe de {row['email']} changé.", regions=row["regions"])


def unlock(conn: Conn, email: str, actor: Actor) -> None:
    """Forget the failed logins of an account (it may try again at once)."""
    row = find_user(conn, email)
    login_attempts.record(conn, email=row["email"], user_id=row["id"], ip=None, outcome="reset")
    record(conn, actor, action="user.unlock", entity="user", entity_id=row["id"],
           summary=f"Compte {row['email']} déverrouillé.", regions=row["regions"])


def login_gate(conn: Conn, email: str, rules: LoginRules) -> Gate:
    """Whether an account may try a password now (for listings)."""
    now = datetime.now(UTC)
    memory = timedelta(seconds=max(rules.window_s, rules.lockout_s))
    return account_gate(login_attempts.account_history(conn, email, now - memory), now, rules)
