"""The alert inbox (提醒): a person's own alerts, filtered and paginated, each one opened and acknowledged.

The bell in the toolbar (static/anmu/alerts.js) links here. Reads go through ``visible_alerts``, so
another person's alert is a 404 exactly like a missing one; acknowledging goes through
``alert_acknowledge``, whose refusal is a 403 with its reason.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from notifications.kinds import kind_label
from notifications.models import Alert
from notifications.selectors import visible_alerts
from notifications.services import alert_acknowledge, alerts_mark
from organisations.http import get_visible_or_404
from organisations.shell import AnmuApplication

PAGE_SIZE = 25
STATES = {
    "open": gettext_lazy("Open"),
    "acknowledged": gettext_lazy("Acknowledged"),
    "all": gettext_lazy("All"),
}
DEFAULT_STATE = "open"
def _filters(request: HttpRequest, kinds: list[str]) -> dict[str, str]:
    priority = request.GET.get("priority", "")
    state = request.GET.get("state", DEFAULT_STATE)
    kind = request.GET.get("kind", "")
    return {
        "priority": priority if priority in Alert.Priority.values else "",
        "state": state if state in STATES else DEFAULT_STATE,
        "kind": kind if kind in kinds else "",
    }


@login_required
def alert_inbox(request: HttpRequest) -> HttpResponse:
    mine = visible_alerts(request.user)
    kinds = sorted(set(mine.order_by().values_list("kind", flat=True)))
    chosen = _filters(request, kinds)
    alerts = mine.select_related("acknowledged_by")
    if chosen["priority"]:
        alerts = alerts.filter(priority=chosen["priority"])
    if chosen["state"] == "open":
        alerts = alerts.filter(acknowledged_at__isnull=True)
    elif chosen["state"] == "acknowledged":
        alerts = alerts.filter(acknowledged_at__isnull=False)
    if chosen["kind"]:
        alerts = alerts.filter(kind=chosen["kind"])
    page = Paginator(alerts.order_by("-created_at", "-pk"), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "notifications/inbox.html", {
        "page": page,
        "chosen": chosen,
        "query": urlencode({k: v for k, v in chosen.items() if v}),
        "priorities": Alert.Priority.choices,
        "states": list(STATES.items()),
        "kinds": [(kind, kind_label(kind)) for kind in kinds],
        "open_count": mine.filter(acknowledged_at__isnull=True).count(),
    })


@login_required
def alert_detail(request: HttpRequest, pk: Any) -> HttpResponse:
    """Opening an alert marks it read."""
    alert = get_visible_or_404(visible_alerts(request.user).select_related("acknowledged_by", "institution"), pk=pk)
    if alert.read_at is None:
        alerts_mark(user=request.user, ids=[alert.pk], field="read_at")
        alert.refresh_from_db(fields=["read_at"])
    return render(request, "notifications/alert_detail.html", {"alert": alert, "kind_label": kind_label(alert.kind)})


@login_required
@require_POST
def alert_acknowledge_view(request: HttpRequest, pk: Any) -> HttpResponse:
    alert = get_visible_or_404(visible_alerts(request.user), pk=pk)
    was_open = alert.acknowledged_at is None
    # A refusal (ActionDenied) becomes a 403 page with its reason.
    alert = alert_acknowledge(alert_id=alert.pk, by=request.user)
    if was_open and alert.acknowledged_by_id == request.user.pk:
        messages.success(request, _("Acknowledged: %(title)s") % {"title": alert.title_text})
    else:
        messages.info(request, _("%(name)s had already acknowledged this alert.") % {"name": alert.acknowledged_by})
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                                   require_https=request.is_secure()):
        return redirect(target)
    return redirect("alerts:detail", alert.pk)


class AlertsApp(AnmuApplication):
    title = gettext_lazy("Alerts")
    icon = "notifications"
    app_name = "alerts"
    menu_template_name = "notifications/app_menu.html"

    index_path = path("", alert_inbox, name="index")
    detail_path = path("<uuid:pk>/", alert_detail, name="detail")
    acknowledge_path = path("<uuid:pk>/acknowledge/", alert_acknowledge_view, name="acknowledge")
