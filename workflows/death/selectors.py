"""List queries of the death-report process, all on top of the scoped ``visible_death_reports``.

* by clock state, for MCH officers and bureaus: ``overdue`` (a legal clock passed and its step not
  taken), ``due_soon`` (one passes within a day), ``on_time`` (open, no clock near), ``closed``,
  ``excluded``;
* the reviewers' worklist: reports awaiting the review of a level where the user reviews;
* the institution's reports to complete: drafted or returned at an institution where the user reports.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from cases.models import DeathReport, ImprovementMeasure, ReviewLevel
from cases.selectors import visible_death_reports, visible_improvement_measures
from organisations.models import Membership, Region, Role
from organisations.scoping import user_scope
from workflows.death.permissions import REPORTER_ROLES, reviewer_region_codes

S = DeathReport.State
CLOCK_STATES = ("overdue", "due_soon", "on_time", "closed", "excluded")
SOON = dt.timedelta(hours=24)


def _passed_by(moment: dt.datetime) -> Q:
    """Some legal clock passes by ``moment`` with its step not taken."""
    return (
        Q(reported_at__isnull=True, report_due_at__lte=moment)
        | Q(verified_at__isnull=True, card_due_at__lte=moment)
        | Q(investigated_at__isnull=True, investigation_due_at__lte=moment)
        | Q(state__in=list(DeathReport.REVIEW_STATES.values()), review_due_at__lte=moment)
    )


def death_reports_by_clock(*, user: Any, clock: str | None = None, now: dt.datetime | None = None
                           ) -> QuerySet[DeathReport]:
    now = now or timezone.now()
    reports = visible_death_reports(user)
    open_q = Q(state__in=DeathReport.OPEN_STATES)
    if clock == "overdue":
        reports = reports.filter(open_q & _passed_by(now))
    elif clock == "due_soon":
        reports = reports.filter(open_q & _passed_by(now + SOON)).exclude(_passed_by(now))
    elif clock == "on_time":
        reports = reports.filter(open_q).exclude(_passed_by(now + SOON))
    elif clock == "closed":
        reports = reports.filter(state=S.CLOSED)
    elif clock == "excluded":
        reports = reports.filter(state=S.EXCLUDED)
    return reports.order_by("-died_at", "pk")


def clock_counts(*, user: Any, now: dt.datetime | None = None) -> dict[str, int]:
    now = now or timezone.now()
    return {state: death_reports_by_clock(user=user, clock=state, now=now).count() for state in CLOCK_STATES}


def review_worklist(*, user: Any) -> QuerySet[DeathReport]:
    """Reports awaiting the review of a level where the user is an MCH officer or expert reviewer."""
    codes = reviewer_region_codes(user)
    q = Q(pk__in=[])
    if user.is_superuser:
        q = Q(state__in=list(DeathReport.REVIEW_STATES.values()))
    q |= Q(state=S.REVIEW_COUNTY, region_id__in=codes.get(Region.Level.COUNTY, set()))
    q |= Q(state=S.REVIEW_CITY, region__city_id__in=codes.get(Region.Level.CITY, set()))
    q |= Q(state=S.REVIEW_PROVINCE, region__province_id__in=codes.get(Region.Level.PROVINCE, set()))
    return visible_death_reports(user).filter(q).order_by("review_due_at", "pk")


def reports_to_complete(*, user: Any) -> QuerySet[DeathReport]:
    """Drafted or returned reports of the institutions where the user reports deaths."""
    mine = Membership.objects.filter(user=user, role__in=REPORTER_ROLES, is_active=True).values("institution_id")
    return visible_death_reports(user).filter(state__in=[S.DRAFTED, S.RETURNED],
                                              reporting_institution__in=mine).order_by("report_due_at", "pk")


def level_label(level: str) -> Any:
    return ReviewLevel(level).label


# Who watches the death clocks from the home page: the officers and reviewers of an area.
WATCHING_ROLES = frozenset({Role.MCH_OFFICER, Role.BUREAU_OFFICER, Role.EXPERT_REVIEWER})


def home_panels(*, user: Any) -> dict[str, Any]:
    """The home page's count of the death reports in the user's area by clock (a HOME_PANELS hook): for MCH and
    bureau officers and expert reviewers, who watch the legal deadlines."""
    if not WATCHING_ROLES & set(user_scope(user).roles):
        return {}
    return {"death_counts": clock_counts(user=user)}


def record_accesses_for(*, user: Any, report: DeathReport) -> list[Any] | None:
    """The break-the-glass log of a report (``DeathRecordAccess``), for the MCH officers of its levels;
    ``None`` for anyone else (the section is not shown)."""
    from cases.selectors import visible_death_record_accesses
    from workflows.death.permissions import may_list_access

    if not may_list_access(user, report):
        return None
    return list(visible_death_record_accesses(user).filter(report=report).select_related("user")
                .order_by("-opened_at"))


# --- Improvement measures (改进措施) ---------------------------------------------------------------

M = ImprovementMeasure.State
MEASURE_TABS = ("open", "overdue", "done", "verified", "cancelled")


def _measure_tab_q(tab: str, today: dt.date) -> Q:
    return {"open": Q(state=M.OPEN, due_on__gte=today), "overdue": Q(state=M.OPEN, due_on__lt=today),
            "done": Q(state=M.DONE), "verified": Q(state=M.VERIFIED), "cancelled": Q(state=M.CANCELLED)}[tab]


def overdue_measures(*, user: Any | None = None, today: dt.date | None = None,
                     institution: Any | None = None) -> QuerySet[ImprovementMeasure]:
    """Open measures whose due date has passed, the longest overdue first: the user's visible ones, or every one
    (for a sweep or the interview process's escalation) when no user is given; of one institution if asked."""
    today = today or timezone.localdate()
    measures = visible_improvement_measures(user) if user is not None else ImprovementMeasure.objects.select_related(
        "report__region", "owner_institution__region")
    measures = measures.filter(_measure_tab_q("overdue", today))
    if institution is not None:
        measures = measures.filter(owner_institution=institution)
    return measures.order_by("due_on", "set_at", "pk")


def measures_by_tab(*, user: Any, tab: str, today: dt.date | None = None, mine: bool = False
                    ) -> QuerySet[ImprovementMeasure]:
    """The user's visible measures in ``tab`` (open and not yet due, overdue, done awaiting verification,
    verified, cancelled); ``mine``: only those owned by an institution where the user is a member."""
    today = today or timezone.localdate()
    measures = visible_improvement_measures(user).filter(_measure_tab_q(tab, today))
    if mine:
        measures = measures.filter(owner_institution__in=Membership.objects.filter(
            user=user, is_active=True).values("institution_id"))
    return measures.select_related("set_by", "done_by").order_by("due_on", "set_at", "pk")


def measure_counts_by_institution(*, user: Any, today: dt.date | None = None, mine: bool = False
                                  ) -> list[dict[str, Any]]:
    """Per owner institution (most overdue first): its name and how many measures are in each tab."""
    today = today or timezone.localdate()
    rows: dict[Any, dict[str, Any]] = {}
    for tab in MEASURE_TABS:
        for inst_id, name, n in measures_by_tab(user=user, tab=tab, today=today, mine=mine).order_by().values_list(
                "owner_institution_id", "owner_institution__name").annotate(n=Count("pk")):
            row = rows.setdefault(inst_id, {"id": inst_id, "name": name, **{t: 0 for t in MEASURE_TABS}})
            row[tab] = n
    return sorted(rows.values(), key=lambda r: (-r["overdue"], -r["open"], -r["done"], r["name"]))


def measure_tab_counts(*, user: Any, today: dt.date | None = None, mine: bool = False) -> dict[str, int]:
    today = today or timezone.localdate()
    return {tab: measures_by_tab(user=user, tab=tab, today=today, mine=mine).count() for tab in MEASURE_TABS}
