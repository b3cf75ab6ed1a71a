"""Pages of the routine records, reached from the pregnancy page (/cases/pregnancies/<uuid>/…): record or
correct a visit, remove one recorded by mistake, record or correct the delivery.

Out of scope is a 404 (the pregnancy is read through ``visible_pregnancies``); in scope but not allowed a
403 with the reason (permissions.py); bad input comes back as the services' field errors.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from cases.models import Delivery, Pregnancy, Visit
from cases.selectors import visible_deliveries, visible_pregnancies, visible_visits
from organisations.http import ActionDenied, get_visible_or_404
from workflows.common import require_view_women
from workflows.forms import ReasonForm, apply_errors
from workflows.routine import permissions, services
from workflows.routine.forms import DeliveryForm, VisitForm


def _pregnancy(request: HttpRequest, pk: Any) -> Pregnancy:
    require_view_women(request.user)
    return get_visible_or_404(visible_pregnancies(request.user).select_related(
        "woman", "booking_institution__region"), pk=pk)


def _default_institution(step: str, user: Any) -> Any:
    own = permissions.acting(step, user)
    return own[0].pk if own else None


def _render(request: HttpRequest, pregnancy: Pregnancy, form: Any, *, title: str, submit: str) -> HttpResponse:
    return render(request, "routine/form.html", {"form": form, "pregnancy": pregnancy, "woman": pregnancy.woman,
                                                  "title": title, "submit": submit})


@login_required
def visit_new(request: HttpRequest, pk: Any) -> HttpResponse:
    pregnancy = _pregnancy(request, pk)
    user: Any = request.user
    if not permissions.can_record_visit(user, pregnancy):
        raise ActionDenied(str(permissions.RULES["visit"].refusal))
    delivered = Delivery.objects.filter(pregnancy=pregnancy).exists()
    form = VisitForm(request.POST or None, institutions=permissions.institutions_for("visit", user), initial={
        "date": timezone.localdate(), "institution": _default_institution("visit", user),
        "kind": Visit.Kind.POSTPARTUM if delivered else Visit.Kind.ANTENATAL})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.visit_record(pregnancy=pregnancy, by=user, kind=data["kind"], date=data["date"],
                                  institution=data["institution"], note=data["note"])
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Visit recorded."))
            return redirect("cases:pregnancy_detail", pk=pregnancy.pk)
    return _render(request, pregnancy, form, title=_("Record a visit for %(name)s") % {"name": pregnancy.woman.name},
                   submit=_("Record"))


def _visit(request: HttpRequest, pregnancy: Pregnancy, visit_pk: Any) -> Visit:
    return get_visible_or_404(visible_visits(request.user).filter(pregnancy=pregnancy).select_related(
        "institution", "pregnancy"), pk=visit_pk)


@login_required
def visit_correct(request: HttpRequest, pk: Any, visit_pk: Any) -> HttpResponse:
    pregnancy = _pregnancy(request, pk)
    visit = _visit(request, pregnancy, visit_pk)
    user: Any = request.user
    permissions.check_correct_visit(user, visit)
    form = VisitForm(request.POST or None, institutions=permissions.institutions_for("visit", user), correcting=True,
                     initial={"kind": visit.kind, "date": visit.date, "institution": visit.institution_id,
                              "note": visit.note})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.visit_correct(visit=visit, by=user, reason=data["reason"], kind=data["kind"], date=data["date"],
                                   institution=data["institution"] if data["institution"] != visit.institution
                                   else services.KEEP, note=data["note"])
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Visit corrected."))
            return redirect("cases:pregnancy_detail", pk=pregnancy.pk)
    return _render(request, pregnancy, form, title=_("Correct a visit of %(name)s") % {"name": pregnancy.woman.name},
                   submit=_("Correct"))


@login_required
@require_POST
def visit_void(request: HttpRequest, pk: Any, visit_pk: Any) -> HttpResponse:
    pregnancy = _pregnancy(request, pk)
    visit = _visit(request, pregnancy, visit_pk)
    permissions.check_correct_visit(request.user, visit)
    form = ReasonForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Say why the visit is removed."))
    else:
        try:
            services.visit_void(visit=visit, by=request.user, reason=form.cleaned_data["reason"])
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, _("Visit removed; its history keeps it with your reason."))
    return redirect("cases:pregnancy_detail", pk=pregnancy.pk)


@login_required
def delivery(request: HttpRequest, pk: Any) -> HttpResponse:
    """Record the delivery of an ongoing pregnancy, or correct the one recorded."""
    pregnancy = _pregnancy(request, pk)
    user: Any = request.user
    existing = visible_deliveries(user).filter(pregnancy=pregnancy).select_related("institution").first()
    if existing is None and Delivery.objects.filter(pregnancy=pregnancy).exists():
        raise ActionDenied(_("The delivery of this pregnancy is not one you may see."))
    if existing is not None:
        permissions.check_correct_delivery(user, existing)
        initial = DeliveryForm.initial_for(existing)
    else:
        if not permissions.can_record_delivery(user, pregnancy):
            if not permissions.can("delivery", user, pregnancy):
                raise ActionDenied(str(permissions.RULES["delivery"].refusal))
            raise ActionDenied(_("This pregnancy is no longer ongoing: its delivery or end is recorded."))
        weeks, days = pregnancy.gestational_age(timezone.localdate())
        initial = {"institution": _default_institution("delivery", user), "place": Delivery.Place.INSTITUTION,
                   "gestational_weeks": weeks if services.GESTATION_WEEKS[0] <= weeks <= services.GESTATION_WEEKS[1]
                   else None, "gestational_days": days if services.GESTATION_WEEKS[0] <= weeks
                   <= services.GESTATION_WEEKS[1] else None, "baby1_outcome": "live"}
    form = DeliveryForm(request.POST or None, institutions=permissions.institutions_for("delivery", user),
                        correcting=existing is not None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            if existing is not None:
                services.delivery_correct(delivery=existing, by=user, reason=form.cleaned_data["reason"],
                                          **form.delivery_kwargs())
            else:
                services.delivery_record(pregnancy=pregnancy, by=user, **form.delivery_kwargs())
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Delivery corrected.") if existing else _("Delivery recorded."))
            return redirect("cases:pregnancy_detail", pk=pregnancy.pk)
    title = (_("Correct the delivery of %(name)s") if existing else _("Record the delivery of %(name)s")) % {
        "name": pregnancy.woman.name}
    return _render(request, pregnancy, form, title=title, submit=_("Correct") if existing else _("Record"))


def pregnancy_routine(*, user: Any, pregnancy: Pregnancy) -> dict[str, Any]:
    """The pregnancy page's "visits and delivery" section: antenatal visits with the gestational age at each,
    the delivery with its babies, postpartum visits with the days after the delivery (the 42-day check marked),
    and the buttons this user may press."""
    visits = list(visible_visits(user).filter(pregnancy=pregnancy).select_related("institution").order_by(
        "date", "recorded_at"))
    found = visible_deliveries(user).filter(pregnancy=pregnancy).select_related("institution").first()
    correctors = permissions.visit_correctors(user, pregnancy)
    antenatal, postpartum = [], []
    for visit in visits:
        row: dict[str, Any] = {"visit": visit, "correct": visit.institution_id in correctors}
        if visit.kind == Visit.Kind.ANTENATAL:
            row["ga"] = pregnancy.gestational_age(visit.date)
            antenatal.append(row)
        else:
            row["day"] = (visit.date - found.delivered_on).days if found is not None else None
            postpartum.append(row)
    return {
        "routine_antenatal": antenatal,
        "routine_postpartum": postpartum,
        "routine_delivery": found,
        "routine_babies": list(found.babies.all()) if found is not None else [],
        "routine_delivery_ga": pregnancy.gestational_age(found.delivered_on) if found is not None else None,
        "routine_day42": any(row["visit"].kind == Visit.Kind.POSTPARTUM_42D for row in postpartum),
        "can_record_visit": permissions.can_record_visit(user, pregnancy),
        "can_record_delivery": found is None and permissions.can_record_delivery(user, pregnancy),
        "can_correct_delivery": found is not None and permissions.can_correct_delivery(user, found),
        "void_visit_form": ReasonForm(),
    }
