"""URLs of the import application (/imports/…)."""

from __future__ import annotations

from django.urls import path
from django.utils.translation import gettext_lazy

from organisations.shell import AnmuApplication
from workflows.imports.views import DENIED, home, may_open, template


class ImportsApp(AnmuApplication):
    title = gettext_lazy("Data import")
    icon = "upload_file"
    app_name = "imports"
    menu_template_name = "imports/app_menu.html"
    permission = staticmethod(may_open)
    denied_reason = DENIED

    index_path = path("", home, name="index")
    template_path = path("templates/<slug:kind>.csv", template, name="template")
