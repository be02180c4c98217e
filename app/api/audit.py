"""`GET /api/audit`: the audit log, for administrators and for agencies on their regions."""

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from app.api.cpts import CptsContext
from app.auth.deps import CurrentUser
from app.auth.policy import audit_regions, can_read_audit
from app.errors import ProblemError
from app.repo import audit as repo
from app.services import audit_log

router = APIRouter(tags=["journal"])


class AuditEntry(BaseModel):
    id: int
    at: datetime
    actor_id: int | None
    actor_email: str | None
    via: str = Field(description="session, token, cli ou anonymous")
    action: str
    entity: str
    entity_id: str | None
    summary: str
    changes: dict[str, Any]
    regions: list[str]
    ip: str | None
    origin: str | None


class AuditPage(BaseModel):
    entries: list[AuditEntry]
    next_before_id: int | None = Field(description="À passer en before_id pour la suite")


@router.get("/audit", response_model=AuditPage)
def read_audit(
    ctx: CptsContext,
    user: CurrentUser,
    entity: Annotated[str | None, Query(max_length=50, description="ex. user, api_token")] = None,
    entity_id: Annotated[str | None, Query(max_length=50)] = None,
    actor: Annotated[str | None, Query(max_length=320, description="Adresse de l'auteur")] = None,
    action: Annotated[str | None, Query(max_length=50, description="ex. token.create")] = None,
    region: Annotated[str | None, Query(pattern=r"^[0-9]{2}$")] = None,
    since: datetime | None = None,
    until: datetime | None = None,
    before_id: Annotated[int | None, Query(ge=1)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> AuditPage:
    """Le journal des écritures, du plus récent au plus ancien."""
    if not can_read_audit(user):
        raise ProblemError(403, "forbidden", "Le journal est réservé aux administrateurs et aux "
                                             "agences régionales de santé.")
    regions = audit_regions(user)
    if region is not None and regions is not None and region not in regions:
        raise ProblemError(403, "forbidden",
                           f"Le journal de la région {region} ne vous est pas accessible.")
    rows = repo.search(ctx.conn, repo.AuditQuery(
        regions=regions, entity=entity, entity_id=entity_id, actor=actor, action=action,
        region=region, since=since, until=until, before_id=before_id, limit=limit))
    entries = [AuditEntry(**row) for row in audit_log.readable(ctx, rows)]
    return AuditPage(entries=entries,
                     next_before_id=int(rows[-1]["id"]) if len(rows) == limit else None)
