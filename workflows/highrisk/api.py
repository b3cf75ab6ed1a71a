"""REST API of high-risk case management (高危孕产妇专案管理).

Reads go through ``visible_highrisk_cases`` and the worklist's and register's queries
(``workflows/highrisk/selectors.py``); every step calls the service its page calls (``workflows/highrisk/services``,
which checks who may act, locks the case, runs the transition and completes the transfer's viewflow task). No
serializer accepts the state: it is read-only output. The contract of the other process APIs:

* 200 the case as it is after the step (every step answers the case, whatever record it adds);
* 400 field errors ``{"field": ["message", ...]}`` for bad input, from the serializer or the service;
* 403 ``{"detail": reason}`` when the page would not offer the step to this user (role or institution);
* 404 when the case does not exist or is out of the user's scope (the same answer);
* 409 ``{"detail": reason}`` when the case (or its visit, tracing or transfer) is no longer in a state that
  allows the step.

The list masks the woman's ID and phone numbers; the case's detail shows them, and every read of it is in the
access log, as on the case page.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from cases.limits import NARRATIVE_MAX_CHARS, REASON_MAX_CHARS
from cases.models import (
    CasePlan,
    CaseTransfer,
    Colour,
    FollowUpVisit,
    HighRiskCase,
    Tracing,
    TracingAttempt,
)
from cases.nearmiss import CRITERIA
from cases.selectors import visible_highrisk_cases
from organisations.http import ActionDenied, TransitionConflict, get_visible_or_404
from organisations.models import OBSTETRIC_ROLES, AccessLog, Institution, RescueCentre, User
from organisations.parsers import JSONParser
from organisations.selectors import acting_institutions, covering_rescue_centres
from organisations.services import access_record
from workflows.api import (
    FIELD_ERRORS,
    SYNC_DESCRIPTION,
    ReasonSerializer,
    ScopedRelatedField,
    StepsMixin,
    SyncOrderMixin,
    moment_in_bounds,
    refusal_responses,
    step_schema,
    sync_order_parameters,
)
from workflows.common import require_member
from workflows.highrisk import permissions as perm
from workflows.highrisk import selectors
from workflows.highrisk import services as hr
from workflows.highrisk import views as pages
from workflows.highrisk.forms import visit_engine_inputs
from workflows.registers import selectors as overdue
from workflows.registers.services import near_miss_record
from workflows.routine.api import DeliverySerializer, babies_of
from workflows.routine.forms import delivery_kwargs

REFUSALS = refusal_responses("case", denied="Not allowed for your role or institution (reason given).")
DENIED, NOT_FOUND, CONFLICT = REFUSALS

# The steps, by their page's name (the URL's last part); the page's rule of each (permissions.RULES), where it
# has one: a transfer's answer is the receiving institution's inbox (its flow task).
STEPS = ("report", "plan", "visit", "reassign", "delivery-place", "tracing-attempt", "found", "transfer",
         "transfer-accept", "transfer-reject", "transfer-withdraw", "delivery", "postpartum", "close", "reopen",
         "near-miss", "death")
RULE_OF = {"delivery-place": "delivery_place", "tracing-attempt": "tracing", "found": "tracing",
           "transfer-withdraw": "transfer_withdraw", "near-miss": "near_miss"}
TRANSFER_ANSWERS = ("transfer-accept", "transfer-reject")


class CanUseHighRisk(BasePermission):
    """The API opens to the same roles as the high-risk pages (``cases.view_highriskcase``)."""

    message = _("Your role does not include high-risk case management.")

    def has_permission(self, request: Any, view: Any) -> bool:
        return bool(request.user.has_perm("cases.view_highriskcase"))


def require_step(step: str, user: Any, case: HighRiskCase) -> None:
    """The page's check (its ``allowed``), with the reason the page does not give: 403 when the user is on no side
    of the step, 409 when the case's state (or a record the step needs) does not allow it now."""
    if pages.case_actions()[step].allowed(user, case):
        return
    if step in TRANSFER_ANSWERS:
        pending = perm.pending_transfer(case)
        if pending is None:
            raise TransitionConflict(str(perm.NO_PENDING_TRANSFER))
        require_member(user=user, institution=pending.to_institution, roles=OBSTETRIC_ROLES)
    else:
        perm.require(RULE_OF.get(step, step), user, case)
    raise ActionDenied(str(_("This action is not open to you on this case now.")))


# --- Input -----------------------------------------------------------------------------------------


