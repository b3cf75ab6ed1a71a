"""URLs of the death-review application (/death/…) and of its API (/api/death-reports/…)."""

from __future__ import annotations

from django.urls import path
from django.utils.translation import gettext_lazy
from rest_framework.routers import SimpleRouter

from organisations.shell import AnmuApplication
from workflows.death import api, api_measures
from workflows.death.views import (
    DENIED,
    card_edit,
    home,
    may_open,
    measure_action,
    measure_detail,
    measure_list,
    measure_new,
    measures_ours,
    pregnancy_death,
    report_action,
    report_detail,
    report_list,
    report_new,
    report_print,
    worklist,
)


class DeathApp(AnmuApplication):
    title = gettext_lazy("Maternal death review")
    icon = "local_florist"
    app_name = "death"
    menu_template_name = "death/app_menu.html"
    permission = staticmethod(may_open)
    denied_reason = DENIED

    index_path = path("", home, name="index")
    list_path = path("reports/", report_list, name="list")
    worklist_path = path("reviews/", worklist, name="worklist")
    new_path = path("new/", report_new, name="new")
    pregnancy_path = path("pregnancy/<uuid:pregnancy_pk>/", pregnancy_death, name="pregnancy")
    detail_path = path("<uuid:pk>/", report_detail, name="detail")
    card_path = path("<uuid:pk>/card/", card_edit, name="card")
    print_path = path("<uuid:pk>/print/", report_print, name="print")
    action_path = path("<uuid:pk>/<slug:action>/", report_action, name="action")
    measures_path = path("measures/", measure_list, name="measures")
    measures_ours_path = path("measures/ours/", measures_ours, name="measures_ours")
    measure_path = path("measures/<uuid:pk>/", measure_detail, name="measure")
    measure_action_path = path("measures/<uuid:pk>/<slug:action>/", measure_action, name="measure_action")
    measure_new_path = path("<uuid:pk>/measures/new/", measure_new, name="measure_new")


router = SimpleRouter(use_regex_path=False)
router.register("death-reports", api.DeathReportViewSet, basename="api-death-report")
router.register("improvement-measures", api_measures.ImprovementMeasureViewSet, basename="api-improvement-measure")
api_urlpatterns = router.urls
