"""Who acts: the four roles and the signed-in user as the access rules see it."""

from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    ADMIN = "admin"  # everything, manages users
    ARS = "ars"  # agency staff, scoped to regions
    CARRIER = "carrier"  # CPTS carriers, scoped to their CPTS
    OBSERVER = "observer"  # task forces, read-only, scoped to regions


ROLE_LABELS: dict[Role, str] = {
    Role.ADMIN: "administrateur",
    Role.ARS: "agent d'ARS",
    Role.CARRIER: "porteur de CPTS",
    Role.OBSERVER: "observateur (task force)",
}


@dataclass(frozen=True)
class User:
    """A signed-in user as the rules see it: role and scopes, nothing else."""

    id: int
    email: str
    role: Role
    regions: frozenset[str] = frozenset()  # ars, observer
    cpts_ids: frozenset[int] = frozenset()  # carrier
