"""The case summary that writes itself (孕产妇死亡评审 · 个案摘要): from the records a death report links to (her
pregnancy, its high-risk case, its referrals), one timeline in time order of every screening, assessment and
colour, case event, plan, follow-up visit done or missed, tracing, case transfer, referral step (request,
answer, escalation, departure, arrival, treatment, outcome), emergency caesarean (DDI), consultation,
near-miss check, the delivery and the death; and the alerts raised on those records with who acknowledged
each and when. Each entry carries the intervals reviewers used to work out by hand from paper: minutes to
answer, transport minutes, arrival to treatment, a visit's days overdue, the DDI, minutes to acknowledge.

Read-only, and de-identified: the woman is "本例" (the case); free text typed by clinicians goes through
``Redactor``, which takes out her name, document number, phone and address and any run of digits long
enough to be a personal number. Staff and institutions are named: reviewers judge the care, not the woman.

A fixed number of queries whatever the number of events (one per kind of record, one for the alerts).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cases.models import (
    Assessment,
    AssessmentReferral,
    CaseTransfer,
    Colour,
    Consultation,
    ContinuationEvaluation,
    DeathReport,
    Delivery,
    EmergencyCaesarean,
    FollowUpVisit,
    HighRiskCase,
    NearMiss,
    Pregnancy,
    Referral,
    Screening,
    Tracing,
)
from cases.nearmiss import BY_CODE
from notifications.kinds import kind_label
from notifications.models import Alert

TEXT_MAX = 240
# A personal number inside free text: a phone, a document number (digits, spaces or dashes, an X at the end).
NUMBER_RUN = re.compile(r"\d[\d\s-]{5,}\d[Xx]?")


class Redactor:
    """Takes the woman's identity out of free text: her name becomes "本例", her numbers and address "***"."""

    def __init__(self, report: DeathReport) -> None:
        woman = report.woman
        self.case_word = _("the case")
        self.names = [n for n in {woman.name} if n]
        self.secrets = sorted({s for s in (woman.id_number, woman.phone, report.residence_address,
                                           report.card_number) if s and len(s) >= 3}, key=len, reverse=True)

    def __call__(self, text: str | None, limit: int = TEXT_MAX) -> str:
        text = (text or "").strip()
        if not text:
            return ""
        for secret in self.secrets:
            text = text.replace(secret, "***")
        for name in self.names:
            text = text.replace(name, self.case_word)
        text = NUMBER_RUN.sub("***", text)
        return text if len(text) <= limit else text[: limit - 1] + "…"


@dataclass
class Entry:
    at: dt.datetime
    kind: str
    title: str
    text: str = ""
    institution: str = ""
    by: str = ""
    colour: str = ""
    intervals: dict[str, int] = field(default_factory=dict)
    late: bool = False
    date_only: bool = False
    acknowledged_by: str = ""
    acknowledged_at: dt.datetime | None = None
    priority: str = ""

    @property
    def priority_label(self) -> str:
        return str(Alert.Priority(self.priority).label) if self.priority in Alert.Priority.values else ""

    @property
    def kind_label(self) -> str:
        return str(KIND_LABELS.get(self.kind, self.kind))

    @property
    def interval_rows(self) -> list[tuple[str, str]]:
        """The intervals as (label, "12 min") for the page."""
        return [(str(INTERVAL_LABELS[k][0]), f"{v} {INTERVAL_LABELS[k][1]}") for k, v in self.intervals.items()]


def _labels() -> dict[str, tuple[Any, Any]]:
    minutes, days = gettext_lazy("min"), gettext_lazy("days")
    return {
        "answer_minutes": (gettext_lazy("to answer"), minutes),
        "transport_minutes": (gettext_lazy("transport time"), minutes),
        "arrival_to_treatment_minutes": (gettext_lazy("arrival to treatment"), minutes),
        "overdue_days": (gettext_lazy("overdue"), days),
        "ddi_minutes": (gettext_lazy("DDI"), minutes),
        "ddi_target_minutes": (gettext_lazy("DDI target"), minutes),
        "ack_minutes": (gettext_lazy("to acknowledge"), minutes),
        "escalation_level": (gettext_lazy("escalation level"), ""),
    }


INTERVAL_LABELS = _labels()


