"""The app shell's building blocks: an Application that says why it refuses, and the middleware
that turns refusals into a login redirect (anonymous) or a 403 with that reason (signed in)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from viewflow.urls import Application

from organisations.http import ActionDenied


class AnmuApplication(Application):
    base_template_name = "anmu/base.html"
    # Shown on the 403 page to a signed-in user whose roles do not open this application.
    denied_reason: Any = None


class AppAccessMiddleware:
    """Runs before viewflow's SiteMiddleware, which would answer both cases with a bare 403."""

    def __init__(self, get_response):  # type: ignore[no-untyped-def]
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(self, request: HttpRequest, callback, callback_args, callback_kwargs):  # type: ignore[no-untyped-def]
        match = request.resolver_match
        extra = getattr(getattr(match, "url_name", None), "extra", {}) if match else {}
        app = extra.get("app")
        if app is None or app.has_view_permission(request.user):
            return None
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        raise ActionDenied(str(getattr(app, "denied_reason", None) or ""))

