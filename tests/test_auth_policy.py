"""The access rules as plain functions: who reads, edits, validates which CPTS, scenario, log."""

from dataclasses import replace

import pytest

from app.auth.policy import (
    Role,
    Rule,
    User,
    audit_regions,
    can_manage_users,
    can_read_audit,
    can_revoke_token,
    public_if,
    rule_for,
    scope_problems,
)
from app.domain.cpts_access import (
    ALL_STATUSES,
    PAST_DRAFT,
    CptsRef,
    Status,
    Visibility,
    allowed_actions,
    can_archive_cpts,
    can_change_status,
    can_comment_cpts,
    can_create_cpts,
    can_edit_cpts,
    can_export_cpts,
    can_keep_scenarios,
    can_move_cpts,
    can_read_cpts,
    can_see_cpts_outline,
    can_submit_cpts,
    cpts_read_scope,
    cpts_visibility,
    split_claims,
    visible_statuses,
)
from app.domain.perimeter import Claim
from app.settings import Settings

ADMIN = User(1, "admin@ars.fr", Role.ADMIN)
ARS_PACA = User(2, "agent@ars-paca.fr", Role.ARS, regions=frozenset({"93"}))
ARS_ARA = User(3, "agent@ars-ara.fr", Role.ARS, regions=frozenset({"84"}))
CARRIER = User(4, "porteur@cpts-nice.fr", Role.CARRIER, cpts_ids=frozenset({10}))
OTHER_CARRIER = User(5, "porteur@cpts-menton.fr", Role.CARRIER, cpts_ids=frozenset({20}))
TASK_FORCE = User(6, "taskforce@cpam06.fr", Role.OBSERVER, regions=frozenset({"93"}))

OWN_DRAFT = CptsRef(10, Status.PRE_PROJET, region="93")
OTHER_DRAFT = CptsRef(20, Status.PRE_PROJET, region="93")
OVERLAPPING_DRAFT = CptsRef(30, Status.PRE_PROJET, region="93", overlaps=frozenset({10}),
                            submitted=True)
PRIVATE_OVERLAPPING_DRAFT = CptsRef(31, Status.PRE_PROJET, region="93", overlaps=frozenset({10}))
SUBMITTED_DRAFT = CptsRef(40, Status.PRE_PROJET, region="93", submitted=True)
LETTER_PACA = CptsRef(50, Status.LETTRE_INTENTION, region="93")
SIGNED_PACA = CptsRef(60, Status.ACI_SIGNE, region="93")
SIGNED_ARA = CptsRef(70, Status.ACI_SIGNE, region="84")
CROSS_BORDER = CptsRef(80, Status.PROJET_SANTE, region="84", regions=frozenset({"84", "93"}))


# --- carriers -------------------------------------------------------------------------------

def test_carrier_edits_its_own_draft() -> None:
    assert can_edit_cpts(CARRIER, OWN_DRAFT)
    assert can_read_cpts(CARRIER, OWN_DRAFT)


def test_carrier_cannot_edit_another_cpts() -> None:
    assert not can_edit_cpts(CARRIER, OTHER_DRAFT)
    assert not can_edit_cpts(CARRIER, LETTER_PACA)
    assert not can_edit_cpts(CARRIER, SIGNED_ARA)


def test_carrier_cannot_edit_its_own_cpts_after_the_draft_stage() -> None:
    for status in PAST_DRAFT:
        own = replace(OWN_DRAFT, status=status)
        assert not can_edit_cpts(CARRIER, own), status
        assert can_read_cpts(CARRIER, own), status


def test_carrier_cannot_see_another_carriers_draft() -> None:
    assert cpts_visibility(CARRIER, OTHER_DRAFT) is Visibility.NONE
    assert cpts_visibility(CARRIER, SUBMITTED_DRAFT) is Visibility.NONE


def test_carrier_sees_only_the_outline_of_a_submitted_draft_overlapping_its_own() -> None:
    # Unsubmitted, a competing draft is only counted: a carrier drawing over a whole
    # département must not learn the names and outlines of every private draft there.
    assert cpts_visibility(CARRIER, PRIVATE_OVERLAPPING_DRAFT) is Visibility.NONE
    assert cpts_visibility(CARRIER, OVERLAPPING_DRAFT) is Visibility.OUTLINE
    assert can_see_cpts_outline(CARRIER, OVERLAPPING_DRAFT)
    assert not can_read_cpts(CARRIER, OVERLAPPING_DRAFT)
    assert not can_export_cpts(CARRIER, OVERLAPPING_DRAFT)
    assert cpts_visibility(OTHER_CARRIER, OVERLAPPING_DRAFT) is Visibility.NONE


