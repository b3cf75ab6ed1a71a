"""The scoped reads: one ``visible_<model>(user)`` per model a user reads, and the only place they are written.
Every page, API and list query filters through these."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from cases.models import (
    Assessment,
    AssessmentReferral,
    Circular,
    Consultation,
    ContinuationEvaluation,
    DeathRecordAccess,
    DeathReport,
    Delivery,
    EmergencyCaesarean,
    EvaluationScheme,
    HighRiskCase,
    ImprovementMeasure,
    Interview,
    InterviewParty,
    NearMiss,
    Pregnancy,
    PrenatalReport,
    PrenatalValue,
    Referral,
    ReviewMeeting,
    Screening,
    Visit,
    Woman,
    WomanLink,
)
from organisations.models import Institution
from organisations.scoping import scope_q, user_scope


def visible_pregnancies(user: Any) -> QuerySet[Pregnancy]:
    """Pregnancies booked in the user's area; or that the user's institution booked, manages as a
    high-risk case, or was asked to assess or evaluate."""
    scope = user_scope(user)
    if scope.is_empty:
        return Pregnancy.objects.none()
    q = scope_q(user, region_field="booking_institution__region", institution_fields=["booking_institution"])
    if scope.institution_ids and not scope.everything:
        mine = scope.institution_ids
        q |= Q(pk__in=AssessmentReferral.objects.filter(to_institution__in=mine).values("pregnancy_id"))
        q |= Q(pk__in=HighRiskCase.objects.filter(institution__in=mine).values("pregnancy_id"))
        q |= Q(pk__in=ContinuationEvaluation.objects.filter(institution__in=mine).values("pregnancy_id"))
        q |= Q(pk__in=Referral.objects.filter(Q(to_centre__institution__in=mine) | Q(escalated_to__institution__in=mine)
                                              ).values("pregnancy_id"))
        q |= Q(pk__in=Consultation.objects.filter(to_centre__institution__in=mine).values("pregnancy_id"))
        q |= Q(region_q_for_cases(scope))
    if not scope.everything:
        # A named expert asked for a consultation reads the record she is asked about.
        q |= Q(pk__in=Consultation.objects.filter(to_expert=user).values("pregnancy_id"))
    return Pregnancy.objects.filter(q).select_related("woman", "booking_institution")


def visible_screenings(user: Any) -> QuerySet[Screening]:
    """The screenings of the pregnancies the user may see."""
    return Screening.objects.filter(pregnancy__in=visible_pregnancies(user).values("pk"))


def visible_assessments(user: Any) -> QuerySet[Assessment]:
    """The assessments (valid and voided) of the pregnancies the user may see."""
    return Assessment.objects.filter(pregnancy__in=visible_pregnancies(user).values("pk"))


def region_q_for_cases(scope: Any) -> Q:
    """Pregnancies whose high-risk case sits in one of the scope's areas (the case register's county)."""
    if not scope.areas:
        return Q(pk__in=[])
    from organisations.scoping import area_q

    return Q(pk__in=HighRiskCase.objects.filter(area_q(scope, "region")).values("pregnancy_id"))


def visible_women(user: Any) -> QuerySet[Woman]:
    """Women living in the user's area, registered by the user's institution, or with a pregnancy the
    user may see."""
    scope = user_scope(user)
    if scope.is_empty:
        return Woman.objects.none()
    if scope.everything:
        return Woman.objects.all()
    direct = scope_q(user, region_field="residence_region", institution_fields=["registered_by"])
    linked = Q(pk__in=WomanLink.objects.filter(institution__in=scope.institution_ids).values("woman_id"))
    return Woman.objects.filter(direct | linked | Q(pk__in=visible_pregnancies(user).values("woman_id")))


def visible_highrisk_cases(user: Any) -> QuerySet[HighRiskCase]:
    """Cases in the user's area (by the register's county), or managed at / booked at their institution."""
    scope = user_scope(user)
    if scope.is_empty:
        return HighRiskCase.objects.none()
    q = scope_q(user, region_field="region", institution_fields=["institution"])
    if scope.institution_ids and not scope.everything:
        # A subquery rather than a join: a join to pregnancies inside the OR makes PostgreSQL read every
        # pregnancy for a worklist count (issue 5's benchmark).
        q |= Q(pregnancy__in=Pregnancy.objects.filter(booking_institution__in=scope.institution_ids).values("pk"))
        # The sending institution of a transfer keeps read access to the case it managed; the
        # receiving one sees it while the transfer awaits its answer.
        from cases.models import CaseTransfer

        q |= Q(pk__in=CaseTransfer.objects.filter(
            Q(from_institution__in=scope.institution_ids)
            | Q(to_institution__in=scope.institution_ids, status=CaseTransfer.Status.REQUESTED)
        ).values("case_id"))
    return HighRiskCase.objects.filter(q).select_related("pregnancy__woman", "institution", "responsible_doctor")


def visible_referrals(user: Any) -> QuerySet[Referral]:
    """Referrals the user's institution sent, or that were addressed (or escalated) to a centre the user's
    institution hosts; officers see those sent from or received in their area. A centre never sees a
    referral addressed to another centre."""
    scope = user_scope(user)
    if scope.is_empty:
        return Referral.objects.none()
    q = scope_q(user, region_field="from_institution__region",
                institution_fields=["from_institution", "to_centre__institution", "escalated_to__institution"])
    if scope.areas and not scope.everything:
        from organisations.scoping import area_q

        q |= area_q(scope, "to_centre__institution__region")
    return Referral.objects.filter(q).select_related(
        "pregnancy__woman", "from_institution", "to_centre__institution", "requested_by", "answered_by")


def visible_consultations(user: Any) -> QuerySet[Consultation]:
    """Consultations the user's institution asked or was asked, those addressed to the user, and those of
    the user's area."""
    scope = user_scope(user)
    if scope.is_empty:
        return Consultation.objects.none()
    q = scope_q(user, region_field="from_institution__region",
                institution_fields=["from_institution", "to_centre__institution"]) | Q(to_expert=user)
    return Consultation.objects.filter(q).select_related(
        "pregnancy__woman", "from_institution", "to_centre__institution", "to_expert", "requested_by")


