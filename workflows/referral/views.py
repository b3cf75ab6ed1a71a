"""Referral and rescue pages: the centre's live command board, the sender's matching page, the referral
form with the suggested centres, the referral page with its timeline and the steps open to the user,
the printable referral form (转诊单), attachments, consultations, near-miss checklist and DDI.

Every read goes through ``visible_referrals`` / ``visible_consultations``; every change through the
services in workflows/referral/services.py.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Prefetch, QuerySet
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cases.models import Consultation, NearMiss, Referral, Urgency
from cases.nearmiss import BY_CODE
from cases.selectors import (
    visible_consultations,
    visible_emergency_caesareans,
    visible_pregnancies,
    visible_referrals,
)
from notifications.selectors import alert_timeline_events
from organisations.http import ActionDenied, get_visible_or_404
from organisations.models import (
    CLINICAL_ROLES,
    CONSULTANT_ROLES,
    OBSTETRIC_ROLES,
    AccessLog,
    Institution,
    Membership,
    RescueCentre,
    Role,
    User,
)
from organisations.reasons import reason_display
from organisations.scoping import user_scope
from organisations.selectors import acting_institutions, transfer_on_choices
from organisations.services import access_record
from workflows.actions import Action as Step
from workflows.export import stored_file_response
from workflows.forms import apply_errors
from workflows.referral import forms as f
from workflows.referral import permissions as perm
from workflows.referral import services as rs
from workflows.referral.selectors import (
    area_rows,
    board_rows,
    consultation_tasks_for,
    late_referral_ids,
    referral_tasks_for,
    sent_rows,
    state_rank,
    urgency_rank,
)
from workflows.registers import forms as register_forms
from workflows.registers import services as registers

S = Referral.State
DENIED = gettext_lazy("Your role does not include critical-case referral.")


def requires(permission: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """A signed-in page of this application that also needs ``permission``: the application opens to
    referral and consultation roles alike (a named expert answers consultations without seeing
    referrals), so each page says which it serves; refused, the 403 page gives the reason."""
    def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
        @login_required
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
            if not request.user.has_perm(permission):
                raise ActionDenied(str(DENIED) if permission == "cases.view_referral" else
                                   _("Your role does not include this page of critical-case referral."))
            return view(request, *args, **kwargs)
        return wrapped
    return decorator


referral_page = requires("cases.view_referral")
consultation_page = requires("cases.view_consultation")


def may_open_the_application(user: Any) -> bool:
    return bool(user.is_authenticated and (user.has_perm("cases.view_referral")
                                           or user.has_perm("cases.view_consultation")))


def _centre_institutions(user: Any, roles: frozenset[str] = OBSTETRIC_ROLES) -> list[Institution]:
    """The rescue centres' host institutions where the user serves as duty doctor or obstetrician."""
    return [i for i in acting_institutions(user, roles) if hasattr(i, "rescue_centre")]


def _oversees_an_area(user: Any) -> bool:
    scope = user_scope(user)
    return bool(scope.everything or scope.areas) and user.has_perm("cases.view_referral")


def referral_menu(user: Any) -> dict[str, bool]:
    """The pages of this application the user may open, for the menu: no entry answers 403 or lands on
    a page that is not the user's."""
    return {
        "board": user.has_perm("cases.view_referral") and bool(_centre_institutions(user)),
        "sent": user.has_perm("cases.view_referral") and bool(acting_institutions(user, CLINICAL_ROLES)),
        "area": _oversees_an_area(user),
        "consultations": user.has_perm("cases.view_consultation"),
        "caesareans": user.has_perm("cases.view_emergencycaesarean"),
        "near_misses": user.has_perm("cases.view_nearmiss"),
    }










