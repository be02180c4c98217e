"""Who may do what: the one place where access rules live.

Two layers, both plain data and plain functions, no HTTP and no SQL:
- `ROUTE_RULES`: for every route (method and path template), who may call it at all. The
  dependency `app.auth.deps.enforce_access`, installed on the whole application, applies it to
  every request and refuses a route that has no rule.
- resource rules: which CPTS, scenario, audit entry or token a given user may read or change
  (own vs other CPTS, stage, regions). Routers and repositories call these functions; they never
  test a role themselves.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from enum import IntEnum, StrEnum


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


class Status(StrEnum):
    """The lifecycle of a CPTS, in order."""

    PRE_PROJET = "pre_projet"
    LETTRE_INTENTION = "lettre_intention"
    PROJET_SANTE = "projet_sante"
    ACI_SIGNE = "aci_signe"


ALL_STATUSES = frozenset(Status)
DRAFT = Status.PRE_PROJET
PAST_DRAFT = ALL_STATUSES - {DRAFT}


@dataclass(frozen=True)
class User:
    """A signed-in user as the rules see it: role and scopes, nothing else."""

    id: int
    email: str
    role: Role
    regions: frozenset[str] = frozenset()  # ars, observer
    cpts_ids: frozenset[int] = frozenset()  # carrier


@dataclass(frozen=True)
class CptsRef:
    """What the rules need to know about one CPTS.

    `region` is the region of the registered office (siège): its agency is in charge.
    `regions` are all the regions its communes lie in. `submitted` marks a draft that its
    carriers handed to the agency (until then the draft is theirs alone). `overlaps` are the ids
    of the CPTS that share at least one commune with it.
    """

    id: int
    status: Status
    region: str
    regions: frozenset[str] = frozenset()
    submitted: bool = False
    overlaps: frozenset[int] = frozenset()

    @property
    def all_regions(self) -> frozenset[str]:
        return self.regions | {self.region}


@dataclass(frozen=True)
class ScenarioRef:
    """An agency's private scenario perimeter: visible to agency users of its region only."""

    id: int
    region: str


class Visibility(IntEnum):
    NONE = 0
    OUTLINE = 1  # the shape and name of a draft overlapping one's own, nothing more
    FULL = 2


# --- CPTS ---------------------------------------------------------------------------------------

def is_member(user: User | None, cpts: CptsRef) -> bool:
    return user is not None and user.role is Role.CARRIER and cpts.id in user.cpts_ids


def in_regions(user: User, regions: Iterable[str]) -> bool:
    return not user.regions.isdisjoint(regions)


def cpts_visibility(
    user: User | None, cpts: CptsRef, *, publish_signed: bool = False
) -> Visibility:
    """How much of a CPTS a user (None: an anonymous visitor) may see."""
    if user is None:
        published = publish_signed and cpts.status is Status.ACI_SIGNE
        return Visibility.FULL if published else Visibility.NONE
    if user.role is Role.ADMIN or is_member(user, cpts):
        return Visibility.FULL
    if user.role is Role.ARS:
        if not in_regions(user, cpts.all_regions):
            return Visibility.NONE
        handed_over = cpts.status is not DRAFT or cpts.submitted
        return Visibility.FULL if handed_over else Visibility.NONE
    if user.role is Role.OBSERVER:
        visible = cpts.status is not DRAFT and in_regions(user, cpts.all_regions)
        return Visibility.FULL if visible else Visibility.NONE
    # a carrier looking at another CPTS
    if cpts.status is not DRAFT:
        return Visibility.FULL
    if not user.cpts_ids.isdisjoint(cpts.overlaps):
        return Visibility.OUTLINE
    return Visibility.NONE


def can_read_cpts(user: User | None, cpts: CptsRef, *, publish_signed: bool = False) -> bool:
    """Everything about the CPTS: perimeter, population, versions, exports."""
    return cpts_visibility(user, cpts, publish_signed=publish_signed) is Visibility.FULL


def can_see_cpts_outline(
    user: User | None, cpts: CptsRef, *, publish_signed: bool = False
) -> bool:
    return cpts_visibility(user, cpts, publish_signed=publish_signed) >= Visibility.OUTLINE


def can_export_cpts(user: User | None, cpts: CptsRef, *, publish_signed: bool = False) -> bool:
    return can_read_cpts(user, cpts, publish_signed=publish_signed)