def _user(context: dict[str, Any]) -> Any:
    return context["request"].user


def _case(context: dict[str, Any]) -> HighRiskCase:
    return context["case"]


class ScopedPersonField(serializers.SlugRelatedField):
    """A person by her ``public_id``, chosen from a queryset built for this request (a doctor of the case's
    institution): anyone else gets the same error as no one."""

    def __init__(self, *, scoped: Any, **kwargs: Any) -> None:
        self.scoped = scoped
        super().__init__(slug_field="public_id", queryset=User.objects.none(), **kwargs)

    def get_queryset(self) -> QuerySet[User]:
        return self.scoped(self.context)

    def to_internal_value(self, data: Any) -> Any:
        return super().to_internal_value(serializers.UUIDField().to_internal_value(data))


def _reason(help_text: str, *, required: bool = True) -> serializers.CharField:
    if required:
        return serializers.CharField(max_length=REASON_MAX_CHARS, help_text=help_text)
    return serializers.CharField(max_length=REASON_MAX_CHARS, required=False, allow_blank=True, default="",
                                 help_text=help_text)


class PlanSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=CasePlan.Kind.choices, help_text="方案类型 · Kind of plan.")
    text = serializers.CharField(max_length=NARRATIVE_MAX_CHARS, help_text="方案 · The plan.")
    rescue_centre = ScopedRelatedField(
        model=RescueCentre, required=False, allow_null=True, default=None,
        scoped=lambda c: covering_rescue_centres(region_codes={_case(c).institution.region_id}),
        help_text="共同制定的救治中心 · The rescue centre covering the case's county it was made with (needed for "
                  "an orange or red woman's emergency plan).")


class VisitSerializer(serializers.Serializer):
    institution = ScopedRelatedField(
        model=Institution, help_text="随访机构 · Where she was seen (where you are an obstetric doctor).",
        scoped=lambda c: Institution.objects.filter(pk__in=[i.pk for i in acting_institutions(
            _user(c), OBSTETRIC_ROLES)]))
    findings = serializers.CharField(max_length=NARRATIVE_MAX_CHARS, help_text="随访所见 · Findings.")
    reassess = serializers.BooleanField(required=False, default=False,
                                        help_text="本次随访重新评估 · Re-assess the risk at this visit (with the "
                                                  "values below).")
    age_years = serializers.IntegerField(required=False, allow_null=True, help_text="年龄（周岁） · Age in years.")
    hb_g_l = serializers.DecimalField(max_digits=5, decimal_places=1, required=False, allow_null=True,
                                      help_text="血红蛋白 (g/L) · Haemoglobin.")
    platelets_1e9_l = serializers.DecimalField(max_digits=6, decimal_places=1, required=False, allow_null=True,
                                               help_text="血小板 (×10⁹/L) · Platelets.")
    pa_pressure_mmhg = serializers.DecimalField(max_digits=5, decimal_places=1, required=False, allow_null=True,
                                                help_text="肺动脉收缩压 (mmHg) · Pulmonary artery systolic pressure.")
    findings_codes = serializers.CharField(max_length=500, required=False, allow_blank=True, default="",
                                           help_text="所见条目编码 · Row codes found, comma-separated (e.g. "
                                                     "\"O2.2.1, P2\").")


class ReassignSerializer(serializers.Serializer):
    to = ScopedPersonField(
        scoped=lambda c: selectors.case_doctors(_case(c).institution).exclude(pk=_case(c).responsible_doctor_id),
        help_text="新的责任医生 · The new responsible doctor (public_id): an obstetric doctor of the managing "
                  "institution.")
    reason = _reason("原因 · Why the case changes hands.")


class DeliveryPlaceSerializer(serializers.Serializer):
    institution = ScopedRelatedField(model=Institution, scoped=lambda c: selectors.delivering_places(_case(c)),
                                     help_text="计划分娩机构 · A delivering institution of the case's province.")
    reason = _reason("原因 · Why this place although its level is lower than her colour needs.", required=False)


class TracingAttemptSerializer(serializers.Serializer):
    method = serializers.ChoiceField(choices=TracingAttempt.Method.choices, help_text="方式 · How she was sought.")
    reached = serializers.BooleanField(required=False, default=False, help_text="已联系上 · Reached her.")
    note = _reason("结果 · Result.")


class FoundSerializer(serializers.Serializer):
    outcome = _reason("去向与约定 · Where she is and what was agreed.")


