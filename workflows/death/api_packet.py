"""The review packet in the API: ``GET /api/death-reports/<id>/packet/`` (the de-identified packet with
its timeline), ``POST /api/death-reports/<id>/break-glass/`` (an expert reviewer opens the identified
record with a reason), and the personal fields the report's list and detail hide from expert reviewers
who work on the packet (``workflows.death.permissions.sees_identified``)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from cases.models import DeathRecordAccess, DeathReport
from workflows.api import FIELD_ERRORS, ReasonSerializer, refusal_responses
from workflows.death import permissions as p
from workflows.death import services as ds
from workflows.death.views.packet import _log, packet_context

DENIED, NOT_FOUND, CONFLICT = refusal_responses("report", denied="Not an expert reviewer on the packet.")
# What the list and detail leave empty for an expert reviewer on the packet.
PERSONAL_FIELDS = ("woman_name", "woman_id_number", "card_number", "residence_address", "birth_attendant",
                   "investigation", "interviews")


def hide_personal(data: dict[str, Any], *, user: Any, report: DeathReport) -> dict[str, Any]:
    """The representation of a report for ``user``: the personal fields emptied when she reads the packet.
    (Investigation and interviews are in the packet, with her identity taken out.)"""
    if p.sees_identified(user, report):
        return data
    return {key: (None if key in PERSONAL_FIELDS else value) for key, value in data.items()}


def is_packet_reader(context: dict[str, Any]) -> bool:
    """Once per request: the list shows an expert reviewer on the packet no names."""
    request = context.get("request")
    if request is None:
        return False
    cached = getattr(request, "_anmu_packet_reader", None)
    if cached is None:
        cached = p.is_packet_reader(request.user)
        request._anmu_packet_reader = cached
    return bool(cached)


class IntervalsSerializer(serializers.Serializer):
    answer_minutes = serializers.IntegerField(required=False, help_text="应答分钟 · Minutes to answer.")
    transport_minutes = serializers.IntegerField(required=False, help_text="转运分钟 · Departure to arrival.")
    arrival_to_treatment_minutes = serializers.IntegerField(required=False,
                                                            help_text="到达至救治 · Arrival to treatment start.")
    overdue_days = serializers.IntegerField(required=False, help_text="随访逾期天数 · A visit's days overdue.")
    ddi_minutes = serializers.IntegerField(required=False, help_text="DDI 分钟 · Decision to delivery.")
    ddi_target_minutes = serializers.IntegerField(required=False, help_text="DDI 目标 · The province's target.")
    ack_minutes = serializers.IntegerField(required=False, help_text="确认分钟 · Minutes until acknowledged.")
    escalation_level = serializers.IntegerField(required=False, help_text="升级级别 · Escalation level.")


class TimelineEntrySerializer(serializers.Serializer):
    at = serializers.DateTimeField(help_text="时间 · When.")
    date_only = serializers.BooleanField(help_text="仅日期 · Only the day is known.")
    kind = serializers.CharField(help_text="类别 · screening, assessment, case, plan, visit, visit_missed, tracing, "
                                           "transfer, referral_request, referral_answer, referral_escalation, "
                                           "referral_departure, referral_arrival, referral_treatment, "
                                           "referral_outcome, ddi, consultation, consultation_answer, near_miss, "
                                           "delivery, death, alert.")
    kind_label = serializers.CharField()
    title = serializers.CharField(help_text="事件 · What happened (the woman is 本例).")
    text = serializers.CharField(help_text="说明 · Short text, her identity taken out.")
    institution = serializers.CharField()
    by = serializers.CharField(help_text="经办人 · The member of staff.")
    colour = serializers.CharField(help_text="风险颜色 · Colour of an assessment or referral.")
    intervals = IntervalsSerializer()
    late = serializers.BooleanField(help_text="超时 · Past its deadline or target, or critical.")
    priority = serializers.CharField(help_text="提醒级别 · An alert's priority.")
    acknowledged_by = serializers.CharField(help_text="确认 · Who acknowledged an alert (or why it closed).")
    acknowledged_at = serializers.DateTimeField(allow_null=True)


class PacketConclusionSerializer(serializers.Serializer):
    level = serializers.CharField()
    avoidability = serializers.CharField()
    underlying_cause = serializers.CharField()
    icd10 = serializers.CharField()
    cause_class = serializers.CharField()
    icd_mm_group = serializers.IntegerField()
    disagrees_with_lower = serializers.BooleanField()
    note = serializers.CharField()
    concluded_at = serializers.DateTimeField()


class PacketSerializer(serializers.Serializer):
    """The de-identified packet: no name, document number, phone, address, card number or birth attendant."""

    id = serializers.UUIDField(source="report.pk")
    review_number = serializers.CharField(help_text="匿名病例号 · county-year-sequence, e.g. 350102-2026-003.")
    state = serializers.CharField(source="report.state", read_only=True)
    region_name = serializers.CharField(source="report.region.name")
    reporting_institution_name = serializers.CharField(source="report.reporting_institution.name")
    died_at = serializers.DateTimeField(source="report.died_at")
    card = serializers.SerializerMethodField(help_text="报告卡 · The card's clinical fields as label and text.")
    investigation = serializers.CharField()
    interviews = serializers.CharField()
    intervals = IntervalsSerializer()
    timeline = TimelineEntrySerializer(many=True)
    conclusions = PacketConclusionSerializer(many=True)

    def get_card(self, obj: dict[str, Any]) -> list[dict[str, str]]:
        return [{"label": str(label), "text": text} for label, text in obj["card"]]


class AccessSerializer(serializers.ModelSerializer):
    user_name = serializers.CharField(source="user.__str__", read_only=True)

    class Meta:
        model = DeathRecordAccess
        fields = ["id", "report", "user_name", "reason", "opened_at", "expires_at"]
        read_only_fields = fields


class PacketMixin:
    """Mixed into ``DeathReportViewSet``."""

    @extend_schema(summary="评审资料包 · The de-identified review packet",
                   description="The anonymous case number, the card without identity, the investigation and the "
                               "timeline of her care with its computed intervals, and the lower levels' conclusions.",
                   responses={200: PacketSerializer, 403: DENIED, 404: NOT_FOUND})
    @action(detail=True, methods=["get"])
    def packet(self, request: Request, **kwargs: Any) -> Response:
        report = self.get_object()  # type: ignore[attr-defined]
        _log(request.user, report, "孕产妇死亡评审资料包")
        return Response(PacketSerializer(packet_context(report)).data)

    @extend_schema(summary="查看实名资料 · Break the glass: open the identified record",
                   description="An expert reviewer on the packet gives a reason; it is logged, the county MCH "
                               "officer is told, and the identified record is hers for the province's hours.",
                   request=ReasonSerializer,
                   responses={201: AccessSerializer, 400: FIELD_ERRORS, 403: DENIED, 404: NOT_FOUND})
    @action(detail=True, methods=["post"], url_path="break-glass")
    def break_glass(self, request: Request, **kwargs: Any) -> Response:
        report = self.get_object()  # type: ignore[attr-defined]
        serializer = ReasonSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        access = ds.death_report_break_glass(report=report, by=request.user, reason=serializer.validated_data["reason"])
        return Response(AccessSerializer(access).data, status=status.HTTP_201_CREATED)