def _board_context(request: HttpRequest, rows: QuerySet[Referral], side: str) -> dict[str, Any]:
    rows_list = list(rows[:200])
    return {"rows": rows_list, "side": side, "now": timezone.now(),
            "counts": {"requested": sum(1 for r in rows_list if r.state == S.REQUESTED),
                       "emergency": sum(1 for r in rows_list if r.urgency == Urgency.EMERGENCY and r.is_open)}}


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """转诊救治 opens on the user's own page: a centre's duty doctor on the command board, a clinician on
    the referrals her institution sent (本院转出), an MCH or bureau officer on the area's referrals, a
    named expert on the consultations."""
    user: Any = request.user
    if user.has_perm("cases.view_referral") and _centre_institutions(user, frozenset({Role.DUTY_DOCTOR})):
        return board(request)
    if user.has_perm("cases.view_referral") and acting_institutions(user, CLINICAL_ROLES):
        return redirect("referral:sent")
    if _oversees_an_area(user):
        return redirect("referral:area")
    if user.has_perm("cases.view_consultation"):
        return redirect("referral:consultations")
    return redirect("referral:sent")


@referral_page
def board(request: HttpRequest) -> HttpResponse:
    """The rescue centre's command board (危重孕产妇救治指挥看板), live through the alert websocket."""
    user: Any = request.user
    institutions = _centre_institutions(user)
    if not institutions:
        return redirect("referral:index")
    context = _board_context(request, board_rows(user, institutions), "centre")
    context["institutions"] = institutions
    context["centres"] = [i.rescue_centre for i in institutions]
    context["feedback_due"] = list(visible_referrals(user).filter(
        to_centre__institution__in=[i.pk for i in institutions], state=S.OUTCOME).order_by("feedback_due_at")[:50])
    context["tasks"] = referral_tasks_for(user).count()
    context["consultations"] = consultation_tasks_for(user).count()
    template = "referral/board_rows.html" if request.GET.get("fragment") else "referral/board.html"
    return render(request, template, context)


@referral_page
def sent(request: HttpRequest) -> HttpResponse:
    """The sender's matching page: what we sent, where it stands, live."""
    user: Any = request.user
    institutions = acting_institutions(user, CLINICAL_ROLES)
    context = _board_context(request, sent_rows(user, institutions), "sender")
    context["institutions"] = institutions
    template = "referral/board_rows.html" if request.GET.get("fragment") else "referral/sent.html"
    return render(request, template, context)


# --- The area's referrals (bureaus and MCH officers) ------------------------------------------------







@referral_page
def area(request: HttpRequest) -> HttpResponse:
    """本辖区转诊: the open referrals of the officer's area, those late on a deadline, per centre, each
    linking to the referral page (read-only for an officer)."""
    user: Any = request.user
    if not _oversees_an_area(user):
        raise ActionDenied(_("The area's referrals are for MCH and bureau officers."))
    now = timezone.now()
    show = request.GET.get("show", "open")
    if show not in ("open", "late", "all"):
        show = "open"
    base = area_rows(user)
    open_rows = base.filter(state__in=Referral.OPEN_STATES)
    late_ids = late_referral_ids(open_rows, now=now)
    centres = sorted(set(open_rows.values_list("to_centre_id", "to_centre__institution__name")), key=lambda c: c[1])
    per_centre = Counter(open_rows.values_list("to_centre_id", flat=True))
    late_per_centre = Counter(open_rows.filter(pk__in=late_ids).values_list("to_centre_id", flat=True))
    rows = {"open": open_rows, "late": open_rows.filter(pk__in=late_ids), "all": base}[show]
    centre = request.GET.get("centre", "")
    chosen = next((c for c in centres if str(c[0]) == centre), None)
    if chosen is not None:
        rows = rows.filter(to_centre_id=chosen[0])
    rows = rows.select_related("to_centre__institution", "from_institution").annotate(
        srank=state_rank(), urank=urgency_rank()).order_by("srank", "urank", "-requested_at")
    listed = list(rows[:300])
    return render(request, "referral/area.html", {
        "rows": listed, "late_ids": late_ids, "show": show, "chosen": chosen, "now": now,
        "centres": [{"pk": pk, "name": name, "open": per_centre.get(pk, 0), "late": late_per_centre.get(pk, 0)}
                    for pk, name in centres],
        "counts": {"open": sum(per_centre.values()), "late": len(late_ids)},
        "regions": sorted(code for _level, code in user_scope(user).areas),
    })


# --- New referral ----------------------------------------------------------------------------------

def _province_centres(institution: Institution) -> QuerySet[RescueCentre]:
    return RescueCentre.objects.filter(is_active=True, institution__is_active=True,
                                       institution__region__province_id=institution.region.province_id).exclude(
        institution=institution).select_related("institution")


