"""The death-report API under /api/ (the pages are the ``DeathApp`` application in views.py)."""

from rest_framework.routers import SimpleRouter

from workflows.death import api

router = SimpleRouter(use_regex_path=False)
router.register("death-reports", api.DeathReportViewSet, basename="api-death-report")

urlpatterns = router.urls
