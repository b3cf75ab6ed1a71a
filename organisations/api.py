"""REST API for organisations, and the project-wide API error format.

Errors are JSON: ``{"detail": "...", "code": "..."}`` or field errors ``{"field": ["..."]}``.
Out of scope is 404 like missing; a transition or action not allowed is 403/409 with a zh-hans reason.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, JsonResponse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, serializers, status, viewsets
from rest_framework.decorators import api_view
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from organisations.models import Institution, Membership, RescueCentre
from organisations.scoping import user_scope
from organisations.selectors import visible_institutions, visible_rescue_centres


class Conflict(exceptions.APIException):
    """409: the record moved on (someone else acted first); the detail says who or what."""

    status_code = status.HTTP_409_CONFLICT
    default_detail = _("Someone else changed this record at the same moment; reload it and try again.")
    default_code = "conflict"


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    from django_fsm import ConcurrentTransition
    from viewflow.workflow.exceptions import FlowLockFailed

    from organisations.http import TransitionConflict

    if isinstance(exc, TransitionConflict):
        exc = Conflict(detail=exc.reason)
    elif isinstance(exc, (ConcurrentTransition, FlowLockFailed)):
        exc = Conflict()
    elif isinstance(exc, DjangoValidationError):
        detail = exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        exc = exceptions.ValidationError(detail=detail)
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        reason = str(exc) or None
        exc = exceptions.PermissionDenied(detail=reason)
    return drf_exception_handler(exc, context)


# --- The OpenAPI contract -------------------------------------------------------------------------

HTTP_METHODS = ("get", "put", "patch", "post", "delete")
API_ERROR = {"type": "object", "properties": {"detail": {"type": "string"}, "code": {"type": "string"}},
             "required": ["detail"]}
FIELD_ERRORS = {"type": "object", "additionalProperties": {},
                "description": 'Field errors: {"field": ["message", ...]}, or {"detail": "..."} for a body '
                               "that cannot be read."}
# The answers every operation may give besides its own (a documented one is kept as it is).
ERRORS_ANY = {
    "400": ("FieldErrors", "Bad input: field errors, or a body or parameter that cannot be read."),
    "401": ("ApiError", "A machine client's token was refused: unknown, expired or revoked, not a machine "
                        "client's, or its client or institution deactivated."),
    "403": ("ApiError", "Not signed in, or not allowed for your role or institution (reason given)."),
    "404": ("ApiError", "No such record or page, or out of your scope (the same answer)."),
    "429": ("ApiError", "Too many requests; try again later."),
}
ERRORS_WRITE = {
    "409": ("ApiError", "The record's state no longer allows this step (the reason names who acted)."),
    "413": ("ApiError", "The request body is too large."),
    "415": ("ApiError", "Send the body as application/json."),
}


def openapi_postprocess(result: dict[str, Any], generator: Any, request: Any, public: Any) -> dict[str, Any]:
    """drf-spectacular hook: document the errors the project-wide handler gives on every operation
    (JSON bodies, see ``exception_handler``), and that pages start at 1."""
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas.setdefault("ApiError", API_ERROR)
    schemas.setdefault("FieldErrors", FIELD_ERRORS)
    for item in result.get("paths", {}).values():
        for method, operation in item.items():
            if method not in HTTP_METHODS:
                continue
            responses = operation.setdefault("responses", {})
            errors = {**ERRORS_ANY, **(ERRORS_WRITE if method != "get" else {})}
            for code, (component, description) in errors.items():
                responses.setdefault(code, {
                    "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{component}"}}},
                    "description": description})
            for parameter in operation.get("parameters", []):
                if parameter.get("in") == "query" and parameter.get("name") == "page":
                    parameter["schema"] = {**parameter.get("schema", {}), "minimum": 1}
    return result


@csrf_exempt  # it changes nothing; a POST without a token still gets the JSON 404, not the CSRF page
def api_not_found(request: Any, *args: Any, **kwargs: Any) -> JsonResponse:
    """Any /api/ path no route matches (a non-UUID id, a typo) answers JSON like every API error."""
    return JsonResponse({"detail": str(exceptions.NotFound.default_detail)}, status=status.HTTP_404_NOT_FOUND)


class InstitutionSerializer(serializers.ModelSerializer):
    region_name = serializers.CharField(source="region.name", read_only=True)

    class Meta:
        model = Institution
        fields = ["id", "code", "name", "kind", "level", "region", "region_name", "is_active"]
        read_only_fields = fields


class RescueCentreSerializer(serializers.ModelSerializer):
    institution_name = serializers.CharField(source="institution.name", read_only=True)

    class Meta:
        model = RescueCentre
        fields = ["id", "institution", "institution_name", "level", "regions", "duty_phone", "contact_note",
                  "is_active"]
        read_only_fields = fields


class InstitutionViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = InstitutionSerializer
    lookup_value_converter = "uuid"  # a non-UUID id matches no route: api_not_found answers
    queryset = Institution.objects.none()

    def get_queryset(self):  # type: ignore[no-untyped-def]
        return visible_institutions(self.request.user).order_by("region_id", "name")


class RescueCentreViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = RescueCentreSerializer
    lookup_value_converter = "uuid"  # a non-UUID id matches no route: api_not_found answers
    queryset = RescueCentre.objects.none()

    def get_queryset(self):  # type: ignore[no-untyped-def]
        return visible_rescue_centres(self.request.user).prefetch_related("regions").order_by("institution__name")


class MembershipSerializer(serializers.ModelSerializer):
    institution_name = serializers.CharField(source="institution.name", read_only=True)

    class Meta:
        model = Membership
        fields = ["id", "institution", "institution_name", "role", "is_active"]


class MeSerializer(serializers.Serializer):
    """The shape of ``GET /api/me/`` (for the schema)."""

    id = serializers.UUIDField()
    username = serializers.CharField()
    name = serializers.CharField()
    roles = serializers.ListField(child=serializers.CharField())
    areas = serializers.ListField(child=serializers.CharField())
    memberships = MembershipSerializer(many=True)


@extend_schema(responses=MeSerializer)
@api_view(["GET"])
def me(request: Request) -> Response:
    """The signed-in user, their roles and the areas they oversee."""
    user = request.user
    scope = user_scope(user)
    memberships = Membership.objects.filter(user=user, is_active=True).select_related("institution")
    return Response({
        "id": str(user.public_id),
        "username": user.get_username(),
        "name": str(user),
        "roles": sorted(scope.roles),
        "areas": sorted(code for _level, code in scope.areas),
        "memberships": MembershipSerializer(memberships, many=True).data,
    })