class TransferSerializer(serializers.Serializer):
    to_institution = ScopedRelatedField(
        model=Institution, scoped=lambda c: selectors.delivering_places(_case(c)).exclude(pk=_case(c).institution_id),
        help_text="转至 · Another delivering institution of the case's province.")
    reason = _reason("原因 · Why the case moves.")


def _receiving_doctors(context: dict[str, Any]) -> QuerySet[User]:
    transfer = selectors.transfer_awaiting(user=_user(context), case=_case(context))
    return selectors.case_doctors(transfer.to_institution) if transfer is not None else User.objects.none()


class TransferAcceptSerializer(serializers.Serializer):
    doctor = ScopedPersonField(scoped=_receiving_doctors,
                               help_text="本院责任医生 · The responsible doctor here (public_id): an obstetric "
                                         "doctor of the receiving institution.")


class CloseSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=HighRiskCase.CloseKind.choices, help_text="结案原因 · Closed because.")
    reason = _reason("结案说明 · Closing reason.")


class NearMissSerializer(serializers.Serializer):
    criteria = serializers.ListField(child=serializers.ChoiceField(choices=[c.code for c in CRITERIA]),
                                     required=False, default=list,
                                     help_text="符合的 WHO 危重孕产妇标准 · The WHO near-miss criteria met (codes).")
    note = _reason("备注 · Note.", required=False)


class DeathSerializer(serializers.Serializer):
    at = serializers.DateTimeField(validators=[moment_in_bounds], help_text="死亡时间 · Time of death.")
    note = serializers.CharField(max_length=NARRATIVE_MAX_CHARS, help_text="死亡地点与经过 · Where and how she died.")


class ListFilterSerializer(serializers.Serializer):
    tab = serializers.ChoiceField(choices=[(t, t) for t in selectors.WORKLIST_TABS], required=False)
    state = serializers.ChoiceField(choices=[*HighRiskCase.State.choices, ("all", "all")], required=False)
    colour = serializers.ChoiceField(choices=[c for c in Colour.values if c != Colour.PURPLE], required=False)
    purple = serializers.ChoiceField(choices=["yes", "no"], required=False)
    institution = serializers.UUIDField(required=False)
    q = serializers.CharField(max_length=60, required=False)
    overdue = serializers.ChoiceField(choices=list(overdue.OVERDUE_CHOICES), required=False)
    order = serializers.ChoiceField(choices=["danger", "updated"], required=False)


# --- Output ----------------------------------------------------------------------------------------


def _optional_choice(choices: Any, help_text: str) -> serializers.ChoiceField:
    """A choice not made yet reads as "" (the schema's enum includes the blank value)."""
    return serializers.ChoiceField(choices=choices, allow_blank=True, read_only=True, help_text=help_text)


def _name(user: Any) -> str | None:
    return str(user) if user is not None else None


CASE_FIELDS = ["id", "state", "state_display", "colour", "purple", "label", "pregnancy", "woman", "woman_name",
               "woman_id_number", "woman_phone", "edd", "institution", "institution_name", "region",
               "responsible_doctor", "responsible_doctor_name", "opened_at", "report_due_at", "reported_at",
               "next_visit_at", "closure_proposed", "closed_at", "updated_at"]


class CaseListSerializer(serializers.ModelSerializer):
    """A list row: the woman's ID and phone numbers masked."""

    state_display = serializers.CharField(source="get_state_display", read_only=True)
    colour = _optional_choice(Colour.choices, "风险颜色 · Risk colour.")
    label = serializers.CharField(read_only=True, help_text="标识 · Colour with purple, e.g. purple+orange.")
    woman = serializers.UUIDField(source="pregnancy.woman_id", read_only=True)
    woman_name = serializers.CharField(source="pregnancy.woman.name", read_only=True)
    woman_id_number = serializers.CharField(source="pregnancy.woman.id_number_masked", read_only=True,
                                            help_text="证件号码（脱敏） · Document number, masked.")
    woman_phone = serializers.CharField(source="pregnancy.woman.phone_masked", read_only=True,
                                        help_text="电话（脱敏） · Phone, masked.")
    edd = serializers.DateField(source="pregnancy.edd", read_only=True, help_text="预产期 · Due date.")
    institution_name = serializers.CharField(source="institution.name", read_only=True)
    responsible_doctor = serializers.SlugRelatedField(slug_field="public_id", read_only=True,
                                                      help_text="责任医生 · Responsible doctor (public_id).")
    responsible_doctor_name = serializers.SerializerMethodField()

    class Meta:
        model = HighRiskCase
        fields = CASE_FIELDS
        read_only_fields = fields

    def get_responsible_doctor_name(self, obj: HighRiskCase) -> str:
        return str(obj.responsible_doctor)


