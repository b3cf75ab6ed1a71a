"""URLs of the routine records' API (/api/visits/, /api/deliveries/); their pages are steps on a pregnancy
(workflows/women/urls.py)."""

from __future__ import annotations

from rest_framework.routers import SimpleRouter

from workflows.routine import api

# SimpleRouter: organisations.api_urls' DefaultRouter already serves the API root at /api/.
router = SimpleRouter(use_regex_path=False)
router.register("visits", api.VisitViewSet, basename="api-visit")
router.register("deliveries", api.DeliveryViewSet, basename="api-delivery")

api_urlpatterns = router.urls
