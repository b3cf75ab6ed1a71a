"""Interviews proposed by Anmu (约谈触发规则): each province's active ``InterviewTrigger`` rows are evaluated
once a day (a self-renewing deadline row of the one engine, ensured by the sweep): what each rule counts in
its period, per institution of the province; where the count reaches the threshold, an interview is
proposed to the convening bureau with the records as evidence — once per rule, party and period."""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from typing import Any

from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone

from cases.models import (
    Avoidability,
    DeathReport,
    DeathReviewConclusion,
    ImprovementMeasure,
    Interview,
    InterviewTrigger,
    Referral,
)
from indicators.models import Indicator
from indicators.services import figures_by_area, figures_by_institution
from organisations.models import Institution, Region
from workflows.deadlines import deadline_create, deadline_handler
from workflows.interview import permissions as p
from workflows.interview.services.interview import interview_propose
from workflows.models import Deadline

__all__ = ["TRIGGERS_DUE", "interview_triggers_ensure", "interview_triggers_evaluate", "trigger_indicator_choices"]

TRIGGERS_DUE = "interview.triggers"
Evidence = list[dict[str, Any]]
K = InterviewTrigger.Kind


def _death_link(report: DeathReport) -> dict[str, Any]:
    return {"kind": "death", "id": str(report.pk), "label": report.review_number or str(report.pk)[:8],
            "url": reverse("death:detail", args=[report.pk])}


