from django.urls import path
from rest_framework.routers import SimpleRouter

from cases import api, referral_api

# SimpleRouter: organisations.api_urls' DefaultRouter already serves the API root at /api/.
router = SimpleRouter(use_regex_path=False)
router.register("referrals", referral_api.ReferralViewSet, basename="api-referral")

urlpatterns = [path("risk/evaluate/", api.risk_evaluate_view, name="api-risk-evaluate"), *router.urls]