def test_carrier_reads_other_cpts_from_the_letter_of_intent_on_anywhere() -> None:
    for cpts in (LETTER_PACA, SIGNED_PACA, SIGNED_ARA, CROSS_BORDER):
        assert can_read_cpts(CARRIER, cpts)
        assert not can_edit_cpts(CARRIER, cpts)


def test_carrier_submits_its_draft_once_and_cannot_validate_it() -> None:
    assert can_submit_cpts(CARRIER, OWN_DRAFT)
    assert not can_submit_cpts(CARRIER, replace(OWN_DRAFT, submitted=True))
    assert not can_submit_cpts(OTHER_CARRIER, OWN_DRAFT)
    assert not can_change_status(CARRIER, OWN_DRAFT, Status.LETTRE_INTENTION)


# --- agencies -------------------------------------------------------------------------------

def test_agency_does_not_see_a_draft_until_it_is_submitted() -> None:
    assert cpts_visibility(ARS_PACA, OWN_DRAFT) is Visibility.NONE
    assert can_read_cpts(ARS_PACA, SUBMITTED_DRAFT)


def test_agency_reads_every_submitted_cpts_of_its_regions_only() -> None:
    assert can_read_cpts(ARS_PACA, LETTER_PACA)
    assert can_read_cpts(ARS_PACA, SIGNED_PACA)
    assert not can_read_cpts(ARS_PACA, SIGNED_ARA)
    assert not can_read_cpts(ARS_ARA, SUBMITTED_DRAFT)


def test_agency_reads_a_cpts_crossing_into_its_region_but_only_the_siege_agency_validates() -> None:
    assert can_read_cpts(ARS_PACA, CROSS_BORDER)
    assert not can_change_status(ARS_PACA, CROSS_BORDER, Status.ACI_SIGNE)
    assert can_change_status(ARS_ARA, CROSS_BORDER, Status.ACI_SIGNE)
    assert not can_edit_cpts(ARS_PACA, CROSS_BORDER)
    assert can_edit_cpts(ARS_ARA, CROSS_BORDER)


def test_agency_validates_a_submitted_draft_but_not_an_unsubmitted_one() -> None:
    assert can_change_status(ARS_PACA, SUBMITTED_DRAFT, Status.LETTRE_INTENTION)
    assert not can_change_status(ARS_PACA, OTHER_DRAFT, Status.LETTRE_INTENTION)
    assert not can_change_status(ARS_PACA, LETTER_PACA, Status.LETTRE_INTENTION)  # no change


def test_agency_never_edits_a_carriers_draft() -> None:
    assert not can_edit_cpts(ARS_PACA, SUBMITTED_DRAFT)
    assert can_edit_cpts(ARS_PACA, LETTER_PACA)


def test_agency_comments_what_it_reads_and_carriers_answer_on_their_own() -> None:
    assert can_comment_cpts(ARS_PACA, SUBMITTED_DRAFT)
    assert not can_comment_cpts(ARS_PACA, OTHER_DRAFT)
    assert can_comment_cpts(CARRIER, OWN_DRAFT)
    assert not can_comment_cpts(CARRIER, LETTER_PACA)
    assert not can_comment_cpts(TASK_FORCE, LETTER_PACA)


def test_scenario_perimeters_never_leak_to_carriers_or_task_forces() -> None:
    scenario = CptsRef(1, Status.LETTRE_INTENTION, region="93", is_scenario=True)
    assert can_read_cpts(ARS_PACA, scenario) and can_keep_scenarios(ARS_PACA)
    assert can_edit_cpts(ARS_PACA, scenario)
    assert not can_read_cpts(ARS_ARA, scenario) and not can_edit_cpts(ARS_ARA, scenario)
    for outsider in (CARRIER, TASK_FORCE, None):
        assert not can_see_cpts_outline(outsider, scenario)
        assert not can_keep_scenarios(outsider)
    assert can_read_cpts(ADMIN, scenario)


# --- task forces, visitors, administrators ----------------------------------------------------

def test_task_force_reads_everything_past_the_draft_stage_in_its_regions() -> None:
    assert can_read_cpts(TASK_FORCE, LETTER_PACA) and can_export_cpts(TASK_FORCE, SIGNED_PACA)
    assert can_read_cpts(TASK_FORCE, CROSS_BORDER)
    assert not can_read_cpts(TASK_FORCE, SUBMITTED_DRAFT)
    assert not can_read_cpts(TASK_FORCE, SIGNED_ARA)
    assert not can_edit_cpts(TASK_FORCE, SIGNED_PACA)
    assert not can_create_cpts(TASK_FORCE, "93")