class PlanOutSerializer(serializers.ModelSerializer):
    kind_display = serializers.CharField(source="get_kind_display", read_only=True)
    author_name = serializers.SerializerMethodField()
    rescue_centre_name = serializers.SerializerMethodField()

    class Meta:
        model = CasePlan
        fields = ["id", "kind", "kind_display", "text", "author_name", "written_at", "rescue_centre",
                  "rescue_centre_name"]
        read_only_fields = fields

    def get_author_name(self, obj: CasePlan) -> str:
        return str(obj.author)

    def get_rescue_centre_name(self, obj: CasePlan) -> str | None:
        return obj.rescue_centre.institution.name if obj.rescue_centre_id else None  # type: ignore[union-attr]


class VisitOutSerializer(serializers.ModelSerializer):
    status_display = serializers.CharField(source="get_status_display", read_only=True)
    done_by_name = serializers.SerializerMethodField()
    institution_name = serializers.SerializerMethodField()

    class Meta:
        model = FollowUpVisit
        fields = ["id", "due_on", "status", "status_display", "done_at", "done_by_name", "institution",
                  "institution_name", "findings", "assessment"]
        read_only_fields = fields

    def get_done_by_name(self, obj: FollowUpVisit) -> str | None:
        return _name(obj.done_by)

    def get_institution_name(self, obj: FollowUpVisit) -> str | None:
        return obj.institution.name if obj.institution_id else None  # type: ignore[union-attr]


class TracingAttemptOutSerializer(serializers.ModelSerializer):
    by_name = serializers.SerializerMethodField()

    class Meta:
        model = TracingAttempt
        fields = ["id", "method", "at", "by_name", "reached", "note"]
        read_only_fields = fields

    def get_by_name(self, obj: TracingAttempt) -> str:
        return str(obj.by)


class TracingOutSerializer(serializers.ModelSerializer):
    attempts = TracingAttemptOutSerializer(many=True, read_only=True)

    class Meta:
        model = Tracing
        fields = ["id", "visit", "opened_at", "due_at", "attempts"]
        read_only_fields = fields


class TransferOutSerializer(serializers.ModelSerializer):
    from_institution_name = serializers.CharField(source="from_institution.name", read_only=True)
    to_institution_name = serializers.CharField(source="to_institution.name", read_only=True)
    requested_by_name = serializers.SerializerMethodField()

    class Meta:
        model = CaseTransfer
        fields = ["id", "from_institution", "from_institution_name", "to_institution", "to_institution_name",
                  "reason", "requested_by_name", "requested_at"]
        read_only_fields = fields

    def get_requested_by_name(self, obj: CaseTransfer) -> str:
        return str(obj.requested_by)


class TimelineEventSerializer(serializers.Serializer):
    """One event of the case page's timeline."""

    at = serializers.DateTimeField(read_only=True)
    kind = serializers.ChoiceField(choices=["transition", "assessment", "visit", "plan", "transfer", "tracing",
                                            "alert"], read_only=True, help_text="类型 · What kind of event.")
    who = serializers.CharField(read_only=True, allow_null=True, help_text="人员 · Who (null: the system).")
    what = serializers.CharField(read_only=True)
    why = serializers.CharField(read_only=True, help_text="原因 · Reason, status or priority (may be empty).")
    detail = serializers.CharField(read_only=True, help_text="内容 · Findings, plan text, rows matched…")
    colour = serializers.CharField(read_only=True, allow_null=True, help_text="风险颜色 · An assessment's colour.")
    purple = serializers.BooleanField(read_only=True, allow_null=True)
    voided = serializers.BooleanField(read_only=True, allow_null=True, help_text="已作废 · A voided assessment.")
    centre = serializers.CharField(read_only=True, allow_null=True, help_text="救治中心 · A plan's rescue centre.")


def _event(event: dict[str, Any]) -> dict[str, Any]:
    centre = event.get("centre")
    return {"at": event["at"], "kind": event["kind"], "who": _name(event.get("who")), "what": str(event["what"]),
            "why": str(event.get("why") or ""), "detail": str(event.get("detail") or ""),
            "colour": event.get("colour"), "purple": event.get("purple"), "voided": event.get("voided"),
            "centre": centre.institution.name if centre is not None else None}