def is_agency_in_charge(user: User, cpts: CptsRef) -> bool:
    return user.role is Role.ARS and cpts.region in user.regions


def can_edit_cpts(user: User | None, cpts: CptsRef) -> bool:
    """Change the name or the perimeter.

    Carriers edit their own CPTS while it is a draft. From the letter of intent on, the agency
    in charge corrects perimeters (extensions, swaps between neighbours after signature).
    """
    if user is None:
        return False
    if user.role is Role.ADMIN:
        return True
    if is_member(user, cpts):
        return cpts.status is DRAFT
    return is_agency_in_charge(user, cpts) and cpts.status is not DRAFT


def can_archive_cpts(user: User | None, cpts: CptsRef) -> bool:
    """Take a CPTS out of coverage, or bring it back: the agency in charge, or whoever may
    edit it (carriers: their draft)."""
    if user is None:
        return False
    return (user.role is Role.ADMIN or is_agency_in_charge(user, cpts)
            or can_edit_cpts(user, cpts))


def can_submit_cpts(user: User | None, cpts: CptsRef) -> bool:
    """Hand a draft to the agency (it then becomes visible to the agency)."""
    if user is None or cpts.status is not DRAFT or cpts.submitted:
        return False
    return user.role is Role.ADMIN or is_member(user, cpts)


def can_change_status(user: User | None, cpts: CptsRef, new_status: Status) -> bool:
    """Validate a stage (letter of intent, health project, contract): the agency in charge."""
    if user is None or new_status is cpts.status:
        return False
    if user.role is Role.ADMIN:
        return True
    if not is_agency_in_charge(user, cpts):
        return False
    return cpts.status is not DRAFT or cpts.submitted


def can_comment_cpts(user: User | None, cpts: CptsRef) -> bool:
    """Agencies comment what they can read; carriers answer on their own CPTS."""
    if user is None:
        return False
    if user.role in (Role.ADMIN, Role.ARS):
        return can_read_cpts(user, cpts)
    return is_member(user, cpts)


def can_create_cpts(user: User | None, region: str, status: Status | None = None) -> bool:
    """Carriers start projects anywhere; agencies record the CPTS of their regions from the
    letter of intent on (a draft of their own would be imposing a map: they keep scenarios)."""
    if user is None:
        return False
    if user.role in (Role.ADMIN, Role.CARRIER):
        return True
    return user.role is Role.ARS and region in user.regions and status is not DRAFT


def visible_statuses(user: User | None, *, publish_signed: bool = False) -> frozenset[Status]:
    """Statuses of CPTS that are not the user's own that it may read, within its regions.

    Own CPTS (carriers) are readable at every status; drafts submitted to an agency are
    readable by that agency although `pre_projet` is not listed here (see `CptsReadScope`).
    """
    if user is None:
        return frozenset({Status.ACI_SIGNE}) if publish_signed else frozenset()
    if user.role is Role.ADMIN:
        return ALL_STATUSES
    return PAST_DRAFT


@dataclass(frozen=True)
class CptsReadScope:
    """The read rules as query parameters, for listing CPTS in SQL.

    A CPTS is readable when it is in `member_ids`, or when its status is in `statuses` and
    (`regions` is None or it touches one of `regions`), or when `submitted_drafts` is true, it is
    a submitted draft and it touches `regions`. Drafts overlapping one of `outline_for` are shown
    as outlines only.
    """

    statuses: frozenset[Status]
    regions: frozenset[str] | None
    member_ids: frozenset[int] = frozenset()
    submitted_drafts: bool = False
    outline_for: frozenset[int] = frozenset()


def cpts_read_scope(user: User | None, *, publish_signed: bool = False) -> CptsReadScope:
    statuses = visible_statuses(user, publish_signed=publish_signed)
    if user is None or user.role is Role.ADMIN:
        return CptsReadScope(statuses=statuses, regions=None)
    if user.role is Role.CARRIER:
        return CptsReadScope(statuses=statuses, regions=None, member_ids=user.cpts_ids,
                             outline_for=user.cpts_ids)
    return CptsReadScope(statuses=statuses, regions=user.regions,
                         submitted_drafts=user.role is Role.ARS)


# --- Agency scenarios, audit, users, tokens ------------------------------------------------------

def can_keep_scenarios(user: User | None) -> bool:
    """Agency users may draw private scenario perimeters (for their regions)."""
    return user is not None and user.role in (Role.ADMIN, Role.ARS)


