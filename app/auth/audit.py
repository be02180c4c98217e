"""Writing the audit log: who (actor), what (entity, id, summary, changes), from where.

Every write of the application calls `record` in the same transaction as the change, so the
entry exists if and only if the change does. Secrets never go into `changes`.
"""

import getpass
import ipaddress
import socket
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from typing import Any

from app.db import Conn
from app.repo import audit as repo

SECRET_FIELDS = frozenset({"password", "password_hash", "token", "secret", "secret_hash",
                           "csrf_token"})


@dataclass(frozen=True)
class Actor:
    """Who acts and from where: a signed-in user, an anonymous visitor, or the command line."""

    user_id: int | None
    email: str | None
    via: str  # session, token, cli, anonymous
    ip: str | None = None
    origin: str | None = None  # user agent, or "cli user@host"

    @classmethod
    def command_line(cls) -> "Actor":
        try:
            who = getpass.getuser()
        except (KeyError, OSError):
            who = "?"
        return cls(user_id=None, email=None, via="cli", origin=f"cli {who}@{socket.gethostname()}")


def client_ip(host: str | None) -> str | None:
    """The client address when it is an IP address (test clients use names)."""
    if not host:
        return None
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        return None


def change(before: Any, after: Any) -> dict[str, Any]:
    return {"before": before, "after": after}


@dataclass(frozen=True)
class Entry:
    """One entry of the audit log: what was done to which entity."""

    action: str
    entity: str
    entity_id: object | None
    summary: str
    changes: dict[str, Any] = field(default_factory=dict)
    regions: Collection[str] = ()


def record_many(conn: Conn, actor: Actor, entries: Sequence[Entry]) -> list[int]:
    """Append entries for one actor. `changes` maps a field to {"before", "after"}; no secret
    fields."""
    rows = []
    for entry in entries:
        leaked = SECRET_FIELDS.intersection(entry.changes)
        if leaked:
            raise ValueError(f"secret fields in an audit entry: {sorted(leaked)}")
        rows.append(repo.AuditRow(
            actor_id=actor.user_id, actor_email=actor.email, via=actor.via,
            action=entry.action, entity=entry.entity,
            entity_id=None if entry.entity_id is None else str(entry.entity_id),
            summary=entry.summary, changes=entry.changes, regions=sorted(entry.regions),
            ip=actor.ip, origin=actor.origin[:300] if actor.origin else None))
    return repo.insert_many(conn, rows)


def record(conn: Conn, actor: Actor, *, action: str, entity: str, entity_id: object | None,
           summary: str, changes: dict[str, Any] | None = None,
           regions: list[str] | frozenset[str] | None = None) -> int:
    """Append one entry (see `record_many`)."""
    return record_many(conn, actor, [Entry(action, entity, entity_id, summary, changes or {},
                                           regions or ())])[0]