def visible_assessment_referrals(user: Any) -> QuerySet[AssessmentReferral]:
    """Referrals for assessment (筛查阳性转诊) sent from or to the user's institutions, or sent from the user's
    area: the assessment worklist reads these."""
    if user_scope(user).is_empty:
        return AssessmentReferral.objects.none()
    return AssessmentReferral.objects.filter(scope_q(
        user, region_field="from_institution__region", institution_fields=["to_institution", "from_institution"]))


def visible_emergency_caesareans(user: Any) -> QuerySet[EmergencyCaesarean]:
    """Emergency caesareans done at the user's institutions or in the user's area, and those of the referrals
    the user may see (the DDI list)."""
    if user_scope(user).is_empty:
        return EmergencyCaesarean.objects.none()
    return EmergencyCaesarean.objects.filter(
        scope_q(user, region_field="institution__region", institution_fields=["institution"])
        | Q(referral__in=visible_referrals(user))).distinct()


def visible_death_reports(user: Any) -> QuerySet[DeathReport]:
    """Maternal death reports of the user's area (by the report's county), for MCH and bureau officers;
    an expert reviewer sees her area's reports only once they reached her level's review (a city reviewer
    the city's, a provincial one the province's); a clinician sees her institution's reports only."""
    from organisations.models import Membership, Region, Role
    from organisations.scoping import area_q

    scope = user_scope(user)
    if scope.is_empty:
        return DeathReport.objects.none()
    q = Q()
    if not scope.everything:
        memberships = Membership.objects.filter(user=user, is_active=True, institution__is_active=True)
        full_areas = {(level, code) for level, code in memberships.exclude(role=Role.EXPERT_REVIEWER).filter(
            role__in=[Role.MCH_OFFICER, Role.BUREAU_OFFICER, Role.SYSTEM_ADMIN]).values_list(
            "institution__region__level", "institution__region_id")}
        q = area_q(scope, "region", areas=full_areas) | Q(reporting_institution__in=scope.institution_ids)
        rank: dict[str, int] = {Region.Level.COUNTY: 1, Region.Level.CITY: 2, Region.Level.PROVINCE: 3}
        for level, code in memberships.filter(role=Role.EXPERT_REVIEWER).values_list(
                "institution__region__level", "institution__region_id"):
            q |= area_q(scope, "region", areas=[(level, code)]) & Q(highest_level_reached__gte=rank[level])
    return DeathReport.objects.filter(q).select_related("woman", "region", "reporting_institution")


