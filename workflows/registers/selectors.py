"""What is late (逾期): reads for the MCH officer's overview, her home page and the register's "overdue"
filter, and the clinician's worklist counts.

Every read starts from a scoped selector (``cases.selectors``), so an officer sees her county's late
work and nothing of another county's. Each section is one query with the rows' related records joined
(no query per row); the counts are one query per section.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Count, Q, QuerySet

from cases.models import Consultation, FollowUpVisit, HighRiskCase, Referral, Tracing
from cases.selectors import visible_consultations, visible_highrisk_cases, visible_referrals
from organisations.models import Role
from organisations.scoping import user_scope

# The overview's sections, in the order of the page (anchors on the page are these names).
SECTIONS = ("reports", "visits", "tracing", "lost", "feedback", "consultations")
# The register's "overdue" filter: which lateness a case has.
OVERDUE_CHOICES = ("any", "report", "visit")
ROWS_PER_SECTION = 200


def may_see_overview(user: Any) -> bool:
    """The late-work overview is the MCH officers' (and the superuser's)."""
    return bool(user.is_superuser or Role.MCH_OFFICER in user_scope(user).roles)


def report_late_q(now: dt.datetime) -> Q:
    """Not yet reported, past the report deadline set at opening (the province's hours for her grade)."""
    return Q(state=HighRiskCase.State.OPENED, reported_at__isnull=True, report_due_at__lt=now)


def visit_late_q(today: dt.date) -> Q:
    """An open case whose next follow-up visit is before today."""
    return Q(state__in=HighRiskCase.OPEN_STATES, next_visit_at__lt=today)


def overdue_case_q(kind: str, *, now: dt.datetime, today: dt.date) -> Q:
    if kind == "report":
        return report_late_q(now)
    if kind == "visit":
        return visit_late_q(today)
    return report_late_q(now) | visit_late_q(today)


def late_reports(*, user: Any, now: dt.datetime) -> QuerySet[HighRiskCase]:
    return visible_highrisk_cases(user).filter(report_late_q(now)).select_related(
        "pregnancy__woman", "institution", "responsible_doctor").order_by("report_due_at")


def late_visits(*, user: Any, today: dt.date) -> QuerySet[FollowUpVisit]:
    """Scheduled visits past their day. Once the province's grace days pass the visit is marked missed and
    tracing starts: from then on it is listed under tracing, not here."""
    return FollowUpVisit.objects.filter(
        case__in=visible_highrisk_cases(user).filter(state__in=HighRiskCase.OPEN_STATES).values("pk"),
        status=FollowUpVisit.Status.SCHEDULED, due_on__lt=today,
    ).select_related("case__pregnancy__woman", "case__institution", "case__responsible_doctor").order_by("due_on")


def tracings_open(*, user: Any) -> QuerySet[Tracing]:
    return Tracing.objects.filter(
        case__in=visible_highrisk_cases(user).values("pk"), status=Tracing.Status.OPEN,
    ).select_related("case__pregnancy__woman", "case__institution", "case__responsible_doctor", "visit").annotate(
        attempt_count=Count("attempts")).order_by("due_at")


def cases_lost(*, user: Any) -> QuerySet[HighRiskCase]:
    return visible_highrisk_cases(user).filter(state=HighRiskCase.State.LOST).select_related(
        "pregnancy__woman", "institution", "responsible_doctor").order_by("lost_at")


def referrals_missing_feedback(*, user: Any, now: dt.datetime) -> QuerySet[Referral]:
    """Referrals whose outcome is recorded but whose feedback to the sender is past its deadline."""
    return visible_referrals(user).filter(state=Referral.State.OUTCOME, feedback_due_at__lt=now).select_related(
        "pregnancy__woman", "from_institution", "to_centre__institution").order_by("feedback_due_at")


def consultations_unanswered(*, user: Any, now: dt.datetime) -> QuerySet[Consultation]:
    return visible_consultations(user).filter(state=Consultation.State.REQUESTED, response_due_at__lt=now
                                              ).select_related("pregnancy__woman", "from_institution",
                                                               "to_centre__institution", "to_expert"
                                                               ).order_by("response_due_at")


def late_sections(*, user: Any, now: dt.datetime, today: dt.date) -> dict[str, QuerySet[Any]]:
    return {
        "reports": late_reports(user=user, now=now), "visits": late_visits(user=user, today=today),
        "tracing": tracings_open(user=user), "lost": cases_lost(user=user),
        "feedback": referrals_missing_feedback(user=user, now=now),
        "consultations": consultations_unanswered(user=user, now=now),
    }


def late_counts(*, user: Any, now: dt.datetime, today: dt.date) -> dict[str, int]:
    """How many rows each section has (a count query per section, without the rows' joins)."""
    return {name: qs.order_by().count() for name, qs in late_sections(user=user, now=now, today=today).items()}


def home_panels(*, user: Any) -> dict[str, Any]:
    """The home page's counts of late work, for an MCH officer (a HOME_PANELS hook)."""
    from django.utils import timezone

    now = timezone.now()
    today = timezone.localdate(now)
    panels: dict[str, Any] = {}
    if Role.MCH_OFFICER in user_scope(user).roles:
        panels["late_counts"] = late_counts(user=user, now=now, today=today)
    return panels
