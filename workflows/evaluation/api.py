"""REST API of the evaluation rounds (评估): ``/api/evaluation-rounds/`` (list, detail with the ranking and the
re-check samples, open a round, draw a sample) and ``/api/evaluation-submissions/`` (list, detail with the
scores and on-site visits, and one POST per step of a submission).

Reads go through ``visible_evaluation_rounds``, ``visible_evaluation_submissions`` and
``visible_evaluation_scores``; every change calls one service of ``workflows/evaluation/services.py``. No
serializer accepts a state: it is read-only output. The shared contract: 200 the record (201 when a round, a
visit or a sample is made); 400 field errors ``{"field": ["message", ...]}`` from the serializer or the service;
403 ``{"detail": reason}`` when the role or area does not allow the step; 404 out of scope or missing (a score of
another submission too); 409 the submission's state no longer allows the step.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Prefetch, Q, QuerySet
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from cases.limits import NARRATIVE_MAX_CHARS
from cases.models import (
    EvaluationRound,
    EvaluationSample,
    EvaluationScore,
    EvaluationSubmission,
    EvaluationVisit,
)
from cases.selectors import (
    visible_evaluation_rounds,
    visible_evaluation_scores,
    visible_evaluation_submissions,
)
from organisations.http import get_visible_or_404
from organisations.models import Region
from organisations.parsers import JSONParser
from workflows.api import (
    DATE_BOUNDS,
    FIELD_ERRORS,
    ReasonSerializer,
    StepsMixin,
    refusal_responses,
    step_schema,
)
from workflows.evaluation import permissions as p
from workflows.evaluation import sampling
from workflows.evaluation import services as svc

S = EvaluationSubmission.State
ROUND_REFUSALS = refusal_responses("round", denied="Not allowed for your role or province (reason given).")
ROUND_DENIED, ROUND_NOT_FOUND, ROUND_CONFLICT = ROUND_REFUSALS
REFUSALS = refusal_responses("submission", denied="Not allowed for your role or area (reason given).")
DENIED, NOT_FOUND, CONFLICT = REFUSALS
LEVEL_CHOICES = Region.Level.choices


class CanUseEvaluation(BasePermission):
    message = p.DENIED

    def has_permission(self, request: Any, view: Any) -> bool:
        return p.may_open(request.user)


def _name(user: Any) -> str | None:
    return None if user is None else str(user)


# --- Input: rounds ----------------------------------------------------------------------------------------

class EvaluationRoundOpenSerializer(serializers.Serializer):
    province = serializers.PrimaryKeyRelatedField(
        queryset=Region.objects.filter(level=Region.Level.PROVINCE),
        help_text="省 · The province (its region code, e.g. 350000); its bureau officers open its rounds.")
    year = serializers.IntegerField(min_value=2000, max_value=2100,
                                    help_text="数据年度 · The data year evaluated (a year that is over).")
    level = serializers.ChoiceField(choices=LEVEL_CHOICES,
                                    help_text="评估层级 · The level evaluated: county, city or province.")


class EvaluationSampleDrawSerializer(serializers.Serializer):
    evaluator = serializers.PrimaryKeyRelatedField(
        queryset=Region.objects.none(),
        help_text="评估地区 · The area that re-checks on site (its region code): the level above the systems of "
                  "the round.")

    def get_fields(self) -> dict[str, Any]:
        fields = super().get_fields()
        round_ = self.context.get("round")
        if round_ is not None:
            fields["evaluator"].queryset = Region.objects.filter(pk__in=round_.submissions.filter(
                subject=EvaluationSubmission.Subject.SYSTEM).values("evaluator_id"))
        return fields


class EvaluationRoundListFilterSerializer(serializers.Serializer):
    year = serializers.IntegerField(required=False, min_value=0, max_value=9999)
    level = serializers.ChoiceField(choices=LEVEL_CHOICES, required=False)
    province = serializers.CharField(max_length=6, required=False)


# --- Input: submissions -----------------------------------------------------------------------------------

class EvaluationScoreStepSerializer(serializers.Serializer):
    score = serializers.UUIDField(help_text="评分项 · The score (its id in the submission's scores).")

    def validate_score(self, value: Any) -> EvaluationScore:
        submission = self.context["submission"]
        return get_visible_or_404(visible_evaluation_scores(self.context["request"].user).filter(
            submission=submission).select_related("indicator", "submission"), pk=value)


class EvaluationScoreEnterSerializer(EvaluationScoreStepSerializer):
    self_value = serializers.DecimalField(max_digits=14, decimal_places=4, allow_null=True, default=None,
                                          help_text="自评值 · The self-evaluation's value (null: none yet).")
    evidence = serializers.CharField(max_length=500, allow_blank=True, default="",
                                     help_text="佐证材料 · What proves it (needed with a value).")


class EvaluationScoreEvaluateSerializer(EvaluationScoreStepSerializer):
    evaluator_value = serializers.DecimalField(
        max_digits=14, decimal_places=4, allow_null=True, default=None,
        help_text="评估值 · The evaluator's value; it counts instead of the computed or entered one, which stays "
                  "beside it (null: the computed or entered value counts).")
    override_reason = serializers.CharField(
        max_length=300, allow_blank=True, default="",
        help_text="调整原因 · Why the value differs from the computed or entered one (needed then).")
    evidence_checked = serializers.BooleanField(allow_null=True, default=None,
                                                help_text="佐证已核 · The evidence was checked (null: unchanged).")


class EvaluationSubmitSerializer(serializers.Serializer):
    self_summary = serializers.CharField(max_length=NARRATIVE_MAX_CHARS, help_text="自评小结 · The summary.")


class EvaluationVisitInSerializer(serializers.Serializer):
    visited_on = serializers.DateField(validators=DATE_BOUNDS,
                                       help_text="现场评估日期 · The day of the visit (not in the future).")
    unannounced = serializers.BooleanField(default=True, help_text="四不两直 · Unannounced.")
    evaluators = serializers.CharField(max_length=300, help_text="评估人员 · The evaluators.")
    findings = serializers.CharField(max_length=NARRATIVE_MAX_CHARS, help_text="发现问题 · What the visit found.")


class EvaluationDecideSerializer(serializers.Serializer):
    passed = serializers.BooleanField(help_text="评估结果 · true: passed (合格); false: failed (不合格).")
    reason = serializers.CharField(max_length=NARRATIVE_MAX_CHARS, allow_blank=True, default="",
                                   help_text="理由 · Needed for a fail, and for a result against the pass mark.")


class EvaluationRectifySerializer(serializers.Serializer):
    requirements = serializers.CharField(max_length=NARRATIVE_MAX_CHARS,
                                         help_text="整改要求 · What must be rectified.")


class EvaluationReevaluateSerializer(serializers.Serializer):
    passed = serializers.BooleanField(help_text="复评结果 · true: passed; false: a centre is de-listed (摘牌), a "
                                                "system's second failure recorded.")
    findings = serializers.CharField(max_length=NARRATIVE_MAX_CHARS, help_text="复评意见 · What it found.")


class EvaluationSubmissionListFilterSerializer(serializers.Serializer):
    round = serializers.UUIDField(required=False)
    state = serializers.ChoiceField(choices=S.choices, required=False)
    subject = serializers.ChoiceField(choices=EvaluationSubmission.Subject.choices, required=False)


# --- Output -----------------------------------------------------------------------------------------------

class EvaluationScoreOutSerializer(serializers.ModelSerializer):
    indicator_number = serializers.CharField(source="indicator.number", read_only=True,
                                             help_text="指标序号 · The indicator's number in the scheme.")
    indicator_name = serializers.CharField(source="indicator.name", read_only=True, help_text="指标 · Indicator.")
    value_source = serializers.CharField(source="indicator.value_source", read_only=True,
                                         help_text="取值方式 · computed (from Anmu's records) or entered.")
    target_type = serializers.CharField(source="indicator.target_type", read_only=True,
                                        help_text="目标类型 · yes_no, threshold, band, trend or not_captured.")
    target_text = serializers.CharField(source="indicator.target_text", read_only=True,
                                        help_text="目标 · The target as written.")
    evidence_required = serializers.CharField(source="indicator.evidence", read_only=True,
                                              help_text="所需佐证 · What proves an entered value.")
    points_available = serializers.DecimalField(source="indicator.points", max_digits=6, decimal_places=2,
                                                read_only=True, allow_null=True,
                                                help_text="满分 · The indicator's points (null: none given).")
    value = serializers.DecimalField(max_digits=14, decimal_places=4, read_only=True, allow_null=True,
                                     help_text="计分值 · The value that counts: the evaluator's, else the computed, "
                                               "else the entered one.")
    overridden = serializers.BooleanField(read_only=True,
                                          help_text="已调整 · The evaluator's value differs from the computed one.")

    class Meta:
        model = EvaluationScore
        fields = ["id", "indicator", "indicator_number", "indicator_name", "value_source", "target_type",
                  "target_text",
                  "evidence_required", "points_available", "computed_value", "previous_value", "self_value",
                  "evidence", "evaluator_value", "override_reason", "overridden", "evidence_checked", "value", "met",
                  "points", "note"]
        read_only_fields = fields


class EvaluationVisitOutSerializer(serializers.ModelSerializer):
    recorded_by_name = serializers.SerializerMethodField()

    class Meta:
        model = EvaluationVisit
        fields = ["id", "visited_on", "unannounced", "evaluators", "findings", "recorded_at", "recorded_by_name"]
        read_only_fields = fields

    def get_recorded_by_name(self, obj: EvaluationVisit) -> str:
        return str(obj.recorded_by)


class EvaluationTotalsSerializer(serializers.Serializer):
    total = serializers.DecimalField(max_digits=10, decimal_places=2, allow_null=True, read_only=True,
                                     help_text="得分 · Score.")
    available = serializers.DecimalField(max_digits=10, decimal_places=2, allow_null=True, read_only=True,
                                         help_text="可得分 · Points of the targets judged.")
    met = serializers.IntegerField(read_only=True, help_text="达标项 · Targets met.")
    judged = serializers.IntegerField(read_only=True, help_text="已评项 · Targets judged.")
    suggested_pass = serializers.BooleanField(allow_null=True, read_only=True,
                                              help_text="按合格线 · Pass by the province's mark (null: nothing judged).")
    mark = serializers.IntegerField(read_only=True,
                                    help_text="合格线 · The province's pass mark (% of the points available).")


SUBMISSION_FIELDS = ["id", "round", "year", "level", "subject", "subject_display", "subject_name", "region",
                     "region_name", "centre", "evaluator", "evaluator_name", "state", "state_display", "self_due_on",
                     "evaluation_due_on", "submitted_at", "submitted_by_name", "returned_reason", "on_site", "total",
                     "available", "share", "met_count", "judged_count", "suggested_pass", "evaluated_at",
                     "evaluated_by_name", "result_reason", "rectification", "reevaluated_at", "restored_at"]


class EvaluationSubmissionListSerializer(serializers.ModelSerializer):
    year = serializers.IntegerField(source="round.year", read_only=True, help_text="数据年度 · Data year.")
    level = serializers.CharField(source="round.level", read_only=True, help_text="评估层级 · Level evaluated.")
    subject_display = serializers.CharField(source="get_subject_display", read_only=True)
    subject_name = serializers.CharField(read_only=True, help_text="评估对象 · The area's or the centre's name.")
    region_name = serializers.CharField(source="region.name", read_only=True)
    evaluator_name = serializers.CharField(source="evaluator.name", read_only=True, allow_null=True, default=None)
    state_display = serializers.CharField(source="get_state_display", read_only=True)
    share = serializers.DecimalField(max_digits=8, decimal_places=1, read_only=True, allow_null=True,
                                     help_text="得分率 · The score as a % of the points available.")
    submitted_by_name = serializers.SerializerMethodField()
    evaluated_by_name = serializers.SerializerMethodField()

    class Meta:
        model = EvaluationSubmission
        fields = SUBMISSION_FIELDS
        read_only_fields = fields

    def get_submitted_by_name(self, obj: EvaluationSubmission) -> str | None:
        return _name(obj.submitted_by)

    def get_evaluated_by_name(self, obj: EvaluationSubmission) -> str | None:
        return _name(obj.evaluated_by)


class EvaluationSubmissionDetailSerializer(EvaluationSubmissionListSerializer):
    scores = EvaluationScoreOutSerializer(many=True, read_only=True)
    visits = EvaluationVisitOutSerializer(many=True, read_only=True)
    totals = serializers.SerializerMethodField()

    class Meta(EvaluationSubmissionListSerializer.Meta):
        fields = [*SUBMISSION_FIELDS, "self_summary", "report", "reevaluation_findings", "restored_reason",
                  "totals", "scores", "visits"]
        read_only_fields = fields

    @extend_schema_field(EvaluationTotalsSerializer)
    def get_totals(self, obj: EvaluationSubmission) -> Any:
        """The figures as they stand now (the stored total, share and counts are those of the result)."""
        return EvaluationTotalsSerializer(svc.totals(obj)).data


class EvaluationRankingRowSerializer(serializers.Serializer):
    rank = serializers.IntegerField(read_only=True, help_text="名次 · Ties share a rank.")
    submission = serializers.UUIDField(source="submission.pk", read_only=True)
    subject = serializers.CharField(source="submission.subject", read_only=True)
    subject_name = serializers.CharField(source="submission.subject_name", read_only=True)
    state = serializers.CharField(source="submission.state", read_only=True)
    total = serializers.DecimalField(source="submission.total", max_digits=8, decimal_places=2, allow_null=True,
                                     read_only=True)
    available = serializers.DecimalField(source="submission.available", max_digits=8, decimal_places=2,
                                         allow_null=True, read_only=True)
    share = serializers.DecimalField(source="submission.share", max_digits=8, decimal_places=1, allow_null=True,
                                     read_only=True)
    met_count = serializers.IntegerField(source="submission.met_count", read_only=True)


class EvaluationDrawnAreaSerializer(serializers.Serializer):
    region = serializers.CharField(read_only=True, help_text="地区代码 · The area drawn.")
    name = serializers.CharField(read_only=True)
    reason = serializers.ChoiceField(choices=[(sampling.FORCED, "coverage"), (sampling.ORDERED, "longest_unchecked")],
                                     read_only=True,
                                     help_text="coverage: its last re-check is too long ago; longest_unchecked: the "
                                               "longest without one.")
    last_checked = serializers.IntegerField(allow_null=True, read_only=True, help_text="上次复核年度 · null: never.")


class EvaluationSampleOutSerializer(serializers.ModelSerializer):
    evaluator_name = serializers.CharField(source="evaluator.name", read_only=True)
    drawn = EvaluationDrawnAreaSerializer(many=True, read_only=True)
    drawn_by_name = serializers.SerializerMethodField()

    class Meta:
        model = EvaluationSample
        fields = ["id", "evaluator", "evaluator_name", "seed", "share", "coverage_years", "minimum", "drawn",
                  "drawn_at", "drawn_by_name"]
        read_only_fields = fields

    def get_drawn_by_name(self, obj: EvaluationSample) -> str:
        return str(obj.drawn_by)


class EvaluationAreaSerializer(serializers.Serializer):
    code = serializers.CharField(read_only=True)
    name = serializers.CharField(read_only=True)


class EvaluationRoundListSerializer(serializers.ModelSerializer):
    province_name = serializers.CharField(source="province.name", read_only=True)
    level_display = serializers.CharField(source="get_level_display", read_only=True)
    scheme_name = serializers.CharField(source="scheme.name", read_only=True)
    state_display = serializers.CharField(source="get_state_display", read_only=True)
    submission_count = serializers.IntegerField(read_only=True, help_text="Submissions of the round you see.")
    submitted_count = serializers.IntegerField(read_only=True, help_text="… of which past the self-evaluation.")
    evaluated_count = serializers.IntegerField(read_only=True, help_text="… of which with a result.")

    class Meta:
        model = EvaluationRound
        fields = ["id", "province", "province_name", "year", "level", "level_display", "scheme", "scheme_name",
                  "state", "state_display", "opened_at", "closed_at", "submission_count", "submitted_count",
                  "evaluated_count"]
        read_only_fields = fields


class EvaluationRoundDetailSerializer(EvaluationRoundListSerializer):
    ranking = serializers.SerializerMethodField()
    samples = serializers.SerializerMethodField()
    to_draw = serializers.SerializerMethodField()

    class Meta(EvaluationRoundListSerializer.Meta):
        fields = [*EvaluationRoundListSerializer.Meta.fields, "ranking", "samples", "to_draw"]
        read_only_fields = fields

    def _reader(self, round_: EvaluationRound) -> tuple[list[EvaluationSubmission], list[Region]]:
        """The round's submissions the reader sees, and the areas she evaluates for (as on the round's page)."""
        cache: dict[Any, tuple[list[EvaluationSubmission], list[Region]]] = self.context.setdefault("_rounds", {})
        if round_.pk not in cache:
            user = self.context["request"].user
            submissions = list(visible_evaluation_submissions(user).filter(round=round_).order_by(
                "subject", "region_id"))
            evaluators = sorted({s.evaluator for s in submissions if s.subject == EvaluationSubmission.Subject.SYSTEM
                                 and s.evaluator is not None and p.may_evaluate(user, s)}, key=lambda r: r.code)
            cache[round_.pk] = (submissions, evaluators)
        return cache[round_.pk]

    @extend_schema_field(EvaluationRankingRowSerializer(many=True))
    def get_ranking(self, obj: EvaluationRound) -> Any:
        """The evaluated submissions you see, by their share of the points (then targets met)."""
        return EvaluationRankingRowSerializer(svc.ranking(self._reader(obj)[0]), many=True).data

    @extend_schema_field(EvaluationSampleOutSerializer(many=True))
    def get_samples(self, obj: EvaluationRound) -> Any:
        """The on-site re-check samples of the areas you evaluate for."""
        codes = {region.code for region in self._reader(obj)[1]}
        samples = [s for s in obj.samples.select_related("evaluator", "drawn_by") if s.evaluator_id in codes]
        return EvaluationSampleOutSerializer(samples, many=True).data

    @extend_schema_field(EvaluationAreaSerializer(many=True))
    def get_to_draw(self, obj: EvaluationRound) -> Any:
        """The areas you evaluate for whose sample is not drawn yet (``POST …/sample/``)."""
        drawn = set(obj.samples.values_list("evaluator_id", flat=True))
        return [{"code": r.code, "name": r.name} for r in self._reader(obj)[1] if r.code not in drawn]


# --- Views: rounds ----------------------------------------------------------------------------------------

@extend_schema_view(
    list=extend_schema(
        summary="评估轮次列表 · List evaluation rounds",
        description="The rounds holding a submission you see, and every round of a province whose rounds you open.",
        parameters=[OpenApiParameter("year", int, description="数据年度 · Data year."),
                    OpenApiParameter("level", str, enum=[value for value, _label in LEVEL_CHOICES],
                                     description="评估层级 · Level evaluated."),
                    OpenApiParameter("province", str, description="省 · Province code, e.g. 350000.")],
        responses={200: EvaluationRoundListSerializer(many=True), 400: FIELD_ERRORS, 403: ROUND_DENIED}),
    retrieve=extend_schema(summary="评估轮次详情 · Read an evaluation round",
                           description="With the ranking of the submissions you see and the re-check samples of "
                                       "the areas you evaluate for.",
                           responses={200: EvaluationRoundDetailSerializer, 403: ROUND_DENIED,
                                      404: ROUND_NOT_FOUND}),
    create=extend_schema(
        summary="开启评估 · Open an evaluation round",
        description="A province's bureau officers or system administrator open the round of a level for a data "
                    "year: one submission for the system of every area of that level and for every rescue centre "
                    "of that level, each asked to self-evaluate by the province's timetable.",
        request=EvaluationRoundOpenSerializer,
        responses={201: EvaluationRoundDetailSerializer, 400: FIELD_ERRORS, 403: ROUND_DENIED,
                   409: ROUND_CONFLICT}),
)
class EvaluationRoundViewSet(StepsMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    record_name = "round"
    permission_classes = [IsAuthenticated, CanUseEvaluation]
    serializer_class = EvaluationRoundDetailSerializer
    queryset = EvaluationRound.objects.none()
    lookup_url_kwarg = "id"
    lookup_value_converter = "uuid"
    parser_classes = [JSONParser]

    def get_queryset(self) -> QuerySet[EvaluationRound]:
        mine = Q(submissions__pk__in=visible_evaluation_submissions(self.request.user).values("pk"))
        return visible_evaluation_rounds(self.request.user).annotate(
            submission_count=Count("submissions", filter=mine, distinct=True),
            submitted_count=Count("submissions", filter=mine & ~Q(submissions__state=S.DRAFT), distinct=True),
            evaluated_count=Count("submissions", filter=mine & Q(
                submissions__state__in=EvaluationSubmission.EVALUATED_STATES), distinct=True))

    def get_serializer_class(self) -> type[serializers.BaseSerializer]:
        return EvaluationRoundListSerializer if self.action == "list" else EvaluationRoundDetailSerializer

    def get_object(self) -> EvaluationRound:
        return get_visible_or_404(self.get_queryset(), pk=self.kwargs[self.lookup_url_kwarg])

    def filter_queryset(self, queryset: QuerySet[EvaluationRound]) -> QuerySet[EvaluationRound]:
        if self.action != "list":
            return queryset
        filters = EvaluationRoundListFilterSerializer(data=self.request.query_params)
        filters.is_valid(raise_exception=True)
        data = filters.validated_data
        if data.get("year") is not None:
            queryset = queryset.filter(year=data["year"])
        if data.get("level"):
            queryset = queryset.filter(level=data["level"])
        if data.get("province"):
            queryset = queryset.filter(province_id=data["province"])
        return queryset.order_by("-year", "province_id", "level", "pk")

    def _detail(self, round_: EvaluationRound) -> Any:
        fresh = self.get_queryset().filter(pk=round_.pk).first() or round_
        return EvaluationRoundDetailSerializer(fresh, context=self.get_serializer_context()).data

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = EvaluationRoundOpenSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        round_ = svc.round_open(by=request.user, province=data["province"], year=data["year"], level=data["level"])
        return Response(self._detail(round_), status=status.HTTP_201_CREATED)

    @step_schema("抽取现场复核样本 · Draw the on-site re-check sample", EvaluationSampleDrawSerializer,
                 detail=EvaluationRoundDetailSerializer, refusals=ROUND_REFUSALS, created=True,
                 description="The areas the evaluator re-checks on site in the round, drawn reproducibly by the "
                             "province's rule (a share each year, every area within a number of years); they need "
                             "a visit before their result. Once per evaluator and round.")
    @action(detail=True, methods=["post"])
    def sample(self, request: Request, **kwargs: Any) -> Response:
        def draw(round_: EvaluationRound, by: Any, data: dict[str, Any]) -> EvaluationRound:
            svc.sample_draw(round_=round_, evaluator=data["evaluator"], by=by)
            return round_

        return self._step(EvaluationSampleDrawSerializer, draw, created=True)

    @step_schema("关闭评估轮次 · Close the round", None, detail=EvaluationRoundDetailSerializer,
                 refusals=ROUND_REFUSALS,
                 description="Once every subject has its result (400 with the count of those without one): the "
                             "results and the ranking are final and no sample is drawn any more; rectifications "
                             "under way go on. By the province's bureau officers or system administrator.")
    @action(detail=True, methods=["post"])
    def close(self, request: Request, **kwargs: Any) -> Response:
        return self._step(None, lambda round_, by, _data: svc.round_close(round_=round_, by=by))


# --- Views: submissions -----------------------------------------------------------------------------------

def _step(summary: str, request: Any, *, created: bool = False, description: str = "") -> Any:
    return step_schema(summary, request, detail=EvaluationSubmissionDetailSerializer, refusals=REFUSALS,
                       created=created, description=description)


@extend_schema_view(
    list=extend_schema(
        summary="评估对象列表 · List evaluation submissions",
        description="The submissions of your area (a city's officers see their counties' and their centres'); a "
                    "head of an institution her centre's.",
        parameters=[OpenApiParameter("round", str, description="评估轮次 · A round's id."),
                    OpenApiParameter("state", str, enum=list(S.values), description="状态 · State."),
                    OpenApiParameter("subject", str, enum=list(EvaluationSubmission.Subject.values),
                                     description="评估对象 · system (an area's) or centre (a rescue centre).")],
        responses={200: EvaluationSubmissionListSerializer(many=True), 400: FIELD_ERRORS, 403: DENIED}),
    retrieve=extend_schema(summary="评估对象详情 · Read an evaluation submission",
                           description="With its scores (computed, entered and the evaluator's value beside each "
                                       "other, the points) and its on-site visits.",
                           responses={200: EvaluationSubmissionDetailSerializer, 403: DENIED, 404: NOT_FOUND}),
)
class EvaluationSubmissionViewSet(StepsMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin,
                                  viewsets.GenericViewSet):
    record_name = "submission"
    permission_classes = [IsAuthenticated, CanUseEvaluation]
    serializer_class = EvaluationSubmissionDetailSerializer
    queryset = EvaluationSubmission.objects.none()
    lookup_url_kwarg = "id"
    lookup_value_converter = "uuid"
    parser_classes = [JSONParser]

    def get_queryset(self) -> QuerySet[EvaluationSubmission]:
        return visible_evaluation_submissions(self.request.user).select_related("submitted_by", "evaluated_by")

    def get_serializer_class(self) -> type[serializers.BaseSerializer]:
        return EvaluationSubmissionListSerializer if self.action == "list" else EvaluationSubmissionDetailSerializer

    def get_object(self) -> EvaluationSubmission:
        return get_visible_or_404(self.get_queryset(), pk=self.kwargs[self.lookup_url_kwarg])

    def filter_queryset(self, queryset: QuerySet[EvaluationSubmission]) -> QuerySet[EvaluationSubmission]:
        if self.action != "list":
            return queryset
        filters = EvaluationSubmissionListFilterSerializer(data=self.request.query_params)
        filters.is_valid(raise_exception=True)
        data = filters.validated_data
        if data.get("round"):
            queryset = queryset.filter(round_id=data["round"])
        if data.get("state"):
            queryset = queryset.filter(state=data["state"])
        if data.get("subject"):
            queryset = queryset.filter(subject=data["subject"])
        return queryset.order_by("-round__year", "round__level", "subject", "region_id", "pk")

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return Response(self._detail(self.get_object()))

    def _detail(self, submission: EvaluationSubmission) -> Any:
        fresh = self.get_queryset().prefetch_related(
            Prefetch("scores", queryset=EvaluationScore.objects.select_related("indicator").order_by(
                "indicator__order", "indicator__number")),
            Prefetch("visits", queryset=EvaluationVisit.objects.select_related("recorded_by"))).get(pk=submission.pk)
        return EvaluationSubmissionDetailSerializer(fresh, context=self.get_serializer_context()).data

    # The self-evaluation

    @_step("填写自评值 · Enter a self-evaluation value", EvaluationScoreEnterSerializer,
           description="An entered indicator's value, with its evidence; only while self-evaluating.")
    @action(detail=True, methods=["post"], url_path="enter-score")
    def enter_score(self, request: Request, **kwargs: Any) -> Response:
        return self._step(EvaluationScoreEnterSerializer, lambda s, by, d: svc.score_enter(
            score=d["score"], by=by, value=d["self_value"], evidence=d["evidence"]).submission)

    @_step("提交自评 · Submit the self-evaluation", EvaluationSubmitSerializer,
           description="Every entered value given with its evidence and, for a system, the area's finalised "
                       "self-evaluation report (自评报告); the computed values are filled in now.")
    @action(detail=True, methods=["post"])
    def submit(self, request: Request, **kwargs: Any) -> Response:
        return self._step(EvaluationSubmitSerializer, lambda s, by, d: svc.submission_submit(
            submission=s, by=by, summary=d["self_summary"]))

    # The evaluation by the level above

    @_step("退回自评 · Return the self-evaluation", ReasonSerializer)
    @action(detail=True, methods=["post"], url_path="return")
    def return_(self, request: Request, **kwargs: Any) -> Response:
        return self._step(ReasonSerializer, lambda s, by, d: svc.submission_return(
            submission=s, by=by, reason=d["reason"]))

    @_step("评估赋值 · Give the evaluator's value of a score", EvaluationScoreEvaluateSerializer,
           description="It counts instead of the computed or entered value, which is kept beside it; a different "
                       "value needs the reason.")
    @action(detail=True, methods=["post"], url_path="evaluate-score")
    def evaluate_score(self, request: Request, **kwargs: Any) -> Response:
        return self._step(EvaluationScoreEvaluateSerializer, lambda s, by, d: svc.score_evaluate(
            score=d["score"], by=by, value=d["evaluator_value"], reason=d["override_reason"],
            evidence_checked=d["evidence_checked"]).submission)

    @_step("重新计算 · Compute the values again", None,
           description="The computed values from Anmu's records as they are now (records corrected since).")
    @action(detail=True, methods=["post"])
    def recompute(self, request: Request, **kwargs: Any) -> Response:
        return self._step(None, lambda s, by, d: svc.submission_recompute(submission=s, by=by))

    @_step("记录现场评估 · Record an on-site visit", EvaluationVisitInSerializer, created=True,
           description="While evaluated or rectifying; \"四不两直\" when unannounced.")
    @action(detail=True, methods=["post"])
    def visit(self, request: Request, **kwargs: Any) -> Response:
        def record(submission: EvaluationSubmission, by: Any, data: dict[str, Any]) -> EvaluationSubmission:
            svc.visit_record(submission=submission, by=by, **data)
            return submission

        return self._step(EvaluationVisitInSerializer, record, created=True)

    @_step("评估结论 · Decide the result", EvaluationDecideSerializer,
           description="Passed (合格) or failed (不合格). A submission re-checked on site (every centre) needs its "
                       "visit first.")
    @action(detail=True, methods=["post"])
    def decide(self, request: Request, **kwargs: Any) -> Response:
        return self._step(EvaluationDecideSerializer, lambda s, by, d: svc.submission_decide(
            submission=s, by=by, passed=d["passed"], reason=d["reason"]))

    # Rectification, re-evaluation, de-listing

    @_step("要求整改 · Start the rectification", EvaluationRectifySerializer,
           description="A failed subject rectifies through the interview's steps, convened by the evaluating "
                       "bureau.")
    @action(detail=True, methods=["post"])
    def rectify(self, request: Request, **kwargs: Any) -> Response:
        return self._step(EvaluationRectifySerializer, lambda s, by, d: svc.submission_rectify(
            submission=s, by=by, requirements=d["requirements"]))

    @_step("复评 · Re-evaluate after the rectification", EvaluationReevaluateSerializer,
           description="Once the rectification is verified. A centre that fails is de-listed (摘牌: no longer "
                       "offered for referrals).")
    @action(detail=True, methods=["post"])
    def reevaluate(self, request: Request, **kwargs: Any) -> Response:
        return self._step(EvaluationReevaluateSerializer, lambda s, by, d: svc.submission_reevaluate(
            submission=s, by=by, passed=d["passed"], findings=d["findings"]))

    @_step("恢复 · Restore a de-listed centre", ReasonSerializer)
    @action(detail=True, methods=["post"])
    def restore(self, request: Request, **kwargs: Any) -> Response:
        return self._step(ReasonSerializer, lambda s, by, d: svc.submission_restore(
            submission=s, by=by, reason=d["reason"]))