def _kind_labels() -> dict[str, Any]:
    referral = gettext_lazy("Referral")
    return {
        "screening": gettext_lazy("Screening"), "assessment": gettext_lazy("Assessment"), "case": gettext_lazy("High-risk case"),
        "plan": gettext_lazy("Plan"), "visit": gettext_lazy("Visit"), "visit_missed": gettext_lazy("Missed visit"),
        "tracing": gettext_lazy("Tracing"), "transfer": gettext_lazy("Transfer"), "referral_request": referral,
        "referral_answer": referral, "referral_escalation": referral, "referral_departure": referral,
        "referral_arrival": referral, "referral_treatment": referral, "referral_outcome": referral,
        "ddi": gettext_lazy("DDI"), "consultation": gettext_lazy("Consultation"), "consultation_answer": gettext_lazy("Consultation"),
        "near_miss": gettext_lazy("Near miss"), "delivery": gettext_lazy("Delivery"), "death": gettext_lazy("Death"), "alert": gettext_lazy("Alert"),
    }


KIND_LABELS = _kind_labels()


def _minutes(start: dt.datetime | None, end: dt.datetime | None) -> int | None:
    if start is None or end is None:
        return None
    return max(0, round((end - start).total_seconds() / 60))


def _day_start(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(0, 0)))


def _name(obj: Any) -> str:
    return str(obj) if obj is not None else ""


def _colour_label(colour: str, purple: bool) -> str:
    label = str(Colour(colour).label) if colour in Colour.values else colour
    if purple and colour != Colour.PURPLE:
        label = f"{label} + {Colour.PURPLE.label}"
    return label


