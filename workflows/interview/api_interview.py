"""REST API of interviews (约谈): ``/api/interviews/`` list, detail, create (propose) and one POST per step, the
parties' steps naming the party.

Reads go through ``visible_interviews``; every change calls one service of
``workflows/interview/services/interview.py``. No serializer accepts a state. The shared contract: 200 the
interview (201 when proposed); 400 field errors; 403 ``{"detail": reason}`` when the role or bureau does not allow
the step; 404 out of scope or missing (a party of another interview too); 409 the state moved on.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch, QuerySet
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from cases.models import Interview, InterviewParty, Summoned
from cases.selectors import visible_interviews
from organisations.http import get_visible_or_404
from organisations.models import Institution
from organisations.parsers import JSONParser
from workflows.api import (
    FIELD_ERRORS,
    ReasonSerializer,
    StepsMixin,
    moment_in_bounds,
    refusal_responses,
    step_schema,
)
from workflows.interview import permissions as p
from workflows.interview import services as svc
from workflows.interview.views.desk import DENIED as NOT_OPEN

REFUSALS = refusal_responses("interview", denied="Not allowed for your role or bureau (reason given).")
DENIED, NOT_FOUND, CONFLICT = REFUSALS


class CanUseInterviews(BasePermission):
    message = NOT_OPEN

    def has_permission(self, request: Any, view: Any) -> bool:
        return p.may_open(request.user)


# --- Input ------------------------------------------------------------------------------------------------

class InterviewBureauField(serializers.PrimaryKeyRelatedField):
    def get_queryset(self) -> QuerySet[Institution]:
        return Institution.objects.filter(pk__in=[b.pk for b in p.convening_bureaus(self.context["request"].user)])


class InterviewPartyInSerializer(serializers.Serializer):
    institution = serializers.PrimaryKeyRelatedField(queryset=Institution.objects.filter(is_active=True),
                                                     pk_field=serializers.UUIDField(),
                                                     help_text="被约谈单位 · An institution or bureau of the area.")
    summoned = serializers.ListField(child=serializers.ChoiceField(choices=Summoned.choices), allow_empty=False,
                                     help_text="须参加人员 · Who must attend.")
    reasons = serializers.CharField(required=False, allow_blank=True, default="")


class InterviewProposeSerializer(serializers.Serializer):
    bureau = InterviewBureauField(pk_field=serializers.UUIDField(), help_text="约谈单位 · A bureau you are an officer of.")
    subject = serializers.CharField(max_length=200)
    reasons = serializers.CharField()
    parties = InterviewPartyInSerializer(many=True, allow_empty=False)


class InterviewNotifySerializer(serializers.Serializer):
    number = serializers.CharField(max_length=60, help_text="通知文号 · Notice number.")
    scheduled_at = serializers.DateTimeField(validators=[moment_in_bounds],
                                             help_text="约谈时间 · When it is held.")
    place = serializers.CharField(max_length=120)


class InterviewHoldSerializer(serializers.Serializer):
    attendance = serializers.CharField()
    requirements = serializers.CharField()
    expert_advice = serializers.CharField(required=False, allow_blank=True, default="")
    statements = serializers.DictField(child=serializers.CharField(allow_blank=True), required=False, default=dict,
                                       help_text="各单位陈述 · Each party's statement, keyed by the party's id.")


class PartyStepSerializer(serializers.Serializer):
    party = serializers.UUIDField(help_text="被约谈单位记录 · The party (its id in the interview's parties).")

    def validate_party(self, value: Any) -> InterviewParty:
        interview = self.context["interview"]
        return get_visible_or_404(InterviewParty.objects.filter(interview=interview).select_related(
            "interview__bureau__region", "institution__region"), pk=value)


class PartyPlanSerializer(PartyStepSerializer):
    plan = serializers.CharField()


class PartyReasonSerializer(PartyStepSerializer):
    reason = serializers.CharField()


class PartyReportSerializer(PartyStepSerializer):
    report = serializers.CharField()


class PartyVerifySerializer(PartyStepSerializer):
    passed = serializers.BooleanField()
    method = serializers.ChoiceField(choices=InterviewParty.Method.choices)
    findings = serializers.CharField()
    escalation = serializers.CharField(required=False, allow_blank=True, default="")


# --- Output -----------------------------------------------------------------------------------------------

class InterviewPartyOutSerializer(serializers.ModelSerializer):
    institution_name = serializers.CharField(source="institution.name", read_only=True)
    state_display = serializers.CharField(source="get_state_display", read_only=True)

    class Meta:
        model = InterviewParty
        fields = ["id", "institution", "institution_name", "summoned", "reasons", "state", "state_display",
                  "acknowledge_due_at", "acknowledged_at", "statement", "plan", "plan_due_at", "plan_submitted_at",
                  "plan_return_reason", "plan_accepted_at", "report", "report_due_at", "report_submitted_at",
                  "method", "findings", "verified_at", "escalation"]
        read_only_fields = fields


class InterviewOutSerializer(serializers.ModelSerializer):
    bureau_name = serializers.CharField(source="bureau.name", read_only=True)
    state_display = serializers.CharField(source="get_state_display", read_only=True)
    parties = InterviewPartyOutSerializer(many=True, read_only=True)

    class Meta:
        model = Interview
        fields = ["id", "state", "state_display", "origin", "bureau", "bureau_name", "region", "subject", "reasons",
                  "evidence", "escalated_from", "proposed_at", "dismissed_at", "dismiss_reason", "number",
                  "scheduled_at", "place", "notified_at", "held_at", "attendance", "expert_advice", "requirements",
                  "closed_at", "parties"]
        read_only_fields = fields


def _step(summary: str, request: Any, *, created: bool = False) -> Any:
    return step_schema(summary, request, detail=InterviewOutSerializer, refusals=REFUSALS, created=created)


@extend_schema_view(
    list=extend_schema(summary="约谈列表 · List interviews", responses={200: InterviewOutSerializer(many=True),
                                                                    403: DENIED}),
    retrieve=extend_schema(summary="约谈详情 · Read an interview",
                           responses={200: InterviewOutSerializer, 403: DENIED, 404: NOT_FOUND}),
    create=extend_schema(summary="提出约谈 · Propose an interview", request=InterviewProposeSerializer,
                         responses={201: InterviewOutSerializer, 400: FIELD_ERRORS, 403: DENIED}),
)
class InterviewViewSet(StepsMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    record_name = "interview"
    permission_classes = [IsAuthenticated, CanUseInterviews]
    serializer_class = InterviewOutSerializer
    queryset = Interview.objects.none()
    lookup_url_kwarg = "id"
    lookup_value_converter = "uuid"
    parser_classes = [JSONParser]

    def get_queryset(self) -> QuerySet[Interview]:
        return visible_interviews(self.request.user).prefetch_related(
            Prefetch("parties", queryset=InterviewParty.objects.select_related("institution").order_by(
                "institution__name"))).order_by("-proposed_at", "pk")

    def get_object(self) -> Interview:
        return get_visible_or_404(self.get_queryset(), pk=self.kwargs[self.lookup_url_kwarg])

    def _detail(self, interview: Interview) -> Any:
        fresh = self.get_queryset().filter(pk=interview.pk).first() or interview
        return InterviewOutSerializer(fresh, context=self.get_serializer_context()).data

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = InterviewProposeSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        interview = svc.interview_propose(
            by=request.user, bureau=data["bureau"], subject=data["subject"], reasons=data["reasons"],
            parties=[(row["institution"], list(row["summoned"]), row["reasons"]) for row in data["parties"]])
        return Response(self._detail(interview), status=status.HTTP_201_CREATED)

    @_step("发出约谈通知 · Issue the notice", InterviewNotifySerializer)
    @action(detail=True, methods=["post"])
    def notify(self, request: Request, **kwargs: Any) -> Response:
        return self._step(InterviewNotifySerializer, lambda i, by, d: svc.interview_notify(interview=i, by=by, **d))

    @_step("不予约谈 · Dismiss the proposal", ReasonSerializer)
    @action(detail=True, methods=["post"])
    def dismiss(self, request: Request, **kwargs: Any) -> Response:
        return self._step(ReasonSerializer, lambda i, by, d: svc.interview_dismiss(interview=i, by=by,
                                                                                   reason=d["reason"]))

    @_step("填写约谈记录 · Record the minutes", InterviewHoldSerializer)
    @action(detail=True, methods=["post"])
    def hold(self, request: Request, **kwargs: Any) -> Response:
        return self._step(InterviewHoldSerializer, lambda i, by, d: svc.interview_hold(interview=i, by=by, **d))

    def _party(self, serializer: type[PartyStepSerializer], run: Any) -> Response:
        """A party's step: the body names the party (of this interview); the answer is the whole interview."""
        def step(interview: Interview, by: Any, data: dict[str, Any]) -> Interview:
            run(data.pop("party"), by, data)
            return interview

        return self._step(serializer, step)

    @_step("确认收到通知 · Acknowledge the notice (a party)", PartyStepSerializer)
    @action(detail=True, methods=["post"])
    def acknowledge(self, request: Request, **kwargs: Any) -> Response:
        return self._party(PartyStepSerializer, lambda x, by, d: svc.interview_acknowledge(party=x, by=by))

    @_step("提交整改方案 · Submit the rectification plan (a party)", PartyPlanSerializer)
    @action(detail=True, methods=["post"])
    def plan(self, request: Request, **kwargs: Any) -> Response:
        return self._party(PartyPlanSerializer, lambda x, by, d: svc.interview_plan_submit(party=x, by=by, **d))

    @_step("通过方案 · Accept a party's plan", PartyStepSerializer)
    @action(detail=True, methods=["post"], url_path="accept-plan")
    def accept_plan(self, request: Request, **kwargs: Any) -> Response:
        return self._party(PartyStepSerializer, lambda x, by, d: svc.interview_plan_accept(party=x, by=by))

    @_step("退回方案 · Return a party's plan", PartyReasonSerializer)
    @action(detail=True, methods=["post"], url_path="return-plan")
    def return_plan(self, request: Request, **kwargs: Any) -> Response:
        return self._party(PartyReasonSerializer, lambda x, by, d: svc.interview_plan_return(party=x, by=by, **d))

    @_step("提交整改报告 · Submit the rectification report (a party)", PartyReportSerializer)
    @action(detail=True, methods=["post"])
    def report(self, request: Request, **kwargs: Any) -> Response:
        return self._party(PartyReportSerializer, lambda x, by, d: svc.interview_report_submit(party=x, by=by, **d))

    @_step("核查整改 · Verify a party's rectification", PartyVerifySerializer)
    @action(detail=True, methods=["post"])
    def verify(self, request: Request, **kwargs: Any) -> Response:
        return self._party(PartyVerifySerializer, lambda x, by, d: svc.interview_verify(party=x, by=by, **d))
