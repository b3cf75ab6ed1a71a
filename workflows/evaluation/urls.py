"""URLs of the evaluation (/evaluation/…) and of its API (/api/evaluation-rounds/…, /api/evaluation-submissions/…)."""

from __future__ import annotations

from django.urls import path
from django.utils.translation import gettext_lazy
from rest_framework.routers import SimpleRouter

from organisations.shell import AnmuApplication
from workflows.evaluation import api, round_views, views
from workflows.evaluation.permissions import DENIED, may_open


class EvaluationApp(AnmuApplication):
    title = gettext_lazy("Evaluation")
    icon = "fact_check"
    app_name = "evaluation"
    menu_template_name = "evaluation/app_menu.html"
    permission = staticmethod(may_open)
    denied_reason = DENIED

    index_path = path("", views.home, name="index")
    scheme_path = path("schemes/<uuid:pk>/", views.scheme_detail, name="scheme")
    scheme_export_path = path("schemes/<uuid:pk>/export/", views.scheme_export, name="scheme_export")
    scheme_import_path = path("schemes/<uuid:pk>/import/", views.scheme_import, name="scheme_import")
    rounds_path = path("rounds/", round_views.rounds, name="rounds")
    round_path = path("rounds/<uuid:pk>/", round_views.round_detail, name="round")
    round_sample_path = path("rounds/<uuid:pk>/sample/", round_views.round_sample, name="round_sample")
    round_export_path = path("rounds/<uuid:pk>/export/", round_views.round_export, name="round_export")
    round_close_path = path("rounds/<uuid:pk>/close/", round_views.round_close, name="round_close")
    submission_path = path("submissions/<uuid:pk>/", round_views.submission_detail, name="submission")
    submission_act_path = path("submissions/<uuid:pk>/<slug:action>/", round_views.submission_act,
                               name="submission_act")


router = SimpleRouter(use_regex_path=False)
router.register("evaluation-rounds", api.EvaluationRoundViewSet, basename="api-evaluation-round")
router.register("evaluation-submissions", api.EvaluationSubmissionViewSet, basename="api-evaluation-submission")
api_urlpatterns = router.urls
