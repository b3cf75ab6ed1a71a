"""The women's register and the woman and pregnancy pages: the hub that reads every process.

Lists mask ID and phone numbers; opening a woman's record shows them and is logged. Every write goes
through a service; a refusal is a 403 page with the reason, bad input comes back as form errors.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from cases.models import Assessment, ContinuationEvaluation, HighRiskCase, Pregnancy
from cases.selectors import visible_highrisk_cases, visible_pregnancies, visible_referrals, visible_women
from organisations.http import ActionDenied, get_visible_or_404
from organisations.models import CLINICAL_ROLES, OBSTETRIC_ROLES, AccessLog, Membership, Region
from organisations.scoping import region_codes_in_area, user_scope
from organisations.selectors import acting_institutions
from organisations.services import access_record
from workflows.common import require_view_women
from workflows.death import permissions as death_permissions
from workflows.forms import ReasonForm, apply_errors
from workflows.routine.views import pregnancy_routine
from workflows.screening import permissions as screening_permissions
from workflows.screening import services
from workflows.screening.forms import ContinuationForm, MergeForm, PregnancyBookForm, WomanRegisterForm


@login_required
def woman_list(request: HttpRequest) -> HttpResponse:
    require_view_women(request.user)
    women = visible_women(request.user).filter(merged_into__isnull=True).select_related(
        "residence_region", "registered_by")
    query = request.GET.get("q", "").strip()
    if query:
        # Search by name or by the last four characters of the document number.
        women = women.filter(Q(name__icontains=query) | Q(id_number__endswith=query.upper()))
    page = Paginator(women.order_by("name", "id"), 50).get_page(request.GET.get("page"))
    can_register = screening_permissions.can_register(request.user)
    return render(request, "women/woman_list.html", {"page": page, "q": query, "can_register": can_register})


@login_required
def woman_register(request: HttpRequest) -> HttpResponse:
    institutions = screening_permissions.institutions_for("register", request.user)
    if not institutions:
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
    return render(request, "anmu/form.html", {"form": form, "title": _("Register or find a woman"),
                                               "submit": _("Register or find")})


@login_required
def woman_detail(request: HttpRequest, pk: str) -> HttpResponse:
    require_view_women(request.user)
    woman = get_visible_or_404(visible_women(request.user).select_related("residence_region", "registered_by",
                                                                           "merged_into"), pk=pk)
    pregnancies = visible_pregnancies(request.user).filter(woman=woman).order_by("-booking_date")
    user: Any = request.user
    access_record(user=user, action=AccessLog.Action.VIEW, obj=woman,
                  summary=f"{woman._meta.verbose_name} {woman.name}",
                  region=woman.residence_region, institution=woman.registered_by)
    can_book = (screening_permissions.can_book(user)
                and not woman.merged_into_id
                and not Pregnancy.objects.filter(woman=woman, status=Pregnancy.Status.ONGOING).exists())
    return render(request, "women/woman_detail.html", {
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
    return render(request, "anmu/form.html", {"form": form, "submit": _("Merge"),
                                               "title": _("Merge a duplicate record into %(name)s")
                                               % {"name": woman.name}})


@login_required
def pregnancy_book(request: HttpRequest, pk: str) -> HttpResponse:
    woman = get_visible_or_404(visible_women(request.user), pk=pk)
    institutions = screening_permissions.institutions_for("book", request.user)
    if not institutions:
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
    return render(request, "anmu/form.html", {"form": form, "title": _("Book a pregnancy for %(name)s")
                                               % {"name": woman.name}, "submit": _("Book")})


@login_required
def pregnancy_detail(request: HttpRequest, pk: str) -> HttpResponse:
    require_view_women(request.user)
    pregnancy = get_visible_or_404(visible_pregnancies(request.user).select_related(
        "woman", "booking_institution__region"), pk=pk)
    user: Any = request.user
    assessments = list(pregnancy.assessments.select_related("assessor", "institution").order_by("assessed_at"))
    today = timezone.localdate()
    case = HighRiskCase.objects.filter(pregnancy=pregnancy).select_related("responsible_doctor", "institution").first()
    case_visible = case is not None and visible_highrisk_cases(user).filter(pk=case.pk).exists()
    assessing = acting_institutions(user, OBSTETRIC_ROLES)
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
        "can_screen": ongoing and screening_permissions.can_screen(user),
        "can_assess": pregnancy.status not in (Pregnancy.Status.CLOSED, Pregnancy.Status.DIED)
        and screening_permissions.can_assess(user),
        "can_record_death": death_permissions.can_record_on_pregnancy(user, pregnancy),
        "can_refer": pregnancy.status in (Pregnancy.Status.ONGOING, Pregnancy.Status.DELIVERED)
        and user.has_perm("cases.add_referral") and bool(acting_institutions(user, CLINICAL_ROLES)),
        # Only the referrals this user may see (a centre sees its own, never another centre's).
        "rescue_referrals": visible_referrals(user).filter(pregnancy=pregnancy).select_related(
            "to_centre__institution").order_by("-requested_at"),
        "void_for": {a.pk for a in assessments if a.status == Assessment.Status.VALID and a.institution in assessing},
        "can_report": case_visible and case.state == HighRiskCase.State.OPENED and any(
            m.institution_id == case.institution_id for m in Membership.objects.filter(user=user, is_active=True)),
        "evaluate_for": {e.pk for e in pregnancy.continuation_evaluations.filter(
            status=ContinuationEvaluation.Status.OPEN, institution__in=assessing)},
        "void_form": ReasonForm(),
        "now": timezone.now(),
        "continuation_form": ContinuationForm(),
        **pregnancy_routine(user=user, pregnancy=pregnancy),
    }
    return render(request, "women/pregnancy_detail.html", context)
