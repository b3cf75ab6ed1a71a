"""Who may take each step of a maternal death report, written once (CONVENTIONS habit 12).

Each ``may_<step>`` says whether the user holds the role the step needs for this report (refused: 403
with a reason); each ``can_<step>`` adds that the report's state allows the step now. The services
check both (a role without the state is a 409 conflict), the report page lists the steps whose
``can_<step>`` is true, and the worklists filter with the same rules (``reviewer_region_codes``).
"""

from __future__ import annotations

from typing import Any

from cases.models import DeathReport, ReviewLevel
from organisations.models import Membership, Region, Role
from organisations.selectors import acting_institutions

S = DeathReport.State
# Who reports a death for an institution: its clinicians, or the MCH institute that learnt of it.
REPORTER_ROLES = frozenset({Role.OBSTETRICIAN, Role.PRIMARY_CARE, Role.DUTY_DOCTOR, Role.MCH_OFFICER})
REVIEWER_ROLES = frozenset({Role.MCH_OFFICER, Role.EXPERT_REVIEWER})
UNLOCK_ROLES = frozenset({Role.MCH_OFFICER, Role.BUREAU_OFFICER})

EDITABLE_STATES = (S.DRAFTED, S.RETURNED)
EXCLUDABLE_STATES = (S.DRAFTED, S.REPORTED, S.RETURNED, S.VERIFIED)


def _memberships(user: Any) -> Any:
    return Membership.objects.filter(user=user, is_active=True, institution__is_active=True)


def is_reporter(user: Any, institution_id: Any) -> bool:
    if user.is_superuser:
        return True
    return _memberships(user).filter(institution_id=institution_id, role__in=REPORTER_ROLES).exists()


def level_region_code(report: DeathReport, level: str) -> str | None:
    """The region whose officers act at ``level`` for this report: its county, that county's city, or
    its province."""
    region: Region = report.region
    if level == ReviewLevel.COUNTY:
        return region.code
    if level == ReviewLevel.CITY:
        return region.city_id
    return region.province_id


def is_officer_at(user: Any, code: str | None, roles: frozenset[str]) -> bool:
    """The user holds one of ``roles`` at an institution of exactly the region ``code``."""
    if user.is_superuser:
        return True
    if not code:
        return False
    return _memberships(user).filter(role__in=roles, institution__region_id=code).exists()


def is_county_mch(user: Any, report: DeathReport) -> bool:
    return is_officer_at(user, report.region_id, frozenset({Role.MCH_OFFICER}))


def reviewer_region_codes(user: Any) -> dict[str, set[str]]:
    """For the worklist: the region codes where the user reviews, by the region's level."""
    codes: dict[str, set[str]] = {}
    for level, code in _memberships(user).filter(role__in=REVIEWER_ROLES).values_list(
            "institution__region__level", "institution__region_id"):
        codes.setdefault(level, set()).add(code)
    return codes


# --- One pair per step ---------------------------------------------------------------------------


def may_edit_card(user: Any, report: DeathReport) -> bool:
    return is_reporter(user, report.reporting_institution_id) or is_county_mch(user, report)


def can_edit_card(user: Any, report: DeathReport) -> bool:
    return report.state in EDITABLE_STATES and may_edit_card(user, report)


def may_report(user: Any, report: DeathReport) -> bool:
    return is_reporter(user, report.reporting_institution_id)


def can_report(user: Any, report: DeathReport) -> bool:
    return report.state in EDITABLE_STATES and may_report(user, report)


def may_verify(user: Any, report: DeathReport) -> bool:
    """Confirm, or return for correction: the county MCH officer."""
    return is_county_mch(user, report)


def can_verify(user: Any, report: DeathReport) -> bool:
    return report.state == S.REPORTED and may_verify(user, report)


def may_exclude(user: Any, report: DeathReport) -> bool:
    return is_county_mch(user, report)


def can_exclude(user: Any, report: DeathReport) -> bool:
    return report.state in EXCLUDABLE_STATES and may_exclude(user, report)


def may_investigate(user: Any, report: DeathReport) -> bool:
    return is_county_mch(user, report)


def can_investigate(user: Any, report: DeathReport) -> bool:
    return report.state == S.VERIFIED and may_investigate(user, report)


def may_review(user: Any, report: DeathReport, level: str | None = None) -> bool:
    """An MCH officer or expert reviewer of the level's region (the county, its city, its province)."""
    level = level or report.review_level
    if level is None:
        return False
    return is_officer_at(user, level_region_code(report, level), REVIEWER_ROLES)


def can_review(user: Any, report: DeathReport) -> bool:
    return report.review_level is not None and may_review(user, report)


def may_close(user: Any, report: DeathReport) -> bool:
    """The MCH officer of the level that gave the final conclusion."""
    level = report.final_level or ReviewLevel.COUNTY
    return is_officer_at(user, level_region_code(report, level), frozenset({Role.MCH_OFFICER}))


