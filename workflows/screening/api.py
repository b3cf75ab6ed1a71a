"""REST API of the cases app: the risk engine's stable interface."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import status
from rest_framework.decorators import api_view, parser_classes
from rest_framework.request import Request
from rest_framework.response import Response

from cases.risk import RiskInputError, risk_evaluate_json
from organisations.parsers import JSONParser


@extend_schema(
    request={"application/json": {"type": "object"}},
    responses={200: {"type": "object"}, 400: {"type": "object"}},
    summary="Grade pregnancy risk (妊娠风险评估分级)",
    description="The same JSON as `manage.py evaluate_risk`; bad input answers 400 with field errors.",
    examples=[OpenApiExample("red", value={"age_years": 36, "pa_pressure_mmhg": 55, "findings": ["P2"]})],
)
@api_view(["POST"])
@parser_classes([JSONParser])
def risk_evaluate_view(request: Request) -> Response:
    try:
        return Response(risk_evaluate_json(request.data))
    except RiskInputError as exc:
        return Response(exc.errors, status=status.HTTP_400_BAD_REQUEST)
