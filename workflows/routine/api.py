"""REST API of the routine records of every pregnancy: antenatal and postpartum visits (产前检查, 产后访视,
产后42天检查) and the delivery (分娩) with its babies, for a pregnancy with or without a high-risk case.

Reads go through the scoped selectors (``visible_visits``, ``visible_deliveries``); every write calls the
service the pages call (``workflows/routine/services``: who may record, the dates' rules, the pregnancy's
lock, history). Recording the delivery of a pregnancy whose high-risk case is open moves the case on to
delivered, exactly as the case's own delivery step does. The contract of the other record APIs:

* 200 a record (201 for a new one, 204 for a visit removed);
* 400 field errors ``{"field": ["message", ...]}``, from the serializer or the service;
* 403 ``{"detail": reason}`` when the user's role or institution does not allow the step;
* 404 when the record does not exist or is out of the user's scope (the same answer); a pregnancy out of
  scope is refused like a missing one (400 on ``pregnancy``);
* 409 ``{"detail": reason}`` when the pregnancy's state no longer allows it (a second delivery).

The lists are sync lists (``workflows/api.py``). A visit recorded by mistake is removed, not marked: a
syncing system reads the removals from ``GET /api/visits/removed/``.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_view
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from cases.limits import NARRATIVE_MAX_CHARS, REASON_MAX_CHARS
from cases.models import Baby, Delivery, Pregnancy, Visit
from cases.selectors import visible_deliveries, visible_pregnancies, visible_visits
from organisations.http import ActionDenied
from organisations.models import Institution
from workflows.api import (
    DATE_BOUNDS,
    FIELD_ERRORS,
    CanReadWomen,
    ScopedRelatedField,
    StepsMixin,
    SyncListFilterSerializer,
    SyncRecordViewSet,
    moment_in_bounds,
    refusal_responses,
    step_schema,
    sync_list_schema,
    sync_queryset,
)
from workflows.routine import permissions, services
from workflows.routine.forms import delivery_kwargs
from workflows.routine.services import KEEP, MAX_BABIES, BabyData

VISIT_REFUSALS = refusal_responses("visit", denied="Not allowed for your role or institution (reason given).")
DELIVERY_REFUSALS = refusal_responses("delivery", denied="Not allowed for your role or institution (reason given).")


def _user(context: dict[str, Any]) -> Any:
    return context["request"].user


def _external_id(what: str) -> serializers.CharField:
    return serializers.CharField(max_length=64, required=False, allow_blank=True, default="",
                                 help_text=f"外部编号 · The id your system gives {what} (unique in Anmu; find it again "
                                           "with `?external_id=`).")


def _pregnancy_field() -> ScopedRelatedField:
    return ScopedRelatedField(model=Pregnancy, scoped=lambda c: visible_pregnancies(_user(c)),
                              help_text="孕产妇档案 · The pregnancy (one you may see).")


# --- Input -----------------------------------------------------------------------------------------

class RoutineVisitRecordSerializer(serializers.Serializer):
    pregnancy = _pregnancy_field()
    kind = serializers.ChoiceField(choices=Visit.Kind.choices, help_text="类型 · Antenatal, postpartum or the 42-day check.")
    date = serializers.DateField(validators=DATE_BOUNDS, help_text="日期 · Visit date.")
    institution = ScopedRelatedField(
        model=Institution,
        scoped=lambda c: permissions.institutions_for("visit", _user(c)),
        help_text="机构 · Where she was seen (your institution, or one that serves it).")
    note = serializers.CharField(max_length=NARRATIVE_MAX_CHARS, required=False, allow_blank=True, default="",
                                 help_text="备注 · Note.")
    external_id = _external_id("this visit")


class RoutineVisitCorrectSerializer(serializers.Serializer):
    """Only the fields sent change; the reason is kept in the history."""

    reason = serializers.CharField(max_length=REASON_MAX_CHARS, help_text="更正原因 · Why it is corrected.")
    kind = serializers.ChoiceField(choices=Visit.Kind.choices, required=False, help_text="类型 · Kind.")
    date = serializers.DateField(validators=DATE_BOUNDS, required=False, help_text="日期 · Visit date.")
    institution = ScopedRelatedField(
        model=Institution, required=False,
        scoped=lambda c: permissions.institutions_for("visit", _user(c)), help_text="机构 · Institution.")
    note = serializers.CharField(max_length=NARRATIVE_MAX_CHARS, required=False, allow_blank=True,
                                 help_text="备注 · Note.")


class RoutineVisitVoidSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=REASON_MAX_CHARS, help_text="删除原因 · Why it is removed (wrong "
                                                                          "woman, recorded twice).")


class BabySerializer(serializers.Serializer):
    outcome = serializers.ChoiceField(choices=Baby.Outcome.choices, help_text="结局 · Live birth or stillbirth.")
    sex = serializers.ChoiceField(choices=Baby.Sex.choices, help_text="性别 · Sex (or undetermined).")
    weight_g = serializers.IntegerField(min_value=0, max_value=30000, required=False, allow_null=True,
                                        help_text="出生体重 (g) · Birth weight.")


class DeliverySerializer(serializers.Serializer):
    """The delivery page's fields (the pregnancy's one delivery record); its babies as a list."""

    delivered_at = serializers.DateTimeField(validators=[moment_in_bounds],
                                             help_text="分娩时间 · Time of delivery (without an offset: Beijing time).")
    place = serializers.ChoiceField(choices=Delivery.Place.choices, default=Delivery.Place.INSTITUTION,
                                    help_text="分娩地点 · Place of delivery.")
    institution = ScopedRelatedField(
        model=Institution, required=False, allow_null=True, default=None,
        scoped=lambda c: permissions.institutions_for("delivery", _user(c)),
        help_text="分娩机构 · The delivery institution (one where you record deliveries); only at an institution.")
    mode = serializers.ChoiceField(choices=Delivery.Mode.choices, help_text="分娩方式 · Delivery mode.")
    caesarean_indication = serializers.CharField(max_length=200, required=False, allow_blank=True, default="",
                                                 help_text="剖宫产指征 · Indication for the caesarean.")
    gestational_weeks = serializers.IntegerField(min_value=0, required=False, allow_null=True,
                                                 help_text="孕周 · Gestational age, weeks.")
    gestational_days = serializers.IntegerField(min_value=0, required=False, allow_null=True,
                                                help_text="孕天 · Gestational age, days.")
    outcome = serializers.CharField(max_length=NARRATIVE_MAX_CHARS, required=False, allow_blank=True, default="",
                                    help_text="母婴结局 · Outcome for mother and baby.")
    babies = serializers.ListField(child=BabySerializer(), min_length=1, max_length=MAX_BABIES,
                                   help_text=f"新生儿 · The babies (1–{MAX_BABIES}), in birth order.")


def babies_of(data: dict[str, Any]) -> list[BabyData]:
    return [BabyData(**baby) for baby in data["babies"]]


class DeliveryRecordSerializer(DeliverySerializer):
    pregnancy = _pregnancy_field()
    external_id = _external_id("this delivery")


class DeliveryCorrectSerializer(serializers.Serializer):
    """Only the fields sent change (babies sent replace the babies); the reason is kept in the history."""

    reason = serializers.CharField(max_length=REASON_MAX_CHARS, help_text="更正原因 · Why it is corrected.")
    delivered_at = serializers.DateTimeField(validators=[moment_in_bounds], required=False,
                                             help_text="分娩时间 · Time of delivery.")
    place = serializers.ChoiceField(choices=Delivery.Place.choices, required=False, help_text="分娩地点 · Place.")
    institution = ScopedRelatedField(
        model=Institution, required=False, allow_null=True,
        scoped=lambda c: permissions.institutions_for("delivery", _user(c)), help_text="分娩机构 · Institution.")
    mode = serializers.ChoiceField(choices=Delivery.Mode.choices, required=False, help_text="分娩方式 · Mode.")
    caesarean_indication = serializers.CharField(max_length=200, required=False, allow_blank=True,
                                                 help_text="剖宫产指征 · Indication for the caesarean.")
    gestational_weeks = serializers.IntegerField(min_value=0, required=False, allow_null=True,
                                                 help_text="孕周 · Weeks.")
    gestational_days = serializers.IntegerField(min_value=0, required=False, allow_null=True,
                                                help_text="孕天 · Days.")
    outcome = serializers.CharField(max_length=NARRATIVE_MAX_CHARS, required=False, allow_blank=True,
                                    help_text="母婴结局 · Outcome.")
    babies = serializers.ListField(child=BabySerializer(), min_length=1, max_length=MAX_BABIES, required=False,
                                   help_text="新生儿 · The babies, replacing those recorded.")


# --- Output ----------------------------------------------------------------------------------------

class RoutineVisitOutSerializer(serializers.ModelSerializer):
    kind_display = serializers.CharField(source="get_kind_display", read_only=True)
    institution_name = serializers.CharField(source="institution.name", read_only=True)
    recorded_by_name = serializers.SerializerMethodField()

    class Meta:
        model = Visit
        fields = ["id", "external_id", "pregnancy", "kind", "kind_display", "date", "institution", "institution_name",
                  "note", "recorded_by_name", "recorded_at", "updated_at"]
        read_only_fields = fields

    def get_recorded_by_name(self, obj: Visit) -> str | None:
        return str(obj.recorded_by) if obj.recorded_by_id else None


class RoutineVisitRemovedSerializer(serializers.Serializer):
    """A visit removed by mistake: its id, when, and why (from its history)."""

    id = serializers.UUIDField(read_only=True, help_text="被删除的随访 · The removed visit's id.")
    pregnancy = serializers.UUIDField(source="pregnancy_id", read_only=True)
    external_id = serializers.CharField(read_only=True)
    removed_at = serializers.DateTimeField(source="history_date", read_only=True)
    reason = serializers.CharField(source="history_change_reason", read_only=True)


class BabyOutSerializer(serializers.ModelSerializer):
    outcome_display = serializers.CharField(source="get_outcome_display", read_only=True)
    sex_display = serializers.CharField(source="get_sex_display", read_only=True)

    class Meta:
        model = Baby
        fields = ["order", "outcome", "outcome_display", "sex", "sex_display", "weight_g"]
        read_only_fields = fields


class DeliveryOutSerializer(serializers.ModelSerializer):
    place_display = serializers.CharField(source="get_place_display", read_only=True)
    mode_display = serializers.CharField(source="get_mode_display", read_only=True)
    institution_name = serializers.SerializerMethodField()
    recorded_by_name = serializers.SerializerMethodField()
    babies = BabyOutSerializer(many=True, read_only=True)

    class Meta:
        model = Delivery
        fields = ["id", "external_id", "pregnancy", "delivered_at", "delivered_on", "place", "place_display",
                  "institution", "institution_name", "mode", "mode_display", "caesarean_indication",
                  "gestational_weeks", "gestational_days", "live_births", "stillbirths", "babies", "outcome",
                  "recorded_by_name", "recorded_at", "updated_at"]
        read_only_fields = fields

    def get_institution_name(self, obj: Delivery) -> str | None:
        return obj.institution.name if obj.institution_id else None  # type: ignore[union-attr]

    def get_recorded_by_name(self, obj: Delivery) -> str | None:
        return str(obj.recorded_by) if obj.recorded_by_id else None


# --- Views -----------------------------------------------------------------------------------------

VISIT_DENIED, VISIT_NOT_FOUND, VISIT_CONFLICT = VISIT_REFUSALS
DELIVERY_DENIED, DELIVERY_NOT_FOUND, DELIVERY_CONFLICT = DELIVERY_REFUSALS
VISIT_EXAMPLE = OpenApiExample("visit", request_only=True, value={
    "pregnancy": "0f6c3d2a-7b1e-4c55-9d0e-3a8b2c1d4e5f", "kind": "antenatal", "date": "2026-11-20",
    "institution": "5b1f0c2e-8a44-4d1e-9a57-2f6a1c0b9e11", "external_id": "HIS-CJ-000123"})
DELIVERY_EXAMPLE = OpenApiExample("delivery", request_only=True, value={
    "pregnancy": "0f6c3d2a-7b1e-4c55-9d0e-3a8b2c1d4e5f", "delivered_at": "2026-11-28T03:40:00+08:00",
    "place": "institution", "institution": "5b1f0c2e-8a44-4d1e-9a57-2f6a1c0b9e11", "mode": "spontaneous",
    "gestational_weeks": 39, "gestational_days": 2, "babies": [{"outcome": "live", "sex": "female", "weight_g": 3250}],
    "external_id": "HIS-FM-000045"})


def _visit(pk: Any) -> Visit:
    return Visit.objects.select_related("institution", "recorded_by").get(pk=pk)


def _delivery(pk: Any) -> Delivery:
    return Delivery.objects.select_related("institution", "recorded_by").prefetch_related("babies").get(pk=pk)


def _require(step: str, user: Any) -> None:
    """403 with the page's reason when the user takes ``step`` nowhere (before the body's choices, which would
    offer her none)."""
    if not permissions.acting(step, user):
        raise ActionDenied(str(permissions.RULES[step].refusal))


def _keep(data: dict[str, Any], *names: str) -> dict[str, Any]:
    """The correction's fields: those sent, the others left as they are."""
    return {name: data.get(name, KEEP) for name in names}


