from django.urls import path

from cases import api

urlpatterns = [path("risk/evaluate/", api.risk_evaluate_view, name="api-risk-evaluate")]
