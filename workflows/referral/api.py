"""REST API of critical-case referral and rescue (危急重症转诊救治).

Reads go through ``visible_referrals`` / ``visible_pregnancies``; every change calls one service of
``workflows/referral/services.py`` (which checks who may act, locks the row, runs the transition and
completes the viewflow task). No serializer here lists the state: it is read-only output.

Answers, in the request's language (zh-hans unless the client asks otherwise):

* 200 a referral (201 for a new one: ``POST /api/referrals/`` and ``.../redirect/``);
* 400 field errors ``{"field": ["message", ...]}`` for bad input, from the serializer or the service;
* 403 ``{"detail": reason}`` when the user's role or institution does not allow the step;
* 404 when the referral does not exist or is out of the user's scope (the same answer);
* 409 ``{"detail": reason}`` when the referral is no longer in a state that allows the step (the
  reason names who answered it).

A pregnancy the user may not see is refused like a missing one: 400 ``{"pregnancy": [...]}`` with the
same message for both.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db.models import Model, Q, QuerySet
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from cases.models import Colour, Pregnancy, Referral, ReferralAttachment, Urgency
from cases.selectors import visible_pregnancies, visible_referrals
from organisations.http import get_visible_or_404
from organisations.models import (
    CLINICAL_ROLES,
    OBSTETRIC_ROLES,
    AccessLog,
    Institution,
    Membership,
    RescueCentre,
)
from organisations.parsers import JSONParser
from organisations.selectors import acting_institution_ids, transfer_on_choices, visible_institutions
from organisations.services import access_record
from workflows.api import (
    FIELD_ERRORS,
    SYNC_DESCRIPTION,
    ReasonSerializer,
    StepsMixin,
    SyncOrderMixin,
    moment_in_bounds,
    refusal_responses,
    step_schema,
    sync_order_parameters,
)
from workflows.referral import services as rs

# --- Errors ----------------------------------------------------------------------------------------


REFUSALS = refusal_responses("referral", denied="Not allowed for your role or institution (reason given).")
DENIED, NOT_FOUND, CONFLICT = REFUSALS


class CanUseReferrals(BasePermission):
    """The API opens to the same roles as the referral pages (``cases.view_referral``)."""

    message = _("Your role does not include critical-case referral.")

    def has_permission(self, request: Any, view: Any) -> bool:
        return bool(request.user.has_perm("cases.view_referral"))


# --- Input -----------------------------------------------------------------------------------------


class ScopedRelatedField(serializers.PrimaryKeyRelatedField):
    """The UUID of a record chosen from a queryset built for this request: a record outside it gets the
    same error as a missing one."""

    def __init__(self, *, model: type[Model], scoped: Callable[[dict[str, Any]], QuerySet[Any]],
                 **kwargs: Any) -> None:
        self.scoped = scoped
        kwargs.setdefault("pk_field", serializers.UUIDField())
        super().__init__(queryset=model._default_manager.none(), **kwargs)

    def get_queryset(self) -> QuerySet[Any]:
        return self.scoped(self.context)


def _user(context: dict[str, Any]) -> Any:
    return context["request"].user


def _province_centres(institution: Institution) -> QuerySet[RescueCentre]:
    """Where the web form lets this institution refer: the active centres of its province."""
    return RescueCentre.objects.filter(
        is_active=True, institution__is_active=True, institution__region__province_id=institution.region.province_id
    ).select_related("institution__region")


def _reachable_centres(context: dict[str, Any]) -> QuerySet[RescueCentre]:
    """The rescue centres of the provinces where the user works: a centre elsewhere is as unknown as a
    missing one."""
    user = _user(context)
    centres = RescueCentre.objects.select_related("institution__region")
    if user.is_superuser:
        return centres
    provinces = Membership.objects.filter(user=user, is_active=True).values("institution__region__province_id")
    return centres.filter(institution__region__province_id__in=provinces)


class ReferralCreateSerializer(serializers.ModelSerializer):
    pregnancy = ScopedRelatedField(model=Pregnancy, scoped=lambda c: visible_pregnancies(_user(c)),
                                   help_text="孕产妇档案 · The pregnancy (one you may see).")
    from_institution = ScopedRelatedField(model=Institution, scoped=lambda c: visible_institutions(_user(c)),
                                          help_text="转出机构 · The sending institution (where you hold a clinical role).")
    to_centre = ScopedRelatedField(model=RescueCentre, scoped=_reachable_centres,
                                   help_text="救治中心 · A rescue centre of the sending institution's province.")

    class Meta:
        model = Referral
        fields = ["pregnancy", "from_institution", "to_centre", "urgency", "reason", "diagnosis", *rs.VITAL_FIELDS,
                  "off_suggestion_reason"]

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        centre, sender = attrs["to_centre"], attrs["from_institution"]
        if centre.institution.region.province_id != sender.region.province_id:
            raise serializers.ValidationError({"to_centre": [
                _("Choose a rescue centre in the province of %(institution)s.") % {"institution": sender.name}]})
        return attrs


class AcceptSerializer(serializers.Serializer):
    team = serializers.CharField(max_length=200, help_text="接收团队 · Who receives her, e.g. obstetric ICU.")
    expected_arrival_at = serializers.DateTimeField(validators=[moment_in_bounds],
                                                    required=False, allow_null=True,
                                                    help_text="预计到达时间 · Expected arrival.")


class RedirectSerializer(serializers.Serializer):
    to_centre = ScopedRelatedField(
        model=RescueCentre, scoped=lambda c: _province_centres(c["referral"].from_institution),
        help_text="改转至 · Another rescue centre of the sending institution's province.")
    reason = serializers.CharField(help_text="改转原因 · Why she goes elsewhere.")


class DepartSerializer(serializers.Serializer):
    transport = serializers.ChoiceField(choices=Referral.Transport.choices, help_text="转运方式 · Transport.")
    escort = serializers.CharField(max_length=200, required=False, allow_blank=True, default="",
                                   help_text="陪护人员 · Who travels with her.")
    at = serializers.DateTimeField(validators=[moment_in_bounds],
                                   required=False, allow_null=True, help_text="出发时间 · Departure time; empty: now.")


class ArriveSerializer(serializers.Serializer):
    at = serializers.DateTimeField(validators=[moment_in_bounds],
                                   required=False, allow_null=True, help_text="到达时间 · Arrival time; empty: now.")


def _transfer_institutions(context: dict[str, Any]) -> QuerySet[Institution]:
    """The same choices as the web form: centres and hospitals that admit her (never a bureau)."""
    return transfer_on_choices(institution=context["referral"].to_centre.institution)


class OutcomeSerializer(serializers.Serializer):
    outcome = serializers.ChoiceField(choices=Referral.Outcome.choices, help_text="结局 · Outcome.")
    note = serializers.CharField(help_text="救治经过与结局 · Course and outcome.")
    transferred_to = ScopedRelatedField(
        model=Institution, scoped=_transfer_institutions, required=False, allow_null=True,
        help_text="转往机构 · Where she was transferred on (outcome transferred): a rescue centre or a hospital of "
                  "the province that admits her.")
    at = serializers.DateTimeField(validators=[moment_in_bounds],
                                   required=False, allow_null=True, help_text="时间 · Time; empty: now.")


class FeedbackSerializer(serializers.Serializer):
    summary = serializers.CharField(help_text="救治小结 · Summary for the sending institution.")
    advice = serializers.CharField(help_text="指导意见 · Advice to the sending institution.")


class ListFilterSerializer(serializers.Serializer):
    state = serializers.ChoiceField(choices=Referral.State.choices, required=False)
    urgency = serializers.ChoiceField(choices=Urgency.choices, required=False)
    side = serializers.ChoiceField(choices=[("centre", "centre"), ("sender", "sender")], required=False)
    order = serializers.ChoiceField(choices=["newest", "updated"], required=False)


# --- Output ----------------------------------------------------------------------------------------


def _optional_choice(choices: Any, help_text: str) -> serializers.ChoiceField:
    """A choice not known yet (no colour screened, no transport or outcome recorded) reads as "": the
    schema's enum includes the blank value."""
    return serializers.ChoiceField(choices=choices, allow_blank=True, read_only=True, help_text=help_text)


