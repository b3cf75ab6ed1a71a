"""Pages for women's records. Lists mask ID and phone numbers; opening a record shows them and is logged."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cases.selectors import visible_pregnancies, visible_women
from organisations.http import ActionDenied, get_visible_or_404
from organisations.models import AccessLog
from organisations.services import access_record
from organisations.shell import AnmuApplication


def _require_view_woman(request: HttpRequest) -> None:
    if not request.user.has_perm("cases.view_woman"):
        raise ActionDenied(_("Your role does not include reading women's records."))


@login_required
def woman_list(request: HttpRequest) -> HttpResponse:
    _require_view_woman(request)
    women = visible_women(request.user).select_related("residence_region", "registered_by")
    query = request.GET.get("q", "").strip()
    if query:
        # Search by name or by the last four characters of the document number.
        women = women.filter(Q(name__icontains=query) | Q(id_number__endswith=query.upper()))
    page = Paginator(women.order_by("name", "id"), 50).get_page(request.GET.get("page"))
    return render(request, "cases/woman_list.html", {"page": page, "q": query})


@login_required
def woman_detail(request: HttpRequest, pk: str) -> HttpResponse:
    _require_view_woman(request)
    woman = get_visible_or_404(visible_women(request.user).select_related("residence_region", "registered_by"),
                               pk=pk)
    pregnancies = visible_pregnancies(request.user).filter(woman=woman).order_by("-booking_date")
    user: Any = request.user
    access_record(user=user, action=AccessLog.Action.VIEW, obj=woman,
                  summary=f"{woman._meta.verbose_name} {woman.name}",
                  region=woman.residence_region, institution=woman.registered_by)
    return render(request, "cases/woman_detail.html", {"woman": woman, "pregnancies": pregnancies})


class CasesApp(AnmuApplication):
    title = gettext_lazy("Women")
    icon = "pregnant_woman"
    app_name = "cases"
    menu_template_name = "cases/app_menu.html"
    permission = "cases.view_woman"
    denied_reason = gettext_lazy("Your role does not include reading women's records.")

    index_path = path("", woman_list, name="index")
    woman_detail_path = path("women/<uuid:pk>/", woman_detail, name="woman_detail")
