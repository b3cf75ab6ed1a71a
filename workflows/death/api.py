"""REST API of maternal death reporting and review (孕产妇死亡报告与评审).

Reads go through ``visible_death_reports``; every change calls one service of ``workflows/death/services.py``.
No serializer accepts the state: it is read-only output. The same contract as the referral API:

* 200 a report (201 for a new one: ``POST /api/death-reports/``);
* 400 field errors ``{"field": ["message", ...]}`` for bad input, from the serializer or the service;
* 403 ``{"detail": reason}`` when the user's role or region does not allow the step;
* 404 when the report does not exist or is out of the user's scope (the same answer);
* 409 ``{"detail": reason}`` when the report is no longer in a state that allows the step.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db.models import QuerySet
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import MultiPartParser
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from cases.models import (
    Avoidability,
    CauseClass,
    DeathAttachment,
    DeathReport,
    DeathReviewConclusion,
    IcdMmGroup,
    Pregnancy,
    Woman,
)
from cases.selectors import visible_death_reports, visible_pregnancies, visible_women
from organisations.http import get_visible_or_404
from organisations.models import AccessLog, Institution, Membership, Region
from organisations.parsers import JSONParser
from organisations.services import access_record
from workflows.api import (
    FIELD_ERRORS,
    ReasonSerializer,
    StepsMixin,
    moment_in_bounds,
    refusal_responses,
    step_schema,
)
from workflows.death import services as ds
from workflows.death import views as pages
from workflows.death.api_packet import PacketMixin, hide_personal, is_packet_reader
from workflows.death.api_panels import (
    CONCLUSION_PANEL_FIELDS,
    PanelFieldsSerializer,
    PanelOutFieldsSerializer,
    conclusion_kwargs,
)
from workflows.death.permissions import REPORTER_ROLES
from workflows.death.selectors import CLOCK_STATES, death_reports_by_clock

REFUSALS = refusal_responses("report", denied="Not allowed for your role or region (reason given).")
DENIED, NOT_FOUND, CONFLICT = REFUSALS


class CanUseDeathReports(BasePermission):
    """The API opens to the same roles as the pages."""

    message = _("Your role does not include maternal death reporting and review.")

    def has_permission(self, request: Any, view: Any) -> bool:
        return pages.may_open(request.user)


class ScopedRelatedField(serializers.PrimaryKeyRelatedField):
    """A UUID chosen from a queryset built for this request: outside it is the same error as missing."""

    def __init__(self, *, model: Any, scoped: Callable[[dict[str, Any]], QuerySet[Any]], **kwargs: Any) -> None:
        self.scoped = scoped
        kwargs.setdefault("pk_field", serializers.UUIDField())
        super().__init__(queryset=model._default_manager.none(), **kwargs)

    def get_queryset(self) -> QuerySet[Any]:
        return self.scoped(self.context)


def _user(context: dict[str, Any]) -> Any:
    return context["request"].user


def _reporting_institutions(context: dict[str, Any]) -> QuerySet[Institution]:
    user = _user(context)
    if user.is_superuser:
        return Institution.objects.filter(is_active=True)
    ids = Membership.objects.filter(user=user, role__in=REPORTER_ROLES, is_active=True).values("institution_id")
    return Institution.objects.filter(pk__in=ids, is_active=True)


# --- Input -----------------------------------------------------------------------------------------

class CreateSerializer(serializers.Serializer):
    """Either a pregnancy you may see (record the death on it) or a woman found or registered beforehand
    (``POST /api/women/`` de-dups by document number) for a death Anmu never saw."""

    institution = ScopedRelatedField(model=Institution, scoped=_reporting_institutions,
                                     help_text="报告机构 · The reporting institution (where you report deaths).")
    pregnancy = ScopedRelatedField(model=Pregnancy, scoped=lambda c: visible_pregnancies(_user(c)), required=False,
                                   allow_null=True, help_text="孕产妇档案 · The pregnancy, if Anmu knew her.")
    woman = ScopedRelatedField(model=Woman, scoped=lambda c: visible_women(_user(c)), required=False,
                               allow_null=True, help_text="妇女 · The woman (found or registered), otherwise.")
    died_at = serializers.DateTimeField(validators=[moment_in_bounds], help_text="死亡时间 · Time of death.")
    note = serializers.CharField(required=False, allow_blank=True, default="",
                                 help_text="死亡经过 · Where and how she died (needed with a pregnancy).")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if bool(attrs.get("pregnancy")) == bool(attrs.get("woman")):
            raise serializers.ValidationError({"pregnancy": [_("Give either the pregnancy or the woman.")]})
        return attrs


class CardSerializer(serializers.ModelSerializer):
    """The card's fields; the institutions are those of the report's province (as on the web form)."""

    class Meta:
        model = DeathReport
        fields = list(DeathReport.CARD_FIELDS)
        extra_kwargs = {name: {"required": False} for name in DeathReport.CARD_FIELDS}

    def get_fields(self) -> dict[str, Any]:
        fields = super().get_fields()
        report = self.context.get("report")
        if report is not None:
            institutions = Institution.objects.filter(is_active=True, region__province_id=report.region.province_id
                                                      ).exclude(kind=Institution.Kind.HEALTH_BUREAU)
            for name in ("delivery_institution", "death_institution"):
                fields[name].queryset = institutions
            fields["residence_region"].queryset = Region.objects.filter(level=Region.Level.COUNTY)
        return fields


class InvestigationSerializer(serializers.Serializer):
    findings = serializers.CharField(help_text="核查结果 · What the investigation found.")
    interviews = serializers.CharField(required=False, allow_blank=True, default="", help_text="访谈 · Interviews.")


class ConclusionSerializer(PanelFieldsSerializer):  # type: ignore[valid-type,misc]
    """The level's conclusion, with the 12-cell table, the three delays, the meeting and its members' opinions."""

    avoidability = serializers.ChoiceField(choices=Avoidability.choices, help_text="评审结论 · Avoidability.")
    underlying_cause = serializers.CharField(max_length=200, help_text="根本死因 · Agreed underlying cause.")
    icd10 = serializers.CharField(max_length=8, help_text="ICD-10 · Code, e.g. O72.1.")
    cause_class = serializers.ChoiceField(choices=CauseClass.choices, help_text="直接/间接 · Direct or indirect.")
    icd_mm_group = serializers.ChoiceField(choices=IcdMmGroup.choices, help_text="ICD-MM 分组 · WHO ICD-MM group.")
    disagrees_with_lower = serializers.BooleanField(required=False, default=False,
                                                    help_text="不同意下级结论 · Disagrees with the lower level.")
    note = serializers.CharField(required=False, allow_blank=True, default="", help_text="主要问题 · Main problems.")


class ListFilterSerializer(serializers.Serializer):
    state = serializers.ChoiceField(choices=DeathReport.State.choices, required=False)
    clock = serializers.ChoiceField(choices=[(c, c) for c in CLOCK_STATES], required=False)


# --- Output ----------------------------------------------------------------------------------------

class ConclusionOutSerializer(PanelOutFieldsSerializer):
    concluded_by_name = serializers.SerializerMethodField()

    class Meta:
        model = DeathReviewConclusion
        fields = ["id", "level", "avoidability", "underlying_cause", "icd10", "cause_class", "icd_mm_group",
                  "disagrees_with_lower", "note", "concluded_at", "concluded_by_name", *CONCLUSION_PANEL_FIELDS]
        read_only_fields = fields

    def get_concluded_by_name(self, obj: DeathReviewConclusion) -> str:
        return str(obj.concluded_by)


class AttachmentOutSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField()
    uploaded_by_name = serializers.SerializerMethodField()

    class Meta:
        model = DeathAttachment
        fields = ["id", "name", "description", "content_type", "size", "uploaded_at", "uploaded_by_name", "url"]
        read_only_fields = fields

    def get_url(self, obj: DeathAttachment) -> str:
        return reverse("death:attachment", args=[obj.report_id, obj.pk])

    def get_uploaded_by_name(self, obj: DeathAttachment) -> str:
        return str(obj.uploaded_by)


class AttachSerializer(serializers.Serializer):
    files = serializers.ListField(child=serializers.FileField(), allow_empty=False,
                                  help_text="PDF, JPEG, PNG, WebP or UTF-8 text; repeat the field for several.")
    description = serializers.CharField(max_length=120, required=False, allow_blank=True, default="")


PROCESS_FIELDS = ["id", "review_number", "state", "state_display", "origin", "woman_name", "pregnancy", "case", "referral",
                  "reporting_institution", "reporting_institution_name", "region", "region_name", "died_at",
                  "report_due_at", "card_due_at", "investigation_due_at", "review_due_at", "reported_at",
                  "verified_at", "excluded_at", "investigated_at", "closed_at", "final_level", "final_avoidability",
                  "final_icd10", "final_cause_class"]


class ReportListSerializer(serializers.ModelSerializer):
    """Lists carry no personal number: the woman's name only."""

    state_display = serializers.CharField(source="get_state_display", read_only=True)
    woman_name = serializers.CharField(source="woman.name", read_only=True)
    reporting_institution_name = serializers.CharField(source="reporting_institution.name", read_only=True)
    region_name = serializers.CharField(source="region.name", read_only=True)

    class Meta:
        model = DeathReport
        fields = PROCESS_FIELDS
        read_only_fields = fields

    def to_representation(self, instance: DeathReport) -> dict[str, Any]:
        data = super().to_representation(instance)
        if is_packet_reader(self.context):  # the anonymous case number instead of the name
            data["woman_name"] = None
        return data


