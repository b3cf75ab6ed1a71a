"""Project-wide HTTP middleware: no caching of anything personal, and NUL characters refused."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import unquote_to_bytes

from django.http import HttpRequest, HttpResponse, HttpResponseBase, JsonResponse
from django.shortcuts import render
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _


class NoStoreMiddleware:
    """``Cache-Control: no-store`` (and the rest of never-cache) on every page, API answer, attachment
    and export: they carry personal data, and a shared or browser cache must keep none of it.
    Static files never reach this middleware (whitenoise answers them above it)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        add_never_cache_headers(response)
        return response


def bad_request(request: HttpRequest, reason: str) -> HttpResponse:
    """A 400 in the API's JSON form under /api/, else the 400 page with the reason."""
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": reason}, status=400)
    return render(request, "400.html", {"reason": reason}, status=400)


class RejectNulBytesMiddleware:
    """A NUL character in the path, the query string (a search, a filter) or a plain form post is
    refused with a 400: PostgreSQL cannot store or compare it and the query would fail with a 500.
    Django form fields refuse it themselves (ProhibitNullCharactersValidator), JSON bodies are
    checked in organisations.parsers."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        query = request.META.get("QUERY_STRING", "")
        if "\x00" in request.path or b"\x00" in unquote_to_bytes(query.replace("+", " ")):
            return bad_request(request, _("The address contains a NUL character, which is not allowed."))
        # A plain form post that a view reads field by field (without a Django form) is checked too;
        # multipart bodies are left to the forms that parse them.
        if (request.method == "POST" and request.content_type == "application/x-www-form-urlencoded"
                and any("\x00" in value for values in request.POST.lists() for value in values[1])):
            return bad_request(request, _("The request contains a NUL character, which is not allowed."))
        return self.get_response(request)
