"""The indicators' routes: the dashboard application (/indicators/…, menu 指标) and the API (mounted under /api/
by project/urls.py)."""

from django.urls import path
from django.utils.translation import gettext_lazy

from indicators.api import IndicatorsView
from indicators.views import (
    DENIED,
    dashboard,
    dashboard_data_json,
    dashboard_export,
    dashboard_live,
    dashboard_print,
    may_open,
)
from organisations.shell import AnmuApplication


class IndicatorsApp(AnmuApplication):
    title = gettext_lazy("Indicators")
    icon = "insights"
    app_name = "indicators"
    menu_template_name = "indicators/app_menu.html"
    permission = staticmethod(may_open)
    denied_reason = DENIED

    index_path = path("", dashboard, name="index")
    region_path = path("<str:code>/", dashboard, name="region")
    data_path = path("<str:code>/data.json", dashboard_data_json, name="data")
    live_path = path("<str:code>/live.json", dashboard_live, name="live")
    print_path = path("<str:code>/print/", dashboard_print, name="print")
    export_path = path("<str:code>/export/<slug:table>.<slug:fmt>", dashboard_export, name="export")


api_urlpatterns = [path("indicators/", IndicatorsView.as_view(), name="api-indicators")]
