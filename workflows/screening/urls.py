"""URLs of the screening API: the risk engine (/api/risk/…) and the records of process 1 (/api/women/,
/api/pregnancies/, /api/screenings/, /api/assessments/); screening's pages are steps on a pregnancy
(workflows/women/urls.py)."""

from __future__ import annotations

from django.urls import path
from rest_framework.routers import SimpleRouter

from workflows.screening import api, api_records

# SimpleRouter: organisations.api_urls' DefaultRouter already serves the API root at /api/.
router = SimpleRouter(use_regex_path=False)
router.register("women", api_records.WomanViewSet, basename="api-woman")
router.register("pregnancies", api_records.PregnancyViewSet, basename="api-pregnancy")
router.register("screenings", api_records.ScreeningViewSet, basename="api-screening")
router.register("assessments", api_records.AssessmentViewSet, basename="api-assessment")

api_urlpatterns = [path("risk/evaluate/", api.risk_evaluate_view, name="api-risk-evaluate"), *router.urls]
