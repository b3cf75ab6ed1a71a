"""REST API of the death review panels (评审会): ``/api/death-review-meetings/`` — list, create, read, and
one POST per step (agenda, opinion, finalise); and the 12-cell table, the three delays, the meeting and
the members' opinions of a conclusion (``POST /api/death-reports/{id}/conclude/``).

Reads go through ``visible_review_meetings``; every change calls one service. People are named by their
opaque ``public_id``. The same 400/403/404/409 contract as the report API.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from cases.limits import NARRATIVE_MAX_CHARS, REASON_MAX_CHARS
from cases.models import DeathReport, DeathReviewConclusion, NearMiss, ReviewMeeting, ReviewOpinion
from cases.models.death import CELL_COLUMNS, DELAY_COLUMNS, TABLE_CELLS, Delay, cell_label
from cases.selectors import visible_death_reports, visible_near_misses, visible_review_meetings
from organisations.http import get_visible_or_404
from organisations.models import Region, User
from organisations.parsers import JSONParser
from workflows.api import DATE_BOUNDS, FIELD_ERRORS, StepsMixin, refusal_responses, step_schema
from workflows.death import services as ds
from workflows.death import views as pages

MEETING_REFUSALS = refusal_responses("meeting", denied="Not allowed for your role or region (reason given).")
M_DENIED, M_NOT_FOUND, M_CONFLICT = MEETING_REFUSALS
TABLE_NAMES = tuple(name for column in (*CELL_COLUMNS, *DELAY_COLUMNS) for name in (column, f"{column}_note"))


class CanUseDeathPanels(BasePermission):
    """The API opens to the same roles as the pages."""

    message = _("Your role does not include maternal death reporting and review.")

    def has_permission(self, request: Any, view: Any) -> bool:
        return pages.may_open(request.user)


def _people() -> QuerySet[User]:
    return User.objects.filter(is_active=True)


def _person_field(**kwargs: Any) -> serializers.SlugRelatedField:
    return serializers.SlugRelatedField(slug_field="public_id", queryset=_people(), **kwargs)


def _table_fields(*, read_only: bool) -> dict[str, Any]:
    """The 12 cells and the three delays as fields named like their columns (one definition: TABLE_CELLS)."""
    fields: dict[str, Any] = {}
    labels = [(column, str(cell_label(stage, aspect))) for stage, aspect, column in TABLE_CELLS]
    labels += [(delay.value, str(delay.label)) for delay in Delay]
    for column, label in labels:
        if read_only:
            fields[column] = serializers.BooleanField(read_only=True, allow_null=True, help_text=label)
            fields[f"{column}_note"] = serializers.CharField(read_only=True, help_text=f"{label}: what")
        else:
            fields[column] = serializers.BooleanField(required=False, allow_null=True, default=None,
                                                      help_text=f"{label} · true / false / null (not assessed).")
            fields[f"{column}_note"] = serializers.CharField(required=False, allow_blank=True, default="",
                                                             max_length=REASON_MAX_CHARS,
                                                             help_text=f"{label}: what (required when true).")
    return fields


TableInputSerializer = type("TableInputSerializer", (serializers.Serializer,), _table_fields(read_only=False))


class OpinionInSerializer(serializers.Serializer):
    member = _person_field(help_text="评审专家 · The member (public_id).")
    agrees = serializers.BooleanField(help_text="同意 · Agrees with the conclusion.")
    dissent = serializers.CharField(required=False, allow_blank=True, default="", max_length=REASON_MAX_CHARS,
                                    help_text="不同意见 · Why she dissents (required when not agreeing).")


class PanelFieldsSerializer(TableInputSerializer):  # type: ignore[valid-type,misc]
    meeting = serializers.PrimaryKeyRelatedField(
        queryset=ReviewMeeting.objects.none(), required=False, allow_null=True, default=None,
        pk_field=serializers.UUIDField(), help_text="评审会 · The review meeting of this level (optional).")
    opinions = OpinionInSerializer(many=True, required=False, default=list,
                                   help_text="专家意见 · Each member's agreement or dissent (with a meeting).")

    def get_fields(self) -> dict[str, Any]:
        fields = super().get_fields()
        request = self.context.get("request")
        if request is not None:
            fields["meeting"].queryset = visible_review_meetings(request.user)
        return fields


def conclusion_kwargs(data: dict[str, Any]) -> dict[str, Any]:
    """A validated conclusion body as ``death_report_conclude`` takes it."""
    data = dict(data)
    cells = {name: data.pop(name) for column in CELL_COLUMNS for name in (column, f"{column}_note") if name in data}
    delays = {name: data.pop(name) for column in DELAY_COLUMNS for name in (column, f"{column}_note") if name in data}
    return {**data, "cells": cells, "delays": delays, "opinions": data.pop("opinions", None) or []}


class OpinionOutSerializer(serializers.ModelSerializer):
    member = serializers.SlugRelatedField(slug_field="public_id", read_only=True)
    member_name = serializers.CharField(source="member.__str__", read_only=True)

    class Meta:
        model = ReviewOpinion
        fields = ["id", "member", "member_name", "agrees", "dissent", "recorded_at"]
        read_only_fields = fields


CONCLUSION_PANEL_FIELDS = ["meeting", *TABLE_NAMES, "opinions"]


class PanelOutFieldsSerializer(serializers.ModelSerializer):
    """The meeting, the 12 cells, the three delays and the opinions of a conclusion (mixed into its output)."""

    meeting = serializers.PrimaryKeyRelatedField(read_only=True, pk_field=serializers.UUIDField())
    opinions = OpinionOutSerializer(many=True, read_only=True)

    class Meta:
        model = DeathReviewConclusion
        fields = CONCLUSION_PANEL_FIELDS
        read_only_fields = fields


# --- Meetings ------------------------------------------------------------------------------------

class MeetingCreateSerializer(serializers.Serializer):
    region = serializers.PrimaryKeyRelatedField(
        queryset=Region.objects.filter(level__in=[Region.Level.COUNTY, Region.Level.CITY, Region.Level.PROVINCE]),
        pk_field=serializers.CharField(), help_text="地区 · The county, city or province whose panel meets (code).")
    held_on = serializers.DateField(validators=DATE_BOUNDS, help_text="日期 · Date of the meeting.")
    place = serializers.CharField(required=False, allow_blank=True, default="", max_length=120,
                                  help_text="地点 · Place.")
    chair = _person_field(help_text="主持人 · The chair (public_id).")
    members = _person_field(many=True, help_text="评审专家 · Members (public_id): the region's reviewers.")
    notes = serializers.CharField(required=False, allow_blank=True, default="", max_length=NARRATIVE_MAX_CHARS,
                                  help_text="备注 · Notes.")


class AgendaSerializer(serializers.Serializer):
    report = serializers.PrimaryKeyRelatedField(queryset=DeathReport.objects.none(), required=False, allow_null=True,
                                                default=None, pk_field=serializers.UUIDField(),
                                                help_text="死亡报告 · A death awaiting this level's review.")
    near_miss = serializers.PrimaryKeyRelatedField(queryset=NearMiss.objects.none(), required=False,
                                                   allow_null=True, default=None, pk_field=serializers.UUIDField(),
                                                   help_text="危重孕产妇 · A near-miss case of the area.")

    def get_fields(self) -> dict[str, Any]:
        fields = super().get_fields()
        request = self.context.get("request")
        if request is not None:
            fields["report"].queryset = visible_death_reports(request.user)
            fields["near_miss"].queryset = visible_near_misses(request.user)
        return fields


class OpinionSerializer(serializers.Serializer):
    conclusion = serializers.PrimaryKeyRelatedField(queryset=DeathReviewConclusion.objects.none(),
                                                    pk_field=serializers.UUIDField(),
                                                    help_text="评审结论 · A conclusion recorded in this meeting.")
    member = _person_field(required=False, allow_null=True, default=None,
                           help_text="评审专家 · The member (public_id); yourself when left out.")
    agrees = serializers.BooleanField(help_text="同意 · Agrees with the conclusion.")
    dissent = serializers.CharField(required=False, allow_blank=True, default="", max_length=REASON_MAX_CHARS,
                                    help_text="不同意见 · Why (required when not agreeing).")

    def get_fields(self) -> dict[str, Any]:
        fields = super().get_fields()
        meeting = self.context.get("meeting")
        if meeting is not None:
            fields["conclusion"].queryset = DeathReviewConclusion.objects.filter(meeting=meeting)
        return fields


class FinaliseSerializer(serializers.Serializer):
    notes = serializers.CharField(required=False, allow_null=True, default=None, max_length=NARRATIVE_MAX_CHARS,
                                  help_text="会议纪要 · Summary of the meeting (kept as it is when left out).")


class PersonSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    name = serializers.CharField(source="__str__", read_only=True)

    class Meta:
        model = User
        fields = ["id", "name"]
        read_only_fields = fields


MEETING_FIELDS = ["id", "level", "region", "region_name", "held_on", "place", "chair", "chair_name", "state",
                  "state_display", "created_at", "finalised_at", "reports", "near_misses"]


class MeetingListSerializer(serializers.ModelSerializer):
    region_name = serializers.CharField(source="region.name", read_only=True)
    chair = serializers.SlugRelatedField(slug_field="public_id", read_only=True)
    chair_name = serializers.CharField(source="chair.__str__", read_only=True)
    state_display = serializers.CharField(source="get_state_display", read_only=True)
    reports = serializers.PrimaryKeyRelatedField(many=True, read_only=True, pk_field=serializers.UUIDField())
    near_misses = serializers.PrimaryKeyRelatedField(many=True, read_only=True, pk_field=serializers.UUIDField())

    class Meta:
        model = ReviewMeeting
        fields = MEETING_FIELDS
        read_only_fields = fields


class MeetingConclusionSerializer(PanelOutFieldsSerializer):
    class Meta(PanelOutFieldsSerializer.Meta):
        fields = ["id", "report", "level", "avoidability", "underlying_cause", "icd10", "cause_class", "icd_mm_group",
                  "note", "concluded_at", *CONCLUSION_PANEL_FIELDS]
        read_only_fields = fields

    report = serializers.PrimaryKeyRelatedField(read_only=True, pk_field=serializers.UUIDField())


class MeetingDetailSerializer(MeetingListSerializer):
    members = PersonSerializer(many=True, read_only=True)
    conclusions = MeetingConclusionSerializer(many=True, read_only=True)

    class Meta(MeetingListSerializer.Meta):
        fields = [*MEETING_FIELDS, "members", "notes", "conclusions"]
        read_only_fields = fields


def _step(summary: str, request: Any, *, description: str = "") -> Any:
    return step_schema(summary, request, detail=MeetingDetailSerializer, refusals=MEETING_REFUSALS,
                       description=description)


@extend_schema_view(
    list=extend_schema(summary="评审会列表 · List death review meetings",
                       responses={200: MeetingListSerializer(many=True), 403: M_DENIED}),
    retrieve=extend_schema(summary="评审会详情 · Read a death review meeting",
                           responses={200: MeetingDetailSerializer, 403: M_DENIED, 404: M_NOT_FOUND}),
    create=extend_schema(
        summary="召开评审会 · Call a death review meeting",
        description="An MCH officer of the county, city or province calls its panel; the members are its "
                    "expert reviewers and MCH officers, and are told.",
        request=MeetingCreateSerializer,
        responses={201: MeetingDetailSerializer, 400: FIELD_ERRORS, 403: M_DENIED, 409: M_CONFLICT}),
)
class ReviewMeetingViewSet(StepsMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    record_name = "meeting"
    permission_classes = [IsAuthenticated, CanUseDeathPanels]
    serializer_class = MeetingDetailSerializer
    queryset = ReviewMeeting.objects.none()
    lookup_url_kwarg = "id"
    lookup_value_converter = "uuid"
    parser_classes = [JSONParser]

    def get_queryset(self) -> QuerySet[ReviewMeeting]:
        return visible_review_meetings(self.request.user).prefetch_related("reports", "near_misses").order_by(
            "-held_on", "-created_at", "pk")

    def get_serializer_class(self) -> type[serializers.BaseSerializer]:
        return MeetingListSerializer if self.action == "list" else MeetingDetailSerializer

    def get_object(self) -> ReviewMeeting:
        return get_visible_or_404(self.get_queryset(), pk=self.kwargs[self.lookup_url_kwarg])

    def _detail(self, meeting: ReviewMeeting) -> Any:
        fresh = ReviewMeeting.objects.select_related("region", "chair").prefetch_related(
            "members", "reports", "near_misses", "conclusions__opinions__member").get(pk=meeting.pk)
        return MeetingDetailSerializer(fresh, context=self.get_serializer_context()).data

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return Response(self._detail(self.get_object()))

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = MeetingCreateSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        meeting = ds.death_meeting_create(region=data["region"], held_on=data["held_on"], place=data["place"],
                                          chair=data["chair"], members=data["members"], notes=data["notes"],
                                          by=request.user)
        return Response(self._detail(meeting), status=status.HTTP_201_CREATED)

    @_step("列入议程 · Put a case on the agenda", AgendaSerializer,
           description="A death awaiting this meeting's level of review, or a near-miss case of its area.")
    @action(detail=True, methods=["post"], url_path="add-case")
    def add_case(self, request: Request, **kwargs: Any) -> Response:
        return self._step(AgendaSerializer, lambda m, by, d: ds.death_meeting_add_case(meeting=m, by=by, **d))

    @_step("移出议程 · Take a case off the agenda", AgendaSerializer)
    @action(detail=True, methods=["post"], url_path="remove-case")
    def remove_case(self, request: Request, **kwargs: Any) -> Response:
        return self._step(AgendaSerializer, lambda m, by, d: ds.death_meeting_remove_case(meeting=m, by=by, **d))

    @_step("专家意见 · Record a member's agreement or dissent", OpinionSerializer)
    @action(detail=True, methods=["post"])
    def opinion(self, request: Request, **kwargs: Any) -> Response:
        def run(meeting: ReviewMeeting, by: Any, d: dict[str, Any]) -> ReviewMeeting:
            ds.death_meeting_record_opinion(conclusion=d["conclusion"], member=d["member"] or by, agrees=d["agrees"],
                                            dissent=d["dissent"], by=by)
            return meeting

        return self._step(OpinionSerializer, run)

    @_step("纪要定稿 · Finalise the minutes", FinaliseSerializer,
           description="The meeting, its conclusions and opinions become read-only.")
    @action(detail=True, methods=["post"])
    def finalise(self, request: Request, **kwargs: Any) -> Response:
        return self._step(FinaliseSerializer, lambda m, by, d: ds.death_meeting_finalise(meeting=m, by=by, **d))