@referral_page
def referral_new(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    pregnancy = get_visible_or_404(visible_pregnancies(user), pk=request.GET.get("pregnancy"))
    institutions = acting_institutions(user, CLINICAL_ROLES)
    if not institutions:
        raise ActionDenied(_("You do not hold a clinical role that sends referrals."))
    chosen = next((i for i in institutions if str(i.pk) == (request.POST.get("from_institution") or
                                                           request.GET.get("from") or "")), institutions[0])
    suggestions = rs.centre_suggestions(chosen)
    form = f.ReferralForm(request.POST or None, request.FILES or None,
                          institutions=Institution.objects.filter(pk__in=[i.pk for i in institutions]),
                          centres=_province_centres(chosen),
                          initial={"from_institution": chosen.pk,
                                   "to_centre": suggestions[0].centre.pk if suggestions else None,
                                   "urgency": Urgency.EMERGENCY})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            referral = rs.referral_request(
                pregnancy=pregnancy, by=user, from_institution=data["from_institution"], to_centre=data["to_centre"],
                urgency=data["urgency"], reason=data["reason"], diagnosis=data["diagnosis"], vitals=form.vitals(),
                off_suggestion_reason=data["off_suggestion_reason"], attachments=data["attachments"])
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Referral sent to %(centre)s. Its duty doctor has been alerted.")
                             % {"centre": referral.to_centre.institution.name})
            return redirect("referral:detail", pk=referral.pk)
    other = [c for c in _province_centres(chosen) if c.pk not in {s.centre.pk for s in suggestions}]
    return render(request, "referral/new.html", {
        "form": form, "pregnancy": pregnancy, "woman": pregnancy.woman, "suggestions": suggestions,
        "other_centres": other, "from": chosen, "institutions": institutions,
        "case": getattr(pregnancy, "highrisk_case", None)}, status=422 if form.errors else 200)


# --- The referral page and its steps ---------------------------------------------------------------



def _redirect_centres(r: Referral) -> QuerySet[RescueCentre]:
    return _province_centres(r.from_institution).exclude(pk=r.to_centre_id)


def _steps() -> dict[str, Step]:
    return {s.name: s for s in [
        Step("accept", gettext_lazy("Accept"), lambda r, u, **kw: f.AcceptForm(**kw),
             lambda r, by, d: rs.referral_accept(referral=r, by=by, team=d["team"],
                                                 expected_arrival_at=d["expected_arrival_at"]),
             perm.can_accept),
        Step("redirect", gettext_lazy("Redirect to another centre"),
             lambda r, u, **kw: f.RedirectForm(centres=_redirect_centres(r), **kw),
             lambda r, by, d: rs.referral_redirect(referral=r, by=by, to_centre=d["to_centre"], reason=d["reason"]),
             perm.can_redirect),
        Step("decline", gettext_lazy("Decline"), lambda r, u, **kw: f.ReasonForm(**kw),
             lambda r, by, d: rs.referral_decline(referral=r, by=by, reason=d["reason"]),
             perm.can_decline, danger=True),
        Step("depart", gettext_lazy("Record the departure"), lambda r, u, **kw: f.DepartForm(**kw),
             lambda r, by, d: rs.referral_depart(referral=r, by=by, transport=d["transport"], escort=d["escort"],
                                                 at=d["at"]),
             perm.can_depart),
        Step("arrive", gettext_lazy("Record the arrival"), lambda r, u, **kw: f.ArriveForm(**kw),
             lambda r, by, d: rs.referral_arrive(referral=r, by=by, at=d["at"]),
             perm.can_arrive),
        Step("start-treatment", gettext_lazy("Start treatment"), lambda r, u, **kw: f.EmptyForm(**kw),
             lambda r, by, d: rs.referral_start_treatment(referral=r, by=by),
             perm.can_start_treatment),
        Step("outcome", gettext_lazy("Record the outcome"),
             lambda r, u, **kw: f.OutcomeForm(
                 institutions=transfer_on_choices(institution=r.to_centre.institution), **kw),
             lambda r, by, d: rs.referral_outcome(referral=r, by=by, outcome=d["outcome"], note=d["note"],
                                                  transferred_to=d["transferred_to"], at=d["at"]),
             perm.can_record_outcome),
        Step("feedback", gettext_lazy("Give feedback to the sender"), lambda r, u, **kw: f.FeedbackForm(**kw),
             lambda r, by, d: rs.referral_feedback(referral=r, by=by, summary=d["summary"], advice=d["advice"]),
             perm.can_give_feedback),
        Step("attach", gettext_lazy("Attach a note or image"), lambda r, u, **kw: f.AttachForm(**kw),
             lambda r, by, d: rs.referral_attach(referral=r, by=by, upload=d["file"]),
             perm.can_attach),
        Step("near-miss", gettext_lazy("Near-miss checklist"), lambda r, u, **kw: register_forms.NearMissForm(**kw),
             lambda r, by, d: registers.near_miss_record(
                 pregnancy=r.pregnancy, by=by, referral=r, criteria=d["criteria"], note=d["note"],
                 institution=r.to_centre.institution if perm.is_centre_staff(by, r) else r.from_institution),
             perm.can_record_near_miss),
        Step("caesarean", gettext_lazy("Emergency caesarean (DDI)"), lambda r, u, **kw: register_forms.CaesareanForm(**kw),
             lambda r, by, d: registers.caesarean_record(
                 pregnancy=r.pregnancy, by=by, referral=r, institution=r.to_centre.institution,
                 decision_at=d["decision_at"], delivery_at=d["delivery_at"], note=d["note"]),
             perm.can_record_caesarean),
        Step("cancel", gettext_lazy("Cancel the referral"), lambda r, u, **kw: f.ReasonForm(**kw),
             lambda r, by, d: rs.referral_cancel(referral=r, by=by, reason=d["reason"]),
             perm.can_cancel, danger=True),
    ]}