@extend_schema_view(
    list=sync_list_schema("随访列表 · List visits", RoutineVisitOutSerializer,
                          "The antenatal and postpartum visits of the pregnancies you may see.",
                          filters=("pregnancy", "external_id"), denied=VISIT_DENIED),
    retrieve=extend_schema(summary="随访 · Read a visit",
                           responses={200: RoutineVisitOutSerializer, 403: VISIT_DENIED, 404: VISIT_NOT_FOUND}),
    create=extend_schema(
        summary="记录产前检查或产后访视 · Record a visit",
        description="An antenatal visit is dated from the last period to the delivery; a postpartum visit or the "
                    "42-day check after the delivery, within the province's window (the 42-day check from its "
                    "first day). No date in the future.",
        request=RoutineVisitRecordSerializer, examples=[VISIT_EXAMPLE],
        responses={201: RoutineVisitOutSerializer, 400: FIELD_ERRORS, 403: VISIT_DENIED}),
)
class VisitViewSet(StepsMixin, SyncRecordViewSet):
    record_name = "visit"
    permission_classes = [IsAuthenticated, CanReadWomen]
    serializer_class = RoutineVisitOutSerializer
    queryset = Visit.objects.none()
    list_filters = ("pregnancy", "external_id")

    def get_queryset(self) -> QuerySet[Visit]:
        return visible_visits(self.request.user).select_related("institution", "recorded_by")

    def _detail(self, visit: Visit) -> Any:
        return RoutineVisitOutSerializer(_visit(visit.pk)).data

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        _require("visit", request.user)
        serializer = RoutineVisitRecordSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        visit = services.visit_record(pregnancy=data["pregnancy"], by=request.user, kind=data["kind"],
                                      date=data["date"], institution=data["institution"], note=data["note"],
                                      external_id=data["external_id"])
        return Response(self._detail(visit), status=status.HTTP_201_CREATED)

    @step_schema("更正随访 · Correct a visit", RoutineVisitCorrectSerializer, detail=RoutineVisitOutSerializer,
                 refusals=VISIT_REFUSALS,
                 description="A doctor who records visits at the visit's institution; the fields sent change, the "
                             "history keeps what it said and the reason.")
    @action(detail=True, methods=["post"])
    def correct(self, request: Request, **kwargs: Any) -> Response:
        return self._step(RoutineVisitCorrectSerializer, lambda v, by, d: services.visit_correct(
            visit=v, by=by, reason=d["reason"], **_keep(d, "kind", "date", "institution", "note")))

    @extend_schema(summary="删除误录随访 · Remove a visit recorded by mistake", request=RoutineVisitVoidSerializer,
                   description="A doctor who records visits at the visit's institution. The visit goes (its history "
                               "keeps it, with the reason) and is listed in `GET /api/visits/removed/`.",
                   responses={204: None, 400: FIELD_ERRORS, 403: VISIT_DENIED, 404: VISIT_NOT_FOUND})
    @action(detail=True, methods=["post"])
    def void(self, request: Request, **kwargs: Any) -> Response:
        visit = self.get_object()
        serializer = RoutineVisitVoidSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.visit_void(visit=visit, by=request.user, reason=serializer.validated_data["reason"])
        return Response(status=status.HTTP_204_NO_CONTENT)

    @property
    def sync_fields(self) -> tuple[str, str]:
        """The keyset of the list: a removal's time and history row for ``removed``."""
        return ("history_date", "history_id") if self.action == "removed" else ("updated_at", "id")

    @sync_list_schema("已删除的随访 · Visits removed", RoutineVisitRemovedSerializer,
                      "The visits of the pregnancies you may see that were removed as recorded by mistake, in the "
                      "order of their removal (`updated_since`: removed after it). A syncing system deletes its "
                      "copies of these.", filters=("pregnancy",), denied=VISIT_DENIED)
    @action(detail=False, methods=["get"])
    def removed(self, request: Request, **kwargs: Any) -> Response:
        filters = SyncListFilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        rows = Visit.history.filter(  # type: ignore[attr-defined]
            history_type="-", pregnancy_id__in=visible_pregnancies(request.user).values("pk"))
        if filters.validated_data.get("pregnancy"):
            rows = rows.filter(pregnancy_id=filters.validated_data["pregnancy"])
        page = self.paginate_queryset(sync_queryset(rows, request, field="history_date"))
        return self.get_paginated_response(RoutineVisitRemovedSerializer(page, many=True).data)


