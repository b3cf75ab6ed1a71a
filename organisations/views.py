"""Pages of the shell: the home page per role, the organisation directory, history and access log."""

from __future__ import annotations

from collections import Counter
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import generic
from django.views.decorators.http import require_POST
from viewflow.urls import ReadonlyModelViewset
from viewflow.views import DetailModelView

from organisations import client_views
from organisations.history import history_entries, history_selector
from organisations.http import get_visible_or_404
from organisations.models import Institution, Membership, Region, RescueCentre, Role
from organisations.personal import mask_phone
from organisations.scoping import user_scope
from organisations.selectors import (
    referral_centre_choices,
    visible_access_logs,
    visible_institutions,
    visible_memberships,
    visible_rescue_centres,
)
from organisations.services import centre_beds_update
from organisations.shell import AnmuApplication


class ScopedDetailView(DetailModelView):
    """A viewflow detail page whose object comes from the viewset's scoped queryset: out of scope is 404."""

    def get_queryset(self):  # type: ignore[no-untyped-def]
        return self.viewset.get_queryset(self.request)


class InstitutionViewset(ReadonlyModelViewset):
    model = Institution
    icon = "local_hospital"
    title = gettext_lazy("Institutions")
    detail_view_class = ScopedDetailView
    list_columns = ("name", "kind", "level", "region", "is_active")
    list_filter_fields = ("kind", "level", "is_active")
    list_search_fields = ("name",)

    def get_queryset(self, request: HttpRequest):  # type: ignore[no-untyped-def]
        return visible_institutions(request.user)


class RescueCentreViewset(ReadonlyModelViewset):
    model = RescueCentre
    icon = "emergency"
    title = gettext_lazy("Rescue centres")
    detail_view_class = ScopedDetailView
    list_columns = ("institution", "level", "duty_phone", "contact_note", "is_active")
    list_filter_fields = ("level", "is_active")

    def get_queryset(self, request: HttpRequest):  # type: ignore[no-untyped-def]
        return visible_rescue_centres(request.user)


def _role_set(user: Any) -> set[str]:
    return set(user_scope(user).roles)


# The processes add their counts to the home page here (``workflows/apps.py``): each is called with (user=)
# and returns the template variables it fills. Organisations know nothing of the processes above them.
HOME_PANELS: list[Any] = []


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """One page per role: what this person works with, from their memberships and scope."""
    user: Any = request.user
    scope = user_scope(user)
    roles = _role_set(user)
    memberships = list(
        Membership.objects.filter(user=user, is_active=True, institution__is_active=True)
        .select_related("institution__region")
        .order_by("institution__name", "role")
    )
    context: dict[str, Any] = {
        "memberships": memberships,
        "roles": roles,
        "Role": Role,
        "no_scope": scope.is_empty,
    }
    clinical_institutions = [m.institution for m in memberships if m.role in
                             (Role.OBSTETRICIAN, Role.PRIMARY_CARE, Role.DUTY_DOCTOR)]
    if clinical_institutions:
        # Where to refer a woman in danger: lowest sufficient level first, who is on duty now, free beds.
        context["covering_centres"] = referral_centre_choices(institution=clinical_institutions[0])
    if Role.DUTY_DOCTOR in roles:
        context["my_centres"] = list(
            RescueCentre.objects.filter(
                institution__in=[m.institution for m in memberships if m.role == Role.DUTY_DOCTOR]
            ).prefetch_related("regions").select_related("institution")
        )
    if scope.areas or scope.everything:
        institutions = visible_institutions(user)
        kinds = Counter(institutions.values_list("kind", flat=True))
        context["area_regions"] = (
            Region.objects.filter(code__in=[code for _level, code in scope.areas]).order_by("code")
            if not scope.everything else Region.objects.filter(level=Region.Level.PROVINCE)
        )
        context["kind_counts"] = [(label, kinds.get(value, 0)) for value, label in Institution.Kind.choices]
        context["area_centres"] = visible_rescue_centres(user).order_by("institution__region_id")
        context["staff_count"] = visible_memberships(user).filter(is_active=True).values("user").distinct().count()
    for panel in HOME_PANELS:
        context.update(panel(user=user))
    context["can_review_access"] = user.has_perm("organisations.view_accesslog")
    context["can_admin"] = user.is_staff
    return render(request, "organisations/home.html", context)