class ReferralListSerializer(serializers.ModelSerializer):
    """What boards and lists show: a purple woman's diagnosis is never listed (her colour is)."""

    colour = _optional_choice(Colour.choices, "风险颜色 · Risk colour; empty when she was not screened.")
    state_display = serializers.CharField(source="get_state_display", read_only=True)
    urgency_display = serializers.CharField(source="get_urgency_display", read_only=True)
    woman_name = serializers.CharField(source="pregnancy.woman.name", read_only=True)
    from_institution_name = serializers.CharField(source="from_institution.name", read_only=True)
    to_centre_name = serializers.CharField(source="to_centre.institution.name", read_only=True)
    answered_by_name = serializers.SerializerMethodField()
    diagnosis = serializers.SerializerMethodField()

    class Meta:
        model = Referral
        fields = ["id", "state", "state_display", "urgency", "urgency_display", "colour", "purple", "diagnosis",
                  "pregnancy", "woman_name", "from_institution", "from_institution_name", "to_centre",
                  "to_centre_name", "requested_at", "response_due_at", "escalation_level", "answered_by_name",
                  "answered_at", "receiving_team", "expected_arrival_at", "departed_at", "arrived_at", "closed_at",
                  "redirected_from", "updated_at"]
        read_only_fields = fields

    def get_answered_by_name(self, obj: Referral) -> str | None:
        return str(obj.answered_by) if obj.answered_by_id else None

    def get_diagnosis(self, obj: Referral) -> str | None:
        return obj.diagnosis if obj.shows_diagnosis_on_shared_screens else None


class AttachmentSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField()

    class Meta:
        model = ReferralAttachment
        fields = ["id", "name", "content_type", "size", "uploaded_at", "url"]
        read_only_fields = fields

    def get_url(self, obj: ReferralAttachment) -> str:
        return reverse("referral:attachment", args=[obj.referral_id, obj.pk])


class ReferralDetailSerializer(ReferralListSerializer):
    """The whole referral, diagnosis included, for those who may see it."""

    diagnosis = serializers.CharField(read_only=True)
    requested_by_name = serializers.SerializerMethodField()
    escalated_to_name = serializers.SerializerMethodField()
    transferred_to_name = serializers.SerializerMethodField()
    redirected_to = serializers.SerializerMethodField()
    transport_display = serializers.CharField(source="get_transport_display", read_only=True)
    outcome_display = serializers.CharField(source="get_outcome_display", read_only=True)
    attachments = AttachmentSerializer(many=True, read_only=True)
    consciousness = _optional_choice(Referral.Consciousness.choices, "意识 · Consciousness; empty when not recorded.")
    transport = _optional_choice(Referral.Transport.choices, "转运方式 · Transport; empty before the departure.")
    outcome = _optional_choice(Referral.Outcome.choices, "结局 · Outcome; empty before it is recorded.")

    class Meta(ReferralListSerializer.Meta):
        fields = [*ReferralListSerializer.Meta.fields, "case", "requested_by_name", "reason",
                  "off_suggestion_reason", *rs.VITAL_FIELDS, "escalated_to", "escalated_to_name", "decline_reason",
                  "redirect_reason", "redirected_to", "transport", "transport_display", "escort",
                  "treatment_started_at", "outcome", "outcome_display", "outcome_at", "outcome_note",
                  "transferred_to", "transferred_to_name", "feedback_due_at", "feedback_summary", "feedback_advice",
                  "feedback_at", "cancel_reason", "attachments"]
        read_only_fields = fields

    def get_requested_by_name(self, obj: Referral) -> str:
        return str(obj.requested_by)

    def get_escalated_to_name(self, obj: Referral) -> str | None:
        return obj.escalated_to.institution.name if obj.escalated_to_id else None  # type: ignore[union-attr]

    def get_transferred_to_name(self, obj: Referral) -> str | None:
        return obj.transferred_to.name if obj.transferred_to_id else None  # type: ignore[union-attr]

    def get_redirected_to(self, obj: Referral) -> str | None:
        """The referral this one was sent on to, if the user may see it (a centre that redirected her
        does not learn what became of her)."""
        if obj.state != Referral.State.REDIRECTED:
            return None
        pk = visible_referrals(self.context["request"].user).filter(redirected_from=obj).values_list(
            "pk", flat=True).first()
        return str(pk) if pk else None


# --- Views -----------------------------------------------------------------------------------------

DETAIL_RELATIONS = ("to_centre__institution__region", "from_institution__region", "escalated_to__institution",
                    "transferred_to", "requested_by", "answered_by", "pregnancy__woman")


