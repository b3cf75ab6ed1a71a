"""URLs: the viewflow Material site (home and applications), login, admin, API, language switch."""

from django.contrib import admin
from django.urls import include, path, re_path
from django.utils.translation import gettext_lazy as _
from django.views.i18n import JavaScriptCatalog
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from viewflow.urls import Site, route

from indicators.urls import IndicatorsApp
from indicators.urls import api_urlpatterns as indicators_api
from notifications.roster import RosterApp
from notifications.views import AlertsApp
from organisations import api as org_api
from organisations import views as org_views
from project.auth import AnmuAuthViewset
from workflows.death.urls import DeathApp
from workflows.death.urls import api_urlpatterns as death_api
from workflows.evaluation.urls import EvaluationApp
from workflows.evaluation.urls import api_urlpatterns as evaluation_api
from workflows.highrisk.urls import HighRiskApp
from workflows.highrisk.urls import api_urlpatterns as highrisk_api
from workflows.imports.urls import ImportsApp
from workflows.interview.urls import InterviewApp
from workflows.interview.urls import api_urlpatterns as interview_api
from workflows.prenatal.urls import PrenatalApp
from workflows.referral.urls import ReferralApp
from workflows.referral.urls import api_urlpatterns as referral_api
from workflows.routine.urls import api_urlpatterns as routine_api
from workflows.screening.urls import api_urlpatterns as screening_api
from workflows.selfinspection.urls import SelfInspectionApp
from workflows.women.urls import WomenApp

admin.site.site_header = _("Anmu administration")
admin.site.site_title = "安母 Anmu"
admin.site.index_title = _("Administration")


class AnmuSite(Site):
    title = "安母 Anmu"
    icon = "pregnant_woman"
    # Also in static/anmu/theme.css, which applies them (templates/viewflow/base.html).
    primary_color = "#8e2453"
    secondary_color = "#00796b"
    index_path = path("", org_views.home, name="index")
    history_path = path("history/<str:label>/<str:pk>/", org_views.record_history, name="history")
    profile_path = path("profile/", org_views.ProfileView.as_view(), name="profile")
    # The duty roster's pages live with the alerts (notifications/roster.py) and keep their addresses.
    roster_path = route("organisations/roster/", RosterApp())


# Refusals render in Anmu's shell (templates/403.html), not viewflow's "Django Material" lock screen.
handler403 = "project.errors.permission_denied"
handler404 = "project.errors.page_not_found"

site = AnmuSite(viewsets=[WomenApp(), HighRiskApp(), ReferralApp(), DeathApp(), InterviewApp(), EvaluationApp(), SelfInspectionApp(), PrenatalApp(), IndicatorsApp(), ImportsApp(), AlertsApp(), org_views.OrganisationsApp()])

urlpatterns = [
    path("accounts/", AnmuAuthViewset(allow_password_change=True, with_profile_view=False).urls),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("jsi18n/", JavaScriptCatalog.as_view(), name="javascript-catalog"),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    path("api/", include("organisations.api_urls")),
    path("api/", include(screening_api)),
    path("api/", include(routine_api)),
    path("api/", include(highrisk_api)),
    path("api/", include(referral_api)),
    path("api/", include(death_api)),
    path("api/", include(interview_api)),
    path("api/", include(evaluation_api)),
    path("api/", include(indicators_api)),
    # Every /api/ error is JSON: a path no API route matches too (e.g. a non-UUID id).
    re_path(r"^api/", org_api.api_not_found),
    path("", site.urls),
]
