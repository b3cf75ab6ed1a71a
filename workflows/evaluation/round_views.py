"""Pages of the evaluation rounds: the rounds (with a form to open one), a round (its submissions, ranking, the
re-check samples, the xlsx export) and a submission (its scores, visits and the step open to the reader).
Reads through the scoped selectors in ``cases.selectors``; writes through ``workflows/evaluation/services.py``."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext

from cases.models import EvaluationIndicator, EvaluationRound, EvaluationSubmission, SelfInspectionReport
from cases.selectors import visible_evaluation_rounds, visible_evaluation_submissions
from organisations.http import ActionDenied, get_visible_or_404
from organisations.models import Membership, Region
from organisations.spreadsheets import xlsx_response
from workflows.evaluation import permissions as p
from workflows.evaluation import services as svc

S = EvaluationSubmission.State
LEVEL_CHOICES = [(Region.Level.COUNTY, gettext_lazy("Counties")), (Region.Level.CITY, gettext_lazy("Cities")),
                 (Region.Level.PROVINCE, gettext_lazy("The province"))]


class OpenRoundForm(forms.Form):
    province = forms.ModelChoiceField(label=gettext_lazy("Province"), queryset=Region.objects.none())
    year = forms.IntegerField(label=gettext_lazy("Data year"), min_value=2000, max_value=2100)
    level = forms.ChoiceField(label=gettext_lazy("Level evaluated"), choices=LEVEL_CHOICES,
                              initial=Region.Level.COUNTY)

    def __init__(self, *args: Any, provinces: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["province"].queryset = provinces  # type: ignore[attr-defined]
        # A province's officer opens her own province's rounds: it is chosen for her (an empty choice looked
        # like a button that did nothing when the browser refused the form).
        if len(provinces) == 1:
            self.fields["province"].initial = provinces[0].pk
            self.fields["province"].empty_label = None  # type: ignore[attr-defined]
        self.fields["year"].initial = timezone.localdate().year - 1


def _opener_provinces(user: Any) -> Any:
    if user.is_superuser:
        return Region.objects.filter(level=Region.Level.PROVINCE)
    codes = Membership.objects.filter(user=user, is_active=True, institution__is_active=True,
                                      role__in=p.OPENER_ROLES, institution__region__level=Region.Level.PROVINCE
                                      ).values("institution__region_id")
    return Region.objects.filter(pk__in=codes)


def _errors(exc: ValidationError) -> list[str]:
    if hasattr(exc, "error_dict"):
        return [message for messages_ in exc.message_dict.values() for message in messages_]
    return list(exc.messages)


@login_required
def rounds(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    provinces = _opener_provinces(user)
    form = OpenRoundForm(request.POST or None, provinces=provinces) if provinces.exists() else None
    problems: list[str] = []
    if request.method == "POST":
        if form is None:
            raise ActionDenied(_("Only a province's bureau officers and system administrator open its rounds."))
        if form.is_valid():
            try:
                round_ = svc.round_open(by=user, **form.cleaned_data)
            except ValidationError as exc:
                problems = _errors(exc)
            else:
                messages.success(request, _("The round is open: every subject is asked to self-evaluate."))
                return redirect("evaluation:round", pk=round_.pk)
    visible = visible_evaluation_submissions(user)
    rows = []
    for round_ in visible_evaluation_rounds(user).order_by("-year", "province_id", "level"):
        mine = visible.filter(round=round_)
        rows.append({"round": round_, "total": mine.count(),
                     "submitted": mine.exclude(state=S.DRAFT).count(),
                     "evaluated": mine.filter(state__in=EvaluationSubmission.EVALUATED_STATES).count()})
    status = 422 if request.method == "POST" else 200
    return render(request, "evaluation/rounds.html", {"rows": rows, "form": form, "problems": problems},
                  status=status)


def _round_rows(user: Any, round_: EvaluationRound) -> list[EvaluationSubmission]:
    return list(visible_evaluation_submissions(user).filter(round=round_).order_by("subject", "region_id"))


@login_required
def round_detail(request: HttpRequest, pk: Any) -> HttpResponse:
    user: Any = request.user
    round_ = get_visible_or_404(visible_evaluation_rounds(user), pk=pk)
    submissions = _round_rows(user, round_)
    evaluators = sorted({s.evaluator for s in submissions if s.subject == "system" and s.evaluator is not None
                         and p.may_evaluate(user, s)}, key=lambda r: r.code)
    samples = {s.evaluator_id: s for s in round_.samples.all()}
    return render(request, "evaluation/round.html", {
        "round": round_, "submissions": submissions, "ranking": svc.ranking(submissions),
        "may_close": round_.state == EvaluationRound.State.OPEN and p.may_open_round(user, round_.province),
        "waiting": svc.waiting_for_result(visible_evaluation_submissions(user).filter(round=round_)).count(),
        "samples": [samples[e.code] for e in evaluators if e.code in samples],
        "to_draw": [e for e in evaluators if e.code not in samples]})


@login_required
def round_sample(request: HttpRequest, pk: Any) -> HttpResponse:
    user: Any = request.user
    round_ = get_visible_or_404(visible_evaluation_rounds(user), pk=pk)
    if request.method != "POST":
        raise Http404(_("Not found."))
    evaluator = Region.objects.filter(pk=request.POST.get("evaluator", "")).first()
    if evaluator is None:
        raise Http404(_("Not found."))
    try:
        svc.sample_draw(round_=round_, evaluator=evaluator, by=user)
    except ValidationError as exc:
        for message in _errors(exc):
            messages.error(request, message)
    else:
        messages.success(request, _("The sample is drawn: the areas drawn are re-checked on site."))
    return redirect("evaluation:round", pk=round_.pk)


@login_required
def round_close(request: HttpRequest, pk: Any) -> HttpResponse:
    user: Any = request.user
    round_ = get_visible_or_404(visible_evaluation_rounds(user), pk=pk)
    if request.method != "POST":
        raise Http404(_("Not found."))
    try:
        svc.round_close(round_=round_, by=user)
    except ValidationError as exc:
        for message in _errors(exc):
            messages.error(request, message)
    else:
        messages.success(request, _("The round is closed: its results and ranking are final."))
    return redirect("evaluation:round", pk=round_.pk)


@login_required
def round_export(request: HttpRequest, pk: Any) -> HttpResponse:
    from openpyxl import Workbook

    user: Any = request.user
    round_ = get_visible_or_404(visible_evaluation_rounds(user), pk=pk)
    book = Workbook()
    sheet = book.active
    sheet.title = _("Submissions")[:31]
    sheet.append([pgettext("evaluation", "Subject"), _("Area"), _("State"), _("Score"), _("Points available"), _("Share (%)"),
                  _("Targets met"), _("Targets judged"), _("Re-checked on site"), _("Reason for the result")])
    for s in _round_rows(user, round_):
        sheet.append([s.subject_name, s.region.name, s.get_state_display(), s.total, s.available, s.share,
                      s.met_count, s.judged_count, _("yes") if s.on_site else _("no"), s.result_reason])
    scores = book.create_sheet(_("Scores")[:31])
    scores.append([pgettext("evaluation", "Subject"), _("No."), _("Indicator"), _("Computed value"), _("Previous year's value"),
                   _("Self-evaluation value"), _("Evidence"), _("Evaluator's value"),
                   _("Reason for the evaluator's value"), _("Target met"), _("Points")])
    for s in _round_rows(user, round_):
        for score in s.scores.select_related("indicator"):
            scores.append([s.subject_name, score.indicator.number, score.indicator.name, score.computed_value,
                           score.previous_value, score.self_value, score.evidence, score.evaluator_value,
                           score.override_reason, "—" if score.met is None else _("yes") if score.met else _("no"),
                           score.points])
    return xlsx_response(book, stem=f"evaluation-{round_.province_id}-{round_.year}-{round_.level}")


# --- A submission ---------------------------------------------------------------------------------------------

class VisitForm(forms.Form):
    visited_on = forms.DateField(label=gettext_lazy("Visited on"),
                                 widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    unannounced = forms.BooleanField(label=gettext_lazy("Unannounced (四不两直)"), required=False, initial=True)
    evaluators = forms.CharField(label=gettext_lazy("Evaluators"), max_length=300)
    findings = forms.CharField(label=gettext_lazy("Findings"), widget=forms.Textarea(attrs={"rows": 3}))


def _submission(request: HttpRequest, pk: Any) -> EvaluationSubmission:
    return get_visible_or_404(visible_evaluation_submissions(request.user), pk=pk)


def number_text(value: Decimal | None) -> str:
    """A stored value without its trailing zeros (96, not 96.0000); empty for none."""
    return "" if value is None else f"{value.normalize():f}"


def shown(indicator: Any, value: Decimal | None) -> str:
    """A value as the page shows it: 是/否 for a yes/no target, a number without trailing zeros, — for none."""
    if value is None:
        return "—"
    if indicator.target_type == EvaluationIndicator.TargetType.YES_NO:
        return _("yes") if value else _("no")
    return number_text(value)


def _scores(submission: EvaluationSubmission) -> list[Any]:
    scores = list(submission.scores.select_related("indicator__section").order_by("indicator__order"))
    for s in scores:
        s.self_shown = shown(s.indicator, s.self_value)  # type: ignore[attr-defined]
        s.evaluator_shown = shown(s.indicator, s.evaluator_value)  # type: ignore[attr-defined]
        s.computed_shown = shown(s.indicator, s.computed_value)  # type: ignore[attr-defined]
        s.previous_shown = shown(s.indicator, s.previous_value)  # type: ignore[attr-defined]
        s.self_input = number_text(s.self_value)  # type: ignore[attr-defined]
        s.evaluator_input = number_text(s.evaluator_value)  # type: ignore[attr-defined]
    return scores


def _context(user: Any, submission: EvaluationSubmission) -> dict[str, Any]:
    may_self, may_evaluate = p.may_self_evaluate(user, submission), p.may_evaluate(user, submission)
    state = submission.state
    return {
        "submission": submission, "round": submission.round,
        "scores": _scores(submission),
        "visits": list(submission.visits.select_related("recorded_by")),
        "totals": svc.totals(submission),
        "history": list(submission.history.select_related("history_user").order_by("-history_date")[:30]),
        "self_open": may_self and state == S.DRAFT,
        "evaluate_open": may_evaluate and state == S.SUBMITTED,
        "rectify_open": may_evaluate and state == S.FAILED,
        "reevaluate_open": may_evaluate and state == S.RECTIFYING,
        "restore_open": may_evaluate and state == S.DELISTED,
        "visit_open": may_evaluate and state in (S.SUBMITTED, S.RECTIFYING),
        "visit_form": VisitForm(initial={"visited_on": timezone.localdate(), "unannounced": True}),
        "report": svc._self_report(submission) if submission.subject == "system" else None,
        "draft_report": SelfInspectionReport.objects.filter(
            region=submission.region, year=submission.round.year, kind=SelfInspectionReport.Kind.SELF_EVALUATION,
            state=SelfInspectionReport.State.DRAFT).first() if submission.subject == "system" else None,
    }


@login_required
def submission_detail(request: HttpRequest, pk: Any) -> HttpResponse:
    submission = _submission(request, pk)
    return render(request, "evaluation/submission.html", _context(request.user, submission))


def _bool(value: Any) -> bool | None:
    return {"yes": True, "no": False}.get(str(value or ""))


ACTIONS = ("enter", "submit", "return", "evaluate", "recompute", "visit", "decide", "rectify", "reevaluate",
           "restore")


@login_required
def submission_act(request: HttpRequest, pk: Any, action: str) -> HttpResponse:
    """Every step of a submission, posted from its page: the service decides who may and when."""
    user: Any = request.user
    if request.method != "POST" or action not in ACTIONS:
        raise Http404(_("Not found."))
    submission = _submission(request, pk)
    data = request.POST
    problems: list[str] = []
    visit_form = None
    try:
        if action in ("enter", "evaluate"):
            score = get_visible_or_404(submission.scores.all(), pk=data.get("score", ""))
            if action == "enter":
                svc.score_enter(score=score, by=user, value=data.get("value", ""), evidence=data.get("evidence", ""))
            else:
                svc.score_evaluate(score=score, by=user, value=data.get("value", ""), reason=data.get("reason", ""),
                                   evidence_checked=_bool(data.get("evidence_checked")))
        elif action == "submit":
            svc.submission_submit(submission=submission, by=user, summary=data.get("summary", ""))
        elif action == "return":
            svc.submission_return(submission=submission, by=user, reason=data.get("reason", ""))
        elif action == "recompute":
            svc.submission_recompute(submission=submission, by=user)
        elif action == "visit":
            visit_form = VisitForm(data)
            if not visit_form.is_valid():
                raise ValidationError({name: list(errors) for name, errors in visit_form.errors.items()})
            svc.visit_record(submission=submission, by=user, **visit_form.cleaned_data)
        elif action == "decide":
            passed = _bool(data.get("result"))
            if passed is None:
                raise ValidationError({"result": [_("Choose the result.")]})
            svc.submission_decide(submission=submission, by=user, passed=passed, reason=data.get("reason", ""))
        elif action == "rectify":
            svc.submission_rectify(submission=submission, by=user, requirements=data.get("requirements", ""))
        elif action == "reevaluate":
            passed = _bool(data.get("result"))
            if passed is None:
                raise ValidationError({"result": [_("Choose the result.")]})
            svc.submission_reevaluate(submission=submission, by=user, passed=passed,
                                      findings=data.get("findings", ""))
        elif action == "restore":
            svc.submission_restore(submission=submission, by=user, reason=data.get("reason", ""))
    except ValidationError as exc:
        problems = _errors(exc)
    if problems:
        submission.refresh_from_db()
        context = _context(user, submission)
        if visit_form is not None:
            context["visit_form"] = visit_form
        return render(request, "evaluation/submission.html", {**context, "problems": problems, "posted": data},
                      status=422)
    messages.success(request, _("Saved."))
    return redirect("evaluation:submission", pk=submission.pk)
