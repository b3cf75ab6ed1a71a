"""URLs of self-inspection reports (/selfinspection/…)."""

from __future__ import annotations

from django.urls import path
from django.utils.translation import gettext_lazy

from organisations.shell import AnmuApplication
from workflows.selfinspection.views import (
    DENIED,
    home,
    may_open,
    report_detail,
    report_docx_download,
    report_edit,
    report_finalise,
    report_new,
    report_print,
)


class SelfInspectionApp(AnmuApplication):
    title = gettext_lazy("Self-inspection")
    icon = "fact_check"
    app_name = "selfinspection"
    menu_template_name = "selfinspection/app_menu.html"
    permission = staticmethod(may_open)
    denied_reason = DENIED

    index_path = path("", home, name="index")
    new_path = path("new/", report_new, name="new")
    detail_path = path("<uuid:pk>/", report_detail, name="detail")
    edit_path = path("<uuid:pk>/edit/", report_edit, name="edit")
    finalise_path = path("<uuid:pk>/finalise/", report_finalise, name="finalise")
    print_path = path("<uuid:pk>/print/", report_print, name="print")
    docx_path = path("<uuid:pk>/report.docx", report_docx_download, name="docx")