def visible_interviews(user: Any) -> QuerySet[Interview]:
    """Interviews: the MCH and bureau officers of an area see those convened in it or below (a bureau's
    superiors see everything below them), and, once notified, those summoning a party of their area; a summoned
    party's members see the interviews addressed to it once the notice is issued (proposals stay internal)."""
    from organisations.models import Membership, Role
    from organisations.scoping import area_q

    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return Interview.objects.none()
    if user.is_superuser:
        return Interview.objects.all()
    memberships = Membership.objects.filter(user=user, is_active=True, institution__is_active=True)
    areas = {(level, code) for level, code in memberships.filter(
        role__in=[Role.MCH_OFFICER, Role.BUREAU_OFFICER, Role.SYSTEM_ADMIN]).values_list(
        "institution__region__level", "institution__region_id")}
    scope = user_scope(user)
    issued = ~Q(state__in=[Interview.State.PROPOSED, Interview.State.DISMISSED])
    q = Q(pk__in=[])
    if areas:
        q |= area_q(scope, "region", areas=areas)
        q |= issued & Q(pk__in=InterviewParty.objects.filter(
            area_q(scope, "institution__region", areas=areas)).values("interview_id"))
    # Who answers for a summoned party (workflows/interview/permissions.py PARTY_ROLES): not its clinicians.
    answering = memberships.filter(role__in=[Role.HEAD, Role.MCH_OFFICER, Role.BUREAU_OFFICER])
    q |= issued & Q(pk__in=InterviewParty.objects.filter(
        institution_id__in=answering.values("institution_id")).values("interview_id"))
    return Interview.objects.filter(q).select_related("bureau", "region")


def visible_interview_parties(user: Any) -> QuerySet[InterviewParty]:
    """The summoned parties of the interviews the user may see."""
    return InterviewParty.objects.filter(interview__in=visible_interviews(user)).select_related(
        "interview__bureau", "institution")


def visible_review_meetings(user: Any) -> QuerySet[ReviewMeeting]:
    """Death review meetings the user sits on, chairs or called; those of her region when she is an expert
    reviewer or officer there; and those inside the area of an MCH or bureau officer (a province sees its
    cities' panels). A reviewer of another county never sees a county's meeting."""
    from organisations.models import Membership, Role
    from organisations.scoping import area_q

    scope = user_scope(user)
    if scope.is_empty:
        return ReviewMeeting.objects.none()
    if scope.everything:
        return ReviewMeeting.objects.all()
    memberships = Membership.objects.filter(user=user, is_active=True, institution__is_active=True)
    here = memberships.filter(role__in=[Role.EXPERT_REVIEWER, Role.MCH_OFFICER, Role.BUREAU_OFFICER]).values(
        "institution__region_id")
    areas = {(level, code) for level, code in memberships.filter(
        role__in=[Role.MCH_OFFICER, Role.BUREAU_OFFICER]).values_list("institution__region__level",
                                                                       "institution__region_id")}
    q = Q(members=user) | Q(chair=user) | Q(created_by=user) | Q(region_id__in=here) | area_q(
        scope, "region", areas=areas)
    return ReviewMeeting.objects.filter(pk__in=ReviewMeeting.objects.filter(q).values("pk")).select_related(
        "region", "chair")


def visible_near_misses(user: Any) -> QuerySet[NearMiss]:
    """Near-miss checks of the pregnancies the user may see, or recorded at her institutions."""
    scope = user_scope(user)
    if scope.is_empty:
        return NearMiss.objects.none()
    return NearMiss.objects.filter(Q(pregnancy__in=visible_pregnancies(user).values("pk"))
                                   | scope_q(user, region_field="institution__region",
                                             institution_fields=["institution"])).select_related(
        "pregnancy__woman", "institution")


def visible_death_record_accesses(user: Any) -> QuerySet[DeathRecordAccess]:
    """The break-the-glass log of the death reports the user may see (listed to MCH officers only:
    ``workflows.death.permissions.may_list_access``)."""
    return DeathRecordAccess.objects.filter(report__in=visible_death_reports(user).values("pk"))