def _referral_for(request: HttpRequest, pk: Any) -> Referral:
    return get_visible_or_404(visible_referrals(request.user).select_related(
        "to_centre__institution__region", "from_institution__region", "escalated_to__institution", "case",
        "transferred_to", "redirected_from__to_centre__institution"), pk=pk)


def _timeline(referral: Referral) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    for h in referral.history.select_related("history_user").order_by("history_date"):
        events.append({"at": h.history_date, "kind": "transition", "who": h.history_user,
                       "what": Referral.State(h.state).label, "why": reason_display(h.history_change_reason)})
    events += alert_timeline_events(referral)
    events.sort(key=lambda e: e["at"], reverse=True)
    return events


@referral_page
def referral_detail(request: HttpRequest, pk: Any) -> HttpResponse:
    referral = _referral_for(request, pk)
    user: Any = request.user
    access_record(user=user, action=AccessLog.Action.VIEW, obj=referral,
                  summary=f"{referral._meta.verbose_name} {referral.pregnancy.woman.name}",
                  region=referral.from_institution.region, institution=referral.from_institution)
    steps = [s for s in _steps().values() if s.allowed(user, referral)]
    checks = list(referral.pregnancy.near_miss_checks.select_related("recorded_by", "institution"))
    return render(request, "referral/detail.html", {
        "referral": referral, "woman": referral.pregnancy.woman, "steps": steps, "timeline": _timeline(referral),
        "attachments": referral.attachments.select_related("uploaded_by"),
        "near_miss": [{"check": c, "criteria": [BY_CODE[code] for code in c.criteria if code in BY_CODE]}
                      for c in checks],
        "caesareans": referral.emergency_caesareans.select_related("recorded_by"),
        "consultations": referral.consultations.select_related("to_centre__institution", "to_expert"),
        "chain": _redirect_chain(referral, user), "now": timezone.now(),
        "can_consult": perm.can_consult(user, referral),
        # An officer who oversees the area (an escalation reached her) learns what the page is for and
        # whom to ring, instead of only "nothing for you here".
        "oversight": not steps and _oversees_an_area(user),
    })


def _redirect_chain(referral: Referral, user: Any) -> list[Referral]:
    """Earlier referrals this one was redirected from, oldest first, then any it was redirected to: only those
    the user may see, as in the API (a centre that redirected her does not learn what became of her)."""
    visible = visible_referrals(user).select_related("to_centre__institution")
    chain: list[Referral] = []
    seen = {referral.pk}
    current = visible.filter(pk=referral.redirected_from_id).first() if referral.redirected_from_id else None
    while current is not None and current.pk not in seen:
        chain.insert(0, current)
        seen.add(current.pk)
        current = visible.filter(pk=current.redirected_from_id).first() if current.redirected_from_id else None
    following = visible.filter(redirected_from=referral).first()
    while following is not None and following.pk not in seen:
        chain.append(following)
        seen.add(following.pk)
        following = visible.filter(redirected_from=following).first()
    return chain