def _transition_schema(summary: str, request: Any, *, created: bool = False, description: str = "") -> Any:
    return step_schema(summary, request, detail=ReferralDetailSerializer, refusals=REFUSALS, created=created,
                       description=description)


@extend_schema_view(
    list=extend_schema(
        summary="转诊列表 · List referrals",
        description="The referrals you may see, newest first, 50 a page (`page`). A purple woman's diagnosis is "
                    "null here (her colour shows); read it on the referral itself.\n\n"
                    "For a system that syncs: `order=updated` (implied by `updated_since`, `If-Modified-Since` or a "
                    "`cursor`) lists the same referrals as a sync list instead, with the filters below.\n\n"
                    + SYNC_DESCRIPTION,
        parameters=[
            *sync_order_parameters("newest"),
            OpenApiParameter("state", str, enum=list(Referral.State.values), description="转诊状态 · State."),
            OpenApiParameter("urgency", str, enum=list(Urgency.values), description="紧急程度 · Urgency."),
            OpenApiParameter("side", str, enum=["centre", "sender"],
                             description="centre: addressed or escalated to a centre you serve (接收); "
                                         "sender: sent by an institution where you refer (转出)."),
        ],
        responses={200: ReferralListSerializer(many=True), 400: FIELD_ERRORS, 403: DENIED},
    ),
    retrieve=extend_schema(summary="转诊详情 · Read a referral",
                           responses={200: ReferralDetailSerializer, 403: DENIED, 404: NOT_FOUND}),
    create=extend_schema(
        summary="发起转诊 · Refer a woman to a rescue centre",
        description="The centre's duty doctors are alerted at once and must answer before the response deadline. "
                    "A pregnancy you may not see is refused like a missing one (400 on `pregnancy`).",
        request=ReferralCreateSerializer,
        responses={201: ReferralDetailSerializer, 400: FIELD_ERRORS, 403: DENIED, 409: CONFLICT},
    ),
)
class ReferralViewSet(SyncOrderMixin, StepsMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    record_name = "referral"  # the steps' serializers read it from their context
    permission_classes = [IsAuthenticated, CanUseReferrals]
    serializer_class = ReferralDetailSerializer
    queryset = Referral.objects.none()
    lookup_url_kwarg = "id"
    lookup_value_converter = "uuid"  # a non-UUID id matches no route: api_not_found answers
    parser_classes = [JSONParser]

    def get_queryset(self) -> QuerySet[Referral]:
        return visible_referrals(self.request.user).select_related(*DETAIL_RELATIONS)

    def get_serializer_class(self) -> type[serializers.BaseSerializer]:
        return ReferralListSerializer if self.action == "list" else ReferralDetailSerializer

    def get_object(self) -> Referral:
        return get_visible_or_404(self.get_queryset(), pk=self.kwargs[self.lookup_url_kwarg])

    def filter_queryset(self, queryset: QuerySet[Referral]) -> QuerySet[Referral]:
        if self.action != "list":
            return queryset
        filters = ListFilterSerializer(data=self.request.query_params)
        filters.is_valid(raise_exception=True)
        data = filters.validated_data
        if data.get("state"):
            queryset = queryset.filter(state=data["state"])
        if data.get("urgency"):
            queryset = queryset.filter(urgency=data["urgency"])
        if data.get("side") == "centre":
            ids = acting_institution_ids(self.request.user, OBSTETRIC_ROLES)
            queryset = queryset.filter(Q(to_centre__institution__in=ids) | Q(escalated_to__institution__in=ids))
        elif data.get("side") == "sender":
            queryset = queryset.filter(from_institution__in=acting_institution_ids(self.request.user, CLINICAL_ROLES))
        return self.sync_order(queryset, lambda rows: rows.order_by("-requested_at", "pk"))

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        referral = self.get_object()
        access_record(user=request.user, action=AccessLog.Action.VIEW, obj=referral,
                      summary=f"{referral._meta.verbose_name} {referral.pregnancy.woman.name}",
                      region=referral.from_institution.region, institution=referral.from_institution)
        return Response(ReferralDetailSerializer(referral, context=self.get_serializer_context()).data)

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = ReferralCreateSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        referral = rs.referral_request(
            pregnancy=data["pregnancy"], by=request.user, from_institution=data["from_institution"],
            to_centre=data["to_centre"], urgency=data["urgency"], reason=data["reason"], diagnosis=data["diagnosis"],
            vitals={name: data[name] for name in rs.VITAL_FIELDS if data.get(name) not in (None, "")},
            off_suggestion_reason=data.get("off_suggestion_reason", ""))
        return Response(self._detail(referral), status=status.HTTP_201_CREATED)

    def _detail(self, referral: Referral) -> Any:
        """The referral as it is now (the service's copy may lack the relations shown)."""
        fresh = Referral.objects.select_related(*DETAIL_RELATIONS).prefetch_related("attachments").get(pk=referral.pk)
        return ReferralDetailSerializer(fresh, context=self.get_serializer_context()).data

    # The steps: each validates its body, then calls its service and nothing else.

    @_transition_schema("接收转诊 · Accept the referral", AcceptSerializer,
                        description="A duty doctor of the receiving centre (or of the centre it was escalated to).")
    @action(detail=True, methods=["post"])
    def accept(self, request: Request, **kwargs: Any) -> Response:
        return self._step(AcceptSerializer, lambda r, by, d: rs.referral_accept(
            referral=r, by=by, team=d["team"], expected_arrival_at=d.get("expected_arrival_at")))

    @_transition_schema("改转其他中心 · Redirect to another centre", RedirectSerializer, created=True,
                        description="Answers 201 with the new referral to the other centre; this one ends as "
                                    "redirected.")
    @action(detail=True, methods=["post"])
    def redirect(self, request: Request, **kwargs: Any) -> Response:
        return self._step(RedirectSerializer, lambda r, by, d: rs.referral_redirect(
            referral=r, by=by, to_centre=d["to_centre"], reason=d["reason"]), created=True)

    @_transition_schema("拒绝转诊 · Decline the referral", ReasonSerializer)
    @action(detail=True, methods=["post"])
    def decline(self, request: Request, **kwargs: Any) -> Response:
        return self._step(ReasonSerializer, lambda r, by, d: rs.referral_decline(referral=r, by=by,
                                                                                 reason=d["reason"]))

    @_transition_schema("记录出发 · Record the departure", DepartSerializer)
    @action(detail=True, methods=["post"])
    def depart(self, request: Request, **kwargs: Any) -> Response:
        return self._step(DepartSerializer, lambda r, by, d: rs.referral_depart(
            referral=r, by=by, transport=d["transport"], escort=d.get("escort", ""), at=d.get("at")))

    @_transition_schema("记录到达 · Record the arrival", ArriveSerializer)
    @action(detail=True, methods=["post"])
    def arrive(self, request: Request, **kwargs: Any) -> Response:
        return self._step(ArriveSerializer, lambda r, by, d: rs.referral_arrive(referral=r, by=by, at=d.get("at")))

    @_transition_schema("开始救治 · Start treatment", None)
    @action(detail=True, methods=["post"], url_path="start-treatment")
    def start_treatment(self, request: Request, **kwargs: Any) -> Response:
        return self._step(None, lambda r, by, d: rs.referral_start_treatment(referral=r, by=by))

    @_transition_schema("记录救治结局 · Record the outcome", OutcomeSerializer,
                        description="A death also records the maternal death and starts its report.")
    @action(detail=True, methods=["post"])
    def outcome(self, request: Request, **kwargs: Any) -> Response:
        return self._step(OutcomeSerializer, lambda r, by, d: rs.referral_outcome(
            referral=r, by=by, outcome=d["outcome"], note=d["note"], transferred_to=d.get("transferred_to"),
            at=d.get("at")))

    @_transition_schema("反馈转出机构 · Give feedback to the sender", FeedbackSerializer)
    @action(detail=True, methods=["post"])
    def feedback(self, request: Request, **kwargs: Any) -> Response:
        return self._step(FeedbackSerializer, lambda r, by, d: rs.referral_feedback(
            referral=r, by=by, summary=d["summary"], advice=d["advice"]))

    @_transition_schema("取消转诊 · Cancel the referral", ReasonSerializer,
                        description="Only before she arrives (requested, accepted, declined or en route). Once her "
                                    "arrival is recorded the referral ends with its outcome: 409 with the reason.")
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, **kwargs: Any) -> Response:
        return self._step(ReasonSerializer, lambda r, by, d: rs.referral_cancel(referral=r, by=by,
                                                                                reason=d["reason"]))
