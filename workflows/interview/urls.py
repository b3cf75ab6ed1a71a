"""URLs of interviews and circulars (/interviews/…) and of their API (/api/interviews/…, /api/circulars/…)."""

from __future__ import annotations

from django.urls import path
from django.utils.translation import gettext_lazy
from rest_framework.routers import SimpleRouter

from organisations.shell import AnmuApplication
from workflows.interview import api_circular, api_interview
from workflows.interview.views import (
    DENIED,
    circular_action,
    circular_detail,
    circular_edit,
    circular_export,
    circular_new,
    circular_print,
    circular_ranking,
    circular_ranking_remove,
    circular_subject_remove,
    circular_subjects,
    home,
    interview_action,
    interview_detail,
    interview_export,
    interview_new,
    interview_print,
    may_open,
    party_action,
    party_evidence,
    party_evidence_download,
)


class InterviewApp(AnmuApplication):
    title = gettext_lazy("Interviews and circulars")
    icon = "campaign"
    app_name = "interview"
    menu_template_name = "interview/app_menu.html"
    permission = staticmethod(may_open)
    denied_reason = DENIED

    index_path = path("", home, name="index")
    circular_new_path = path("circulars/new/", circular_new, name="circular_new")
    circular_export_path = path("circulars/export/", circular_export, name="circular_export")
    circular_path = path("circulars/<uuid:pk>/", circular_detail, name="circular")
    circular_edit_path = path("circulars/<uuid:pk>/edit/", circular_edit, name="circular_edit")
    circular_print_path = path("circulars/<uuid:pk>/print/", circular_print, name="circular_print")
    circular_subjects_path = path("circulars/<uuid:pk>/subjects/", circular_subjects, name="circular_subjects")
    circular_subject_remove_path = path("circulars/<uuid:pk>/subjects/<uuid:subject_pk>/remove/",
                                        circular_subject_remove, name="circular_subject_remove")
    circular_ranking_path = path("circulars/<uuid:pk>/ranking/", circular_ranking, name="circular_ranking")
    circular_ranking_remove_path = path("circulars/<uuid:pk>/rankings/<uuid:ranking_pk>/remove/",
                                        circular_ranking_remove, name="circular_ranking_remove")
    circular_action_path = path("circulars/<uuid:pk>/<slug:action>/", circular_action, name="circular_action")
    new_path = path("new/", interview_new, name="new")
    export_path = path("export/", interview_export, name="export")
    detail_path = path("<uuid:pk>/", interview_detail, name="detail")
    print_path = path("<uuid:pk>/print/<slug:document>/", interview_print, name="print")
    party_evidence_path = path("<uuid:pk>/party/<uuid:party_pk>/files/", party_evidence, name="party_evidence")
    party_file_path = path("<uuid:pk>/party/<uuid:party_pk>/files/<uuid:file_pk>/", party_evidence_download,
                           name="party_file")
    party_action_path = path("<uuid:pk>/party/<uuid:party_pk>/<slug:action>/", party_action, name="party_action")
    action_path = path("<uuid:pk>/<slug:action>/", interview_action, name="action")


router = SimpleRouter(use_regex_path=False)
router.register("circulars", api_circular.CircularViewSet, basename="api-circular")
router.register("interviews", api_interview.InterviewViewSet, basename="api-interview")
api_urlpatterns = router.urls
