"""Pages of process 1, screening and assessment: screen, grade, void, continuation, the assessment worklist."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Case, IntegerField, Value, When
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from cases.models import Assessment, AssessmentReferral, ContinuationEvaluation
from cases.risk import ruleset_for_province
from cases.rules import screening_items, settings_for
from cases.selectors import visible_assessment_referrals, visible_pregnancies
from organisations.http import ActionDenied, get_visible_or_404
from organisations.models import Institution
from workflows.common import require_view_women
from workflows.forms import ReasonForm, apply_errors
from workflows.screening import permissions, services
from workflows.screening.forms import AssessmentForm, ContinuationForm, ScreeningForm


def _hospitals_for_assessment(institutions: list[Institution]) -> Any:
    """Secondary-or-higher facilities of the screening institutions' provinces, nearest first: the same
    county, then the same city, then the rest of the province; the higher level first at equal nearness."""
    provinces = {i.region.province_id for i in institutions}
    counties = {i.region_id for i in institutions}
    cities = {i.region.city_id for i in institutions if i.region.city_id}
    nearness = Case(When(region_id__in=counties, then=Value(0)), When(region__city_id__in=cities, then=Value(1)),
                    default=Value(2), output_field=IntegerField())
    return Institution.objects.filter(
        is_active=True, level__gte=Institution.Level.SECONDARY, region__province_id__in=provinces,
        kind__in=[Institution.Kind.MIDWIFERY_HOSPITAL, Institution.Kind.MCH_INSTITUTE],
    ).select_related("region").annotate(nearness=nearness).order_by("nearness", "-level", "name")


@login_required
def screen(request: HttpRequest, pk: str) -> HttpResponse:
    pregnancy = get_visible_or_404(visible_pregnancies(request.user).select_related("woman"), pk=pk)
    institutions = permissions.institutions_for("screen", request.user)
    if not institutions:
        raise ActionDenied(_("Your role does not include screening."))
    items = screening_items(settings_for(institutions[0]))
    form = ScreeningForm(request.POST or None, items=items, institutions=institutions,
                         hospitals=_hospitals_for_assessment(institutions))
    if request.method == "POST" and form.is_valid():
        try:
            screening = services.screening_record(
                pregnancy=pregnancy, institution=form.cleaned_data["institution"], by=request.user,
                answers=form.answers(), note=form.cleaned_data["note"], refer_to=form.cleaned_data["refer_to"])
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            if screening.positive:
                messages.warning(request, _("Screen positive: %(items)s.") % {"items": "、".join(screening.positive_items)})
            else:
                messages.success(request, _("Screen negative: marked green."))
            return redirect("cases:pregnancy_detail", pk=pregnancy.pk)
    return render(request, "screening/screen.html", {"form": form, "pregnancy": pregnancy})


@login_required
def assess(request: HttpRequest, pk: str) -> HttpResponse:
    pregnancy = get_visible_or_404(visible_pregnancies(request.user).select_related(
        "woman", "booking_institution__region"), pk=pk)
    institutions = permissions.institutions_for("assess", request.user)
    if not institutions:
        raise ActionDenied(_("Your role does not include risk assessment."))
    ruleset = ruleset_for_province(province_code=pregnancy.booking_institution.region.province_id)
    if ruleset is None:
        raise ActionDenied(_("No risk rule set is in force."))
    rules = list(ruleset.rules.order_by("order"))
    today = timezone.localdate()
    born = pregnancy.woman.date_of_birth
    age = today.year - born.year - ((today.month, today.day) < (born.month, born.day))
    has_assessment = pregnancy.assessments.filter(status=Assessment.Status.VALID).exists()
    form = AssessmentForm(request.POST or None, institutions=institutions, rules=rules, initial={
        "age_years": age, "stage": Assessment.Stage.DYNAMIC if has_assessment else Assessment.Stage.FIRST,
        "fetuses": 1})
    if request.method == "POST" and form.is_valid():
        try:
            assessment = services.assessment_record(
                pregnancy=pregnancy, institution=form.cleaned_data["institution"], by=request.user,
                stage=form.cleaned_data["stage"], inputs=form.engine_inputs(),
                colour=form.cleaned_data["colour"] or None, purple=form.chosen_purple(),
                override_reason=form.cleaned_data["override_reason"])
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Assessment saved: %(label)s.") % {"label": assessment.get_colour_display()})
            return redirect("cases:pregnancy_detail", pk=pregnancy.pk)
    sections: dict[str, list[Any]] = {}
    for rule in rules:
        sections.setdefault(f"{rule.section} {rule.section_text}", []).append(rule)
    return render(request, "screening/assess.html", {
        "form": form, "pregnancy": pregnancy, "ruleset": ruleset, "sections": sections,
        "checked": set(form["findings"].value() or []),
    })


@login_required
@require_POST
def assessment_void(request: HttpRequest, pk: str, assessment_pk: str) -> HttpResponse:
    pregnancy = get_visible_or_404(visible_pregnancies(request.user), pk=pk)
    assessment = get_visible_or_404(Assessment.objects.filter(pregnancy=pregnancy), pk=assessment_pk)
    form = ReasonForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Say why this assessment is wrong."))
    else:
        try:
            services.assessment_void(assessment=assessment, by=request.user, reason=form.cleaned_data["reason"])
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, _("Assessment voided; it stays in the record with your reason."))
    return redirect("cases:pregnancy_detail", pk=pregnancy.pk)


@login_required
@require_POST
def continuation_record(request: HttpRequest, pk: str, evaluation_pk: str) -> HttpResponse:
    pregnancy = get_visible_or_404(visible_pregnancies(request.user), pk=pk)
    evaluation = get_visible_or_404(ContinuationEvaluation.objects.filter(pregnancy=pregnancy), pk=evaluation_pk)
    form = ContinuationForm(request.POST)
    if form.is_valid():
        try:
            services.continuation_evaluation_record(evaluation=evaluation, by=request.user,
                                                    decision=form.cleaned_data["decision"],
                                                    note=form.cleaned_data["note"])
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, _("Evaluation recorded."))
    else:
        messages.error(request, _("Choose a decision and write down the reasons."))
    return redirect("cases:pregnancy_detail", pk=pregnancy.pk)


@login_required
def assessment_worklist(request: HttpRequest) -> HttpResponse:
    """Screen-positive women awaiting assessment: those referred to my institution, or in my area;
    overdue first."""
    require_view_women(request.user)
    user: Any = request.user
    referrals = visible_assessment_referrals(user).filter(status=AssessmentReferral.Status.OPEN).select_related(
        "pregnancy__woman", "from_institution", "to_institution", "screening")
    now = timezone.now()
    rows = sorted(referrals, key=lambda r: (r.due_at > now, r.due_at))
    return render(request, "screening/worklist.html", {"rows": rows, "now": now})
