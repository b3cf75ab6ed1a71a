"""Error pages in Anmu's shell."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def _in_shell(request: HttpRequest) -> Any:
    from project.urls import site

    match = request.resolver_match
    if match is not None and getattr(match, "site", None) is None:
        match.site = site  # type: ignore[attr-defined]
    return site


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """The 404 page in Anmu's shell (viewflow's is an English lock screen); with the menu where the URL
    matched a page (a record out of scope), without it where it matched nothing."""
    return render(request, "404.html", {"site": _in_shell(request)}, status=404)


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """The 403 page in Anmu's shell (viewflow's own is a bare lock screen): the reason the service gave,
    and the site menu, so a refused user can go on from there.

    viewflow's base template reads the site from ``request.resolver_match.site``, which its middleware
    sets only after the application let the user in; a refusal comes before that, so it is set here."""
    reason = str(exception) if exception is not None else ""
    return render(request, "403.html", {"exception": reason, "site": _in_shell(request)}, status=403)
