"""URLs of interviews and circulars (/interviews/…) and of their API (/api/interviews/…, /api/circulars/…)."""

from __future__ import annotations

from django.urls import path
from django.utils.translation import gettext_lazy
from rest_framework.routers import SimpleRouter

from organisations.shell import AnmuApplication
from workflows.interview.views import DENIED, home, may_open


class InterviewApp(AnmuApplication):
    title = gettext_lazy("Interviews and circulars")
    icon = "campaign"
    app_name = "interview"
    menu_template_name = "interview/app_menu.html"
    permission = staticmethod(may_open)
    denied_reason = DENIED

    index_path = path("", home, name="index")


router = SimpleRouter(use_regex_path=False)
api_urlpatterns = router.urls