def visible_identified_death_reports(user: Any) -> QuerySet[DeathReport]:
    """The death reports whose identified record the user may read (its history page): those she may see,
    except that an expert reviewer with no officer role reads only her institution's reports and those
    whose glass she broke within the window."""
    from django.utils import timezone

    from organisations.models import Membership, Role

    reports = visible_death_reports(user)
    if user.is_superuser:
        return reports
    roles = set(Membership.objects.filter(user=user, is_active=True, institution__is_active=True)
                .values_list("role", flat=True))
    if Role.EXPERT_REVIEWER not in roles or roles & {Role.MCH_OFFICER, Role.BUREAU_OFFICER, Role.SYSTEM_ADMIN}:
        return reports
    own = Membership.objects.filter(user=user, is_active=True).exclude(role=Role.EXPERT_REVIEWER).values(
        "institution_id")
    glass = DeathRecordAccess.objects.filter(user=user, expires_at__gt=timezone.now()).values("report_id")
    return reports.filter(Q(reporting_institution__in=own) | Q(pk__in=glass))


def visible_improvement_measures(user: Any) -> QuerySet[ImprovementMeasure]:
    """Improvement measures of the death reports the user sees; and, for the staff of an owner institution, that
    institution's own measures even when its staff may not see the report (the pages show them the report's
    anonymous reference, never the woman); and, for MCH and bureau officers, the measures owned by an institution
    of their area (the bureau verifies them wherever the death was)."""
    from organisations.models import Membership, Role
    from organisations.scoping import area_q

    scope = user_scope(user)
    if scope.is_empty:
        return ImprovementMeasure.objects.none()
    q = Q()
    if not scope.everything:
        memberships = Membership.objects.filter(user=user, is_active=True, institution__is_active=True)
        officer_areas = {(level, code) for level, code in memberships.filter(
            role__in=[Role.MCH_OFFICER, Role.BUREAU_OFFICER]).values_list(
            "institution__region__level", "institution__region_id")}
        q = (Q(report__in=visible_death_reports(user)) | Q(owner_institution__in=memberships.values("institution_id"))
             | area_q(scope, "owner_institution__region", areas=officer_areas))
    return ImprovementMeasure.objects.filter(q).select_related("report__region", "owner_institution__region")


def visible_circulars(user: Any) -> QuerySet[Circular]:
    """Circulars (通报): drafts and those awaiting approval only for the issuing bureau's officers; published (or
    withdrawn) ones for the institutions they went to, for every member of an institution of the issuing
    bureau's area, and for officers whose area holds it (the bureau's superiors see all published below)."""
    from organisations.models import Membership, Role
    from organisations.scoping import area_q

    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return Circular.objects.none()
    if user.is_superuser:
        return Circular.objects.select_related("issuer", "region")
    memberships = Membership.objects.filter(user=user, is_active=True, institution__is_active=True
                                            ).select_related("institution__region")
    issued = {m.institution_id for m in memberships if m.role == Role.BUREAU_OFFICER}
    mine = {m.institution_id for m in memberships}
    areas: set[str] = set()
    for m in memberships:
        region = m.institution.region
        areas.update(code for code in (region.code, region.city_id, region.province_id) if code)
    out = [Circular.State.PUBLISHED, Circular.State.WITHDRAWN]
    q = Q(issuer_id__in=issued)
    q |= Q(state__in=out) & (Q(recipients__institution_id__in=mine) | Q(region_id__in=areas)
                             | area_q(user_scope(user), "region"))
    return Circular.objects.filter(pk__in=Circular.objects.filter(q).values("pk")).select_related("issuer", "region")


def visible_visits(user: Any) -> QuerySet[Visit]:
    """Antenatal and postpartum visits of the pregnancies the user may see, and those made at her institutions
    or in her area (an institution sees the visits it recorded)."""
    scope = user_scope(user)
    if scope.is_empty:
        return Visit.objects.none()
    if scope.everything:
        return Visit.objects.all()
    return Visit.objects.filter(Q(pregnancy__in=visible_pregnancies(user).values("pk"))
                                | scope_q(user, region_field="institution__region", institution_fields=["institution"]))


def visible_deliveries(user: Any) -> QuerySet[Delivery]:
    """Deliveries of the pregnancies the user may see, and those at her institutions or in her area."""
    scope = user_scope(user)
    if scope.is_empty:
        return Delivery.objects.none()
    if scope.everything:
        return Delivery.objects.all()
    return Delivery.objects.filter(Q(pregnancy__in=visible_pregnancies(user).values("pk"))
                                   | scope_q(user, region_field="institution__region",
                                             institution_fields=["institution"]))


