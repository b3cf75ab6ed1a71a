"""URLs of the death-review application (/death/…) and of its API (/api/death-reports/…)."""

from __future__ import annotations

from django.urls import path
from django.utils.translation import gettext_lazy
from rest_framework.routers import SimpleRouter

from organisations.shell import AnmuApplication
from workflows.death import api, api_measures, api_panels
from workflows.death.views import (
    DENIED,
    attachment_download,
    attachments_page,
    card_edit,
    home,
    may_open,
    measure_action,
    measure_detail,
    measure_list,
    measure_new,
    measures_ours,
    meeting_action,
    meeting_conclude,
    meeting_detail,
    meeting_list,
    meeting_minutes,
    meeting_new,
    pregnancy_death,
    report_action,
    report_break_glass,
    report_detail,
    report_export,
    report_list,
    report_new,
    report_packet,
    report_print,
    worklist,
)


class DeathApp(AnmuApplication):
    title = gettext_lazy("Maternal death review")
    icon = "local_florist"
    app_name = "death"
    menu_template_name = "death/app_menu.html"
    permission = staticmethod(may_open)
    denied_reason = DENIED

    index_path = path("", home, name="index")
    list_path = path("reports/", report_list, name="list")
    worklist_path = path("reviews/", worklist, name="worklist")
    export_path = path("export/", report_export, name="export")
    new_path = path("new/", report_new, name="new")
    meetings_path = path("meetings/", meeting_list, name="meetings")
    meeting_new_path = path("meetings/new/", meeting_new, name="meeting_new")
    meeting_path = path("meetings/<uuid:pk>/", meeting_detail, name="meeting")
    meeting_minutes_path = path("meetings/<uuid:pk>/minutes/", meeting_minutes, name="meeting_minutes")
    meeting_conclude_path = path("meetings/<uuid:pk>/conclude/<uuid:report_pk>/", meeting_conclude,
                                 name="meeting_conclude")
    meeting_action_path = path("meetings/<uuid:pk>/<slug:action>/", meeting_action, name="meeting_action")
    pregnancy_path = path("pregnancy/<uuid:pregnancy_pk>/", pregnancy_death, name="pregnancy")
    detail_path = path("<uuid:pk>/", report_detail, name="detail")
    card_path = path("<uuid:pk>/card/", card_edit, name="card")
    print_path = path("<uuid:pk>/print/", report_print, name="print")
    attachments_path = path("<uuid:pk>/files/", attachments_page, name="attachments")
    attachment_path = path("<uuid:pk>/files/<uuid:file_pk>/", attachment_download, name="attachment")
    packet_path = path("<uuid:pk>/packet/", report_packet, name="packet")
    break_glass_path = path("<uuid:pk>/packet/break-glass/", report_break_glass, name="break_glass")
    action_path = path("<uuid:pk>/<slug:action>/", report_action, name="action")
    measures_path = path("measures/", measure_list, name="measures")
    measures_ours_path = path("measures/ours/", measures_ours, name="measures_ours")
    measure_path = path("measures/<uuid:pk>/", measure_detail, name="measure")
    measure_action_path = path("measures/<uuid:pk>/<slug:action>/", measure_action, name="measure_action")
    measure_new_path = path("<uuid:pk>/measures/new/", measure_new, name="measure_new")


router = SimpleRouter(use_regex_path=False)
router.register("death-reports", api.DeathReportViewSet, basename="api-death-report")
router.register("death-review-meetings", api_panels.ReviewMeetingViewSet, basename="api-death-review-meeting")
router.register("improvement-measures", api_measures.ImprovementMeasureViewSet, basename="api-improvement-measure")
api_urlpatterns = router.urls