@extend_schema_view(
    list=sync_list_schema("分娩列表 · List deliveries", DeliveryOutSerializer,
                          "The deliveries of the pregnancies you may see, with their babies.",
                          filters=("pregnancy", "external_id"), denied=DELIVERY_DENIED),
    retrieve=extend_schema(summary="分娩 · Read a delivery",
                           responses={200: DeliveryOutSerializer, 403: DELIVERY_DENIED, 404: DELIVERY_NOT_FOUND}),
    create=extend_schema(
        summary="记录分娩 · Record the delivery",
        description="The one delivery of an ongoing pregnancy, with or without a high-risk case: the pregnancy "
                    "moves on to delivered, and her open case (if any) moves on to delivered as its own delivery "
                    "step does. A second delivery, or one of a pregnancy that ended, is 409.",
        request=DeliveryRecordSerializer, examples=[DELIVERY_EXAMPLE],
        responses={201: DeliveryOutSerializer, 400: FIELD_ERRORS, 403: DELIVERY_DENIED, 409: DELIVERY_CONFLICT}),
)
class DeliveryViewSet(StepsMixin, SyncRecordViewSet):
    record_name = "delivery"
    permission_classes = [IsAuthenticated, CanReadWomen]
    serializer_class = DeliveryOutSerializer
    queryset = Delivery.objects.none()
    list_filters = ("pregnancy", "external_id")

    def get_queryset(self) -> QuerySet[Delivery]:
        return visible_deliveries(self.request.user).select_related("institution", "recorded_by").prefetch_related(
            "babies")

    def _detail(self, delivery: Delivery) -> Any:
        return DeliveryOutSerializer(_delivery(delivery.pk)).data

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        _require("delivery", request.user)
        serializer = DeliveryRecordSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        delivery = services.delivery_record(pregnancy=data["pregnancy"], by=request.user,
                                            external_id=data["external_id"],
                                            **delivery_kwargs(data, babies=babies_of(data)))
        return Response(self._detail(delivery), status=status.HTTP_201_CREATED)

    @step_schema("更正分娩记录 · Correct the delivery", DeliveryCorrectSerializer, detail=DeliveryOutSerializer,
                 refusals=DELIVERY_REFUSALS,
                 description="A doctor who records deliveries (at the delivery's institution, when it was at one); "
                             "the fields sent change, babies sent replace the babies, the pregnancy's state stays.")
    @action(detail=True, methods=["post"])
    def correct(self, request: Request, **kwargs: Any) -> Response:
        def run(delivery: Delivery, by: Any, data: dict[str, Any]) -> Delivery:
            fields = _keep(data, "delivered_at", "place", "institution", "mode", "caesarean_indication",
                           "gestational_weeks", "gestational_days", "outcome")
            if "babies" in data:
                fields["babies"] = babies_of(data)
            return services.delivery_correct(delivery=delivery, by=by, reason=data["reason"], **fields)

        return self._step(DeliveryCorrectSerializer, run)
