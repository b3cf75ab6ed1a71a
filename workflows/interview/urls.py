"""URLs of interviews and circulars (/interviews/…) and of their API (/api/interviews/…, /api/circulars/…)."""

from __future__ import annotations

from django.urls import path
from django.utils.translation import gettext_lazy
from rest_framework.routers import SimpleRouter

from organisations.shell import AnmuApplication
from workflows.interview.views import (
    DENIED,
    home,
    interview_action,
    interview_detail,
    interview_new,
    interview_print,
    may_open,
    party_action,
)


class InterviewApp(AnmuApplication):
    title = gettext_lazy("Interviews and circulars")
    icon = "campaign"
    app_name = "interview"
    menu_template_name = "interview/app_menu.html"
    permission = staticmethod(may_open)
    denied_reason = DENIED

    index_path = path("", home, name="index")
    new_path = path("new/", interview_new, name="new")
    detail_path = path("<uuid:pk>/", interview_detail, name="detail")
    print_path = path("<uuid:pk>/print/<slug:document>/", interview_print, name="print")
    party_action_path = path("<uuid:pk>/party/<uuid:party_pk>/<slug:action>/", party_action, name="party_action")
    action_path = path("<uuid:pk>/<slug:action>/", interview_action, name="action")


router = SimpleRouter(use_regex_path=False)
api_urlpatterns = router.urls
