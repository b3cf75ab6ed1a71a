"""What every process's API shares: the error body of a refusal (403, 404, 409), the reason body of a step
that needs one, the documented error responses, and the step mechanism of a viewset whose transitions are
POSTs. One class each, so the OpenAPI schema has one ``ApiError`` and one ``Reason``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response


class ApiErrorSerializer(serializers.Serializer):
    detail = serializers.CharField()


class ReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(help_text="原因 · Reason.")


FIELD_ERRORS = OpenApiResponse(OpenApiTypes.OBJECT, description='Field errors: {"field": ["message", ...]}.')


def refusal_responses(record: str, *, denied: str) -> tuple[OpenApiResponse, OpenApiResponse, OpenApiResponse]:
    """The documented 403, 404 and 409 of a process's API (``record``: "referral", "report", ...)."""
    return (OpenApiResponse(ApiErrorSerializer, description=denied),
            OpenApiResponse(ApiErrorSerializer, description=f"No such {record}, or out of your scope."),
            OpenApiResponse(ApiErrorSerializer, description=f"The {record}'s state no longer allows this step."))


def step_schema(summary: str, request: Any, *, detail: Any, refusals: tuple[Any, Any, Any], created: bool = False,
                description: str = "") -> Any:
    """The schema of one step: its body, the record's detail (201 when it makes a new record), the errors."""
    denied, not_found, conflict = refusals
    ok = status.HTTP_201_CREATED if created else status.HTTP_200_OK
    return extend_schema(summary=summary, description=description, request=request,
                         responses={ok: detail, 400: FIELD_ERRORS, 403: denied, 404: not_found, 409: conflict})


# A viewset whose transitions are POST steps: each validates its body (the serializer finds the record in its
# context under ``record_name``), calls one service and nothing else, and answers the record's detail. The
# viewset provides ``get_object``, ``get_serializer_context`` and ``_detail``. (No docstring: drf-spectacular
# would print it as every operation's description.)
class StepsMixin:

    record_name: str = "record"

    def _step(self, serializer_class: type[serializers.Serializer] | None, run: Callable[[Any, Any, dict[str, Any]], Any],
              *, created: bool = False) -> Response:
        record = self.get_object()  # type: ignore[attr-defined]
        data: dict[str, Any] = {}
        if serializer_class is not None:
            serializer = serializer_class(data=self.request.data,  # type: ignore[attr-defined]
                                          context={**self.get_serializer_context(),  # type: ignore[attr-defined]
                                                   self.record_name: record})
            serializer.is_valid(raise_exception=True)
            data = dict(serializer.validated_data)
        result = run(record, self.request.user, data)  # type: ignore[attr-defined]
        return Response(self._detail(result),  # type: ignore[attr-defined]
                        status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)
