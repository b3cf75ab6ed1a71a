"""URLs of prenatal screening and diagnosis QC (/prenatal/…, menu 产前筛查质控)."""

from __future__ import annotations

from django.urls import path
from django.utils.translation import gettext_lazy

from organisations.shell import AnmuApplication
from workflows.prenatal.views import DENIED, entry, export, home, may_open


class PrenatalApp(AnmuApplication):
    title = gettext_lazy("Prenatal QC")
    icon = "biotech"
    app_name = "prenatal"
    menu_template_name = "prenatal/app_menu.html"
    permission = staticmethod(may_open)
    denied_reason = DENIED

    index_path = path("", home, name="index")
    export_path = path("export.xlsx", export, name="export")
    entry_path = path("<uuid:institution>/<str:period>/", entry, name="entry")
