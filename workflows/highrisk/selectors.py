"""The high-risk process's reads: the clinician's worklist (its tabs and counts), the register's filters, the
danger order, a case's timeline, the places and doctors a step may name, and the home-page counts. The pages and
the API (api.py) both read through them. The county's late-work overview reads across processes:
workflows/registers/selectors.py."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from cases.models import CaseTransfer, FollowUpVisit, HighRiskCase, Tracing, danger_rank_expression
from cases.selectors import visible_highrisk_cases
from notifications.selectors import alert_timeline_events
from organisations.models import OBSTETRIC_ROLES, Institution, User
from organisations.reasons import reason_display
from organisations.selectors import acting_institutions
from workflows.registers import selectors as overdue

DELIVERING = [Institution.Kind.MIDWIFERY_HOSPITAL, Institution.Kind.MCH_INSTITUTE]
# The worklist's tabs, in the page's order ("transfers": the cases whose transfer awaits the user's answer).
WORKLIST_TABS = ("mine", "today", "week", "overdue", "tracing", "unreported", "transfers")


def danger_ordered(qs: QuerySet[HighRiskCase], today: dt.date) -> QuerySet[HighRiskCase]:
    """Red, then orange, then purple only; within each, overdue before due, then by due date.

    Ordering by the due date puts the overdue (earlier) visits first without a term that depends on
    ``today``, so the case_register_danger_idx and case_danger_idx indexes give the order."""
    return qs.annotate(danger=danger_rank_expression()).order_by(
        "danger", F("next_visit_at").asc(nulls_last=True), "opened_at")


def delivering_places(case: HighRiskCase) -> QuerySet[Institution]:
    """Where the case may plan her delivery or move: the active delivering institutions of its province."""
    return Institution.objects.filter(is_active=True, kind__in=DELIVERING,
                                      region__province_id=case.institution.region.province_id).order_by(
        "-level", "region_id", "name")


def case_doctors(institution: Institution) -> QuerySet[User]:
    """The active obstetric doctors of ``institution`` (a case's responsible doctor is one of them)."""
    return User.objects.filter(is_active=True, memberships__institution=institution, memberships__is_active=True,
                               memberships__role__in=OBSTETRIC_ROLES).distinct().order_by("name", "username")


def transfer_awaiting(*, user: Any, case: HighRiskCase) -> CaseTransfer | None:
    """The transfer of this case whose open answer task is in ``user``'s inbox."""
    from workflows.highrisk.flows import transfers_awaiting

    return transfers_awaiting(user).filter(case=case).select_related("to_institution").first()


def worklist_filters(today: dt.date) -> dict[str, Q]:
    """The worklist's tabs over the cases of the doctor's institutions (besides "mine")."""
    open_tracing = Tracing.objects.filter(case=OuterRef("pk"), status=Tracing.Status.OPEN)
    return {
        "today": Q(next_visit_at=today),
        "week": Q(next_visit_at__gte=today, next_visit_at__lte=today + dt.timedelta(days=7)),
        "overdue": Q(next_visit_at__lt=today),
        "tracing": Q(Exists(open_tracing)),
        "unreported": Q(state=HighRiskCase.State.OPENED),
    }


def worklist_querysets(*, user: Any) -> tuple[QuerySet[HighRiskCase], QuerySet[HighRiskCase]]:
    """(the doctor's own open cases, the open cases of the institutions where she manages cases)."""

    mine = visible_highrisk_cases(user).filter(responsible_doctor=user, state__in=HighRiskCase.OPEN_STATES)
    institution_cases = visible_highrisk_cases(user).filter(institution__in=acting_institutions(user, OBSTETRIC_ROLES),
                                                            state__in=HighRiskCase.OPEN_STATES)
    return mine, institution_cases


def worklist_tab(*, user: Any, tab: str, today: dt.date) -> QuerySet[HighRiskCase]:
    """The cases of one worklist tab (``WORKLIST_TABS``), unordered."""
    from workflows.highrisk.flows import transfers_awaiting

    if tab == "transfers":
        return visible_highrisk_cases(user).filter(pk__in=transfers_awaiting(user).values("case_id"))
    mine, institution_cases = worklist_querysets(user=user)
    if tab == "mine":
        return mine
    return institution_cases.filter(worklist_filters(today)[tab])


def register_filter(qs: QuerySet[HighRiskCase], data: Mapping[str, Any]) -> QuerySet[HighRiskCase]:
    """The register's filters (``RegisterFilterForm``'s cleaned data): open cases unless a ``state`` (or "all")
    is chosen, ``colour``, ``purple`` yes/no, ``institution``, a name in ``q``, and ``overdue``
    (any/report/visit)."""
    state = data.get("state") or ""
    if state == "":
        qs = qs.filter(state__in=HighRiskCase.OPEN_STATES)
    elif state != "all":
        qs = qs.filter(state=state)
    if data.get("colour"):
        qs = qs.filter(colour=data["colour"])
    if data.get("purple") == "yes":
        qs = qs.filter(purple=True)
    elif data.get("purple") == "no":
        qs = qs.filter(purple=False)
    if data.get("institution"):
        qs = qs.filter(institution=data["institution"])
    if data.get("q"):
        qs = qs.filter(pregnancy__woman__name__icontains=data["q"])
    if data.get("overdue") in overdue.OVERDUE_CHOICES:
        now = timezone.now()
        qs = qs.filter(overdue.overdue_case_q(data["overdue"], now=now, today=timezone.localdate(now)))
    return qs


def case_timeline(case: HighRiskCase) -> list[dict[str, Any]]:
    """Assessments, visits, plans, transfers, tracing, alerts and transitions, newest first."""
    events: list[dict[str, Any]] = []
    for record in case.history.select_related("history_user").order_by("history_date"):
        events.append({"at": record.history_date, "kind": "transition", "who": record.history_user,
                       "what": record.get_state_display(), "why": reason_display(record.history_change_reason)})
    for a in case.pregnancy.assessments.select_related("assessor", "institution"):
        events.append({"at": a.assessed_at, "kind": "assessment", "who": a.assessor, "what": a.get_stage_display(),
                       "colour": a.colour, "purple": a.purple, "why": a.override_reason,
                       "detail": "；".join(f"{row['code']} {row['text']}" for row in a.matched),
                       "voided": a.status == "voided"})
    for v in case.visits.select_related("done_by"):
        if v.status == FollowUpVisit.Status.DONE:
            events.append({"at": v.done_at, "kind": "visit", "who": v.done_by, "what": _("Visit"),
                           "detail": v.findings})
    for p in case.plans.select_related("author", "rescue_centre__institution"):
        events.append({"at": p.written_at, "kind": "plan", "who": p.author, "what": p.get_kind_display(),
                       "detail": p.text, "centre": p.rescue_centre})
    for t in case.transfers.select_related("requested_by", "decided_by", "from_institution", "to_institution"):
        events.append({"at": t.requested_at, "kind": "transfer", "who": t.requested_by,
                       "what": f"{t.from_institution.name} → {t.to_institution.name}", "detail": t.reason,
                       "why": t.get_status_display() + (f"：{t.reject_reason}" if t.reject_reason else "")})
    for tracing in case.tracings.prefetch_related("attempts__by"):
        for attempt in tracing.attempts.all():
            events.append({"at": attempt.at, "kind": "tracing", "who": attempt.by, "what": attempt.get_method_display(),
                           "detail": attempt.note})
    events += alert_timeline_events(case)
    events.sort(key=lambda e: e["at"], reverse=True)
    return events


def worklist_counts(*, user: Any, today: dt.date) -> dict[str, int]:
    """The worklist's tab counts: "mine", then the institution's tabs in one pass over its open cases (a
    COUNT per tab read a date index over the whole table for "overdue" and joined every tracing for
    "tracing": 70 and 45 ms at 1,000,000 cases, benchmarks/worklists.py)."""
    mine, institution_cases = worklist_querysets(user=user)
    return {"mine": mine.count(), **institution_cases.aggregate(
        **{name: Count("pk", filter=test) for name, test in worklist_filters(today).items()})}


def home_panels(*, user: Any) -> dict[str, Any]:
    """The home page's counts of a case doctor's own worklist (a HOME_PANELS hook)."""
    from django.utils import timezone

    if not acting_institutions(user, OBSTETRIC_ROLES):
        return {}
    return {"worklist_counts": worklist_counts(user=user, today=timezone.localdate())}
