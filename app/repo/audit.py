"""SQL for the audit log: append an entry, search entries. Nothing here updates or deletes."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from psycopg.types.json import Jsonb

from app.db import Conn


@dataclass(frozen=True)
class AuditQuery:
    """Filters of an audit search; `regions` None means every region (administrators)."""

    regions: frozenset[str] | None
    entity: str | None = None
    entity_id: str | None = None
    actor: str | None = None
    action: str | None = None
    region: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    before_id: int | None = None
    limit: int = 100


@dataclass(frozen=True)
class AuditRow:
    actor_id: int | None
    actor_email: str | None
    via: str
    action: str
    entity: str
    entity_id: str | None
    summary: str
    changes: dict[str, Any]
    regions: list[str]
    ip: str | None
    origin: str | None


def insert_many(conn: Conn, rows: Sequence[AuditRow]) -> list[int]:
    """Append entries; their ids in the order of `rows`."""
    with conn.cursor() as cur:
        cur.executemany(
            """
            INSERT INTO audit_log (actor_id, actor_email, via, action, entity, entity_id,
                                   summary, changes, regions, ip, origin)
            VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING id
            """,
            [(r.actor_id, r.actor_email, r.via, r.action, r.entity, r.entity_id, r.summary,
              Jsonb(r.changes), sorted(set(r.regions)), r.ip, r.origin) for r in rows],
            returning=True)
        return [int(row["id"]) for _ in cur.results() for row in cur.fetchall()]


def search(conn: Conn, query: AuditQuery) -> list[dict[str, Any]]:
    """Newest first; `before_id` pages backwards."""
    return conn.execute(
        """
        SELECT id, at, actor_id, actor_email, via, action, entity, entity_id, summary, changes,
               regions, host(ip) AS ip, origin
          FROM audit_log
         WHERE (%(all_regions)s OR regions && %(regions)s::text[])
           AND (%(entity)s::text IS NULL OR entity = %(entity)s)
           AND (%(entity_id)s::text IS NULL OR entity_id = %(entity_id)s)
           AND (%(actor)s::text IS NULL OR actor_email = lower(%(actor)s))
           AND (%(action)s::text IS NULL OR action = %(action)s)
           AND (%(region)s::text IS NULL OR %(region)s = ANY (regions))
           AND (%(since)s::timestamptz IS NULL OR at >= %(since)s)
           AND (%(until)s::timestamptz IS NULL OR at < %(until)s)
           AND (%(before_id)s::bigint IS NULL OR id < %(before_id)s)
         ORDER BY id DESC
         LIMIT %(limit)s
        """,
        {
            "all_regions": query.regions is None,
            "regions": sorted(query.regions or ()),
            "entity": query.entity,
            "entity_id": query.entity_id,
            "actor": query.actor,
            "action": query.action,
            "region": query.region,
            "since": query.since,
            "until": query.until,
            "before_id": query.before_id,
            "limit": query.limit,
        },
    ).fetchall()