def can_close(user: Any, report: DeathReport) -> bool:
    return report.state == S.REVIEWED and may_close(user, report)


def may_unlock(user: Any, report: DeathReport) -> bool:
    """Only a provincial MCH or bureau officer unlocks a closed report."""
    return is_officer_at(user, report.region.province_id, UNLOCK_ROLES)


def can_unlock(user: Any, report: DeathReport) -> bool:
    return report.state == S.CLOSED and may_unlock(user, report)


def can_record_on_pregnancy(user: Any, pregnancy: Any) -> bool:
    """The pregnancy page's "record a maternal death": a reporter role somewhere, and no report of her yet
    (the page is only shown to those who may see the pregnancy)."""
    if not acting_institutions(user, REPORTER_ROLES):
        return False
    return not DeathReport.objects.filter(pregnancy=pregnancy).exclude(state=S.EXCLUDED).exists()


# Documents: the reporters while the card is theirs to edit (a copy of the medical record), the county MCH
# officer from the card's arrival until the report is closed (the investigation's papers).
ATTACH_STATES_MCH = (S.DRAFTED, S.REPORTED, S.RETURNED, S.VERIFIED, S.REVIEW_COUNTY, S.REVIEW_CITY,
                     S.REVIEW_PROVINCE, S.REVIEWED)


def may_attach(user: Any, report: DeathReport) -> bool:
    return is_reporter(user, report.reporting_institution_id) or is_county_mch(user, report)


def can_attach(user: Any, report: DeathReport) -> bool:
    if is_county_mch(user, report):
        return report.state in ATTACH_STATES_MCH
    return report.state in EDITABLE_STATES and may_attach(user, report)


# --- Review panels (评审会) --------------------------------------------------------------------------

MEETING_LEVEL_OF = {Region.Level.COUNTY: ReviewLevel.COUNTY, Region.Level.CITY: ReviewLevel.CITY,
                    Region.Level.PROVINCE: ReviewLevel.PROVINCE}


def meeting_regions(user: Any) -> list[Region]:
    """The regions where the user, an MCH officer there, may call a review meeting (its level follows)."""
    if user.is_superuser:
        return list(Region.objects.filter(level__in=list(MEETING_LEVEL_OF)).order_by("code"))
    codes = _memberships(user).filter(role=Role.MCH_OFFICER).values("institution__region_id")
    return list(Region.objects.filter(code__in=codes).order_by("code"))


def may_create_meeting(user: Any, region: Region) -> bool:
    """An MCH officer of the level's region (its county, city or province) calls the meeting."""
    return is_officer_at(user, region.code, frozenset({Role.MCH_OFFICER}))


def can_create_meeting(user: Any, region: Region) -> bool:
    return region.level in MEETING_LEVEL_OF and may_create_meeting(user, region)


def may_join_meeting(user: Any, region_code: str) -> bool:
    """Who may sit on a panel: the expert reviewers and MCH officers of its region."""
    return is_officer_at(user, region_code, REVIEWER_ROLES)


def may_manage_meeting(user: Any, meeting: Any) -> bool:
    """The agenda and the minutes: the meeting's chair or an MCH officer of its region."""
    return meeting.chair_id == user.pk or is_officer_at(user, meeting.region_id, frozenset({Role.MCH_OFFICER}))


def can_manage_meeting(user: Any, meeting: Any) -> bool:
    return meeting.is_open and may_manage_meeting(user, meeting)


def may_give_opinion(user: Any, meeting: Any) -> bool:
    """A member gives her own opinion; the chair or the region's MCH officer records the members' opinions."""
    return meeting.members.filter(pk=user.pk).exists() or may_manage_meeting(user, meeting)


def can_give_opinion(user: Any, meeting: Any) -> bool:
    return meeting.is_open and may_give_opinion(user, meeting)


def may_conclude_in_meeting(user: Any, meeting: Any, report: DeathReport) -> bool:
    """The conclusion of a death on the agenda: a reviewer of the level (as ``may_review``) who sits on the
    panel or manages it."""
    return may_review(user, report, meeting.level) and (
        meeting.members.filter(pk=user.pk).exists() or may_manage_meeting(user, meeting))


def can_conclude_in_meeting(user: Any, meeting: Any, report: DeathReport) -> bool:
    return meeting.is_open and report.review_level == meeting.level and may_conclude_in_meeting(
        user, meeting, report)


# --- The de-identified review packet and break-the-glass ------------------------------------------
# Who sees a death's identified record (name, document number, phone, address): everyone who may see
# the report today (its institution's doctors, MCH and bureau officers) except an expert reviewer who
# holds none of those roles: she works on the packet, and sees the identified record only for the
# window a break-the-glass opens (cases.DeathRecordAccess).
IDENTIFIED_ROLES = frozenset({Role.MCH_OFFICER, Role.BUREAU_OFFICER, Role.SYSTEM_ADMIN})


