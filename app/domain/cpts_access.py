"""What a user may know of a CPTS, and what they may do with it: the one place where it is
decided.

Every read path (listing, detail, overlaps, simulations, import reports, coverage and its files,
map endpoints, tiles, exports, audit) asks `cpts_visibility` — nothing, the outline only, or
everything — and every write asks the `can_*` functions or `allowed_actions`. The stage list and
its French labels are defined here once; the page receives them in its configuration.

Private things, and who sees them:
- a draft (`pre_projet`) that its carriers have not submitted: its carriers and administrators
  (once submitted: the agency in charge too, and carriers whose own CPTS it overlaps see its
  outline — name, stage, units — nothing more);
- an agency scenario: administrators and the agents of the agency of its region, nobody else.
When an overlap involves a CPTS the user may not see, it is counted without being named
(`hidden_claims`), except scenarios, which are left out altogether: even their existence is
the agency's business.

Pure functions over plain data: no HTTP, no SQL.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import IntEnum, StrEnum
from typing import Any, Protocol, TypeVar

from app.domain.roles import Role, User

# --- Stages ------------------------------------------------------------------------------------


class Status(StrEnum):
    """The lifecycle of a CPTS, in order."""

    PRE_PROJET = "pre_projet"
    LETTRE_INTENTION = "lettre_intention"
    PROJET_SANTE = "projet_sante"
    ACI_SIGNE = "aci_signe"


STATUSES: tuple[str, ...] = tuple(status.value for status in Status)
STATUS_LABELS: dict[str, str] = {
    Status.PRE_PROJET: "pré-projet",
    Status.LETTRE_INTENTION: "lettre d'intention",
    Status.PROJET_SANTE: "projet de santé",
    Status.ACI_SIGNE: "ACI signé",
}
ALL_STATUSES = frozenset(Status)
DRAFT = Status.PRE_PROJET
PAST_DRAFT = ALL_STATUSES - {DRAFT}


def status_label(status: str) -> str:
    return STATUS_LABELS.get(status, status)


def next_stage(status: str) -> Status | None:
    index = STATUSES.index(status)
    return Status(STATUSES[index + 1]) if index + 1 < len(STATUSES) else None


def stage_list() -> list[dict[str, str]]:
    """The stages in order with their labels, as the page and the API documents show them."""
    return [{"id": status, "label": STATUS_LABELS[status]} for status in STATUSES]


# --- What the rules know of a CPTS ------------------------------------------------------------


@dataclass(frozen=True)
class CptsRef:
    """What the rules need to know about one CPTS (or agency scenario).

    `region` is the region of the registered office (siège): its agency is in charge.
    `regions` are all the regions its communes lie in. `submitted` marks a draft that its
    carriers handed to the agency (until then the draft is theirs alone). `overlaps` are the ids
    of the CPTS that share at least one commune with it (at least those of the user's own).
    """

    id: int
    status: Status
    region: str
    regions: frozenset[str] = frozenset()
    submitted: bool = False
    overlaps: frozenset[int] = frozenset()
    is_scenario: bool = False

    @property
    def all_regions(self) -> frozenset[str]:
        return self.regions | {self.region}

    @property
    def private_draft(self) -> bool:
        return self.status is DRAFT and not self.submitted and not self.is_scenario


class Visibility(IntEnum):
    NONE = 0
    OUTLINE = 1  # the shape and name of a submitted draft overlapping one's own, nothing more
    FULL = 2


def is_member(user: User | None, cpts: CptsRef) -> bool:
    return (user is not None and user.role is Role.CARRIER and not cpts.is_scenario
            and cpts.id in user.cpts_ids)


def in_regions(user: User, regions: Iterable[str]) -> bool:
    return not user.regions.isdisjoint(regions)


def can_keep_scenarios(user: User | None) -> bool:
    """Agency users may draw private scenario perimeters (for their regions)."""
    return user is not None and user.role in (Role.ADMIN, Role.ARS)


def _scenario_visibility(user: User | None, cpts: CptsRef) -> Visibility:
    """Scenario maps never leak to carriers, task forces or another region's agency."""
    if user is None:
        return Visibility.NONE
    if user.role is Role.ADMIN or (user.role is Role.ARS and cpts.region in user.regions):
        return Visibility.FULL
    return Visibility.NONE


def sees_everything(user: User | None) -> bool:
    """Administrators see every CPTS and scenario in full (callers may skip the look-ups)."""
    return user is not None and user.role is Role.ADMIN


def cpts_visibility(
    user: User | None, cpts: CptsRef, *, publish_signed: bool = False
) -> Visibility:
    """How much of a CPTS a user (None: an anonymous visitor) may see."""
    if cpts.is_scenario:
        return _scenario_visibility(user, cpts)
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
    # a carrier looking at another CPTS: a submitted draft overlapping its own is a competing
    # project it must negotiate with (outline); an unsubmitted one is only counted, or drawing
    # a draft over a whole département would reveal every private draft there
    if cpts.status is not DRAFT:
        return Visibility.FULL
    if cpts.submitted and not user.cpts_ids.isdisjoint(cpts.overlaps):
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


# --- What a user may do with a CPTS ------------------------------------------------------------


def is_agency_in_charge(user: User, cpts: CptsRef) -> bool:
    return user.role is Role.ARS and cpts.region in user.regions


def can_edit_cpts(user: User | None, cpts: CptsRef) -> bool:
    """Change the name or the perimeter.

    Carriers edit their own CPTS while it is a draft. From the letter of intent on, the agency
    in charge corrects perimeters (extensions, swaps between neighbours after signature).
    Scenarios: the agency of their region.
    """
    if user is None:
        return False
    if cpts.is_scenario:
        return _scenario_visibility(user, cpts) is Visibility.FULL
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
    if cpts.is_scenario:
        return can_edit_cpts(user, cpts)
    return (user.role is Role.ADMIN or is_agency_in_charge(user, cpts)
            or can_edit_cpts(user, cpts))


def can_submit_cpts(user: User | None, cpts: CptsRef) -> bool:
    """Hand a draft to the agency (it then becomes visible to the agency)."""
    if user is None or cpts.status is not DRAFT or cpts.submitted or cpts.is_scenario:
        return False
    return user.role is Role.ADMIN or is_member(user, cpts)


def can_request_stage(user: User | None, cpts: CptsRef) -> bool:
    """Ask the agency for the next stage: the CPTS's carriers (administrators too)."""
    if user is None or cpts.is_scenario or next_stage(cpts.status) is None:
        return False
    return user.role is Role.ADMIN or is_member(user, cpts)


def can_change_status(user: User | None, cpts: CptsRef, new_status: Status) -> bool:
    """Validate a stage (letter of intent, health project, contract): the agency in charge."""
    if user is None or new_status is cpts.status:
        return False
    if user.role is Role.ADMIN:
        return True
    if cpts.is_scenario:
        return can_edit_cpts(user, cpts)
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


def can_create_cpts(user: User | None, region: str, status: Status | None = None, *,
                    is_scenario: bool = False) -> bool:
    """Carriers start projects anywhere, as drafts (the agency validates the later stages);
    agencies record the CPTS of their regions from the
    letter of intent on (a draft of their own would be imposing a map: they keep scenarios,
    for their regions only). `region` is the region of the siège."""
    if user is None:
        return False
    if is_scenario:
        return user.role is Role.ADMIN or (user.role is Role.ARS and region in user.regions)
    if user.role is Role.ADMIN:
        return True
    if user.role is Role.CARRIER:
        return status in (None, DRAFT)
    return user.role is Role.ARS and region in user.regions and status is not DRAFT


def can_move_cpts(user: User | None, from_region: str, to_region: str) -> bool:
    """Give a CPTS a siège in another region: its agency in charge changes. An agency may only
    move a CPTS between its own regions; a carrier's draft follows its siège."""
    if user is None or from_region == to_region:
        return user is not None
    if user.role in (Role.ADMIN, Role.CARRIER):
        return True
    return user.role is Role.ARS and {from_region, to_region} <= user.regions


@dataclass(frozen=True)
class Actions:
    """What the user may do with one CPTS now, so that the page hides the rest."""

    edit: bool
    request_stage: bool
    accept_stage: bool
    request_changes: bool
    archive: bool
    restore: bool
    export: bool
    comment: bool

    def as_dict(self) -> dict[str, bool]:
        return dict(self.__dict__)


def allowed_actions(user: User | None, cpts: CptsRef, *, archived: bool,
                    pending_status: str | None, publish_signed: bool = False) -> Actions:
    full = cpts_visibility(user, cpts, publish_signed=publish_signed) is Visibility.FULL
    decides = (pending_status is not None
               and can_change_status(user, cpts, Status(pending_status))
               and can_comment_cpts(user, cpts))
    archive = full and can_archive_cpts(user, cpts)
    return Actions(
        edit=full and can_edit_cpts(user, cpts) and not archived,
        request_stage=(full and can_request_stage(user, cpts) and pending_status is None
                       and not archived),
        accept_stage=full and decides and not archived,
        request_changes=full and decides and not archived,
        archive=archive and not archived,
        restore=archive and archived,
        export=full and can_export_cpts(user, cpts, publish_signed=publish_signed),
        comment=full and can_comment_cpts(user, cpts),
    )


# --- Reading many CPTS at once -----------------------------------------------------------------


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
    """`cpts_visibility` as query parameters, for listing CPTS in SQL (`app.repo.cpts`).

    A CPTS is readable when it is in `member_ids`, or when its status is in `statuses` and
    (`regions` is None or it touches one of `regions`), or when `submitted_drafts` is true, it is
    a submitted draft and it touches `regions`. A scenario is readable only when its region is in
    `scenario_regions` (None: every region). Submitted drafts overlapping one of `outline_for`
    are shown as outlines only (by the detail read, not in listings).
    """

    statuses: frozenset[Status]
    regions: frozenset[str] | None
    member_ids: frozenset[int] = frozenset()
    submitted_drafts: bool = False
    outline_for: frozenset[int] = frozenset()
    scenario_regions: frozenset[str] | None = frozenset()


def cpts_read_scope(user: User | None, *, publish_signed: bool = False) -> CptsReadScope:
    statuses = visible_statuses(user, publish_signed=publish_signed)
    if user is None:
        return CptsReadScope(statuses=statuses, regions=None)
    if user.role is Role.ADMIN:
        return CptsReadScope(statuses=statuses, regions=None, scenario_regions=None)
    if user.role is Role.CARRIER:
        return CptsReadScope(statuses=statuses, regions=None, member_ids=user.cpts_ids,
                             outline_for=user.cpts_ids)
    return CptsReadScope(statuses=statuses, regions=user.regions,
                         submitted_drafts=user.role is Role.ARS,
                         scenario_regions=user.regions if user.role is Role.ARS
                         else frozenset())


# --- Overlaps: naming the others, or counting them ---------------------------------------------


class ClaimLike(Protocol):
    @property
    def code(self) -> str: ...
    @property
    def cpts_id(self) -> int: ...
    @property
    def is_scenario(self) -> bool: ...


@dataclass(frozen=True)
class HiddenClaims:
    """Claims on a perimeter's units by CPTS the user may not see: how many CPTS, on how many
    units. Scenarios are never counted."""

    cpts: int = 0
    units: int = 0

    def notice(self, where: str | None = None) -> dict[str, Any] | None:
        """The French notice shown in place of their names (None when there is none);
        `where` names the place (« cette commune »), else the units of the perimeter are
        counted."""
        if not self.cpts:
            return None
        projects = ("1 projet non publié ou hors de vos régions recouvre" if self.cpts == 1
                    else f"{self.cpts} projets non publiés ou hors de vos régions recouvrent")
        units = "1 commune" if self.units == 1 else f"{self.units} communes"
        return {"code": "hidden_overlap", "cpts": self.cpts, "communes": self.units,
                "detail": f"{projects} {where or units + ' de ce périmètre'}."}


C = TypeVar("C", bound=ClaimLike)


def split_claims(claims: Iterable[C], visibility: Mapping[int, Visibility]
                 ) -> tuple[list[C], HiddenClaims]:
    """The claims the user may see named (the claimant visible at least as an outline), and a
    count of the others. A claimant missing from `visibility` is not visible."""
    named: list[C] = []
    hidden_ids: set[int] = set()
    hidden_units: set[str] = set()
    for claim in claims:
        if visibility.get(claim.cpts_id, Visibility.NONE) >= Visibility.OUTLINE:
            named.append(claim)
        elif not claim.is_scenario:
            hidden_ids.add(claim.cpts_id)
            hidden_units.add(claim.code)
    return named, HiddenClaims(len(hidden_ids), len(hidden_units))


# --- Where a CPTS belongs ----------------------------------------------------------------------


def siege_in_perimeter(siege: str, members: Iterable[str], parents: Mapping[str, str | None]
                       ) -> bool:
    """The siège is one of the perimeter's units, or the city (Paris, Lyon, Marseille) one of
    whose arrondissements is in it."""
    return any(siege in (code, parents.get(code)) for code in members)