def test_anonymous_reads_signed_cpts_only_when_published() -> None:
    assert not can_read_cpts(None, SIGNED_PACA)
    assert can_read_cpts(None, SIGNED_PACA, publish_signed=True)
    assert not can_read_cpts(None, LETTER_PACA, publish_signed=True)
    assert not can_edit_cpts(None, OWN_DRAFT)


def test_admin_can_do_everything() -> None:
    for cpts in (OWN_DRAFT, OVERLAPPING_DRAFT, SIGNED_ARA):
        assert can_read_cpts(ADMIN, cpts) and can_edit_cpts(ADMIN, cpts)
    assert can_manage_users(ADMIN) and not can_manage_users(ARS_PACA)
    assert can_revoke_token(ADMIN, owner_id=CARRIER.id)


def test_archiving_is_for_the_agency_in_charge_and_for_carriers_on_their_draft() -> None:
    assert can_archive_cpts(ARS_PACA, SIGNED_PACA) and not can_archive_cpts(ARS_PACA, SIGNED_ARA)
    assert can_archive_cpts(CARRIER, OWN_DRAFT)
    assert not can_archive_cpts(CARRIER, replace(OWN_DRAFT, status=Status.ACI_SIGNE))
    assert not can_archive_cpts(TASK_FORCE, SIGNED_PACA) and not can_archive_cpts(None, OWN_DRAFT)


def test_creating_cpts() -> None:
    assert can_create_cpts(CARRIER, "84", Status.PRE_PROJET)
    assert can_create_cpts(ARS_PACA, "93", Status.LETTRE_INTENTION)
    assert not can_create_cpts(ARS_PACA, "84", Status.ACI_SIGNE)
    assert not can_create_cpts(None, "93")


def test_agency_does_not_draw_drafts_for_carriers() -> None:
    assert not can_create_cpts(ARS_PACA, "93", Status.PRE_PROJET)


def test_visible_statuses_per_role() -> None:
    assert visible_statuses(ADMIN) == ALL_STATUSES
    for user in (ARS_PACA, CARRIER, TASK_FORCE):
        assert visible_statuses(user) == PAST_DRAFT
    assert visible_statuses(None) == frozenset()
    assert visible_statuses(None, publish_signed=True) == {Status.ACI_SIGNE}


def test_read_scope_as_query_parameters() -> None:
    carrier = cpts_read_scope(CARRIER)
    assert carrier.regions is None and carrier.member_ids == {10} and carrier.outline_for == {10}
    agency = cpts_read_scope(ARS_PACA)
    assert agency.regions == {"93"} and agency.submitted_drafts
    task_force = cpts_read_scope(TASK_FORCE)
    assert task_force.regions == {"93"} and not task_force.submitted_drafts
    assert cpts_read_scope(ADMIN).regions is None


# --- audit, tokens, scopes, route rules --------------------------------------------------------

def test_audit_is_read_by_admins_and_agencies_for_their_regions() -> None:
    assert audit_regions(ADMIN) is None
    assert audit_regions(ARS_PACA) == {"93"}
    for user in (CARRIER, TASK_FORCE, None):
        assert audit_regions(user) == frozenset()
        assert not can_read_audit(user)


def test_users_revoke_their_own_tokens_only() -> None:
    assert can_revoke_token(CARRIER, owner_id=CARRIER.id)
    assert not can_revoke_token(CARRIER, owner_id=OTHER_CARRIER.id)


@pytest.mark.parametrize(("role", "regions", "cpts_ids", "ok"), [
    (Role.ARS, ["93"], [], True),
    (Role.ARS, [], [], False),
    (Role.ARS, ["PACA"], [], False),
    (Role.OBSERVER, ["93", "84"], [], True),
    (Role.OBSERVER, ["93"], [12], False),
    (Role.CARRIER, [], [12, 13], True),
    (Role.CARRIER, [], [], True),  # a carrier about to start its first project
    (Role.CARRIER, ["93"], [12], False),
    (Role.ADMIN, [], [], True),
    (Role.ADMIN, ["93"], [], False),
])
def test_scopes_must_fit_the_role(role: Role, regions: list[str], cpts_ids: list[int],
                                  ok: bool) -> None:
    assert (scope_problems(role, regions, cpts_ids) == []) is ok


def test_route_rules() -> None:
    health = rule_for("GET", "/api/health")
    assert health is not None and health.admits_anonymous(Settings())
    audit = rule_for("GET", "/api/audit")
    assert audit is not None and not audit.admits_anonymous(Settings())
    assert audit.admits(ARS_PACA) and not audit.admits(CARRIER)
    assert rule_for("HEAD", "/api/me") == rule_for("GET", "/api/me")
    assert rule_for("GET", "/api/nowhere") is None