class _Builder:
    def __init__(self, report: DeathReport) -> None:
        self.report = report
        self.scrub = Redactor(report)
        self.entries: list[Entry] = []
        self.subjects: dict[type, list[Any]] = {}

    def add(self, entry: Entry) -> None:
        if entry.at is not None:
            self.entries.append(entry)

    def watch(self, model: type, pks: list[Any]) -> None:
        """Records whose alerts go on the timeline."""
        self.subjects.setdefault(model, []).extend(pks)

    # --- Process 1: screening and assessment ---

    def screening(self, pregnancy: Pregnancy) -> None:
        for s in Screening.objects.filter(pregnancy=pregnancy).select_related("institution"):
            text = (_("Positive: %(n)s items") % {"n": len(s.positive_items)} if s.positive else _("Negative"))
            self.add(Entry(s.screened_at, "screening", _("Risk screening"), text, s.institution.name))
        assessments = list(Assessment.objects.filter(pregnancy=pregnancy).select_related("institution", "assessor"))
        for a in assessments:
            codes = "、".join(str(row.get("code", "")) for row in a.matched if row.get("code"))
            text = codes
            if a.status == Assessment.Status.VOIDED:
                voided = _("Voided")
                text = f"{voided}: {self.scrub(a.void_reason)}"
            elif a.overridden:
                differs = _("graded differently from the table")
                text = f"{codes} · {differs}: {self.scrub(a.override_reason)}"
            self.add(Entry(a.assessed_at, "assessment", f"{a.get_stage_display()} · {_colour_label(a.colour, a.purple)}",
                           text, a.institution.name, by=_name(a.assessor), colour=a.colour))
        self.watch(Assessment, [a.pk for a in assessments])
        self.watch(AssessmentReferral, list(AssessmentReferral.objects.filter(pregnancy=pregnancy)
                                            .values_list("pk", flat=True)))
        self.watch(ContinuationEvaluation, list(ContinuationEvaluation.objects.filter(pregnancy=pregnancy)
                                                .values_list("pk", flat=True)))

    # --- Process 2: the high-risk case ---

    def case(self, case: HighRiskCase) -> None:
        self.watch(HighRiskCase, [case.pk])
        institution = case.institution.name
        previous = None
        # The time the step happened where the case keeps it, else when its row changed.
        step_times = {HighRiskCase.State.OPENED: case.opened_at, HighRiskCase.State.REPORTED: case.reported_at,
                      HighRiskCase.State.LOST: case.lost_at, HighRiskCase.State.DIED: case.died_at}
        for h in case.history.order_by("history_date", "history_id").only(
                "history_date", "state", "history_change_reason", "history_id"):
            if h.state != previous:
                at = step_times.get(h.state) or h.history_date
                self.add(Entry(at, "case", _("High-risk case: %(state)s") % {
                    "state": HighRiskCase.State(h.state).label}, institution=institution))
            previous = h.state
        for plan in case.plans.select_related("author", "rescue_centre__institution"):
            text = self.scrub(plan.text, 160)
            if plan.rescue_centre_id:
                text = _("%(text)s (with %(centre)s)") % {
                    "text": text, "centre": plan.rescue_centre.institution.name}  # type: ignore[union-attr]
            self.add(Entry(plan.written_at, "plan", plan.get_kind_display(), text, institution, by=_name(plan.author)))
        end = timezone.localdate(self.report.died_at)
        visits = list(case.visits.select_related("institution", "done_by"))
        for v in visits:
            if v.status == FollowUpVisit.Status.DONE and v.done_at:
                late = (timezone.localdate(v.done_at) - v.due_on).days
                self.add(Entry(v.done_at, "visit", _("Follow-up visit done"), self.scrub(v.findings, 160),
                               v.institution.name if v.institution else institution, by=_name(v.done_by),
                               intervals={"overdue_days": late} if late > 0 else {}, late=late > 0))
            elif v.status in (FollowUpVisit.Status.MISSED, FollowUpVisit.Status.SCHEDULED) and v.due_on < end:
                self.add(Entry(_day_start(v.due_on), "visit_missed", _("Follow-up visit missed"),
                               _("due %(date)s") % {"date": v.due_on.isoformat()}, institution,
                               intervals={"overdue_days": (end - v.due_on).days}, late=True, date_only=True))
        self.watch(FollowUpVisit, [v.pk for v in visits])
        tracings = list(Tracing.objects.filter(case=case).prefetch_related("attempts__by"))
        for t in tracings:
            self.add(Entry(t.opened_at, "tracing", _("Tracing opened after a missed visit"), institution=institution))
            for attempt in t.attempts.all():
                self.add(Entry(attempt.at, "tracing", attempt.get_method_display(),
                               _("reached") if attempt.reached else _("not reached"), institution,
                               by=_name(attempt.by)))
            if t.closed_at:
                self.add(Entry(t.closed_at, "tracing", _("Tracing: %(status)s") % {"status": t.get_status_display()},
                               self.scrub(t.outcome, 160), institution))
        self.watch(Tracing, [t.pk for t in tracings])
        transfers = list(CaseTransfer.objects.filter(case=case).select_related("from_institution", "to_institution"))
        for tr in transfers:
            self.add(Entry(tr.requested_at, "transfer", _("Case transfer requested"),
                           f"{tr.from_institution.name} → {tr.to_institution.name} · {tr.get_status_display()}",
                           tr.from_institution.name))
        self.watch(CaseTransfer, [tr.pk for tr in transfers])

    # --- The routine record: her delivery (the card's own delivery time, when given, is shown by death()) ---

    def delivery(self, pregnancy_id: Any) -> None:
        if self.report.delivered_at:
            return
        d = Delivery.objects.filter(pregnancy_id=pregnancy_id).select_related("institution").first()
        if d is not None:
            self.add(Entry(d.delivered_at, "delivery", _("Delivery"), d.get_mode_display(),
                           d.institution.name if d.institution is not None else d.get_place_display()))

    # --- Process 3: referrals, consultations, near misses, emergency caesareans ---

    def referrals(self, referrals: list[Referral]) -> None:
        self.watch(Referral, [r.pk for r in referrals])
        escalations = _escalations(referrals)
        for r in referrals:
            sender, centre = r.from_institution.name, r.to_centre.institution.name
            self.add(Entry(r.requested_at, "referral_request", _("Referral requested: %(urgency)s") % {
                "urgency": r.get_urgency_display()},
                f"→ {centre} · {self.scrub(r.diagnosis, 120)} · {self.scrub(r.reason, 120)}", sender,
                by=_name(r.requested_by), colour=r.colour))
            if r.answered_at:
                answer = {Referral.State.DECLINED: _("Referral declined"),
                          Referral.State.REDIRECTED: _("Referral redirected")}.get(r.state, _("Referral accepted"))
                if r.decline_reason:
                    answer = _("Referral declined")
                minutes = _minutes(r.requested_at, r.answered_at)
                self.add(Entry(r.answered_at, "referral_answer", answer,
                               self.scrub(r.decline_reason or r.redirect_reason or r.receiving_team, 160), centre,
                               by=_name(r.answered_by), intervals={"answer_minutes": minutes or 0},
                               late=r.answered_at > r.response_due_at))
            for at, level, upper in escalations.get(r.pk, []):
                self.add(Entry(at, "referral_escalation", _("Referral unanswered: escalated"),
                               upper, centre, intervals={"escalation_level": level}, late=True))
            if r.departed_at:
                self.add(Entry(r.departed_at, "referral_departure", _("Departed"),
                               f"{r.get_transport_display()}", sender))
            if r.arrived_at:
                transport = _minutes(r.departed_at, r.arrived_at)
                self.add(Entry(r.arrived_at, "referral_arrival", _("Arrived at the centre"), "", centre,
                               intervals={"transport_minutes": transport} if transport is not None else {}))
            if r.treatment_started_at:
                self.add(Entry(r.treatment_started_at, "referral_treatment", _("Treatment started"), "", centre,
                               intervals={"arrival_to_treatment_minutes": _minutes(r.arrived_at,
                                                                                   r.treatment_started_at) or 0}))
            if r.outcome_at:
                self.add(Entry(r.outcome_at, "referral_outcome", _("Referral outcome: %(outcome)s") % {
                    "outcome": r.get_outcome_display()}, self.scrub(r.outcome_note, 200), centre))
            if r.state == Referral.State.CANCELLED and r.closed_at:
                self.add(Entry(r.closed_at, "referral_outcome", _("Referral cancelled"), self.scrub(r.cancel_reason),
                               sender))

    def registers(self, pregnancy: Pregnancy) -> None:
        caesareans = list(EmergencyCaesarean.objects.filter(pregnancy=pregnancy).select_related("institution"))
        for c in caesareans:
            self.add(Entry(c.decision_at, "ddi", _("Emergency caesarean"), self.scrub(c.note, 160), c.institution.name,
                           intervals={"ddi_minutes": c.ddi_minutes, "ddi_target_minutes": c.target_minutes},
                           late=c.over_target))
        self.watch(EmergencyCaesarean, [c.pk for c in caesareans])
        consultations = list(Consultation.objects.filter(pregnancy=pregnancy).select_related(
            "from_institution", "to_centre__institution", "to_expert", "answered_by", "requested_by"))
        for c in consultations:
            to = c.to_centre.institution.name if c.to_centre_id else _name(c.to_expert)  # type: ignore[union-attr]
            self.add(Entry(c.requested_at, "consultation", _("Consultation requested: %(mode)s, %(urgency)s") % {
                "mode": c.get_mode_display(), "urgency": c.get_urgency_display()},
                f"→ {to} · {self.scrub(c.question, 160)}", c.from_institution.name, by=_name(c.requested_by)))
            if c.answered_at:
                self.add(Entry(c.answered_at, "consultation_answer", _("Consultation answered"),
                               self.scrub(c.answer, 160), to, by=_name(c.answered_by),
                               intervals={"answer_minutes": _minutes(c.requested_at, c.answered_at) or 0},
                               late=c.answered_at > c.response_due_at))
        self.watch(Consultation, [c.pk for c in consultations])
        checks = list(NearMiss.objects.filter(pregnancy=pregnancy).select_related("institution", "recorded_by"))
        for n in checks:
            criteria = "；".join(str(BY_CODE[code].text) if code in BY_CODE else code for code in n.criteria)
            self.add(Entry(n.recorded_at, "near_miss", _("Near-miss criteria") if n.criteria else
                           _("Near-miss checklist: no criterion"), criteria, n.institution.name,
                           by=_name(n.recorded_by), late=bool(n.criteria)))
        self.watch(NearMiss, [n.pk for n in checks])

    # --- The death ---

    def death(self) -> None:
        r = self.report
        if r.delivered_at:
            self.add(Entry(r.delivered_at, "delivery", _("Delivery"), r.get_delivery_mode_display(),
                           r.delivery_institution.name if r.delivery_institution_id else ""))  # type: ignore[union-attr]
        place = r.death_institution.name if r.death_institution_id else (r.get_death_place_display() or "")  # type: ignore[union-attr]
        self.add(Entry(r.died_at, "death", _("Death"), self.scrub(r.cause_a, 200), place))

    # --- The alerts on every record above ---

    def alerts(self) -> None:
        q = Q(pk__in=[])
        for model, pks in self.subjects.items():
            if pks:
                q |= Q(subject_type=ContentType.objects.get_for_model(model), subject_id__in=[str(pk) for pk in pks])
        groups: dict[Any, list[Alert]] = {}
        for alert in Alert.objects.filter(q).select_related("acknowledged_by", "institution").order_by("created_at"):
            groups.setdefault(alert.group, []).append(alert)
        for rows in groups.values():
            first = rows[0]
            acked = next((a for a in rows if a.acknowledged_at is not None), None)
            intervals: dict[str, int] = {}
            if first.escalation_level:
                intervals["escalation_level"] = first.escalation_level
            entry = Entry(first.created_at, "alert", kind_label(first.kind),
                          _("%(n)s recipients") % {"n": len(rows)},
                          first.institution.name if first.institution_id else "",  # type: ignore[union-attr]
                          priority=first.priority)
            if acked is not None:
                entry.acknowledged_at = acked.acknowledged_at
                entry.acknowledged_by = acked.closed_text
                # Minutes to acknowledge only when a person acknowledged it or took its step; an alert that
                # closed by itself (the woman died, the referral ended) was never answered.
                if acked.closed_reason in ("", Alert.CloseReason.ACKNOWLEDGED, Alert.CloseReason.HANDLED):
                    intervals["ack_minutes"] = _minutes(first.created_at, acked.acknowledged_at) or 0
            else:
                entry.acknowledged_by = _("never acknowledged")
                entry.late = first.priority == Alert.Priority.CRITICAL
            entry.intervals = intervals
            self.add(entry)