def is_packet_reader(user: Any) -> bool:
    """An expert reviewer who is not also an MCH, bureau or system officer (the lists and worklists show
    her the anonymous case number instead of the name)."""
    if user.is_superuser or not user.is_authenticated:
        return False
    roles = set(_memberships(user).values_list("role", flat=True))
    return Role.EXPERT_REVIEWER in roles and not roles & IDENTIFIED_ROLES


def reads_packet(user: Any, report: DeathReport) -> bool:
    """For this report: a packet reader who does not report for its institution either."""
    return is_packet_reader(user) and not is_reporter(user, report.reporting_institution_id)


def has_open_glass(user: Any, report: DeathReport) -> bool:
    from django.utils import timezone

    return report.record_accesses.filter(user=user, expires_at__gt=timezone.now()).exists()


def sees_identified(user: Any, report: DeathReport) -> bool:
    """The identified record (the report page, the full API detail): everyone but a packet reader, and
    she while her break-the-glass window is open."""
    return not reads_packet(user, report) or has_open_glass(user, report)


def may_break_glass(user: Any, report: DeathReport) -> bool:
    """Only an expert reviewer on the packet breaks the glass: everyone else sees the record already."""
    return reads_packet(user, report)


def can_break_glass(user: Any, report: DeathReport) -> bool:
    return may_break_glass(user, report) and not has_open_glass(user, report)


def may_list_access(user: Any, report: DeathReport) -> bool:
    """Who broke the glass, when and why: the MCH officers of the report's levels (county, city, province)."""
    mch = frozenset({Role.MCH_OFFICER})
    return any(is_officer_at(user, level_region_code(report, level), mch) for level in ReviewLevel.values)


# --- Improvement measures (改进措施) ---------------------------------------------------------------
# Set while the report is under review at some level or reviewed, not once it is closed and locked (an
# unlock reopens it); their later steps go on whatever the report's state: the follow-up outlives the review.

MEASURE_REPORT_STATES = (S.REVIEW_COUNTY, S.REVIEW_CITY, S.REVIEW_PROVINCE, S.REVIEWED)


def measure_levels(user: Any, report: DeathReport) -> list[str]:
    """The levels that have reviewed or are reviewing the report where the user is an MCH officer or an expert
    reviewer, lowest first."""
    entered = set(report.review_levels or [])
    return [level for level in ReviewLevel if level in entered and may_review(user, report, level)]


def may_set_measure(user: Any, report: DeathReport) -> bool:
    """The MCH officers and expert reviewers of a level that reviews (or reviewed) the death."""
    return bool(measure_levels(user, report))


def can_set_measure(user: Any, report: DeathReport) -> bool:
    return report.state in MEASURE_REPORT_STATES and may_set_measure(user, report)


def is_member_of(user: Any, institution_id: Any) -> bool:
    """Any active membership at the institution (whatever the role)."""
    if user.is_superuser:
        return True
    return _memberships(user).filter(institution_id=institution_id).exists()


def bureau_codes_over(region: Region) -> list[str]:
    """The regions whose health bureaus oversee an institution of ``region``: its own, its city, its province."""
    return [code for code in (region.code, region.city_id, region.province_id) if code]


def may_mark_measure_done(user: Any, measure: Any) -> bool:
    """The owner institution's staff (any active membership there)."""
    return is_member_of(user, measure.owner_institution_id)


def can_mark_measure_done(user: Any, measure: Any) -> bool:
    return measure.state == measure.State.OPEN and may_mark_measure_done(user, measure)


def may_verify_measure(user: Any, measure: Any) -> bool:
    """A bureau officer whose area covers the owner institution (its county's, city's or province's bureau)."""
    if user.is_superuser:
        return True
    codes = bureau_codes_over(measure.owner_institution.region)
    return _memberships(user).filter(role=Role.BUREAU_OFFICER, institution__region_id__in=codes).exists()


def can_verify_measure(user: Any, measure: Any) -> bool:
    return measure.state == measure.State.DONE and may_verify_measure(user, measure)


def may_reject_measure(user: Any, measure: Any) -> bool:
    """The same bureau officers who verify."""
    return may_verify_measure(user, measure)


def can_reject_measure(user: Any, measure: Any) -> bool:
    return measure.state == measure.State.DONE and may_reject_measure(user, measure)


def may_cancel_measure(user: Any, measure: Any) -> bool:
    """Whoever set it, or an MCH officer of the level that set it."""
    if user.is_superuser or measure.set_by_id == user.pk:
        return True
    level = measure.level or ReviewLevel.COUNTY
    return is_officer_at(user, level_region_code(measure.report, level), frozenset({Role.MCH_OFFICER}))


def can_cancel_measure(user: Any, measure: Any) -> bool:
    return measure.state == measure.State.OPEN and may_cancel_measure(user, measure)