def test_a_rule_can_open_a_route_to_visitors_by_setting() -> None:
    rule: Rule = public_if("publish_signed_cpts")
    assert not rule.admits_anonymous(Settings(publish_signed_cpts=False))
    assert rule.admits_anonymous(Settings(publish_signed_cpts=True))
    assert rule.admits(CARRIER)


# --- overlaps with what one may not see, moves, actions ----------------------------------------

def _visibility(user: User | None, *refs: CptsRef) -> dict[int, Visibility]:
    return {ref.id: cpts_visibility(user, ref) for ref in refs}


def test_overlaps_name_visible_cpts_and_count_private_drafts() -> None:
    scenario = CptsRef(90, Status.LETTRE_INTENTION, region="93", is_scenario=True)
    claims = [Claim("06088", OTHER_DRAFT.id, "Brouillon d'un autre", "pre_projet"),
              Claim("06083", OTHER_DRAFT.id, "Brouillon d'un autre", "pre_projet"),
              Claim("06088", SIGNED_PACA.id, "CPTS signée", "aci_signe"),
              Claim("06088", scenario.id, "Scénario ARS", "lettre_intention", is_scenario=True)]
    refs = (OTHER_DRAFT, SIGNED_PACA, scenario)
    named, hidden = split_claims(claims, _visibility(TASK_FORCE, *refs))
    assert [c.name for c in named] == ["CPTS signée"]
    assert (hidden.cpts, hidden.units) == (1, 2)  # the scenario is not even counted
    notice = hidden.notice()
    assert notice is not None and notice["detail"] == (
        "1 projet non publié ou hors de vos régions recouvre 2 communes de ce périmètre.")
    named, hidden = split_claims(claims, _visibility(ARS_PACA, *refs))
    assert {c.name for c in named} == {"CPTS signée", "Scénario ARS"}
    assert hidden.cpts == 1
    named, hidden = split_claims(claims, _visibility(ARS_ARA, *refs))
    assert named == [] and hidden.cpts == 2 and hidden.notice() is not None
    named, hidden = split_claims(claims, _visibility(ADMIN, *refs))
    assert len(named) == 4 and hidden.notice() is None


def test_agency_moves_a_cpts_only_between_its_own_regions() -> None:
    assert can_move_cpts(ARS_PACA, "93", "93")
    assert not can_move_cpts(ARS_PACA, "93", "84")
    assert not can_move_cpts(ARS_ARA, "93", "84")
    both = User(9, "agent@deux-regions.fr", Role.ARS, regions=frozenset({"84", "93"}))
    assert can_move_cpts(both, "93", "84")
    assert can_move_cpts(ADMIN, "93", "84") and can_move_cpts(CARRIER, "93", "84")
    assert not can_move_cpts(None, "93", "93")


def test_agency_creates_only_where_the_siege_is_one_of_its_regions() -> None:
    assert can_create_cpts(ARS_PACA, "93", Status.LETTRE_INTENTION)
    assert not can_create_cpts(ARS_ARA, "93", Status.LETTRE_INTENTION)
    assert can_create_cpts(ARS_PACA, "93", Status.PRE_PROJET, is_scenario=True)
    assert not can_create_cpts(ARS_ARA, "93", Status.PRE_PROJET, is_scenario=True)
    assert not can_create_cpts(CARRIER, "93", Status.PRE_PROJET, is_scenario=True)


def test_actions_follow_the_same_rules() -> None:
    pending = "lettre_intention"
    agency = allowed_actions(ARS_PACA, SUBMITTED_DRAFT, archived=False, pending_status=pending)
    assert agency.accept_stage and agency.request_changes and agency.archive
    assert not agency.edit and not agency.request_stage
    carrier = allowed_actions(CARRIER, OWN_DRAFT, archived=False, pending_status=None)
    assert carrier.edit and carrier.request_stage and carrier.export and not carrier.accept_stage
    archived = allowed_actions(CARRIER, OWN_DRAFT, archived=True, pending_status=None)
    assert not archived.edit and archived.restore and not archived.archive
    outline = allowed_actions(CARRIER, OVERLAPPING_DRAFT, archived=False, pending_status=None)
    assert not any(outline.as_dict().values())
    outsider = allowed_actions(ARS_ARA, SUBMITTED_DRAFT, archived=False, pending_status=pending)
    assert not any(outsider.as_dict().values())