def can_read_scenario(user: User | None, scenario: ScenarioRef) -> bool:
    """Scenario maps never leak to carriers or task forces."""
    if user is None:
        return False
    return user.role is Role.ADMIN or (user.role is Role.ARS and scenario.region in user.regions)


def can_edit_scenario(user: User | None, scenario: ScenarioRef) -> bool:
    return can_read_scenario(user, scenario)


def audit_regions(user: User | None) -> frozenset[str] | None:
    """Regions whose audit entries the user may read: None for all, empty for none."""
    if user is None:
        return frozenset()
    if user.role is Role.ADMIN:
        return None
    if user.role is Role.ARS:
        return user.regions
    return frozenset()


def can_read_audit(user: User | None) -> bool:
    regions = audit_regions(user)
    return regions is None or bool(regions)


def can_manage_users(user: User | None) -> bool:
    return user is not None and user.role is Role.ADMIN


def can_revoke_token(user: User | None, owner_id: int) -> bool:
    return user is not None and (user.id == owner_id or user.role is Role.ADMIN)


def scope_problems(role: Role, regions: Iterable[str], cpts_ids: Iterable[int]) -> list[str]:
    """Why a role cannot hold these scopes (empty when it can); messages in French."""
    regions, cpts_ids = set(regions), set(cpts_ids)
    problems = [f"« {code} » n'est pas un code de région (2 chiffres, ex. 93)."
                for code in sorted(regions) if not (len(code) == 2 and code.isdigit())]
    if role in (Role.ARS, Role.OBSERVER):
        if not regions:
            problems.append(f"Un {ROLE_LABELS[role]} doit avoir au moins une région.")
        if cpts_ids:
            problems.append(f"Un {ROLE_LABELS[role]} n'est membre d'aucune CPTS.")
    elif role is Role.CARRIER:
        if regions:
            problems.append("Un porteur de CPTS est rattaché à des CPTS, pas à des régions.")
    elif regions or cpts_ids:
        problems.append("Un administrateur a accès à tout : il n'a pas de périmètre.")
    return problems


# --- Route rules ---------------------------------------------------------------------------------

ALL_ROLES = frozenset(Role)


@dataclass(frozen=True)
class Rule:
    """Who may call a route at all. Resource checks (which CPTS, which token) come after."""

    roles: frozenset[Role]
    anonymous: bool = False
    anonymous_if_setting: str | None = None  # anonymous allowed when this boolean setting is on
    session_only: bool = False  # refuses API tokens (e.g. minting tokens with a token)
    note: str = ""

    def admits_anonymous(self, settings: object) -> bool:
        if self.anonymous:
            return True
        return bool(self.anonymous_if_setting
                    and getattr(settings, self.anonymous_if_setting, False))

    def admits(self, user: User) -> bool:
        return user.role in self.roles


PUBLIC = Rule(roles=ALL_ROLES, anonymous=True, note="tout le monde, même sans compte")
SIGNED_IN = Rule(roles=ALL_ROLES, note="tout utilisateur connecté")
SESSION_ONLY = Rule(roles=ALL_ROLES, session_only=True,
                    note="tout utilisateur connecté, depuis son navigateur")


def only(*roles: Role, note: str = "") -> Rule:
    return Rule(roles=frozenset(roles), note=note)


def public_if(setting: str, *roles: Role) -> Rule:
    return Rule(roles=frozenset(roles) or ALL_ROLES, anonymous_if_setting=setting,
                note=f"utilisateurs connectés ; anonymes si {setting.upper()}")


# The files of a static front end served with `app.frontend(…)`: they have no route of their
# own; give them a rule such as `("GET", FRONTEND): SIGNED_IN` when the front end arrives
# (anonymous browsers are then sent to the login page).
FRONTEND = "{frontend}"

