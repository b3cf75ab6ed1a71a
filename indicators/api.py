"""``GET /api/indicators/?region=&from=&to=[&institution=]``: the figures of an area and a period.

Bad arguments answer 400 with field errors; a region (or institution) that does not exist or lies outside the
reader's areas answers 404, the same answer; a user who reads no figures at all answers 403.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from indicators import permissions
from indicators.models import IndicatorTarget, Unit
from indicators.services import figures

EARLIEST, LATEST = dt.date(1900, 1, 1), dt.date(2100, 12, 31)


class FiguresQuerySerializer(serializers.Serializer):
    region = serializers.RegexField(r"^\d{6}$", help_text="The region's 6-digit code (GB/T 2260): a county, a "
                                    "city or a province, everything below it included.",
                                    error_messages={"invalid": _("A region code has exactly six digits (GB/T 2260).")})
    date_from = serializers.DateField(help_text="The first day of the period (YYYY-MM-DD, China time).")
    to = serializers.DateField(help_text="The last day of the period, included (YYYY-MM-DD, China time).")
    institution = serializers.CharField(required=False, max_length=32, help_text="An institution's code: its "
                                        "figures instead of the region's (it lies in the region).")

    def get_fields(self) -> dict[str, Any]:
        fields = super().get_fields()
        fields["from"] = fields.pop("date_from")  # "from" is a keyword in Python
        return fields

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        errors: dict[str, list[Any]] = {}
        for name in ("from", "to"):
            if not EARLIEST <= attrs[name] <= LATEST:
                errors[name] = [_("Give a date between 1900 and 2100.")]
        if not errors and attrs["from"] > attrs["to"]:
            errors["to"] = [_("The period ends before it starts.")]
        if errors:
            raise serializers.ValidationError(errors)
        return attrs


class TargetSerializer(serializers.Serializer):
    comparison = serializers.ChoiceField(choices=IndicatorTarget.Comparison.choices)
    value = serializers.FloatField()
    met = serializers.BooleanField(allow_null=True)
    source = serializers.CharField()


class FigureSerializer(serializers.Serializer):
    numerator = serializers.IntegerField(allow_null=True, help_text="Exact; null for a median.")
    denominator = serializers.IntegerField(allow_null=True, help_text="Exact; null for a count or a median.")
    count = serializers.IntegerField(required=False, help_text="A median only: how many values it is the "
                                     "median of.")
    value = serializers.FloatField(allow_null=True, help_text="Rounded to 2 decimals; null when the "
                                   "denominator is 0 (or a median has no values).")
    unit = serializers.ChoiceField(choices=Unit.choices)
    target = TargetSerializer(allow_null=True)


class FiguresSerializer(serializers.Serializer):
    region = serializers.CharField()
    date_from = serializers.DateField()
    to = serializers.DateField()
    institution = serializers.CharField(required=False)
    indicators = serializers.DictField(child=FigureSerializer())

    def get_fields(self) -> dict[str, Any]:
        fields = super().get_fields()
        fields["from"] = fields.pop("date_from")
        return fields


class IndicatorsView(APIView):
    @extend_schema(
        operation_id="indicators_figures", summary="Indicator figures of an area and a period",
        description="Every active indicator for the region (everything below it) or one of its institutions, "
                    "live from the records. A ratio's numerator and denominator are exact integers and its value "
                    "is rounded to 2 decimals (null when the denominator is 0); a count has no denominator; a "
                    "median (minutes) has neither, and gives the number of values as `count`.",
        parameters=[FiguresQuerySerializer], responses={200: FiguresSerializer})
    # 400 field errors, 403 (reads no figures: only MCH officers, bureau officers and system administrators do)
    # and 404 (no such region or institution, or out of the reader's areas: the same answer) are documented with
    # the project's error bodies by organisations.api.openapi_postprocess.
    def get(self, request: Request) -> Response:
        if not permissions.may_read_figures(request.user):
            raise exceptions.PermissionDenied(_("Only MCH officers, bureau officers and system administrators "
                                                "read figures."))
        query = FiguresQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        data = query.validated_data
        region = permissions.readable_region(request.user, data["region"])
        if region is None:
            raise exceptions.NotFound(_("No such region."))
        institution = None
        if data.get("institution"):
            institution = permissions.readable_institution(request.user, data["institution"], region=region)
            if institution is None:
                raise exceptions.NotFound(_("No such institution in this region."))
        return Response(figures(region=region, date_from=data["from"], date_to=data["to"], institution=institution))