def _escalations(referrals: list[Referral]) -> dict[Any, list[tuple[dt.datetime, int, str]]]:
    """When each referral's escalation level rose (its history rows), and to which centre."""
    found: dict[Any, list[tuple[dt.datetime, int, str]]] = {}
    if not referrals:
        return found
    names = {r.pk: (r.escalated_to.institution.name if r.escalated_to_id else "") for r in referrals}  # type: ignore[union-attr]
    level: dict[Any, int] = {}
    for pk, at, lvl in Referral.history.filter(id__in=[r.pk for r in referrals]).order_by(
            "history_date", "history_id").values_list("id", "history_date", "escalation_level"):
        if lvl > level.get(pk, 0):
            found.setdefault(pk, []).append((at, lvl, names[pk]))
        level[pk] = lvl
    return found


def death_report_timeline(*, report: DeathReport) -> list[Entry]:
    """Everything Anmu recorded about the woman's care before (and up to) her death, oldest first."""
    builder = _Builder(report)
    pregnancy = report.pregnancy
    case = report.case
    if pregnancy is not None:
        builder.screening(pregnancy)
        if case is None:
            case = HighRiskCase.objects.filter(pregnancy=pregnancy).select_related("institution").first()
    if case is not None:
        builder.case(case)
    if pregnancy is not None or case is not None:
        builder.delivery(pregnancy.pk if pregnancy is not None else case.pregnancy_id)  # type: ignore[union-attr]
    referrals: list[Referral] = []
    if pregnancy is not None or report.referral_id:
        where = Q(pregnancy=pregnancy) if pregnancy is not None else Q(pk=report.referral_id)
        referrals = list(Referral.objects.filter(where).select_related(
            "from_institution", "to_centre__institution", "escalated_to__institution", "requested_by",
            "answered_by").order_by("requested_at"))
    builder.referrals(referrals)
    if pregnancy is not None:
        builder.registers(pregnancy)
    builder.death()
    builder.alerts()
    builder.entries.sort(key=lambda e: (e.at, e.kind == "alert"))
    return builder.entries


def referral_intervals(entries: list[Entry]) -> dict[str, int]:
    """The headline intervals of the case (the first of each kind): answer, transport, arrival to treatment."""
    found: dict[str, int] = {}
    for entry in entries:
        if entry.kind.startswith("referral_"):
            for key in ("answer_minutes", "transport_minutes", "arrival_to_treatment_minutes"):
                if key in entry.intervals:
                    found.setdefault(key, entry.intervals[key])
    return found