def _counted(trigger: InterviewTrigger, start: dt.datetime, now: dt.datetime) -> dict[Any, Evidence]:
    """The records the rule counts in its period, grouped by the institution concerned."""
    province = trigger.province_id
    found: dict[Any, Evidence] = defaultdict(list)
    if trigger.kind == K.AVOIDABLE_DEATH:
        rows = DeathReviewConclusion.objects.filter(
            avoidability__in=[Avoidability.AVOIDABLE, Avoidability.CONDITIONALLY], concluded_at__gte=start,
            concluded_at__lte=now, report__region__province_id=province).select_related("report")
        seen: set[Any] = set()
        for c in rows.order_by("concluded_at"):
            if c.report_id not in seen:
                seen.add(c.report_id)
                found[c.report.reporting_institution_id].append(_death_link(c.report))
    elif trigger.kind == K.LATE_DEATH_REPORT:
        rows = DeathReport.objects.filter(region__province_id=province, died_at__gte=start, died_at__lte=now).filter(
            Q(reported_at__gt=F("report_due_at")) | Q(reported_at__isnull=True, report_due_at__lt=now)).exclude(
            state=DeathReport.State.EXCLUDED)
        for report in rows.order_by("died_at"):
            found[report.reporting_institution_id].append(_death_link(report))
    elif trigger.kind == K.LATE_REFERRAL_ANSWERS:
        rows = Referral.objects.filter(to_centre__institution__region__province_id=province, requested_at__gte=start,
                                       requested_at__lte=now).filter(
            Q(answered_at__gt=F("response_due_at")) | Q(answered_at__isnull=True, response_due_at__lt=now)
        ).select_related("to_centre")
        for referral in rows.order_by("requested_at"):
            late = int(((referral.answered_at or now) - referral.response_due_at).total_seconds() // 60)
            found[referral.to_centre.institution_id].append({
                "kind": "referral", "id": str(referral.pk), "url": reverse("referral:detail", args=[referral.pk]),
                "label": f"{timezone.localtime(referral.requested_at):%Y-%m-%d %H:%M} +{late} min"})
    elif trigger.kind == K.OVERDUE_MEASURES:
        today = timezone.localdate(now)
        rows = ImprovementMeasure.objects.filter(state=ImprovementMeasure.State.OPEN, due_on__lt=today,
                                                 owner_institution__region__province_id=province)
        for measure in rows.order_by("due_on"):
            found[measure.owner_institution_id].append({
                "kind": "measure", "id": str(measure.pk), "url": reverse("death:measure", args=[measure.pk]),
                "label": f"{measure.text[:40]} ({measure.due_on:%Y-%m-%d})"})
    return found


def trigger_indicator_choices() -> list[tuple[str, str]]:
    """The indicators a rule may watch (registered into cases.models.interview.TRIGGER_INDICATOR_CHOICES)."""
    return [(i.code, f"{i.name_zh} · {i.name_en}") for i in Indicator.objects.filter(active=True)]


def _missed(figure: dict[str, Any] | None, threshold: int) -> bool:
    """The figure has a target it does not meet, on at least ``threshold`` in its denominator (a median: on
    at least ``threshold`` values); a plain count is judged as it stands."""
    if not figure or not figure.get("target") or figure["target"].get("met") is not False:
        return False
    base = figure.get("denominator") if figure.get("denominator") is not None else figure.get("count")
    return base is None or base >= threshold


def _figure_evidence(trigger: InterviewTrigger, name: str, where: str, figure: dict[str, Any],
                     start: dt.date, end: dt.date) -> dict[str, Any]:
    target = figure["target"]
    sign = "≥" if target["comparison"] == "gte" else "≤"
    counted = (f" · {figure['numerator']}/{figure['denominator']}" if figure.get("denominator") is not None
               else "")
    return {"kind": "figure", "id": f"{trigger.indicator}:{where}:{start:%Y%m%d}-{end:%Y%m%d}",
            "label": f"{name} {figure['value']} ({sign} {target['value']}){counted} · {start:%Y-%m-%d}–{end:%Y-%m-%d}"}


def _off_target(trigger: InterviewTrigger, now: dt.datetime) -> dict[Any, Evidence]:
    """Who missed the indicator's province target in the rule's period: each county (its bureau is the party)
    when the rule summons county bureaus, else each institution of the province, by the indicators' own
    attribution (population figures by residence, service figures by the serving institution)."""
    indicator = Indicator.objects.filter(code=trigger.indicator, active=True).first()
    if indicator is None:
        return {}
    end = timezone.localdate(now)
    start = end - dt.timedelta(days=trigger.period_days - 1)
    found: dict[Any, Evidence] = {}
    if trigger.party == InterviewTrigger.Party.COUNTY_BUREAU:
        bureaus = {b.region_id: b for b in Institution.objects.filter(
            kind=Institution.Kind.HEALTH_BUREAU, is_active=True, region__province_id=trigger.province_id,
            region__level=Region.Level.COUNTY).order_by("-name")}
        for city in Region.objects.filter(parent_id=trigger.province_id, level=Region.Level.CITY):
            for group in figures_by_area(region=city, date_from=start, date_to=end, now=now)["groups"]:
                figure = group["indicators"].get(indicator.code)
                bureau = bureaus.get(group["key"])
                if bureau is not None and _missed(figure, trigger.threshold):
                    found[bureau.pk] = [_figure_evidence(trigger, indicator.name_zh, str(group["key"]),
                                                         figure, start, end)]  # type: ignore[arg-type]
    else:
        province = Region.objects.get(pk=trigger.province_id)
        for group in figures_by_institution(region=province, date_from=start, date_to=end, now=now)["groups"]:
            figure = group["indicators"].get(indicator.code)
            if _missed(figure, trigger.threshold):
                found[uuid.UUID(str(group["key"]))] = [_figure_evidence(
                    trigger, indicator.name_zh, str(group["key"]), figure, start, end)]  # type: ignore[arg-type]
    return found


def _bureau_for(institution: Institution, convener: str) -> Institution | None:
    region = institution.region
    code = {InterviewTrigger.Convener.COUNTY: region.code if region.level == "county" else None,
            InterviewTrigger.Convener.CITY: region.city_id if region.level == "county" else (
                region.code if region.level == "city" else None),
            InterviewTrigger.Convener.PROVINCE: region.province_id or region.code}[InterviewTrigger.Convener(convener)]
    if not code:
        return None
    return Institution.objects.filter(region_id=code, kind=Institution.Kind.HEALTH_BUREAU, is_active=True).order_by(
        "name").first()


def interview_triggers_evaluate(*, now: dt.datetime | None = None) -> list[Interview]:
    """Propose the interviews the active rules call for (idempotent within a rule's period)."""
    now = now or timezone.now()
    made: list[Interview] = []
    for trigger in InterviewTrigger.objects.filter(is_active=True).select_related("province"):
        bucket = int(now.timestamp() // (trigger.period_days * 86400))
        start = now - dt.timedelta(days=trigger.period_days)
        on_figure = trigger.kind == K.INDICATOR_OFF_TARGET
        counted = _off_target(trigger, now) if on_figure else _counted(trigger, start, now)
        institutions = Institution.objects.in_bulk(list(counted))
        for institution_id, evidence in sorted(counted.items(), key=lambda item: str(item[0])):
            institution = institutions.get(institution_id)
            if institution is None or (not on_figure and len(evidence) < trigger.threshold):
                continue
            party = institution
            if trigger.party == InterviewTrigger.Party.COUNTY_BUREAU:
                party = _bureau_for(institution, InterviewTrigger.Convener.COUNTY) or institution
            bureau = _bureau_for(institution, trigger.convener)
            if bureau is None or not p.in_area_of(bureau, party):
                continue
            key = f"{trigger.pk}:{party.pk}:{bucket}"
            if Interview.objects.filter(trigger_key=key).exists():
                continue
            made.append(interview_propose(
                by=None, bureau=bureau, origin=Interview.Origin.RULE, trigger_key=key, evidence=evidence,
                subject=f"{trigger.get_kind_display()}：{institution.name}",
                reasons=(f"{trigger.get_kind_display()}：{evidence[0]['label']}" if on_figure else
                         f"{trigger.get_kind_display()}：{len(evidence)} / {trigger.period_days} ≥ {trigger.threshold}"),
                parties=[(party, list(trigger.summoned) or ["head"], "")]))
    return made


def _next_night(now: dt.datetime) -> dt.datetime:
    """02:00 local time after ``now``: the rules are counted when nobody is waiting on the server."""
    local = timezone.localtime(now)
    night = local.replace(hour=2, minute=0, second=0, microsecond=0)
    return night if night > local else night + dt.timedelta(days=1)


def interview_triggers_ensure(*, now: dt.datetime | None = None) -> bool:
    """The sweep's hook: one pending evaluation row exists, due at the coming night."""
    if Deadline.objects.filter(kind=TRIGGERS_DUE, state=Deadline.State.PENDING).exists():
        return False
    deadline_create(kind=TRIGGERS_DUE, due_at=_next_night(now or timezone.now()), reason="interview triggers: daily")
    return True


@deadline_handler(TRIGGERS_DUE)
def interview_triggers_fired(deadline: Any) -> None:
    interview_triggers_evaluate()
    deadline_create(kind=TRIGGERS_DUE, due_at=_next_night(timezone.now()), reason="interview triggers: daily")