class CaseDetailSerializer(CaseListSerializer):
    """The case page's content: numbers in full, plans, visits, the open tracing, the pending transfer, the
    timeline, and the steps open to the caller now."""

    woman_id_number = serializers.CharField(source="pregnancy.woman.id_number", read_only=True,
                                            help_text="证件号码 · Document number.")
    woman_phone = serializers.CharField(source="pregnancy.woman.phone", read_only=True, help_text="电话 · Phone.")
    opened_by = serializers.SlugRelatedField(slug_field="public_id", read_only=True,
                                             help_text="建案人 · Who opened the case (public_id).")
    reported_to_name = serializers.SerializerMethodField()
    planned_delivery_institution_name = serializers.SerializerMethodField()
    delivery_place_problem = serializers.SerializerMethodField(
        help_text="分娩机构问题 · Why the planned place does not meet the level her colour needs (null: it does).")
    close_kind = _optional_choice(HighRiskCase.CloseKind.choices, "结案原因 · Closed because; empty while open.")
    plans = PlanOutSerializer(many=True, read_only=True)
    visits = serializers.SerializerMethodField()
    open_tracing = serializers.SerializerMethodField()
    pending_transfer = serializers.SerializerMethodField()
    timeline = serializers.SerializerMethodField()
    allowed_steps = serializers.SerializerMethodField()

    class Meta(CaseListSerializer.Meta):
        fields = [*CASE_FIELDS, "opened_by", "reported_to", "reported_to_name", "planned_delivery_institution",
                  "planned_delivery_institution_name", "planned_delivery_reason", "delivery_place_problem",
                  "lost_at", "died_at", "death_note", "close_kind", "close_reason", "reopened_at", "reopen_reason",
                  "plans", "visits", "open_tracing", "pending_transfer", "timeline", "allowed_steps"]
        read_only_fields = fields

    def get_reported_to_name(self, obj: HighRiskCase) -> str | None:
        return obj.reported_to.name if obj.reported_to_id else None  # type: ignore[union-attr]

    def get_planned_delivery_institution_name(self, obj: HighRiskCase) -> str | None:
        place = obj.planned_delivery_institution
        return place.name if place is not None else None

    def get_delivery_place_problem(self, obj: HighRiskCase) -> str | None:
        place = obj.planned_delivery_institution
        return hr.delivery_place_problem(obj, place) if place is not None else None

    @extend_schema_field(VisitOutSerializer(many=True))
    def get_visits(self, obj: HighRiskCase) -> Any:
        visits = obj.visits.select_related("done_by", "institution").order_by("due_on")
        return VisitOutSerializer(visits, many=True).data

    @extend_schema_field(TracingOutSerializer(allow_null=True))
    def get_open_tracing(self, obj: HighRiskCase) -> Any:
        tracing = perm.open_tracing(obj)
        return TracingOutSerializer(tracing).data if tracing is not None else None

    @extend_schema_field(TransferOutSerializer(allow_null=True))
    def get_pending_transfer(self, obj: HighRiskCase) -> Any:
        transfer = perm.pending_transfer(obj)
        return TransferOutSerializer(transfer).data if transfer is not None else None

    @extend_schema_field(TimelineEventSerializer(many=True))
    def get_timeline(self, obj: HighRiskCase) -> Any:
        return TimelineEventSerializer([_event(e) for e in selectors.case_timeline(obj)], many=True).data

    @extend_schema_field(serializers.ListField(child=serializers.ChoiceField(choices=list(STEPS))))
    def get_allowed_steps(self, obj: HighRiskCase) -> list[str]:
        """The steps the case page offers the caller now (``POST …/{step}/``)."""
        user = self.context["request"].user
        return [name for name, spec in pages.case_actions().items() if spec.allowed(user, obj)]


# --- Views -----------------------------------------------------------------------------------------

DETAIL_RELATIONS = ("pregnancy__woman", "pregnancy__booking_institution", "institution__region", "responsible_doctor",
                    "planned_delivery_institution", "reported_to", "opened_by")
VISIT_EXAMPLE = OpenApiExample("visit", summary="随访并重新评估 · A visit with a re-assessment", request_only=True, value={
    "institution": "5b1f0c2e-8a44-4d1e-9a57-2f6a1c0b9e11", "findings": "血压 150/95 mmHg，尿蛋白 (+)",
    "reassess": True, "hb_g_l": "85", "findings_codes": "O2.2.1"})


