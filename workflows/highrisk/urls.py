"""URLs of the high-risk application (/highrisk/…) and of its API (/api/highrisk-cases/…)."""

from __future__ import annotations

from django.urls import path
from django.utils.translation import gettext_lazy
from rest_framework.routers import SimpleRouter

from organisations.shell import AnmuApplication
from workflows.highrisk import api
from workflows.highrisk.views import case_action, case_detail, late_overview, register, worklist


class HighRiskApp(AnmuApplication):
    title = gettext_lazy("High-risk cases")
    icon = "monitor_heart"
    app_name = "highrisk"
    menu_template_name = "highrisk/app_menu.html"
    permission = "cases.view_highriskcase"
    denied_reason = gettext_lazy("Your role does not include high-risk case management.")

    index_path = path("", worklist, name="index")
    register_path = path("register/", register, name="register")
    late_path = path("late/", late_overview, name="late")
    case_path = path("cases/<uuid:pk>/", case_detail, name="case_detail")
    action_path = path("cases/<uuid:pk>/<slug:action>/", case_action, name="case_action")


# SimpleRouter: organisations.api_urls' DefaultRouter already serves the API root at /api/.
router = SimpleRouter(use_regex_path=False)
router.register("highrisk-cases", api.HighRiskCaseViewSet, basename="api-highrisk-case")
api_urlpatterns = router.urls