@referral_page
def referral_action(request: HttpRequest, pk: Any, action: str) -> HttpResponse:
    referral = _referral_for(request, pk)
    user: Any = request.user
    step = _steps().get(action)
    if step is None:
        raise Http404(_("Not found."))
    if not step.allowed(user, referral):
        done_by = f" ({referral.answered_by})" if referral.answered_by_id else ""
        raise ActionDenied(_("This step is not open to you now: the referral is %(state)s%(by)s.")
                           % {"state": referral.get_state_display(), "by": done_by})
    form = step.form(referral, user, data=request.POST or None, files=request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            result = step.run(referral, user, form.cleaned_data)
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Done: %(step)s.") % {"step": step.title})
            target = result if isinstance(result, Referral) else referral
            return redirect("referral:detail", pk=target.pk)
    return render(request, "referral/action.html", {"referral": referral, "form": form, "step": step},
                  status=422 if form.errors else 200)


@referral_page
def referral_print(request: HttpRequest, pk: Any) -> HttpResponse:
    """The referral form (转诊单) printed for the ambulance crew."""
    referral = _referral_for(request, pk)
    user: Any = request.user
    access_record(user=user, action=AccessLog.Action.EXPORT, obj=referral,
                  summary=f"转诊单 {referral.pregnancy.woman.name}", region=referral.from_institution.region,
                  institution=referral.from_institution)
    pregnancy = referral.pregnancy
    today = timezone.localdate()
    weeks, days = pregnancy.gestational_age(today)
    born = pregnancy.woman.date_of_birth
    age = today.year - born.year - ((today.month, today.day) < (born.month, born.day))
    return render(request, "referral/print.html", {
        "referral": referral, "woman": pregnancy.woman, "pregnancy": pregnancy, "ga": f"{weeks}+{days}", "age": age,
        "printed_at": timezone.now(), "duty": rs.centre_suggestions(referral.from_institution),
    })


@referral_page
def attachment_download(request: HttpRequest, pk: Any, file_pk: Any) -> FileResponse:
    referral = _referral_for(request, pk)
    attachment = get_visible_or_404(referral.attachments.all(), pk=file_pk)
    user: Any = request.user
    access_record(user=user, action=AccessLog.Action.EXPORT, obj=referral,
                  summary=f"{attachment._meta.verbose_name} {referral.pregnancy.woman.name}",
                  region=referral.from_institution.region, institution=referral.from_institution)
    return stored_file_response(attachment)


@requires("cases.view_emergencycaesarean")
def caesarean_list(request: HttpRequest) -> HttpResponse:
    """The centre's emergency caesareans with their DDI, those above target flagged."""
    user: Any = request.user
    institutions = _centre_institutions(user) or acting_institutions(user, OBSTETRIC_ROLES)
    rows = visible_emergency_caesareans(user).select_related(
        "pregnancy__woman", "institution", "recorded_by").order_by("-decision_at")[:300]
    return render(request, "referral/caesareans.html", {"rows": rows, "institutions": institutions})


@requires("cases.view_nearmiss")
def near_miss_register(request: HttpRequest) -> HttpResponse:
    """The near-miss register (危重孕产妇): women marked by a checklist that met a WHO criterion, newest
    first, scoped like every pregnancy read."""
    user: Any = request.user
    pregnancies = list(visible_pregnancies(user).filter(near_miss_at__isnull=False).order_by("-near_miss_at")[:300])
    checks: dict[Any, Any] = {}
    for check in NearMiss.objects.filter(pregnancy__in=pregnancies).exclude(criteria=[]).select_related(
            "institution").order_by("recorded_at"):
        checks[check.pregnancy_id] = check
    rows = [{"pregnancy": p, "check": checks.get(p.pk),
             "criteria": [BY_CODE[c] for c in (checks[p.pk].criteria if p.pk in checks else []) if c in BY_CODE]}
            for p in pregnancies]
    return render(request, "referral/near_misses.html", {"rows": rows})


# --- Consultations ---------------------------------------------------------------------------------

@consultation_page
def consultation_list(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    open_tasks = consultation_tasks_for(user).values("process_id")
    asked_of_me = visible_consultations(user).filter(process__in=open_tasks)
    rows = visible_consultations(user).order_by("-requested_at")[:200]
    return render(request, "referral/consultations.html", {"asked_of_me": asked_of_me, "rows": rows,
                                                                  "now": timezone.now()})




def _experts(province: str | None) -> QuerySet[User]:
    """Who may be asked by name in the province, each with the memberships that make them an expert there
    (``expert_memberships``: the form shows the institution and role beside the name)."""
    roles = Membership.objects.filter(is_active=True, role__in=CONSULTANT_ROLES, institution__is_active=True,
                                      institution__region__province_id=province).select_related("institution")
    return User.objects.filter(is_active=True, memberships__in=roles).distinct().prefetch_related(
        Prefetch("memberships", queryset=roles.order_by("institution__name", "role"),
                 to_attr="expert_memberships")).order_by("name", "username")


@requires("cases.add_consultation")
def consultation_new(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    pregnancy = get_visible_or_404(visible_pregnancies(user), pk=request.GET.get("pregnancy"))
    referral = None
    if request.GET.get("referral"):
        referral = get_visible_or_404(visible_referrals(user), pk=request.GET.get("referral"))
    institutions = acting_institutions(user, CLINICAL_ROLES)
    if not institutions:
        raise ActionDenied(_("You do not hold a clinical role that asks for consultations."))
    province = institutions[0].region.province_id
    form = f.ConsultationForm(
        request.POST or None, institutions=Institution.objects.filter(pk__in=[i.pk for i in institutions]),
        centres=RescueCentre.objects.filter(is_active=True, institution__region__province_id=province).select_related(
            "institution"),
        experts=_experts(province).exclude(pk=user.pk),
        initial={"from_institution": institutions[0].pk, "mode": Consultation.Mode.REMOTE, "urgency": Urgency.URGENT})
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            consultation = rs.consultation_request(
                pregnancy=pregnancy, by=user, from_institution=d["from_institution"], mode=d["mode"],
                urgency=d["urgency"], question=d["question"], to_centre=d["to_centre"], to_expert=d["to_expert"],
                referral=referral)
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Consultation requested."))
            return redirect("referral:consultation", pk=consultation.pk)
    return render(request, "referral/consultation_new.html",
                  {"form": form, "pregnancy": pregnancy, "woman": pregnancy.woman, "referral": referral},
                  status=422 if form.errors else 200)


def _consultation_for(request: HttpRequest, pk: Any) -> Consultation:
    return get_visible_or_404(visible_consultations(request.user), pk=pk)


@consultation_page
def consultation_detail(request: HttpRequest, pk: Any) -> HttpResponse:
    consultation = _consultation_for(request, pk)
    user: Any = request.user
    return render(request, "referral/consultation.html", {
        "c": consultation, "woman": consultation.pregnancy.woman,
        "can_answer": perm.can_answer_consultation(user, consultation),
        "can_cancel": perm.can_cancel_consultation(user, consultation),
        "history": consultation.history.select_related("history_user").order_by("-history_date"),
    })


@consultation_page
def consultation_action(request: HttpRequest, pk: Any, action: str) -> HttpResponse:
    consultation = _consultation_for(request, pk)
    user: Any = request.user
    forms_by_action: dict[str, Any] = {"answer": f.ConsultationAnswerForm, "cancel": f.ReasonForm}
    if action not in forms_by_action:
        raise Http404(_("Not found."))
    form = forms_by_action[action](request.POST or None)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            if action == "answer":
                rs.consultation_answer(consultation=consultation, by=user, answer=d["answer"],
                                       onsite_eta=d["onsite_eta"])
            else:
                rs.consultation_cancel(consultation=consultation, by=user, reason=d["reason"])
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Done."))
            return redirect("referral:consultation", pk=consultation.pk)
    return render(request, "referral/consultation_action.html",
                  {"c": consultation, "form": form, "action": action}, status=422 if form.errors else 200)
