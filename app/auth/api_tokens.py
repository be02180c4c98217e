"""Personal API tokens: issuing one (shown once), recognising it, revoking it."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from app.auth import tokens
from app.auth.audit import Actor, record
from app.auth.policy import User, can_revoke_token
from app.auth.principal import Principal, user_from_row
from app.db import Conn
from app.domain.names import clean_name
from app.errors import ProblemError
from app.repo import tokens as repo
from app.repo import users as users_repo

TOUCH_EVERY = timedelta(minutes=1)
PARIS = ZoneInfo("Europe/Paris")


@dataclass(frozen=True)
class IssuedToken:
    row: dict[str, Any]  # id, name, prefix, created_at, expires_at, …
    token: str  # the secret itself: returned once, never stored


def issue(conn: Conn, owner: User, *, name: str, expires_in_days: int | None,
          actor: Actor) -> IssuedToken:
    name = clean_name(name, "Le nom du jeton", max_length=100)
    secret = tokens.new_api_token()
    expires_at = (datetime.now(UTC) + timedelta(days=expires_in_days)
                  if expires_in_days else None)
    row = repo.create(conn, user_id=owner.id, name=name, secret_hash=tokens.digest(secret),
                      prefix=tokens.display_prefix(secret), expires_at=expires_at)
    record(conn, actor, action="token.create", entity="api_token", entity_id=row["id"],
           summary=f"Jeton d'accès « {name} » créé pour {owner.email}.",
           changes={"name": {"before": None, "after": name},
                    "owner": {"before": None, "after": owner.email}},
           regions=owner.regions)
    return IssuedToken(row, secret)


def resolve_token(conn: Conn, secret: str, ip: str | None) -> Principal:
    """The principal of a bearer token; refused when unknown, revoked, expired or disabled."""
    row = repo.find(conn, tokens.digest(secret))
    headers = {"WWW-Authenticate": 'Bearer error="invalid_token"'}
    if row is None:
        raise ProblemError(401, "invalid_token", "Ce jeton d'accès n'est pas reconnu.",
                           headers=headers)
    if row["revoked_at"] is not None:
        when = row["revoked_at"].astimezone(PARIS)
        raise ProblemError(401, "token_revoked",
                           f"Ce jeton d'accès a été révoqué le {when:%d/%m/%Y à %H h %M}.",
                           headers=headers)
    now = datetime.now(UTC)
    if row["token_expires_at"] is not None and row["token_expires_at"] <= now:
        raise ProblemError(401, "token_expired", "Ce jeton d'accès a expiré.", headers=headers)
    if row["disabled"]:
        raise ProblemError(401, "account_disabled", "Ce compte est désactivé.", headers=headers)
    last = row["last_used_at"]
    if last is None or now - last >= TOUCH_EVERY or row["last_used_ip"] != ip:
        repo.touch(conn, row["token_id"], ip)
    return Principal(user=user_from_row(row), via="token", token_id=row["token_id"])


def revoke(conn: Conn, token_id: int, actor: Actor, *, requester: User | None) -> None:
    """Revoke a token; revoking twice is a no-op. A user revokes its own tokens (administrators:
    any); `requester` None is the command line, run on the server, which may revoke any."""
    row = repo.get(conn, token_id)
    if row is None or (requester is not None and not can_revoke_token(requester, row["user_id"])):
        raise ProblemError(404, "unknown_token",
                           f"Aucun de vos jetons ne porte le numéro {token_id}.")
    if repo.revoke(conn, token_id):
        owner = users_repo.by_id(conn, row["user_id"])
        assert owner is not None
        record(conn, actor, action="token.revoke", entity="api_token", entity_id=token_id,
               summary=f"Jeton d'accès « {row['name']} » de {owner['email']} révoqué.",
               changes={"revoked": {"before": False, "after": True}},
               regions=owner["regions"])
