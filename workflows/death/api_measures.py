"""REST API of improvement measures (改进措施): ``/api/improvement-measures/``.

Reads go through ``visible_improvement_measures``; every change calls one service of
``workflows/death/services/measures.py``; no serializer accepts the state. The same contract as the death-report
API: 200 a measure (201 a new one), 400 field errors, 403 ``{"detail": reason}`` for a role or region that does
not allow the step, 404 for a measure (or report) that does not exist or is out of scope, 409 when the measure's
(or the report's) state no longer allows the step. A measure names its report by the anonymous reference, never
the woman.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from cases.limits import NARRATIVE_MAX_CHARS, REASON_MAX_CHARS
from cases.models import DeathReport, ImprovementMeasure
from cases.selectors import visible_death_reports, visible_improvement_measures
from organisations.http import get_visible_or_404
from organisations.models import Institution, Membership
from organisations.parsers import JSONParser
from workflows.api import (
    DATE_BOUNDS,
    FIELD_ERRORS,
    ReasonSerializer,
    StepsMixin,
    refusal_responses,
    step_schema,
)
from workflows.death import services as ds
from workflows.death.api import CanUseDeathReports, ScopedRelatedField
from workflows.death.selectors import MEASURE_TABS, measures_by_tab

REFUSALS = refusal_responses("measure", denied="Not allowed for your role, institution or region (reason given).")
DENIED, NOT_FOUND, CONFLICT = REFUSALS


def _user(context: dict[str, Any]) -> Any:
    return context["request"].user


class MeasureCreateSerializer(serializers.Serializer):
    report = ScopedRelatedField(model=DeathReport, scoped=lambda c: visible_death_reports(_user(c)),
                                help_text="死亡报告 · The death report under review (or reviewed).")
    text = serializers.CharField(max_length=NARRATIVE_MAX_CHARS, help_text="改进措施 · The measure.")
    owner_institution = ScopedRelatedField(model=Institution, scoped=lambda c: Institution.objects.filter(
        is_active=True), help_text="责任机构 · The responsible institution (of the report's province).")
    due_on = serializers.DateField(validators=DATE_BOUNDS, help_text="完成期限 · Due date (today or later).")


class EvidenceSerializer(serializers.Serializer):
    evidence = serializers.CharField(max_length=NARRATIVE_MAX_CHARS,
                                     help_text="完成情况及佐证 · What was done, and where the proof is.")


class VerifySerializer(serializers.Serializer):
    note = serializers.CharField(max_length=REASON_MAX_CHARS, required=False, allow_blank=True, default="",
                                 help_text="核实意见 · Note (optional).")


class MeasureListFilterSerializer(serializers.Serializer):
    tab = serializers.ChoiceField(choices=[(t, t) for t in MEASURE_TABS], required=False)
    mine = serializers.BooleanField(required=False, default=False)


class MeasureSerializer(serializers.ModelSerializer):
    """A measure; its report by id and by the anonymous reference only."""

    reference = serializers.CharField(read_only=True)
    state_display = serializers.CharField(source="get_state_display", read_only=True)
    owner_institution_name = serializers.CharField(source="owner_institution.name", read_only=True)
    overdue = serializers.SerializerMethodField()
    set_by_name = serializers.SerializerMethodField()

    class Meta:
        model = ImprovementMeasure
        fields = ["id", "report", "reference", "level", "conclusion", "text", "owner_institution",
                  "owner_institution_name", "due_on", "state", "state_display", "overdue", "set_at", "set_by_name",
                  "done_at", "evidence", "verified_at", "verification_note", "rejected_at", "rejection_reason",
                  "rejections", "cancelled_at", "cancel_reason"]
        read_only_fields = fields

    def get_overdue(self, obj: ImprovementMeasure) -> bool:
        return obj.is_overdue(timezone.localdate())

    def get_set_by_name(self, obj: ImprovementMeasure) -> str:
        return str(obj.set_by)


def _step_schema(summary: str, request: Any, *, description: str = "") -> Any:
    return step_schema(summary, request, detail=MeasureSerializer, refusals=REFUSALS, description=description)


@extend_schema_view(
    list=extend_schema(
        summary="改进措施列表 · List improvement measures",
        parameters=[OpenApiParameter("tab", str, enum=list(MEASURE_TABS),
                                     description="open (not yet due), overdue, done (awaiting verification), "
                                                 "verified, cancelled."),
                    OpenApiParameter("mine", bool, description="我机构的 · Only my institutions' measures.")],
        responses={200: MeasureSerializer(many=True), 400: FIELD_ERRORS, 403: DENIED}),
    retrieve=extend_schema(summary="改进措施详情 · Read an improvement measure",
                           responses={200: MeasureSerializer, 403: DENIED, 404: NOT_FOUND}),
    create=extend_schema(
        summary="提出改进措施 · Set an improvement measure on a death under review",
        description="By the MCH officers and expert reviewers of a level that reviews the death; its institution "
                    "is told and its due date's clock starts.",
        request=MeasureCreateSerializer,
        responses={201: MeasureSerializer, 400: FIELD_ERRORS, 403: DENIED, 409: CONFLICT}),
)
class ImprovementMeasureViewSet(StepsMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin,
                                viewsets.GenericViewSet):
    record_name = "measure"
    permission_classes = [IsAuthenticated, CanUseDeathReports]
    serializer_class = MeasureSerializer
    queryset = ImprovementMeasure.objects.none()
    lookup_url_kwarg = "id"
    lookup_value_converter = "uuid"
    parser_classes = [JSONParser]

    def get_queryset(self) -> QuerySet[ImprovementMeasure]:
        return visible_improvement_measures(self.request.user).select_related("set_by", "owner_institution")

    def get_object(self) -> ImprovementMeasure:
        return get_visible_or_404(self.get_queryset(), pk=self.kwargs[self.lookup_url_kwarg])

    def filter_queryset(self, queryset: QuerySet[ImprovementMeasure]) -> QuerySet[ImprovementMeasure]:
        if self.action != "list":
            return queryset
        filters = MeasureListFilterSerializer(data=self.request.query_params)
        filters.is_valid(raise_exception=True)
        data = filters.validated_data
        if data.get("tab"):
            queryset = measures_by_tab(user=self.request.user, tab=data["tab"], mine=data.get("mine", False))
        elif data.get("mine"):
            queryset = queryset.filter(owner_institution__in=Membership.objects.filter(
                user=self.request.user, is_active=True).values("institution_id"))
        return queryset.order_by("due_on", "set_at", "pk")

    def _detail(self, measure: ImprovementMeasure) -> Any:
        fresh = ImprovementMeasure.objects.select_related("report__region", "owner_institution", "set_by").get(
            pk=measure.pk)
        return MeasureSerializer(fresh, context=self.get_serializer_context()).data

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = MeasureCreateSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        measure = ds.death_measure_set(report=data["report"], by=request.user, text=data["text"],
                                       owner_institution=data["owner_institution"], due_on=data["due_on"])
        return Response(self._detail(measure), status=status.HTTP_201_CREATED)

    @_step_schema("完成并提交佐证 · Record it done, with the evidence", EvidenceSerializer,
                  description="A member of the owner institution; the due-date clock stops.")
    @action(detail=True, methods=["post"])
    def done(self, request: Request, **kwargs: Any) -> Response:
        return self._step(EvidenceSerializer, lambda m, by, d: ds.death_measure_mark_done(
            measure=m, by=by, evidence=d["evidence"]))

    @_step_schema("核实 · Verify the evidence", VerifySerializer,
                  description="A health-bureau officer over the owner institution (county, city or province).")
    @action(detail=True, methods=["post"])
    def verify(self, request: Request, **kwargs: Any) -> Response:
        return self._step(VerifySerializer, lambda m, by, d: ds.death_measure_verify(measure=m, by=by,
                                                                                      note=d.get("note", "")))

    @_step_schema("退回佐证 · Reject the evidence", ReasonSerializer,
                  description="The measure is open again; its due-date clock runs again.")
    @action(detail=True, methods=["post"])
    def reject(self, request: Request, **kwargs: Any) -> Response:
        return self._step(ReasonSerializer, lambda m, by, d: ds.death_measure_reject(measure=m, by=by,
                                                                                      reason=d["reason"]))

    @_step_schema("取消 · Cancel an open measure", ReasonSerializer,
                  description="Whoever set it, or an MCH officer of the level that set it.")
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, **kwargs: Any) -> Response:
        return self._step(ReasonSerializer, lambda m, by, d: ds.death_measure_cancel(measure=m, by=by,
                                                                                      reason=d["reason"]))
