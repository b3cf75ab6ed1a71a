"""The indicators' API routes (mounted under /api/ by project/urls.py)."""

from django.urls import path

from indicators.api import IndicatorsView

api_urlpatterns = [path("indicators/", IndicatorsView.as_view(), name="api-indicators")]
