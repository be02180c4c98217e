"""Who may upload indicator tables and who may read each one: the one place where it is decided
(the CPTS rules live in `app.domain.cpts_access`).

- a table is `public` (every signed-in user) or `restricted` (administrators, agencies and
  task forces: never carriers);
- administrators and agency users upload tables (a new vintage, or a new table).
A table a user may not read does not exist for them: it is left out of every list and answer,
and asking for it by name gets the same 404 as a table that does not exist.
"""

from app.domain.roles import Role, User

READERS_OF_RESTRICTED = frozenset({Role.ADMIN, Role.ARS, Role.OBSERVER})
UPLOADERS = frozenset({Role.ADMIN, Role.ARS})
VISIBILITY_LABELS = {"public": "tout utilisateur connecté",
                     "restricted": "ARS et observateurs"}


def can_read_indicator_table(user: User | None, visibility: str) -> bool:
    if user is None:
        return False
    if visibility == "public":
        return True
    return user.role in READERS_OF_RESTRICTED


def can_upload_indicator_tables(user: User | None) -> bool:
    return user is not None and user.role in UPLOADERS


def readable_visibilities(user: User | None) -> frozenset[str]:
    """The visibilities of the tables the user may read."""
    return frozenset(v for v in VISIBILITY_LABELS if can_read_indicator_table(user, v))