def _step_schema(summary: str, request: Any, *, description: str = "", examples: Any = None) -> Any:
    schema = step_schema(summary, request, detail=CaseDetailSerializer, refusals=REFUSALS, description=description)
    if not examples:
        return schema
    return lambda view: extend_schema(examples=examples)(schema(view))


@extend_schema_view(
    list=extend_schema(
        summary="高危专案列表 · List high-risk cases",
        description="The cases you may see, red first, then orange, then purple only; within each the visit "
                    "most overdue first; 50 a page (`page`). Without `tab` or `state`: the open cases (the "
                    "register's default). The woman's ID and phone numbers are masked; read the case for them.\n\n"
                    "For a system that syncs: `order=updated` (implied by `updated_since`, `If-Modified-Since` or a "
                    "`cursor`) lists the same cases as a sync list instead, with the filters above (send "
                    "`state=all` to follow every state, closed cases too).\n\n" + SYNC_DESCRIPTION,
        parameters=[
            *sync_order_parameters("danger"),
            OpenApiParameter("tab", str, enum=list(selectors.WORKLIST_TABS),
                             description="工作清单 · The worklist's tabs: mine (your open cases), today, week, overdue "
                                         "(by the next visit), tracing, unreported (of the institutions where you "
                                         "manage cases), transfers (awaiting your answer)."),
            OpenApiParameter("state", str, enum=[*HighRiskCase.State.values, "all"],
                             description="状态 · State; all: every state (default: the open ones)."),
            OpenApiParameter("colour", str, enum=[c for c in Colour.values if c != Colour.PURPLE],
                             description="风险颜色 · Colour."),
            OpenApiParameter("purple", str, enum=["yes", "no"], description="紫色 · Purple or not."),
            OpenApiParameter("institution", str, description="管理机构 · The managing institution (id)."),
            OpenApiParameter("q", str, description="姓名 · Part of the woman's name."),
            OpenApiParameter("overdue", str, enum=list(overdue.OVERDUE_CHOICES),
                             description="逾期 · any: report or visit overdue; report; visit."),
        ],
        responses={200: CaseListSerializer(many=True), 400: FIELD_ERRORS, 403: DENIED},
    ),
    retrieve=extend_schema(summary="高危专案详情 · Read a high-risk case",
                           description="Numbers in full, plans, visits, the open tracing, the pending transfer, the "
                                       "timeline (newest first) and `allowed_steps`. The read is in the access log.",
                           responses={200: CaseDetailSerializer, 403: DENIED, 404: NOT_FOUND}),
)
class HighRiskCaseViewSet(SyncOrderMixin, StepsMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    record_name = "case"  # the steps' serializers read it from their context
    permission_classes = [IsAuthenticated, CanUseHighRisk]
    serializer_class = CaseDetailSerializer
    queryset = HighRiskCase.objects.none()
    lookup_url_kwarg = "id"
    lookup_value_converter = "uuid"  # a non-UUID id matches no route: api_not_found answers
    parser_classes = [JSONParser]

    def get_queryset(self) -> QuerySet[HighRiskCase]:
        return visible_highrisk_cases(self.request.user).select_related(*DETAIL_RELATIONS)

    def get_serializer_class(self) -> type[serializers.BaseSerializer]:
        return CaseListSerializer if self.action == "list" else CaseDetailSerializer

    def get_object(self) -> HighRiskCase:
        """The case in scope (404 otherwise); for a step, one the page would offer it on (403 or 409 otherwise)."""
        case = get_visible_or_404(self.get_queryset(), pk=self.kwargs[self.lookup_url_kwarg])
        step = self.action.replace("_", "-") if self.action else ""
        if step in STEPS:
            require_step(step, self.request.user, case)
        return case

    def filter_queryset(self, queryset: QuerySet[HighRiskCase]) -> QuerySet[HighRiskCase]:
        if self.action != "list":
            return queryset
        filters = ListFilterSerializer(data=self.request.query_params)
        filters.is_valid(raise_exception=True)
        data = dict(filters.validated_data)
        today = timezone.localdate()
        if data.get("tab"):
            queryset = queryset.filter(pk__in=selectors.worklist_tab(
                user=self.request.user, tab=data["tab"], today=today).values("pk"))
            data.setdefault("state", "all")  # a tab is its own set of cases
        queryset = selectors.register_filter(queryset, data)
        return self.sync_order(queryset, lambda rows: selectors.danger_ordered(rows, today))

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        case = self.get_object()
        access_record(user=request.user, action=AccessLog.Action.VIEW, obj=case,
                      summary=f"{case._meta.verbose_name} {case.pregnancy.woman.name}", region=case.region,
                      institution=case.institution)
        return Response(self._detail(case))

    def _detail(self, _result: Any) -> Any:
        """The case as it is now, whatever record the step made (read unscoped: after a transfer the sender
        keeps read access through the transfer, and the answer shows where the case went)."""
        fresh = HighRiskCase.objects.select_related(*DETAIL_RELATIONS).prefetch_related(
            "plans__author", "plans__rescue_centre__institution").get(pk=self.kwargs[self.lookup_url_kwarg])
        return CaseDetailSerializer(fresh, context=self.get_serializer_context()).data

    # The steps: the page's check (get_object), the body, then its service and nothing else.

    @_step_schema("报送 · Report the case to the county MCH institute", None)
    @action(detail=True, methods=["post"])
    def report(self, request: Request, **kwargs: Any) -> Response:
        return self._step(None, lambda c, by, d: hr.highrisk_case_report(case=c, by=by))

    @_step_schema("制定方案 · Write a plan", PlanSerializer,
                  description="Management, treatment or emergency plan. Once the management plan (and for an orange "
                              "or red woman the emergency plan, made with a rescue centre) is in place, a reported "
                              "case is under management.")
    @action(detail=True, methods=["post"])
    def plan(self, request: Request, **kwargs: Any) -> Response:
        return self._step(PlanSerializer, lambda c, by, d: hr.case_plan_add(
            case=c, by=by, kind=d["kind"], text=d["text"], rescue_centre=d.get("rescue_centre")))

    @_step_schema("记录随访 · Record the follow-up visit due", VisitSerializer,
                  description="Records the visit due (or missed); with `reassess` the values given grade her again "
                              "(a dynamic assessment) and the next visit follows the new colour.",
                  examples=[VISIT_EXAMPLE])
    @action(detail=True, methods=["post"])
    def visit(self, request: Request, **kwargs: Any) -> Response:
        return self._step(VisitSerializer, lambda c, by, d: hr.followup_record(
            visit=perm.due_visit(c), by=by, institution=d["institution"], findings=d["findings"],
            inputs=visit_engine_inputs(d)))

    @_step_schema("更换责任医生 · Hand over to another doctor", ReassignSerializer,
                  description="A doctor of the managing institution or the county MCH officer.")
    @action(detail=True, methods=["post"])
    def reassign(self, request: Request, **kwargs: Any) -> Response:
        return self._step(ReassignSerializer, lambda c, by, d: hr.highrisk_case_reassign(
            case=c, to=d["to"], by=by, reason=d["reason"]))

    @_step_schema("计划分娩机构 · Plan the delivery place", DeliveryPlaceSerializer,
                  description="A place below the level her colour needs takes a reason (and alerts the MCH officer).")
    @action(detail=True, methods=["post"], url_path="delivery-place")
    def delivery_place(self, request: Request, **kwargs: Any) -> Response:
        return self._step(DeliveryPlaceSerializer, lambda c, by, d: hr.case_plan_delivery(
            case=c, by=by, institution=d["institution"], reason=d["reason"]))

    @_step_schema("记录追踪 · Record a tracing attempt", TracingAttemptSerializer,
                  description="While a tracing of her (after a missed visit) is open.")
    @action(detail=True, methods=["post"], url_path="tracing-attempt")
    def tracing_attempt(self, request: Request, **kwargs: Any) -> Response:
        return self._step(TracingAttemptSerializer, lambda c, by, d: hr.tracing_attempt_add(
            tracing=perm.open_tracing(c), by=by, method=d["method"], reached=d["reached"], note=d["note"]))

    @_step_schema("已找到 · She was found", FoundSerializer,
                  description="The tracing closes; a lost case is back under management with a new visit.")
    @action(detail=True, methods=["post"])
    def found(self, request: Request, **kwargs: Any) -> Response:
        return self._step(FoundSerializer, lambda c, by, d: hr.tracing_found(
            tracing=perm.open_tracing(c), by=by, outcome=d["outcome"]))

    @_step_schema("申请转出 · Transfer to another institution", TransferSerializer,
                  description="The receiving institution's doctors answer it (`transfer-accept`, `transfer-reject`).")
    @action(detail=True, methods=["post"])
    def transfer(self, request: Request, **kwargs: Any) -> Response:
        return self._step(TransferSerializer, lambda c, by, d: hr.case_transfer_request(
            case=c, by=by, to_institution=d["to_institution"], reason=d["reason"]))

    @_step_schema("接收转入 · Accept the transfer", TransferAcceptSerializer,
                  description="An obstetric doctor of the receiving institution; the case moves there with the "
                              "doctor named.")
    @action(detail=True, methods=["post"], url_path="transfer-accept")
    def transfer_accept(self, request: Request, **kwargs: Any) -> Response:
        return self._step(TransferAcceptSerializer, lambda c, by, d: hr.case_transfer_accept(
            transfer=selectors.transfer_awaiting(user=by, case=c), by=by, doctor=d["doctor"]))

    @_step_schema("拒绝转入 · Reject the transfer", ReasonSerializer,
                  description="An obstetric doctor of the receiving institution; the case stays.")
    @action(detail=True, methods=["post"], url_path="transfer-reject")
    def transfer_reject(self, request: Request, **kwargs: Any) -> Response:
        return self._step(ReasonSerializer, lambda c, by, d: hr.case_transfer_reject(
            transfer=selectors.transfer_awaiting(user=by, case=c), by=by, reason=d["reason"]))

    @_step_schema("撤回转出 · Withdraw the transfer", ReasonSerializer,
                  description="The sending institution, while the transfer awaits its answer.")
    @action(detail=True, methods=["post"], url_path="transfer-withdraw")
    def transfer_withdraw(self, request: Request, **kwargs: Any) -> Response:
        return self._step(ReasonSerializer, lambda c, by, d: hr.case_transfer_cancel(
            transfer=perm.pending_transfer(c), by=by, reason=d["reason"]))

    @_step_schema("记录分娩 · Record the delivery", DeliverySerializer,
                  description="The pregnancy's one delivery record, with its babies; the case moves on to delivered.")
    @action(detail=True, methods=["post"])
    def delivery(self, request: Request, **kwargs: Any) -> Response:
        return self._step(DeliverySerializer, lambda c, by, d: hr.case_record_delivery(
            case=c, by=by, **delivery_kwargs(d, babies=babies_of(d))))

    @_step_schema("开始产后随访 · Start postpartum follow-up", None)
    @action(detail=True, methods=["post"])
    def postpartum(self, request: Request, **kwargs: Any) -> Response:
        return self._step(None, lambda c, by, d: hr.case_start_postpartum(case=c, by=by))

    @_step_schema("结案 · Close the case", CloseSerializer,
                  description="recovered: at the 42-day check during postpartum follow-up (its assessment "
                              "recorded); ended: the pregnancy ended otherwise; risk_fell: when the latest "
                              "assessment proposed closing.")
    @action(detail=True, methods=["post"])
    def close(self, request: Request, **kwargs: Any) -> Response:
        return self._step(CloseSerializer, lambda c, by, d: hr.case_close(case=c, by=by, kind=d["kind"],
                                                                         reason=d["reason"]))

    @_step_schema("重新开案 · Reopen the case", ReasonSerializer,
                  description="A closed case; a doctor of the managing institution or the county MCH officer.")
    @action(detail=True, methods=["post"])
    def reopen(self, request: Request, **kwargs: Any) -> Response:
        return self._step(ReasonSerializer, lambda c, by, d: hr.case_reopen(case=c, by=by, reason=d["reason"]))

    @_step_schema("危重孕产妇评审表 · File the near-miss checklist", NearMissSerializer,
                  description="Any criterion met marks her a near miss (危重孕产妇) and alerts the MCH officer.")
    @action(detail=True, methods=["post"], url_path="near-miss")
    def near_miss(self, request: Request, **kwargs: Any) -> Response:
        def record(case: HighRiskCase, by: Any, data: dict[str, Any]) -> Any:
            return near_miss_record(pregnancy=case.pregnancy, by=by, institution=case.institution,
                                    criteria=data["criteria"], note=data["note"])

        return self._step(NearMissSerializer, record)

    @_step_schema("记录孕产妇死亡 · Record a maternal death", DeathSerializer,
                  description="The case ends; the MCH officer and the bureau are alerted and the death report "
                              "starts.")
    @action(detail=True, methods=["post"])
    def death(self, request: Request, **kwargs: Any) -> Response:
        return self._step(DeathSerializer, lambda c, by, d: hr.case_record_death(case=c, by=by, at=d["at"],
                                                                                note=d["note"]))
