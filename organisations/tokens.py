"""How the API receives a machine client: its token, its throttle, the log line of each call, its schema.

Only machine clients (``ApiClient``) authenticate by token; people sign in and use their session. A token is
a knox token (``ApiToken``): ``Authorization: Token anmu_…``. It is refused (401) when it is unknown,
expired or revoked, when it belongs to anyone but a machine client, and when the client, its account or its
institution is deactivated. Every call made with a token is logged as one line naming the client — the
method, the path without its query string (which may carry an ID number) and the status, never the token.
"""

from __future__ import annotations

import logging
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.plumbing import build_bearer_security_scheme_object
from knox.auth import TokenAuthentication
from knox.settings import knox_settings
from rest_framework import exceptions
from rest_framework.authentication import get_authorization_header
from rest_framework.throttling import UserRateThrottle

from organisations.models import ApiClient, ApiToken

logger = logging.getLogger("anmu.api.clients")

MACHINE_SCOPE = "machine"


def sent_token(request: Any) -> bool:
    """The request carries ``Authorization: Token …`` (whatever the token is worth)."""
    parts = get_authorization_header(request).split()
    return bool(parts) and parts[0].lower() == knox_settings.AUTH_HEADER_PREFIX.lower().encode()


class ClientTokenAuthentication(TokenAuthentication):
    """knox's token authentication, for machine clients only."""

    def authenticate(self, request: Any) -> Any:
        if not sent_token(request):
            return None  # a person's session (or nothing): the next authentication class decides
        return super().authenticate(request)

    def authenticate_header(self, request: Any) -> Any:
        # The challenge of a 401 goes to a caller that sent a token; one that sent none (a browser whose
        # session ended) keeps the 403 the API always gave.
        return knox_settings.AUTH_HEADER_PREFIX if request is not None and sent_token(request) else None

    def validate_user(self, auth_token: ApiToken) -> tuple[Any, ApiToken]:
        user = auth_token.user
        client = ApiClient.objects.select_related("institution").filter(user=user).first()
        if client is None:
            raise exceptions.AuthenticationFailed(_("Only a machine client calls the API with a token; people "
                                                    "sign in."))
        if not (user.is_active and client.is_active and client.institution.is_active):
            raise exceptions.AuthenticationFailed(_("This machine client or its institution is deactivated."))
        user.api_client = client  # no second query for the throttle or the log line
        return user, auth_token


class ClientTokenScheme(OpenApiAuthenticationExtension):
    """The token in the OpenAPI document (knox's own extension asks the class for its header prefix
    without a request)."""

    target_class = ClientTokenAuthentication
    name = "machineClientToken"

    def get_security_definition(self, auto_schema: Any) -> Any:
        scheme = build_bearer_security_scheme_object(header_name="Authorization",
                                                     token_prefix=knox_settings.AUTH_HEADER_PREFIX)
        scheme["description"] = ("Machine clients only: `Authorization: Token anmu_…`, a token a system "
                                 "administrator issued. People use their signed-in session.")
        return scheme


def is_machine_request(request: Any) -> bool:
    return isinstance(getattr(request, "auth", None), ApiToken)


class ClientRateThrottle(UserRateThrottle):
    """People keep the ``user`` rate; a machine client's calls count against the ``machine`` rate, in a bucket
    of their own."""

    def allow_request(self, request: Any, view: Any) -> bool:
        if is_machine_request(request):
            self.scope = MACHINE_SCOPE
            self.rate = self.get_rate()
            self.num_requests, self.duration = self.parse_rate(self.rate)
        return super().allow_request(request, view)


class ApiClientLogMiddleware:
    """One line per call made with a token: the client's name, method, path (no query string) and status."""

    def __init__(self, get_response: Any) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        token = getattr(request, "auth", None)  # set by DRF on the underlying request once authenticated
        if isinstance(token, ApiToken):
            client = getattr(token.user, "api_client", None)
            logger.info("api call client=%s system=%s method=%s path=%s status=%s",
                        getattr(client, "name", "-"), getattr(client, "system", "-"), request.method,
                        request.path, response.status_code)
        elif request.path.startswith("/api/") and sent_token(request):
            logger.warning("api call refused: token not accepted method=%s path=%s status=%s", request.method,
                           request.path, response.status_code)
        return response
