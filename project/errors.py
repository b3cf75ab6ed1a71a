"""Error pages in Anmu's shell."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """The 403 page in Anmu's shell (viewflow's own is a bare lock screen): the reason the service gave,
    and the site menu, so a refused user can go on from there.

    viewflow's base template reads the site from ``request.resolver_match.site``, which its middleware
    sets only after the application let the user in; a refusal comes before that, so it is set here."""
    from project.urls import site

    match = request.resolver_match
    if match is not None and getattr(match, "site", None) is None:
        match.site = site  # type: ignore[attr-defined]
    reason = str(exception) if exception is not None else ""
    return render(request, "403.html", {"exception": reason, "site": site}, status=403)