@login_required
def record_history(request: HttpRequest, label: str, pk: str) -> HttpResponse:
    """Who changed this record, when, what and why. Visible exactly when the record is."""
    selector = history_selector(label)
    if selector is None:
        return render(request, "404.html", status=404)
    obj = get_visible_or_404(selector(request.user), pk=pk)
    entries = history_entries(obj)
    return render(request, "organisations/history.html", {
        "object": obj,
        "model_name": obj._meta.verbose_name,
        "entries": entries,
    })


def access_log(request: HttpRequest) -> HttpResponse:
    if not request.user.has_perm("organisations.view_accesslog"):
        raise PermissionDenied(_("Only MCH and bureau officers review the access log."))
    queryset = visible_access_logs(request.user)
    action = request.GET.get("action", "")
    if action:
        queryset = queryset.filter(action=action)
    page = Paginator(queryset, 50).get_page(request.GET.get("page"))
    return render(request, "organisations/access_log.html", {"page": page, "action": action})


@require_POST
def centre_beds(request: HttpRequest, pk: Any) -> HttpResponse:
    """A duty doctor updates the free obstetric ICU and delivery beds of the centre."""
    centre = get_visible_or_404(visible_rescue_centres(request.user), pk=pk)
    try:
        icu, delivery = int(request.POST.get("icu", "")), int(request.POST.get("delivery", ""))
    except ValueError:
        messages.error(request, _("Enter the number of free beds as whole numbers."))
        return redirect("index")
    try:
        centre_beds_update(centre=centre, by=request.user, icu=icu, delivery=delivery)  # type: ignore[arg-type]
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("Free beds updated."))
    return redirect("index")


class ProfileView(LoginRequiredMixin, generic.TemplateView):
    template_name = "organisations/profile.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        user: Any = self.request.user
        context["phone_masked"] = mask_phone(getattr(user, "phone", ""))
        context["memberships"] = Membership.objects.filter(user=user).select_related("institution__region")
        return context


# The application's pages in menu order, each with the permission that opens it.
ORGANISATION_PAGES = (
    ("organisations.view_institution", "organisations:institution:index"),
    ("organisations.view_rescuecentre", "organisations:rescuecentre:index"),
    ("organisations.view_dutyshift", "roster:index"),
    ("organisations.view_accesslog", "organisations:access_log"),
    ("organisations.view_apiclient", "organisations:api_clients"),
)


def may_open_organisations(user: Any) -> bool:
    return bool(user.is_authenticated and any(user.has_perm(perm) for perm, _name in ORGANISATION_PAGES))


@login_required
def organisations_index(request: HttpRequest) -> HttpResponse:
    """机构 opens on the first of its pages the user's roles open (the directory for most), never on a
    page that refuses them."""
    for perm, name in ORGANISATION_PAGES:
        if request.user.has_perm(perm):
            return redirect(name)
    raise PermissionDenied(_("Your role does not include the organisation directory."))


class OrganisationsApp(AnmuApplication):
    title = gettext_lazy("Organisations")
    icon = "account_tree"
    app_name = "organisations"
    menu_template_name = "organisations/app_menu.html"
    viewsets = [InstitutionViewset(), RescueCentreViewset()]
    permission = staticmethod(may_open_organisations)
    denied_reason = gettext_lazy("Your role does not include the organisation directory.")

    index_path = path("", organisations_index, name="index")

    access_log_path = path("access-log/", login_required(access_log), name="access_log")
    beds_path = path("centres/<uuid:pk>/beds/", login_required(centre_beds), name="centre_beds")

    # Machine clients of the system admin's area (organisations/client_views.py).
    api_clients_path = path("api-clients/", client_views.api_client_list, name="api_clients")
    api_client_new_path = path("api-clients/new/", client_views.api_client_new, name="api_client_new")
    api_client_path = path("api-clients/<uuid:pk>/", client_views.api_client_detail, name="api_client")
    api_token_new_path = path("api-clients/<uuid:pk>/tokens/", client_views.api_token_new, name="api_token_new")
    api_token_revoke_path = path("api-clients/<uuid:pk>/tokens/<uuid:token_pk>/revoke/",
                                 client_views.api_token_revoke_view, name="api_token_revoke")
    api_client_deactivate_path = path("api-clients/<uuid:pk>/deactivate/", client_views.api_client_deactivate_view,
                                      name="api_client_deactivate")
