"""Pages of process 1 (screening and assessment) and the women's register.

Lists mask ID and phone numbers; opening a woman's record shows them and is logged. Every write goes
through a service in workflows/screening/services.py; a refusal is a 403 page with the reason, bad
input comes back as form errors.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.core.paginator import Paginator
from django.db.models import Case, IntegerField, Q, Value, When
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from cases.forms import (
    AssessmentForm,
    ContinuationForm,
    MergeForm,
    PregnancyBookForm,
    ReasonForm,
    ScreeningForm,
    WomanRegisterForm,
)
from cases.models import Assessment, AssessmentReferral, ContinuationEvaluation, HighRiskCase, Pregnancy
from cases.plausibility import NeedsConfirmation
from cases.risk import ruleset_for_province
from cases.rules import screening_items, settings_for
from cases.selectors import visible_highrisk_cases, visible_pregnancies, visible_women
from organisations.http import ActionDenied, get_visible_or_404
from organisations.models import AccessLog, Institution, Membership, Region
from organisations.scoping import region_codes_in_area, user_scope
from organisations.services import access_record
from organisations.shell import AnmuApplication
from workflows.highrisk.services import highrisk_case_report
from workflows.referral.services import SENDER_ROLES as REFERRING_ROLES
from workflows.screening import services
from workflows.screening.services import ASSESSING_ROLES, BOOKING_ROLES


def _require_view_woman(request: HttpRequest) -> None:
    if not request.user.has_perm("cases.view_woman"):
        raise ActionDenied(_("Your role does not include reading women's records."))


def acting_institutions(user: Any, roles: frozenset[str]) -> list[Institution]:
    """The institutions where the user may act in one of ``roles``."""
    return [m.institution for m in Membership.objects.filter(
        user=user, role__in=roles, is_active=True, institution__is_active=True).select_related("institution__region")
        .order_by("institution__name")]


def apply_errors(form: Any, exc: ValidationError) -> None:
    if isinstance(exc, NeedsConfirmation) and hasattr(form, "add_confirm_field"):
        form.add_confirm_field()
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            if field == NON_FIELD_ERRORS:
                form.add_error(None, errors)
            elif field in form.fields:
                form.add_error(field, errors)
            else:
                form.add_error(None, [f"{field}: {message}" for message in errors])
    else:
        form.add_error(None, exc.messages)


# --- Women ------------------------------------------------------------------------------------------

@login_required
def woman_list(request: HttpRequest) -> HttpResponse:
    _require_view_woman(request)
    women = visible_women(request.user).filter(merged_into__isnull=True).select_related(
        "residence_region", "registered_by")
    query = request.GET.get("q", "").strip()
    if query:
        # Search by name or by the last four characters of the document number.
        women = women.filter(Q(name__icontains=query) | Q(id_number__endswith=query.upper()))
    page = Paginator(women.order_by("name", "id"), 50).get_page(request.GET.get("page"))
    can_register = bool(acting_institutions(request.user, BOOKING_ROLES)) and request.user.has_perm("cases.add_woman")
    return render(request, "cases/woman_list.html", {"page": page, "q": query, "can_register": can_register})


@login_required
def woman_register(request: HttpRequest) -> HttpResponse:
    institutions = acting_institutions(request.user, BOOKING_ROLES)
    if not institutions or not request.user.has_perm("cases.add_woman"):
        raise ActionDenied(_("Your role does not include registering women."))
    scope = user_scope(request.user)
    regions = Region.objects.filter(level=Region.Level.COUNTY).filter(
        Q(province_id__in={i.region.province_id for i in institutions}) | region_codes_in_area(scope)
    ).order_by("code")
    form = WomanRegisterForm(request.POST or None, regions=regions, institutions=institutions,
                             initial={"residence_region": institutions[0].region_id})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            woman, created = services.woman_register(
                by=request.user, institution=data["institution"], name=data["name"], id_type=data["id_type"],
                id_number=data["id_number"], no_id_reason=data["no_id_reason"], date_of_birth=data["date_of_birth"],
                phone=data["phone"], residence_region=data["residence_region"], confirmed=form.confirmed)
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            if created:
                messages.success(request, _("Registered %(name)s.") % {"name": woman.name})
            else:
                messages.info(request, _("A record with this document number already exists: %(name)s. "
                                         "Check it is the same woman before booking.") % {"name": woman.name})
            return redirect("cases:woman_detail", pk=woman.pk)
    return render(request, "cases/form.html", {"form": form, "title": _("Register or find a woman"),
                                               "submit": _("Register or find")})


@login_required
def woman_detail(request: HttpRequest, pk: str) -> HttpResponse:
    _require_view_woman(request)
    woman = get_visible_or_404(visible_women(request.user).select_related("residence_region", "registered_by",
                                                                           "merged_into"), pk=pk)
    pregnancies = visible_pregnancies(request.user).filter(woman=woman).order_by("-booking_date")
    user: Any = request.user
    access_record(user=user, action=AccessLog.Action.VIEW, obj=woman,
                  summary=f"{woman._meta.verbose_name} {woman.name}",
                  region=woman.residence_region, institution=woman.registered_by)
    can_book = (bool(acting_institutions(user, BOOKING_ROLES)) and user.has_perm("cases.add_pregnancy")
                and not woman.merged_into_id
                and not Pregnancy.objects.filter(woman=woman, status=Pregnancy.Status.ONGOING).exists())
    return render(request, "cases/woman_detail.html", {
        "woman": woman, "pregnancies": pregnancies, "can_book": can_book,
        "can_merge": user.has_perm("cases.merge_woman") and not woman.merged_into_id})


@login_required
def woman_merge(request: HttpRequest, pk: str) -> HttpResponse:
    """An MCH officer merges a duplicate record of the same woman into this one."""
    if not request.user.has_perm("cases.merge_woman"):
        raise ActionDenied(_("Only MCH officers merge women's records."))
    woman = get_visible_or_404(visible_women(request.user).filter(merged_into__isnull=True), pk=pk)
    candidates = visible_women(request.user).filter(merged_into__isnull=True).exclude(pk=woman.pk).filter(
        Q(name=woman.name) | Q(date_of_birth=woman.date_of_birth)).select_related("registered_by").order_by("name")
    form = MergeForm(request.POST or None, candidates=candidates)
    if request.method == "POST" and form.is_valid():
        try:
            services.woman_merge(keep=woman, duplicate=form.cleaned_data["duplicate"], by=request.user,
                                 reason=form.cleaned_data["reason"])
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Merged: the duplicate's pregnancies are now on this record."))
            return redirect("cases:woman_detail", pk=woman.pk)
    return render(request, "cases/form.html", {"form": form, "submit": _("Merge"),
                                               "title": _("Merge a duplicate record into %(name)s")
                                               % {"name": woman.name}})


@login_required
def pregnancy_book(request: HttpRequest, pk: str) -> HttpResponse:
    woman = get_visible_or_404(visible_women(request.user), pk=pk)
    institutions = acting_institutions(request.user, BOOKING_ROLES)
    if not institutions or not request.user.has_perm("cases.add_pregnancy"):
        raise ActionDenied(_("Your role does not include booking pregnancies."))
    form = PregnancyBookForm(request.POST or None, institutions=institutions,
                             initial={"booking_date": timezone.localdate()})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            pregnancy = services.pregnancy_book(
                woman=woman, institution=data["institution"], by=request.user, lmp=data["lmp"],
                booking_date=data["booking_date"], gravidity=data["gravidity"], parity=data["parity"],
                edd_ultrasound=data["edd_ultrasound"], confirmed=form.confirmed)
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Pregnancy booked. Screen her now."))
            return redirect("cases:screen", pk=pregnancy.pk)
    return render(request, "cases/form.html", {"form": form, "title": _("Book a pregnancy for %(name)s")
                                               % {"name": woman.name}, "submit": _("Book")})


# --- Pregnancy page, screening and assessment -------------------------------------------------------

@login_required
def pregnancy_detail(request: HttpRequest, pk: str) -> HttpResponse:
    _require_view_woman(request)
    pregnancy = get_visible_or_404(visible_pregnancies(request.user).select_related(
        "woman", "booking_institution__region"), pk=pk)
    user: Any = request.user
    assessments = list(pregnancy.assessments.select_related("assessor", "institution").order_by("assessed_at"))
    today = timezone.localdate()
    case = HighRiskCase.objects.filter(pregnancy=pregnancy).select_related("responsible_doctor", "institution").first()
    case_visible = case is not None and visible_highrisk_cases(user).filter(pk=case.pk).exists()
    assessing = acting_institutions(user, ASSESSING_ROLES)
    booking = acting_institutions(user, BOOKING_ROLES)
    ongoing = pregnancy.status == Pregnancy.Status.ONGOING
    context = {
        "pregnancy": pregnancy,
        "woman": pregnancy.woman,
        "ga": pregnancy.gestational_age(today) if ongoing else None,
        "assessments": assessments,
        "screenings": pregnancy.screenings.select_related("institution", "screened_by").order_by("-screened_at"),
        "referrals": pregnancy.assessment_referrals.select_related("from_institution", "to_institution"),
        "evaluations": pregnancy.continuation_evaluations.select_related("institution", "evaluated_by"),
        "case": case if case_visible else None,
        "can_screen": ongoing and bool(booking) and user.has_perm("cases.add_screening"),
        "can_assess": pregnancy.status not in (Pregnancy.Status.CLOSED, Pregnancy.Status.DIED) and bool(assessing)
        and user.has_perm("cases.add_assessment"),
        "can_refer": pregnancy.status in (Pregnancy.Status.ONGOING, Pregnancy.Status.DELIVERED)
        and user.has_perm("cases.add_referral") and bool(acting_institutions(user, REFERRING_ROLES)),
        "rescue_referrals": pregnancy.referrals.select_related("to_centre__institution").order_by("-requested_at"),
        "void_for": {a.pk for a in assessments if a.status == Assessment.Status.VALID and a.institution in assessing},
        "can_report": case_visible and case.state == HighRiskCase.State.OPENED and any(
            m.institution_id == case.institution_id for m in Membership.objects.filter(user=user, is_active=True)),
        "evaluate_for": {e.pk for e in pregnancy.continuation_evaluations.filter(
            status=ContinuationEvaluation.Status.OPEN, institution__in=assessing)},
        "void_form": ReasonForm(),
        "now": timezone.now(),
        "continuation_form": ContinuationForm(),
    }
    return render(request, "cases/pregnancy_detail.html", context)


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
    institutions = acting_institutions(request.user, BOOKING_ROLES)
    if not institutions or not request.user.has_perm("cases.add_screening"):
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
    return render(request, "cases/screen.html", {"form": form, "pregnancy": pregnancy})


@login_required
def assess(request: HttpRequest, pk: str) -> HttpResponse:
    pregnancy = get_visible_or_404(visible_pregnancies(request.user).select_related(
        "woman", "booking_institution__region"), pk=pk)
    institutions = acting_institutions(request.user, ASSESSING_ROLES)
    if not institutions or not request.user.has_perm("cases.add_assessment"):
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
    return render(request, "cases/assess.html", {
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
@require_POST
def case_report(request: HttpRequest, pk: str) -> HttpResponse:
    case = get_visible_or_404(visible_highrisk_cases(request.user), pk=pk)
    highrisk_case_report(case=case, by=request.user)
    messages.success(request, _("Reported to the county MCH institute."))
    return redirect("cases:pregnancy_detail", pk=case.pregnancy_id)


@login_required
def assessment_worklist(request: HttpRequest) -> HttpResponse:
    """Screen-positive women awaiting assessment: those referred to my institution, or in my area;
    overdue first."""
    _require_view_woman(request)
    user: Any = request.user
    scope = user_scope(user)
    referrals = AssessmentReferral.objects.filter(status=AssessmentReferral.Status.OPEN).select_related(
        "pregnancy__woman", "from_institution", "to_institution", "screening")
    if not scope.everything:
        from organisations.scoping import scope_q

        referrals = referrals.filter(
            scope_q(user, region_field="from_institution__region",
                    institution_fields=["to_institution", "from_institution"]))
    now = timezone.now()
    rows = sorted(referrals, key=lambda r: (r.due_at > now, r.due_at))
    return render(request, "cases/worklist.html", {"rows": rows, "now": now})


class CasesApp(AnmuApplication):
    title = gettext_lazy("Women")
    icon = "pregnant_woman"
    app_name = "cases"
    menu_template_name = "cases/app_menu.html"
    permission = "cases.view_woman"
    denied_reason = gettext_lazy("Your role does not include reading women's records.")

    index_path = path("", woman_list, name="index")
    register_path = path("women/new/", woman_register, name="woman_register")
    woman_detail_path = path("women/<uuid:pk>/", woman_detail, name="woman_detail")
    book_path = path("women/<uuid:pk>/book/", pregnancy_book, name="pregnancy_book")
    merge_path = path("women/<uuid:pk>/merge/", woman_merge, name="woman_merge")
    pregnancy_path = path("pregnancies/<uuid:pk>/", pregnancy_detail, name="pregnancy_detail")
    screen_path = path("pregnancies/<uuid:pk>/screen/", screen, name="screen")
    assess_path = path("pregnancies/<uuid:pk>/assess/", assess, name="assess")
    void_path = path("pregnancies/<uuid:pk>/assessments/<uuid:assessment_pk>/void/", assessment_void,
                     name="assessment_void")
    continuation_path = path("pregnancies/<uuid:pk>/evaluations/<uuid:evaluation_pk>/", continuation_record,
                             name="continuation_record")
    case_report_path = path("cases/<uuid:pk>/report/", case_report, name="case_report")
    worklist_path = path("awaiting-assessment/", assessment_worklist, name="worklist")
