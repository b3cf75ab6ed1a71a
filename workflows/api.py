"""What every process's API shares: the error body of a refusal (403, 404, 409) and the reason body of a
step that needs one. One class each, so the OpenAPI schema has one ``ApiError`` and one ``Reason``."""

from __future__ import annotations

from rest_framework import serializers


class ApiErrorSerializer(serializers.Serializer):
    detail = serializers.CharField()


class ReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(help_text="原因 · Reason.")