def visible_prenatal_institutions(user: Any) -> QuerySet[Institution]:
    """Active institutions licensed for prenatal screening or diagnosis whose QC figures the user reads: those
    in her area (officers), or her own institutions (clinicians). Only roles that read prenatal QC reports."""
    if not user.has_perm("cases.view_prenatalreport") or user_scope(user).is_empty:
        return Institution.objects.none()
    return Institution.objects.filter(
        scope_q(user, region_field="region", institution_fields=["pk"]),
        Q(prenatal_screening=True) | Q(prenatal_diagnosis=True), is_active=True,
    ).select_related("region")


def visible_prenatal_reports(user: Any) -> QuerySet[PrenatalReport]:
    """Prenatal QC reports of institutions in the user's area, or of her own institutions."""
    if not user.has_perm("cases.view_prenatalreport") or user_scope(user).is_empty:
        return PrenatalReport.objects.none()
    return PrenatalReport.objects.filter(
        scope_q(user, region_field="institution__region", institution_fields=["institution"])
    ).select_related("institution__region")


# --- Aggregate reads for the indicators (indicators/measures.py) -----------------------------------
# These are not per-user lists: the indicators count whole areas, and indicators/permissions.py decides once
# which areas a user may read figures of before any of these is filtered to that area. Nothing here returns a
# personal field to a page; every use is an aggregate (counts, sums, a median of minutes).


def indicator_deliveries() -> QuerySet[Any]:
    """Every recorded delivery (分娩), the base of the population figures."""
    from cases.models import Delivery

    return Delivery.objects.all()


def indicator_visits() -> QuerySet[Any]:
    """Every antenatal and postpartum visit."""
    from cases.models import Visit

    return Visit.objects.all()


def indicator_valid_assessments() -> QuerySet[Any]:
    """Risk assessments that still hold: a voided one never counts."""
    from cases.models import Assessment

    return Assessment.objects.filter(status=Assessment.Status.VALID)


def indicator_highrisk_cases() -> QuerySet[HighRiskCase]:
    """Every high-risk case (专案), whatever its state."""
    return HighRiskCase.objects.all()


def indicator_pregnancies() -> QuerySet[Pregnancy]:
    """Every pregnancy."""
    return Pregnancy.objects.all()


def indicator_near_miss_checks() -> QuerySet[NearMiss]:
    """Near-miss checklists that met at least one WHO criterion (those that mark the pregnancy)."""
    return NearMiss.objects.exclude(criteria=[])


def indicator_death_reports(*, drafts: bool = False) -> QuerySet[DeathReport]:
    """Maternal deaths that count: reports recorded (reported, whatever happened after) and not excluded as
    not maternal. With ``drafts``, also the drafts not yet reported (a late report is still a death whose
    report is late)."""
    excluded = [DeathReport.State.EXCLUDED] if drafts else [DeathReport.State.EXCLUDED, DeathReport.State.DRAFTED]
    return DeathReport.objects.exclude(state__in=excluded)


def indicator_referrals() -> QuerySet[Referral]:
    """Every referral to a rescue centre."""
    return Referral.objects.all()


def indicator_emergency_caesareans() -> QuerySet[EmergencyCaesarean]:
    """Every recorded emergency caesarean with its decision-to-delivery interval."""
    return EmergencyCaesarean.objects.all()


def indicator_death_report_versions() -> QuerySet[Any]:
    """Every saved version of every death report, drafts and excluded ones too (the dashboard's change stamp:
    a report reported, excluded or reinstated changes the figures, and each such save writes a version)."""
    return DeathReport.history.all()


def visible_evaluation_schemes(user: Any) -> QuerySet[EvaluationScheme]:
    """Evaluation schemes: the national editions for every member of an active institution; a province's 细则
    for the members of institutions in that province (a superuser: all)."""
    from organisations.models import Membership, Region

    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return EvaluationScheme.objects.none()
    if user.is_superuser:
        return EvaluationScheme.objects.select_related("province")
    homes = list(Membership.objects.filter(user=user, is_active=True, institution__is_active=True).values_list(
        "institution__region__level", "institution__region_id", "institution__region__province_id"))
    if not homes:
        return EvaluationScheme.objects.none()
    provinces = {code if level == Region.Level.PROVINCE else province for level, code, province in homes}
    return EvaluationScheme.objects.filter(Q(province__isnull=True) | Q(province_id__in=provinces - {None})
                                           ).select_related("province")


