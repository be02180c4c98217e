"""`GET /api/me`: who I am, my role and scopes, and the CSRF token my browser writes need."""

from datetime import datetime
from typing import Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field

from app.auth.deps import CurrentPrincipal
from app.auth.policy import ROLE_LABELS, Role, can_manage_users, can_read_audit
from app.auth.principal import Principal
from app.domain.cpts_access import can_keep_scenarios

router = APIRouter(tags=["comptes"])


class Scopes(BaseModel):
    regions: list[str] = Field(description="Régions (agents d'ARS, observateurs)")
    cpts: list[int] = Field(description="CPTS dont l'utilisateur est porteur")


class Permissions(BaseModel):
    manage_users: bool
    read_audit: bool
    keep_scenarios: bool = Field(description="Peut tenir des périmètres de scénario privés")


class Me(BaseModel):
    id: int
    email: str
    role: Role
    role_label: str
    scopes: Scopes
    authenticated_via: Literal["session", "token"]
    csrf_token: str | None = Field(
        description="Session de navigateur : à renvoyer dans l'en-tête X-CSRF-Token de chaque "
                    "écriture (absent avec un jeton d'accès)")
    session_expires_at: datetime | None
    can: Permissions


def describe(principal: Principal) -> Me:
    user = principal.user
    return Me(
        id=user.id,
        email=user.email,
        role=user.role,
        role_label=ROLE_LABELS[user.role],
        scopes=Scopes(regions=sorted(user.regions), cpts=sorted(user.cpts_ids)),
        authenticated_via=principal.via,
        csrf_token=principal.csrf_token,
        session_expires_at=principal.expires_at,
        can=Permissions(manage_users=can_manage_users(user), read_audit=can_read_audit(user),
                        keep_scenarios=can_keep_scenarios(user)),
    )


@router.get("/me", response_model=Me)
def me(principal: CurrentPrincipal) -> Me:
    """L'utilisateur connecté : adresse, rôle, périmètre d'accès et jeton anti-CSRF."""
    return describe(principal)
