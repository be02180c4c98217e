"""Personal API tokens: `GET /api/tokens`, `POST /api/tokens`, `DELETE /api/tokens/{id}`."""

from datetime import datetime

from fastapi import APIRouter, Response
from pydantic import BaseModel, Field

from app.auth import api_tokens
from app.auth.deps import AuditActor, CurrentUser
from app.db import ConnDep
from app.repo import tokens as repo

router = APIRouter(tags=["comptes"])


class TokenRequest(BaseModel):
    name: str = Field(min_length=1, max_length=100, description="Ex. « script QGIS »")
    expires_in_days: int | None = Field(default=None, ge=1, le=3650,
                                        description="Sans valeur : pas d'expiration")


class TokenInfo(BaseModel):
    id: int
    name: str
    prefix: str = Field(description="Début du jeton, pour le reconnaître")
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    last_used_ip: str | None
    revoked_at: datetime | None


class NewToken(TokenInfo):
    token: str = Field(description="Le jeton, montré cette seule fois : Authorization: Bearer …")


@router.get("/tokens", response_model=list[TokenInfo])
def list_tokens(conn: ConnDep, user: CurrentUser) -> list[TokenInfo]:
    """Mes jetons d'accès, avec leur dernière utilisation (les révoqués en dernier)."""
    return [TokenInfo(**row) for row in repo.list_for_user(conn, user.id)]


@router.post("/tokens", response_model=NewToken, status_code=201)
def create_token(body: TokenRequest, conn: ConnDep, user: CurrentUser,
                 actor: AuditActor) -> NewToken:
    """Crée un jeton d'accès personnel pour les scripts ; il n'est montré qu'une fois."""
    with conn.transaction():
        issued = api_tokens.issue(conn, user, name=body.name,
                                  expires_in_days=body.expires_in_days, actor=actor)
    return NewToken(**issued.row, token=issued.token)


@router.delete("/tokens/{token_id}", status_code=204, response_class=Response,
               responses={404: {"description": "unknown_token"}})
def revoke_token(token_id: int, conn: ConnDep, user: CurrentUser, actor: AuditActor) -> Response:
    """Révoque un de mes jetons (les administrateurs : n'importe lequel)."""
    with conn.transaction():
        api_tokens.revoke(conn, token_id, actor, requester=user)
    return Response(status_code=204)