def indicator_prenatal_values() -> QuerySet[PrenatalValue]:
    """The values of submitted prenatal QC reports (an open or returned report is still being corrected)."""
    return PrenatalValue.objects.filter(report__state=PrenatalReport.State.SUBMITTED)


def indicator_prenatal_reports() -> QuerySet[PrenatalReport]:
    """Every prenatal QC report (completeness: how many licensed institutions submitted)."""
    return PrenatalReport.objects.all()


def visible_selfinspection_reports(user: Any) -> QuerySet[Any]:
    """Self-inspection and self-evaluation reports of the user's area, for the MCH and bureau officers there (a
    city's officers read their counties' reports; a county's never another county's, nor the city's); nobody
    else reads them."""
    from cases.models import SelfInspectionReport
    from organisations.models import Membership, Role
    from organisations.scoping import area_q

    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return SelfInspectionReport.objects.none()
    if user.is_superuser:
        return SelfInspectionReport.objects.select_related("region")
    areas = {(level, code) for level, code in Membership.objects.filter(
        user=user, is_active=True, institution__is_active=True, role__in=[Role.MCH_OFFICER, Role.BUREAU_OFFICER]
    ).values_list("institution__region__level", "institution__region_id")}
    if not areas:
        return SelfInspectionReport.objects.none()
    return SelfInspectionReport.objects.filter(area_q(user_scope(user), "region", areas=areas)).select_related(
        "region")


def visible_evaluation_submissions(user: Any) -> QuerySet[Any]:
    """Evaluation submissions: those of the user's area for its bureau, MCH and expert officers and system
    administrators (a city's officers see their counties' and their centres'; a county's never another
    county's); a head of an institution sees her centre's, or her bureau's system's."""
    from cases.models import EvaluationSubmission
    from organisations.models import Membership, Role
    from organisations.scoping import area_q

    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return EvaluationSubmission.objects.none()
    related = ("round__scheme", "region", "evaluator", "centre__institution")
    if user.is_superuser:
        return EvaluationSubmission.objects.select_related(*related)
    memberships = Membership.objects.filter(user=user, is_active=True, institution__is_active=True)
    areas = {(level, code) for level, code in memberships.filter(
        role__in=[Role.MCH_OFFICER, Role.BUREAU_OFFICER, Role.EXPERT_REVIEWER, Role.SYSTEM_ADMIN]
    ).values_list("institution__region__level", "institution__region_id")}
    heads = list(memberships.filter(role=Role.HEAD).values_list("institution_id", "institution__kind",
                                                                "institution__region_id"))
    q = area_q(user_scope(user), "region", areas=areas) if areas else Q(pk__in=[])
    for institution, kind, region in heads:
        q |= Q(centre__institution_id=institution)
        if kind == Institution.Kind.HEALTH_BUREAU:
            q |= Q(subject="system", region_id=region)
    return EvaluationSubmission.objects.filter(q).select_related(*related)


def visible_evaluation_rounds(user: Any) -> QuerySet[Any]:
    """The rounds holding a submission the user sees, and every round of the provinces the user opens rounds for
    (their bureau officers and system administrators)."""
    from cases.models import EvaluationRound
    from organisations.models import Membership, Role

    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return EvaluationRound.objects.none()
    if user.is_superuser:
        return EvaluationRound.objects.select_related("province", "scheme")
    provinces = Membership.objects.filter(
        user=user, is_active=True, institution__is_active=True, role__in=[Role.BUREAU_OFFICER, Role.SYSTEM_ADMIN],
        institution__region__level="province").values("institution__region_id")
    seen = visible_evaluation_submissions(user).values("round_id")
    return EvaluationRound.objects.filter(Q(pk__in=seen) | Q(province_id__in=provinces)).select_related(
        "province", "scheme")


def visible_evaluation_scores(user: Any) -> QuerySet[Any]:
    from cases.models import EvaluationScore

    return EvaluationScore.objects.filter(submission__in=visible_evaluation_submissions(user).values("pk"))