ROUTE_RULES: dict[tuple[str, str], Rule] = {
    # service and reference data
    ("GET", "/api/health"): PUBLIC,
    ("GET", "/api/communes"): SIGNED_IN,
    ("GET", "/api/communes/{code}"): SIGNED_IN,
    ("GET", "/api/tiles/{layer}/{z}/{x}/{y}.pbf"): SIGNED_IN,
    # documentation of the API
    ("GET", "/openapi.json"): SIGNED_IN,
    ("GET", "/docs"): SIGNED_IN,
    ("GET", "/docs/oauth2-redirect"): SIGNED_IN,
    ("GET", "/redoc"): SIGNED_IN,
    # signing in and out
    ("GET", "/login"): PUBLIC,
    ("POST", "/login"): PUBLIC,
    ("GET", "/logout"): PUBLIC,
    ("POST", "/logout"): PUBLIC,
    ("GET", "/login.css"): PUBLIC,
    ("GET", "/api/auth/csrf"): PUBLIC,
    ("POST", "/api/auth/login"): PUBLIC,
    ("POST", "/api/auth/logout"): SIGNED_IN,
    ("GET", "/api/me"): SIGNED_IN,
    # personal API tokens (which token: can_revoke_token)
    ("GET", "/api/tokens"): SIGNED_IN,
    ("POST", "/api/tokens"): SESSION_ONLY,
    ("DELETE", "/api/tokens/{token_id}"): SIGNED_IN,
    # the audit log (which entries: audit_regions)
    ("GET", "/api/audit"): only(Role.ADMIN, Role.ARS, note="administrateurs ; ARS pour leurs "
                                                           "régions"),
    # CPTS and their perimeters (which CPTS: cpts_visibility, can_edit_cpts, …)
    ("GET", "/api/size-rules"): SIGNED_IN,
    ("GET", "/api/cpts"): public_if("publish_signed_cpts"),
    ("POST", "/api/cpts"): only(Role.ADMIN, Role.ARS, Role.CARRIER),
    ("GET", "/api/cpts/{cpts_id}"): public_if("publish_signed_cpts"),
    ("PATCH", "/api/cpts/{cpts_id}"): only(Role.ADMIN, Role.ARS, Role.CARRIER),
    ("GET", "/api/cpts/{cpts_id}/versions"): SIGNED_IN,
    ("GET", "/api/cpts/{cpts_id}/history"): SIGNED_IN,
    ("POST", "/api/cpts/{cpts_id}/stage-request"): only(Role.ADMIN, Role.CARRIER),
    ("POST", "/api/cpts/{cpts_id}/stage-request/accept"): only(Role.ADMIN, Role.ARS),
    ("POST", "/api/cpts/{cpts_id}/stage-request/changes"): only(Role.ADMIN, Role.ARS),
    ("POST", "/api/cpts/{cpts_id}/archive"): only(Role.ADMIN, Role.ARS, Role.CARRIER),
    ("POST", "/api/cpts/{cpts_id}/restore"): only(Role.ADMIN, Role.ARS, Role.CARRIER),
    ("POST", "/api/simulations/perimeter"): SIGNED_IN,
    # coverage: aggregates for every signed-in user; CPTS named only when readable
    ("GET", "/api/coverage"): SIGNED_IN,
    # exports and bulk imports (which CPTS: can_export_cpts; each write: the CPTS use cases)
    ("GET", "/api/cpts/{cpts_id}/export"): public_if("publish_signed_cpts"),
    ("POST", "/api/imports/cpts"): only(Role.ADMIN, Role.ARS, Role.CARRIER,
                                        note="qui peut créer ou modifier des CPTS"),
    # the map page, its static files and what it reads (which CPTS: cpts_read_scope and the
    # CPTS rules above; the selection and unit routes write nothing)
    ("GET", "/"): SIGNED_IN,
    ("GET", FRONTEND): SIGNED_IN,
    ("GET", "/api/map/perimeters"): SIGNED_IN,
    ("GET", "/api/map/overview"): SIGNED_IN,
    ("GET", "/api/map/unit-at"): SIGNED_IN,
    ("GET", "/api/map/cpts/{cpts_id}/actions"): SIGNED_IN,
    ("GET", "/api/map/groups/{kind}/{code}"): SIGNED_IN,
    ("POST", "/api/map/selection"): SIGNED_IN,
    ("POST", "/api/map/units"): SIGNED_IN,
    ("GET", "/api/map/orientation"): SIGNED_IN,
    ("GET", "/api/map/labels"): SIGNED_IN,
    ("GET", "/api/map/place"): SIGNED_IN,
    ("GET", "/api/territories"): SIGNED_IN,
}


def rule_for(method: str, path: str) -> Rule | None:
    """The rule of a route, by method and path template; None: the route is refused."""
    if method == "HEAD":
        method = "GET"
    return ROUTE_RULES.get((method, path))
