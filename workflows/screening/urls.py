"""URLs of the screening API (/api/risk/…); screening's pages are steps on a pregnancy (workflows/women/urls.py)."""

from __future__ import annotations

from django.urls import path

from workflows.screening import api

api_urlpatterns = [path("risk/evaluate/", api.risk_evaluate_view, name="api-risk-evaluate")]
