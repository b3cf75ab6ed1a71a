"""REST API of circulars (通报): ``/api/circulars/`` list, detail, create and one POST per step.

Reads go through ``visible_circulars``; every change calls one service of
``workflows/interview/services/circular.py``. No serializer accepts the state. The shared contract:
200 the circular (201 when created); 400 field errors; 403 ``{"detail": reason}`` when the role or bureau does
not allow the step (the drafter approving her own circular); 404 out of scope or missing; 409 the state moved on.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, extend_schema_field, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from cases.models import (
    Circular,
    CircularRanking,
    CircularRankingRow,
    CircularRecipient,
    CircularSubject,
)
from cases.selectors import visible_circulars
from organisations.http import ActionDenied, get_visible_or_404
from organisations.models import Institution, Region
from organisations.parsers import JSONParser
from workflows.api import (
    DATE_BOUNDS,
    FIELD_ERRORS,
    ReasonSerializer,
    StepsMixin,
    refusal_responses,
    step_schema,
)
from workflows.interview import permissions as p
from workflows.interview import services as cs
from workflows.interview.figures import FIGURES

REFUSALS = refusal_responses("circular", denied="Not allowed for your role or bureau (reason given).")
DENIED, NOT_FOUND, CONFLICT = REFUSALS


class CanUseCirculars(BasePermission):
    message = _("Interviews and circulars open to members of an institution or bureau.")

    def has_permission(self, request: Any, view: Any) -> bool:
        return p.may_open(request.user)


def _bureaus(context: dict[str, Any]) -> QuerySet[Institution]:
    return p.circular_bureaus(context["request"].user)


class BureauField(serializers.PrimaryKeyRelatedField):
    def get_queryset(self) -> QuerySet[Institution]:
        return _bureaus(self.context)


# --- Input ------------------------------------------------------------------------------------------------

class CircularInSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=Circular.Kind.choices, help_text="表扬/批评/情况 · Kind.")
    title = serializers.CharField(max_length=200, help_text="标题 · Title.")
    number = serializers.CharField(max_length=60, help_text="文号 · Number, unique for the bureau.")
    body = serializers.CharField(help_text="正文 · Text.")
    period_from = serializers.DateField(validators=DATE_BOUNDS,
                                        required=False, allow_null=True, help_text="起 · Period from.")
    period_to = serializers.DateField(validators=DATE_BOUNDS,
                                      required=False, allow_null=True, help_text="止 · Period to.")
    distribution = serializers.ChoiceField(choices=Circular.Distribution.choices, required=False,
                                           help_text="发送范围 · Distribution.")
    named_recipients = serializers.PrimaryKeyRelatedField(
        many=True, required=False, queryset=Institution.objects.filter(is_active=True),
        pk_field=serializers.UUIDField(), help_text="指定机构 · Named institutions (of the bureau's area).")


class CircularCreateSerializer(CircularInSerializer):
    issuer = BureauField(pk_field=serializers.UUIDField(), help_text="发文单位 · A bureau you are an officer of.")


class CircularUpdateSerializer(CircularInSerializer):
    def get_fields(self) -> dict[str, Any]:
        fields = super().get_fields()
        for field in fields.values():
            field.required = False
        return fields


class CircularSubjectInSerializer(serializers.Serializer):
    institution = serializers.PrimaryKeyRelatedField(queryset=Institution.objects.filter(is_active=True),
                                                     required=False, allow_null=True, pk_field=serializers.UUIDField(),
                                                     help_text="机构 · An institution of the bureau's area.")
    region = serializers.PrimaryKeyRelatedField(queryset=Region.objects.all(), required=False, allow_null=True,
                                                help_text="地区 · Or an area of the bureau's area.")
    reason = serializers.CharField(help_text="原因 · Reason.")
    evidence = serializers.CharField(required=False, allow_blank=True, default="",
                                     help_text="证据 · Links to Anmu records, one a line.")
    requires_answer = serializers.BooleanField(required=False, default=False,
                                               help_text="需提交整改报告 · A rectification report is required.")
    answer_due_on = serializers.DateField(validators=DATE_BOUNDS,
                                          required=False, allow_null=True, help_text="整改报告期限 · Due on.")


class CircularSubjectRemoveSerializer(serializers.Serializer):
    subject = serializers.UUIDField(help_text="通报对象 · The subject to remove.")


class CircularRankingRemoveSerializer(serializers.Serializer):
    ranking = serializers.UUIDField(help_text="指标晾晒表 · The frozen ranking to take off the draft.")


class CircularRankingInSerializer(serializers.Serializer):
    figure = serializers.ChoiceField(choices=[(k, str(f.label)) for k, f in FIGURES.items()],
                                     help_text="指标 · The figure to rank on.")
    period_from = serializers.DateField(validators=DATE_BOUNDS, help_text="起 · Period from.")
    period_to = serializers.DateField(validators=DATE_BOUNDS, help_text="止 · Period to.")


# --- Output -----------------------------------------------------------------------------------------------

class CircularSubjectOutSerializer(serializers.ModelSerializer):
    name = serializers.CharField(read_only=True)

    class Meta:
        model = CircularSubject
        fields = ["id", "institution", "region", "name", "reason", "evidence", "requires_answer", "answer_due_on"]
        read_only_fields = fields


class CircularRankingRowOutSerializer(serializers.ModelSerializer):
    class Meta:
        model = CircularRankingRow
        fields = ["rank", "region", "institution", "name", "value"]
        read_only_fields = fields


class CircularRankingOutSerializer(serializers.ModelSerializer):
    rows = CircularRankingRowOutSerializer(many=True, read_only=True)

    class Meta:
        model = CircularRanking
        fields = ["id", "figure", "label", "period_from", "period_to", "frozen_at", "rows"]
        read_only_fields = fields


class CircularRecipientOutSerializer(serializers.ModelSerializer):
    institution_name = serializers.CharField(source="institution.name", read_only=True)

    class Meta:
        model = CircularRecipient
        fields = ["institution", "institution_name", "read_at"]
        read_only_fields = fields


LIST_FIELDS = ["id", "kind", "kind_display", "number", "title", "issuer", "issuer_name", "region", "state",
               "state_display", "period_from", "period_to", "distribution", "drafted_at", "submitted_at",
               "approved_at", "published_at", "withdrawn_at"]


class CircularListSerializer(serializers.ModelSerializer):
    kind_display = serializers.CharField(source="get_kind_display", read_only=True)
    state_display = serializers.CharField(source="get_state_display", read_only=True)
    issuer_name = serializers.CharField(source="issuer.name", read_only=True)

    class Meta:
        model = Circular
        fields = LIST_FIELDS
        read_only_fields = fields


class CircularDetailSerializer(CircularListSerializer):
    subjects = CircularSubjectOutSerializer(many=True, read_only=True)
    rankings = CircularRankingOutSerializer(many=True, read_only=True)
    recipients = serializers.SerializerMethodField(help_text="The issuing bureau only: each read receipt.")
    recipients_total = serializers.SerializerMethodField()
    recipients_read = serializers.SerializerMethodField()

    class Meta(CircularListSerializer.Meta):
        fields = [*LIST_FIELDS, "body", "return_reason", "withdraw_reason", "named_recipients", "subjects",
                  "rankings", "recipients", "recipients_total", "recipients_read"]
        read_only_fields = fields

    def _bureau(self, obj: Circular) -> bool:
        user = self.context["request"].user
        return bool(user.is_superuser or p.is_issuer_officer(user, obj))

    @extend_schema_field(CircularRecipientOutSerializer(many=True))
    def get_recipients(self, obj: Circular) -> list[dict[str, Any]]:
        if not self._bureau(obj):
            return []
        return CircularRecipientOutSerializer(obj.recipients.select_related("institution"), many=True).data  # type: ignore[return-value]

    def get_recipients_total(self, obj: Circular) -> int:
        return obj.recipients.count()

    def get_recipients_read(self, obj: Circular) -> int:
        return obj.recipients.filter(read_at__isnull=False).count()


def _step_schema(summary: str, request: Any, *, description: str = "") -> Any:
    return step_schema(summary, request, detail=CircularDetailSerializer, refusals=REFUSALS, description=description)


@extend_schema_view(
    list=extend_schema(summary="通报列表 · List circulars", responses={200: CircularListSerializer(many=True),
                                                                   403: DENIED}),
    retrieve=extend_schema(summary="通报详情 · Read a circular",
                           responses={200: CircularDetailSerializer, 403: DENIED, 404: NOT_FOUND}),
    create=extend_schema(summary="起草通报 · Draft a circular", request=CircularCreateSerializer,
                         responses={201: CircularDetailSerializer, 400: FIELD_ERRORS, 403: DENIED}),
)
class CircularViewSet(StepsMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    record_name = "circular"
    permission_classes = [IsAuthenticated, CanUseCirculars]
    serializer_class = CircularDetailSerializer
    queryset = Circular.objects.none()
    lookup_url_kwarg = "id"
    lookup_value_converter = "uuid"
    parser_classes = [JSONParser]

    def get_queryset(self) -> QuerySet[Circular]:
        return visible_circulars(self.request.user).order_by("-drafted_at", "pk")

    def get_serializer_class(self) -> type[serializers.BaseSerializer]:
        return CircularListSerializer if self.action == "list" else CircularDetailSerializer

    def get_object(self) -> Circular:
        return get_visible_or_404(self.get_queryset(), pk=self.kwargs[self.lookup_url_kwarg])

    def _detail(self, circular: Circular) -> Any:
        fresh = Circular.objects.select_related("issuer", "region").prefetch_related(
            "subjects__institution", "subjects__region", "rankings__rows").get(pk=circular.pk)
        return CircularDetailSerializer(fresh, context=self.get_serializer_context()).data

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        if not p.may_draft(request.user):
            raise ActionDenied(gettext("Only the officers of a health bureau draft its circulars."))
        serializer = CircularCreateSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        circular = cs.circular_create(issuer=data.pop("issuer"), by=request.user, **data)
        return Response(self._detail(circular), status=status.HTTP_201_CREATED)

    @_step_schema("修改草稿 · Change the draft", CircularUpdateSerializer)
    @action(detail=True, methods=["post"])
    def draft(self, request: Request, **kwargs: Any) -> Response:
        return self._step(CircularUpdateSerializer, lambda c, by, d: cs.circular_update(circular=c, by=by, data=d))

    @_step_schema("添加通报对象 · Name a subject", CircularSubjectInSerializer,
                  description="An institution or an area of the issuing bureau's area (else 400), with the reason.")
    @action(detail=True, methods=["post"])
    def subjects(self, request: Request, **kwargs: Any) -> Response:
        def add(circular: Circular, by: Any, data: dict[str, Any]) -> Circular:
            cs.circular_subject_add(circular=circular, by=by, **data)
            return circular

        return self._step(CircularSubjectInSerializer, add)

    @_step_schema("移除通报对象 · Remove a subject", CircularSubjectRemoveSerializer)
    @action(detail=True, methods=["post"], url_path="subjects/remove")
    def subject_remove(self, request: Request, **kwargs: Any) -> Response:
        def remove(circular: Circular, by: Any, data: dict[str, Any]) -> Circular:
            subject = get_visible_or_404(circular.subjects.all(), pk=data["subject"])
            return cs.circular_subject_remove(subject=subject, by=by)

        return self._step(CircularSubjectRemoveSerializer, remove)

    @_step_schema("附指标晾晒表 · Attach a frozen ranking", CircularRankingInSerializer,
                  description="Computed once for the bureau's area and stored: it never changes afterwards.")
    @action(detail=True, methods=["post"])
    def ranking(self, request: Request, **kwargs: Any) -> Response:
        def attach(circular: Circular, by: Any, data: dict[str, Any]) -> Circular:
            cs.circular_ranking_attach(circular=circular, by=by, **data)
            return circular

        return self._step(CircularRankingInSerializer, attach)

    @_step_schema("移除指标晾晒表 · Remove a frozen ranking", CircularRankingRemoveSerializer,
                  description="Only while the circular is a draft; its history keeps what the ranking held.")
    @action(detail=True, methods=["post"], url_path="rankings/remove")
    def ranking_remove(self, request: Request, **kwargs: Any) -> Response:
        def remove(circular: Circular, by: Any, data: dict[str, Any]) -> Circular:
            ranking = get_visible_or_404(circular.rankings.all(), pk=data["ranking"])
            return cs.circular_ranking_remove(ranking=ranking, by=by)

        return self._step(CircularRankingRemoveSerializer, remove)

    @_step_schema("提交审核 · Submit for approval", None)
    @action(detail=True, methods=["post"])
    def submit(self, request: Request, **kwargs: Any) -> Response:
        return self._step(None, lambda c, by, d: cs.circular_submit(circular=c, by=by))

    @_step_schema("审核发布 · Approve and publish", None,
                  description="Another officer of the same bureau (four eyes): the drafter is refused (403).")
    @action(detail=True, methods=["post"])
    def approve(self, request: Request, **kwargs: Any) -> Response:
        return self._step(None, lambda c, by, d: cs.circular_approve(circular=c, by=by))

    @_step_schema("退回草稿 · Return to the draft", ReasonSerializer)
    @action(detail=True, methods=["post"], url_path="return")
    def return_draft(self, request: Request, **kwargs: Any) -> Response:
        return self._step(ReasonSerializer, lambda c, by, d: cs.circular_return(circular=c, by=by,
                                                                                reason=d["reason"]))

    @_step_schema("撤回 · Withdraw the published circular", ReasonSerializer)
    @action(detail=True, methods=["post"])
    def withdraw(self, request: Request, **kwargs: Any) -> Response:
        return self._step(ReasonSerializer, lambda c, by, d: cs.circular_withdraw(circular=c, by=by,
                                                                                  reason=d["reason"]))

    @_step_schema("已阅 · Confirm reading", None,
                  description="A member of a recipient institution: the first marks it read for the institution.")
    @action(detail=True, methods=["post"])
    def read(self, request: Request, **kwargs: Any) -> Response:
        def mark(circular: Circular, by: Any, data: dict[str, Any]) -> Circular:
            cs.circular_mark_read(circular=circular, by=by)
            return circular

        return self._step(None, mark)