class ReportDetailSerializer(ReportListSerializer):
    woman_id_number = serializers.CharField(source="woman.id_number_masked", read_only=True)
    conclusions = ConclusionOutSerializer(many=True, read_only=True)
    attachments = AttachmentOutSerializer(many=True, read_only=True)

    class Meta(ReportListSerializer.Meta):
        fields = [*PROCESS_FIELDS, "woman_id_number", *DeathReport.CARD_FIELDS, "return_reason", "exclusion_reason",
                  "investigation", "interviews", "review_levels", "unlock_reason", "unlocked_at", "conclusions", "attachments"]
        read_only_fields = fields

    def to_representation(self, instance: DeathReport) -> dict[str, Any]:
        data = super(ReportListSerializer, self).to_representation(instance)
        request = self.context.get("request")
        return hide_personal(data, user=request.user, report=instance) if request is not None else data


def _step_schema(summary: str, request: Any, *, description: str = "") -> Any:
    return step_schema(summary, request, detail=ReportDetailSerializer, refusals=REFUSALS, description=description)


@extend_schema_view(
    list=extend_schema(
        summary="死亡报告列表 · List maternal death reports",
        parameters=[OpenApiParameter("state", str, enum=list(DeathReport.State.values), description="状态 · State."),
                    OpenApiParameter("clock", str, enum=list(CLOCK_STATES),
                                     description="时限状态 · overdue, due_soon (within a day), on_time, closed, "
                                                 "excluded.")],
        responses={200: ReportListSerializer(many=True), 400: FIELD_ERRORS, 403: DENIED}),
    retrieve=extend_schema(summary="死亡报告详情 · Read a maternal death report",
                           responses={200: ReportDetailSerializer, 403: DENIED, 404: NOT_FOUND}),
    create=extend_schema(
        summary="报告孕产妇死亡 · Record a maternal death",
        description="On a pregnancy you may see, or for a woman Anmu never saw (find or register her first). "
                    "The legal clocks start from the time of death.",
        request=CreateSerializer,
        responses={201: ReportDetailSerializer, 400: FIELD_ERRORS, 403: DENIED, 409: CONFLICT}),
)
class DeathReportViewSet(PacketMixin, StepsMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    record_name = "report"  # the steps' serializers read it from their context
    permission_classes = [IsAuthenticated, CanUseDeathReports]
    serializer_class = ReportDetailSerializer
    queryset = DeathReport.objects.none()
    lookup_url_kwarg = "id"
    lookup_value_converter = "uuid"
    parser_classes = [JSONParser]

    def get_queryset(self) -> QuerySet[DeathReport]:
        return visible_death_reports(self.request.user).select_related("woman", "region", "reporting_institution")

    def get_serializer_class(self) -> type[serializers.BaseSerializer]:
        return ReportListSerializer if self.action == "list" else ReportDetailSerializer

    def get_object(self) -> DeathReport:
        return get_visible_or_404(self.get_queryset(), pk=self.kwargs[self.lookup_url_kwarg])

    def filter_queryset(self, queryset: QuerySet[DeathReport]) -> QuerySet[DeathReport]:
        if self.action != "list":
            return queryset
        filters = ListFilterSerializer(data=self.request.query_params)
        filters.is_valid(raise_exception=True)
        data = filters.validated_data
        if data.get("clock"):
            queryset = death_reports_by_clock(user=self.request.user, clock=data["clock"])
        if data.get("state"):
            queryset = queryset.filter(state=data["state"])
        return queryset.order_by("-died_at", "pk")

    def _detail(self, report: DeathReport) -> Any:
        fresh = DeathReport.objects.select_related("woman", "region", "reporting_institution").prefetch_related(
            "conclusions__concluded_by", "conclusions__opinions__member", "attachments__uploaded_by").get(pk=report.pk)
        return ReportDetailSerializer(fresh, context=self.get_serializer_context()).data

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        report = self.get_object()
        access_record(user=request.user, action=AccessLog.Action.VIEW, obj=report,
                      summary=f"{report._meta.verbose_name} {report.woman.name}", region=report.region,
                      institution=report.reporting_institution)
        return Response(self._detail(report))

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = CreateSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        if data.get("pregnancy") is not None:
            report = ds.pregnancy_record_death(pregnancy=data["pregnancy"], by=request.user,
                                               institution=data["institution"], died_at=data["died_at"],
                                               note=data["note"])
        else:
            report = ds.death_report_create_manual(by=request.user, institution=data["institution"],
                                                   woman=data["woman"], died_at=data["died_at"])
        return Response(self._detail(report), status=status.HTTP_201_CREATED)

    @_step_schema("填写报告卡 · Fill in the report card", CardSerializer,
                  description="Any of the card's fields; only while the report is drafted or returned.")
    @action(detail=True, methods=["post"])
    def card(self, request: Request, **kwargs: Any) -> Response:
        return self._step(CardSerializer, lambda r, by, d: ds.death_report_update_card(report=r, by=by, data=d))

    @_step_schema("上报 · Report the death", None)
    @action(detail=True, methods=["post"])
    def report(self, request: Request, **kwargs: Any) -> Response:
        return self._step(None, lambda r, by, d: ds.death_report_report(report=r, by=by))

    @_step_schema("退回修改 · Return the card for correction", ReasonSerializer)
    @action(detail=True, methods=["post"], url_path="return")
    def return_card(self, request: Request, **kwargs: Any) -> Response:
        return self._step(ReasonSerializer, lambda r, by, d: ds.death_report_return(report=r, by=by,
                                                                                    reason=d["reason"]))

    @_step_schema("审核确认 · Confirm the card", None)
    @action(detail=True, methods=["post"])
    def verify(self, request: Request, **kwargs: Any) -> Response:
        return self._step(None, lambda r, by, d: ds.death_report_verify(report=r, by=by))

    @_step_schema("排除 · Exclude: not a maternal death", ReasonSerializer)
    @action(detail=True, methods=["post"])
    def exclude(self, request: Request, **kwargs: Any) -> Response:
        return self._step(ReasonSerializer, lambda r, by, d: ds.death_report_exclude(report=r, by=by,
                                                                                     reason=d["reason"]))

    @_step_schema("核查 · Record the investigation", InvestigationSerializer)
    @action(detail=True, methods=["post"])
    def investigate(self, request: Request, **kwargs: Any) -> Response:
        return self._step(InvestigationSerializer, lambda r, by, d: ds.death_report_investigate(
            report=r, by=by, findings=d["findings"], interviews=d.get("interviews", "")))

    @_step_schema("评审结论 · Record the awaited level's conclusion", ConclusionSerializer,
                  description="With the 12-cell table (each cell true/false/null and its note: a true cell needs "
                              "one), the three delays, and optionally the review meeting of this level (the death "
                              "on its agenda) with its members' opinions.")
    @action(detail=True, methods=["post"])
    def conclude(self, request: Request, **kwargs: Any) -> Response:
        return self._step(ConclusionSerializer, lambda r, by, d: ds.death_report_conclude(
            report=r, by=by, **conclusion_kwargs(d)))

    @_step_schema("结案锁定 · Close and lock", None)
    @action(detail=True, methods=["post"])
    def close(self, request: Request, **kwargs: Any) -> Response:
        return self._step(None, lambda r, by, d: ds.death_report_close(report=r, by=by))

    @_step_schema("解锁 · Unlock a closed report", ReasonSerializer,
                  description="A provincial MCH or bureau officer only; the reason is kept in the history.")
    @action(detail=True, methods=["post"])
    def unlock(self, request: Request, **kwargs: Any) -> Response:
        return self._step(ReasonSerializer, lambda r, by, d: ds.death_report_unlock(report=r, by=by,
                                                                                    reason=d["reason"]))

    @_step_schema("上传核查材料 · Add investigation documents", {"multipart/form-data": AttachSerializer},
                  description="The reporting institution while the card is theirs, the county MCH officer until "
                              "the report is closed. One bad file refuses them all.")
    @action(detail=True, methods=["post"], parser_classes=[MultiPartParser])
    def attachments(self, request: Request, **kwargs: Any) -> Response:
        def attach(report: DeathReport, by: Any, data: dict[str, Any]) -> DeathReport:
            ds.death_report_attach(report=report, by=by, uploads=data["files"], description=data["description"])
            return report

        return self._step(AttachSerializer, attach, created=True)
