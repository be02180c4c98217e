"""The authenticated caller of a request: a user, and how it proved who it is."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from app.auth.policy import Role, User

Via = Literal["session", "token"]


@dataclass(frozen=True)
class Principal:
    user: User
    via: Via
    session_id: int | None = None
    token_id: int | None = None
    csrf_token: str | None = None  # sessions only: the token every write must send back
    expires_at: datetime | None = None  # sessions: when it ends unless used before


def user_from_row(row: dict[str, Any]) -> User:
    """A `User` from a row holding `USER_COLUMNS` (app.repo.users)."""
    return User(
        id=int(row["id"]),
        email=str(row["email"]),
        role=Role(row["role"]),
        regions=frozenset(row["regions"] or ()),
        cpts_ids=frozenset(int(i) for i in row["cpts_ids"] or ()),
    )
