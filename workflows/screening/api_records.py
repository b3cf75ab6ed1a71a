"""REST API of the records of process 1 (妊娠风险筛查与评估): women, pregnancies, screenings and assessments.

Reads go through the scoped selectors (``visible_women``, ``visible_pregnancies``, ``visible_screenings``,
``visible_assessments``); every write calls the service the pages call (``workflows/screening/services``). No
serializer accepts a state: the pregnancy's and the assessment's status are read-only output. The contract of
the other APIs:

* 200 a record (201 for a new one);
* 400 field errors ``{"field": ["message", ...]}``, from the serializer or the service (a bad ID number, an
  unusual detail that needs ``confirmed``, a look-up whose details do not match);
* 403 ``{"detail": reason}`` when the user's role or institution does not allow the step;
* 404 when the record does not exist or is out of the user's scope (the same answer);
* 409 ``{"detail": reason}`` when the record's state no longer allows the step (voided twice, a closed
  pregnancy).

Lists mask ID and phone numbers; a woman's detail shows them to whoever may see her, and every detail read is
in the access log, as on the pages. The lists are sync lists (``workflows/api.py``): cursor pages on
(updated_at, id) and ``updated_since``.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet
from drf_spectacular.utils import (
    OpenApiExample,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from cases.limits import REASON_MAX_CHARS
from cases.models import Assessment, Colour, Pregnancy, Screening, Woman
from cases.selectors import visible_assessments, visible_pregnancies, visible_screenings, visible_women
from organisations.http import ActionDenied
from organisations.models import AccessLog, Institution, Region
from organisations.scoping import region_codes_in_area, user_scope
from organisations.services import access_record
from workflows.api import (
    DATE_BOUNDS,
    FIELD_ERRORS,
    CanReadWomen,
    ReasonSerializer,
    ScopedRelatedField,
    StepsMixin,
    SyncRecordViewSet,
    refusal_responses,
    step_schema,
    sync_list_schema,
)
from workflows.screening import permissions, services
from workflows.screening import views as pages

WOMAN_REFUSALS = refusal_responses("woman", denied="Not allowed for your role or institution (reason given).")
PREGNANCY_REFUSALS = refusal_responses("pregnancy", denied="Not allowed for your role or institution (reason given).")
ASSESSMENT_REFUSALS = refusal_responses("assessment", denied="Not allowed for your role or institution (reason given).")
SCREENING_REFUSALS = refusal_responses("screening", denied="Not allowed for your role or institution (reason given).")

def _user(context: dict[str, Any]) -> Any:
    return context["request"].user


def _institutions(step: str) -> Any:
    """The institutions where the user may take ``step`` (as the page offers them)."""
    def scoped(context: dict[str, Any]) -> QuerySet[Institution]:
        return Institution.objects.filter(pk__in=[i.pk for i in permissions.institutions_for(step, _user(context))])
    return scoped


def _require(step: str, user: Any, reason: Any) -> None:
    """403 with the page's reason when the user may take ``step`` nowhere."""
    if not permissions.institutions_for(step, user):
        raise ActionDenied(str(reason))


def _residence_regions(context: dict[str, Any]) -> QuerySet[Region]:
    """The page's choices: the counties of the registering institutions' provinces and of the user's areas."""
    user = _user(context)
    institutions = permissions.institutions_for("register", user)
    return Region.objects.filter(level=Region.Level.COUNTY).filter(
        Q(province_id__in={i.region.province_id for i in institutions}) | region_codes_in_area(user_scope(user)))


def _assessing_hospitals(context: dict[str, Any]) -> QuerySet[Institution]:
    return pages._hospitals_for_assessment(permissions.institutions_for("screen", _user(context)))


def _date(help_text: str, **kwargs: Any) -> serializers.DateField:
    return serializers.DateField(validators=DATE_BOUNDS, help_text=help_text, **kwargs)


def _optional_choice(choices: Any, help_text: str) -> serializers.ChoiceField:
    """A choice not known yet reads as "" (the schema's enum includes the blank value)."""
    return serializers.ChoiceField(choices=choices, allow_blank=True, read_only=True, help_text=help_text)


# --- Input -----------------------------------------------------------------------------------------

class WomanRegisterSerializer(serializers.Serializer):
    institution = ScopedRelatedField(model=Institution, scoped=_institutions("register"),
                                     help_text="登记机构 · The registering institution (where you book).")
    name = serializers.CharField(max_length=60, help_text="姓名 · Name.")
    id_type = serializers.ChoiceField(choices=Woman.IdType.choices, default=Woman.IdType.RESIDENT_ID,
                                      help_text="证件类型 · Identity document.")
    id_number = serializers.CharField(max_length=32, required=False, allow_blank=True, default="",
                                      help_text="证件号码 · Document number; an existing record with it is found, "
                                                "not duplicated (its name and date of birth must match).")
    no_id_reason = serializers.CharField(max_length=200, required=False, allow_blank=True, default="",
                                         help_text="无证件原因 · Why there is no document (id_type none).")
    date_of_birth = _date("出生日期 · Date of birth; taken from a resident ID number.", required=False,
                          allow_null=True, default=None)
    phone = serializers.CharField(max_length=20, required=False, allow_blank=True, default="",
                                  help_text="电话 · Phone.")
    residence_region = ScopedRelatedField(model=Region, scoped=_residence_regions,
                                          pk_field=serializers.CharField(max_length=6),
                                          help_text="居住地 · Residence: the county's code.")
    external_id = serializers.CharField(max_length=64, required=False, allow_blank=True, default="",
                                        help_text="外部编号 · The id your system gives her; kept when she already has one (unique in Anmu; find it "
                                                  "again with `?external_id=`).")
    confirmed = serializers.BooleanField(required=False, default=False,
                                         help_text="确认 · The unusual details the last answer named are right.")


class WomanFindSerializer(serializers.Serializer):
    institution = ScopedRelatedField(model=Institution, scoped=_institutions("register"),
                                     help_text="查找机构 · Your institution (where you book); it may see her from now on.")
    id_type = serializers.ChoiceField(choices=Woman.IdType.choices, default=Woman.IdType.RESIDENT_ID,
                                      help_text="证件类型 · Identity document.")
    id_number = serializers.CharField(max_length=32, help_text="证件号码 · Document number.")
    name = serializers.CharField(max_length=60, help_text="姓名 · Her name, as on the record (second factor).")
    date_of_birth = _date("出生日期 · Date of birth (second factor); taken from a resident ID number.",
                          required=False, allow_null=True, default=None)


class PregnancyBookSerializer(serializers.Serializer):
    woman = ScopedRelatedField(model=Woman, scoped=lambda c: visible_women(_user(c)),
                               help_text="妇女 · The woman (one you may see).")
    institution = ScopedRelatedField(model=Institution, scoped=_institutions("book"),
                                     help_text="建册机构 · The booking institution.")
    lmp = _date("末次月经 · Last menstrual period.")
    booking_date = _date("建册日期 · Booking date.")
    gravidity = serializers.IntegerField(min_value=1, max_value=30, help_text="孕次 · Gravidity.")
    parity = serializers.IntegerField(min_value=0, max_value=29, help_text="产次 · Parity.")
    edd_ultrasound = _date("B超预产期 · Due date by ultrasound, if corrected.", required=False, allow_null=True,
                           default=None)
    external_id = serializers.CharField(max_length=64, required=False, allow_blank=True, default="",
                                        help_text="外部编号 · The id your system gives this pregnancy (unique in Anmu; find it "
                                                  "again with `?external_id=`).")
    confirmed = serializers.BooleanField(required=False, default=False,
                                         help_text="确认 · The unusual details the last answer named are right.")


class ScreenSerializer(serializers.Serializer):
    institution = ScopedRelatedField(model=Institution, scoped=_institutions("screen"),
                                     help_text="筛查机构 · The screening institution.")
    answers = serializers.DictField(child=serializers.BooleanField(allow_null=True),
                                    help_text="筛查项目 · Each item's code (e.g. 1.1) and true (yes), false (no) or null "
                                              "(not asked; only optional items).")
    note = serializers.CharField(max_length=REASON_MAX_CHARS, required=False, allow_blank=True, default="",
                                 help_text="备注 · Note.")
    refer_to = ScopedRelatedField(model=Institution, scoped=_assessing_hospitals, required=False, allow_null=True,
                                  default=None,
                                  help_text="转诊评估机构 · A level 2–3 hospital to assess her: needed when primary "
                                            "care finds a positive item.")


class AssessSerializer(serializers.Serializer):
    institution = ScopedRelatedField(model=Institution, scoped=_institutions("assess"),
                                     help_text="评估机构 · The assessing institution.")
    stage = serializers.ChoiceField(choices=Assessment.Stage.choices, help_text="评估阶段 · Stage.")
    inputs = serializers.DictField(required=False, default=dict,
                                   help_text="测量值与所见 · The risk engine's input (`POST /api/risk/evaluate/`) "
                                             "without `ruleset` and `as_of`: the province's table in force today "
                                             "grades her.")
    colour = serializers.ChoiceField(choices=Colour.choices, required=False, allow_null=True, default=None,
                                     help_text="分级 · green, yellow, orange or red: higher than the table if you judge so, lower "
                                               "with override_reason; null: as the table says (purple is `purple`).")
    purple = serializers.BooleanField(required=False, allow_null=True, default=None,
                                      help_text="紫色 · Purple; null: as the table says.")
    override_reason = serializers.CharField(max_length=REASON_MAX_CHARS, required=False, allow_blank=True, default="",
                                            help_text="调整原因 · Why the grade is below the table.")


# --- Output ----------------------------------------------------------------------------------------

class WomanListSerializer(serializers.ModelSerializer):
    """A list carries masked numbers only."""

    id_number = serializers.CharField(source="id_number_masked", read_only=True,
                                      help_text="证件号码（脱敏） · Document number, masked.")
    phone = serializers.CharField(source="phone_masked", read_only=True, help_text="电话（脱敏） · Phone, masked.")
    residence_region_name = serializers.CharField(source="residence_region.name", read_only=True)
    registered_by_name = serializers.CharField(source="registered_by.name", read_only=True)

    class Meta:
        model = Woman
        fields = ["id", "external_id", "name", "id_type", "id_number", "phone", "date_of_birth", "residence_region",
                  "residence_region_name", "registered_by", "registered_by_name", "merged_into", "created_at",
                  "updated_at"]
        read_only_fields = fields


class PregnancyBriefSerializer(serializers.ModelSerializer):
    colour = _optional_choice(Colour.choices, "风险颜色 · Risk colour; empty before her first grade.")

    class Meta:
        model = Pregnancy
        fields = ["id", "booking_date", "booking_institution", "status", "colour", "purple"]
        read_only_fields = fields


class WomanDetailSerializer(WomanListSerializer):
    """Her whole record, numbers in full, and the pregnancies the user may see."""

    id_number = serializers.CharField(read_only=True, help_text="证件号码 · Document number.")
    phone = serializers.CharField(read_only=True, help_text="电话 · Phone.")
    pregnancies = serializers.SerializerMethodField()

    class Meta(WomanListSerializer.Meta):
        fields = [*WomanListSerializer.Meta.fields, "no_id_reason", "merged_at", "pregnancies"]
        read_only_fields = fields

    @extend_schema_field(PregnancyBriefSerializer(many=True))
    def get_pregnancies(self, obj: Woman) -> Any:
        pregnancies = visible_pregnancies(self.context["request"].user).filter(woman=obj).order_by("-booking_date", "pk")
        return PregnancyBriefSerializer(pregnancies, many=True).data


class ScreeningSerializer(serializers.ModelSerializer):
    institution_name = serializers.CharField(source="institution.name", read_only=True)
    screened_by_name = serializers.SerializerMethodField()
    assessment_referral = serializers.SerializerMethodField(
        help_text="转诊评估 · The referral for assessment a positive screen at primary care made.")

    class Meta:
        model = Screening
        fields = ["id", "pregnancy", "institution", "institution_name", "screened_by_name", "screened_at", "answers",
                  "positive", "positive_items", "note", "assessment_referral", "updated_at"]
        read_only_fields = fields

    def get_screened_by_name(self, obj: Screening) -> str:
        return str(obj.screened_by)

    def get_assessment_referral(self, obj: Screening) -> str | None:
        referral = getattr(obj, "assessment_referral", None)
        return str(referral.pk) if referral is not None else None


class AssessmentSerializer(serializers.ModelSerializer):
    """One grade: who graded her where and when, the colour by the table and the colour given, voided or not."""

    status_display = serializers.CharField(source="get_status_display", read_only=True)
    stage_display = serializers.CharField(source="get_stage_display", read_only=True)
    label = serializers.CharField(read_only=True, help_text="e.g. red, purple+orange, purple.")
    overridden = serializers.BooleanField(read_only=True, help_text="The grade differs from the table's.")
    institution_name = serializers.CharField(source="institution.name", read_only=True)
    assessor_name = serializers.SerializerMethodField()
    voided_by_name = serializers.SerializerMethodField()
    ruleset = serializers.CharField(source="ruleset.code", read_only=True, help_text="评估规则集 · The rule set.")

    class Meta:
        model = Assessment
        fields = ["id", "pregnancy", "stage", "stage_display", "assessed_at", "assessor_name", "institution",
                  "institution_name", "ruleset", "inputs", "matched", "computed_colour", "computed_purple", "colour",
                  "purple", "label", "overridden", "override_reason", "advice", "status", "status_display",
                  "voided_at", "voided_by_name", "void_reason", "updated_at"]
        read_only_fields = fields

    def get_assessor_name(self, obj: Assessment) -> str:
        return str(obj.assessor)

    def get_voided_by_name(self, obj: Assessment) -> str | None:
        return str(obj.voided_by) if obj.voided_by_id else None


class PregnancyListSerializer(serializers.ModelSerializer):
    colour = _optional_choice(Colour.choices, "风险颜色 · Risk colour of the latest valid grade; empty before it.")
    status_display = serializers.CharField(source="get_status_display", read_only=True)
    woman_name = serializers.CharField(source="woman.name", read_only=True)
    booking_institution_name = serializers.CharField(source="booking_institution.name", read_only=True)
    edd = serializers.DateField(read_only=True, help_text="预产期 · Due date (by ultrasound, else LMP + 280 days).")

    class Meta:
        model = Pregnancy
        fields = ["id", "external_id", "woman", "woman_name", "booking_institution", "booking_institution_name",
                  "booking_date", "lmp", "edd_ultrasound", "edd", "gravidity", "parity", "status", "status_display",
                  "colour", "purple", "colour_at", "near_miss_at", "updated_at"]
        read_only_fields = fields


class PregnancyDetailSerializer(PregnancyListSerializer):
    """With the colour timeline (every assessment in order, voided ones marked) and the screenings."""

    timeline = serializers.SerializerMethodField(help_text="评估时间线 · The assessments, oldest first.")
    screenings = serializers.SerializerMethodField(help_text="筛查 · The screenings, newest first.")

    class Meta(PregnancyListSerializer.Meta):
        fields = [*PregnancyListSerializer.Meta.fields, "timeline", "screenings"]
        read_only_fields = fields

    @extend_schema_field(AssessmentSerializer(many=True))
    def get_timeline(self, obj: Pregnancy) -> Any:
        rows = obj.assessments.select_related("assessor", "institution", "ruleset", "voided_by").order_by(
            "assessed_at", "pk")
        return AssessmentSerializer(rows, many=True).data

    @extend_schema_field(ScreeningSerializer(many=True))
    def get_screenings(self, obj: Pregnancy) -> Any:
        rows = obj.screenings.select_related("institution", "screened_by", "assessment_referral").order_by(
            "-screened_at", "pk")
        return ScreeningSerializer(rows, many=True).data


# --- Views -----------------------------------------------------------------------------------------

def _list_schema(summary: str, serializer: Any, description: str, *, filters: tuple[str, ...] = ()) -> Any:
    return sync_list_schema(summary, serializer, description, filters=filters, denied=WOMAN_REFUSALS[0])


class RecordViewSet(SyncRecordViewSet):
    permission_classes = [IsAuthenticated, CanReadWomen]


WOMAN_DENIED, WOMAN_NOT_FOUND, WOMAN_CONFLICT = WOMAN_REFUSALS
REGISTER_EXAMPLE = OpenApiExample("register", request_only=True, value={
    "institution": "5b1f0c2e-8a44-4d1e-9a57-2f6a1c0b9e11", "name": "林秀英", "id_type": "resident_id",
    "id_number": "350121199203040082", "phone": "13800001111", "residence_region": "350121"})


@extend_schema_view(
    list=_list_schema("妇女列表 · List women", WomanListSerializer,
                      "The women you may see (merged duplicates too: `merged_into` names the record kept). ID and "
                      "phone numbers are masked; read one woman for them.", filters=("external_id",)),
    retrieve=extend_schema(summary="妇女档案 · Read a woman's record",
                           description="Her document number and phone in full; the read is in the access log.",
                           responses={200: WomanDetailSerializer, 403: WOMAN_DENIED, 404: WOMAN_NOT_FOUND}),
    create=extend_schema(
        summary="登记或查找妇女 · Register a woman, or find her by her document number",
        description="One woman per document number, as on the register page: if a record has this number, its name "
                    "and date of birth must match what you send (then 200 with her record: your institution may "
                    "see her from now on, the look-up is logged and the record's holders are told); a mismatch is "
                    "400 without saying which detail differs, and is logged. Otherwise she is registered (201). "
                    "Unusual details (an ID number GB 11643 gives to a man, an unusual age) answer 400 naming them: "
                    "send again with `confirmed: true`.",
        request=WomanRegisterSerializer, examples=[REGISTER_EXAMPLE],
        responses={200: WomanDetailSerializer, 201: WomanDetailSerializer, 400: FIELD_ERRORS, 403: WOMAN_DENIED,
                   409: WOMAN_CONFLICT}),
)
class WomanViewSet(RecordViewSet):
    serializer_class = WomanDetailSerializer
    list_filters = ("external_id",)
    queryset = Woman.objects.none()

    def get_queryset(self) -> QuerySet[Woman]:
        return visible_women(self.request.user).select_related("residence_region", "registered_by")

    def get_serializer_class(self) -> type[serializers.BaseSerializer]:
        return WomanListSerializer if self.action == "list" else WomanDetailSerializer

    def _detail(self, woman: Woman, *, code: int = status.HTTP_200_OK) -> Response:
        fresh = Woman.objects.select_related("residence_region", "registered_by").get(pk=woman.pk)
        return Response(WomanDetailSerializer(fresh, context=self.get_serializer_context()).data, status=code)

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        woman = self.get_object()
        access_record(user=request.user, action=AccessLog.Action.VIEW, obj=woman,
                      summary=f"{woman._meta.verbose_name} {woman.name}", region=woman.residence_region,
                      institution=woman.registered_by)
        return self._detail(woman)

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        _require("register", request.user, permissions.RULES["register"].refusal)
        serializer = WomanRegisterSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        woman, created = services.woman_register(
            by=request.user, institution=data["institution"], name=data["name"], id_type=data["id_type"],
            id_number=data["id_number"], no_id_reason=data["no_id_reason"], date_of_birth=data["date_of_birth"],
            phone=data["phone"], residence_region=data["residence_region"], confirmed=data["confirmed"],
            external_id=data["external_id"])
        return self._detail(woman, code=status.HTTP_201_CREATED if created else status.HTTP_200_OK)

    @extend_schema(
        summary="按证件号码查找 · Find a woman by her document number",
        description="The register page's look-up without registering anyone: the name and date of birth must "
                    "match her record (for a resident ID the date is the one in the number). A match answers her "
                    "record, lets your institution see her from now on, is logged and tells the institutions that "
                    "hold her record; no record and a mismatch both answer 400 with the same message, and are "
                    "logged. A POST, so the number stays out of addresses and server logs.",
        request=WomanFindSerializer,
        responses={200: WomanDetailSerializer, 400: FIELD_ERRORS, 403: WOMAN_DENIED})
    @action(detail=False, methods=["post"])
    def lookup(self, request: Request, **kwargs: Any) -> Response:
        _require("register", request.user, permissions.RULES["register"].refusal)
        serializer = WomanFindSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        woman = services.woman_find(by=request.user, institution=data["institution"], id_type=data["id_type"],
                                    id_number=data["id_number"], name=data["name"], date_of_birth=data["date_of_birth"])
        return self._detail(woman)


PREGNANCY_DENIED, PREGNANCY_NOT_FOUND, PREGNANCY_CONFLICT = PREGNANCY_REFUSALS
ASSESS_EXAMPLE = OpenApiExample("assess", request_only=True, value={
    "institution": "5b1f0c2e-8a44-4d1e-9a57-2f6a1c0b9e11", "stage": "first",
    "inputs": {"age_years": 36, "pa_pressure_mmhg": 55, "findings": ["P2"]}})


@extend_schema_view(
    list=_list_schema("孕产妇档案列表 · List pregnancies", PregnancyListSerializer,
                      "The pregnancies you may see, with their current colour.", filters=("woman", "external_id")),
    retrieve=extend_schema(summary="孕产妇档案 · Read a pregnancy",
                           description="With the colour timeline (every assessment, oldest first: its colour, by "
                                       "whom, where and when, voided ones marked) and the screenings. The read is in "
                                       "the access log.",
                           responses={200: PregnancyDetailSerializer, 403: PREGNANCY_DENIED, 404: PREGNANCY_NOT_FOUND}),
    create=extend_schema(
        summary="建册 · Book a pregnancy",
        description="For a woman you may see; one ongoing pregnancy at a time. Impossible dates are refused; an "
                    "unusual age answers 400 naming it: send again with `confirmed: true`. A woman you may not see "
                    "is refused like a missing one (400 on `woman`).",
        request=PregnancyBookSerializer,
        responses={201: PregnancyDetailSerializer, 400: FIELD_ERRORS, 403: PREGNANCY_DENIED, 409: PREGNANCY_CONFLICT}),
)
class PregnancyViewSet(RecordViewSet):
    serializer_class = PregnancyDetailSerializer
    queryset = Pregnancy.objects.none()
    list_filters = ("woman", "external_id")

    def get_queryset(self) -> QuerySet[Pregnancy]:
        return visible_pregnancies(self.request.user).select_related("woman", "booking_institution__region")

    def get_serializer_class(self) -> type[serializers.BaseSerializer]:
        return PregnancyListSerializer if self.action == "list" else PregnancyDetailSerializer

    def _detail(self, pregnancy: Pregnancy, *, code: int = status.HTTP_200_OK) -> Response:
        fresh = Pregnancy.objects.select_related("woman", "booking_institution").get(pk=pregnancy.pk)
        return Response(PregnancyDetailSerializer(fresh, context=self.get_serializer_context()).data, status=code)

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        pregnancy = self.get_object()
        access_record(user=request.user, action=AccessLog.Action.VIEW, obj=pregnancy,
                      summary=f"{pregnancy._meta.verbose_name} {pregnancy.woman.name}",
                      region=pregnancy.booking_institution.region, institution=pregnancy.booking_institution)
        return self._detail(pregnancy)

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        _require("book", request.user, permissions.RULES["book"].refusal)
        serializer = PregnancyBookSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        pregnancy = services.pregnancy_book(
            woman=data["woman"], institution=data["institution"], by=request.user, lmp=data["lmp"],
            booking_date=data["booking_date"], gravidity=data["gravidity"], parity=data["parity"],
            edd_ultrasound=data["edd_ultrasound"], confirmed=data["confirmed"], external_id=data["external_id"])
        return self._detail(pregnancy, code=status.HTTP_201_CREATED)

    @step_schema("筛查 · Record the screening", ScreenSerializer, detail=ScreeningSerializer,
                 refusals=PREGNANCY_REFUSALS, created=True,
                 description="Every required item answered; any yes is positive. Negative marks her green (if not "
                             "graded yet); a positive screen at primary care is referred to `refer_to` for "
                             "assessment, with its deadline. Only while the pregnancy is ongoing (409 otherwise).")
    @action(detail=True, methods=["post"])
    def screen(self, request: Request, **kwargs: Any) -> Response:
        pregnancy = self.get_object()
        _require("screen", request.user, permissions.RULES["screen"].refusal)
        serializer = ScreenSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        screening = services.screening_record(pregnancy=pregnancy, institution=data["institution"], by=request.user,
                                              answers=dict(data["answers"]), note=data["note"],
                                              refer_to=data["refer_to"])
        fresh = Screening.objects.select_related("institution", "screened_by").get(pk=screening.pk)
        return Response(ScreeningSerializer(fresh).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="风险评估分级 · Grade the pregnancy's risk",
        description="The same grading as the page: the province's colour table in force today grades the inputs "
                    "(the national 2017 table unless the province changed it); you may grade higher, or lower with "
                    "a reason. Orange, red and purple open or regrade the high-risk case; red asks a tertiary "
                    "centre whether the pregnancy can continue. Not on a closed pregnancy (409).",
        request=AssessSerializer, examples=[ASSESS_EXAMPLE],
        responses={201: AssessmentSerializer, 400: FIELD_ERRORS, 403: PREGNANCY_DENIED, 404: PREGNANCY_NOT_FOUND,
                   409: PREGNANCY_CONFLICT})
    @action(detail=True, methods=["post"])
    def assess(self, request: Request, **kwargs: Any) -> Response:
        pregnancy = self.get_object()
        _require("assess", request.user, permissions.RULES["assess"].refusal)
        serializer = AssessSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        assessment = services.assessment_record(
            pregnancy=pregnancy, institution=data["institution"], by=request.user, stage=data["stage"],
            inputs=dict(data["inputs"]), colour=data["colour"], purple=data["purple"],
            override_reason=data["override_reason"])
        return Response(AssessmentSerializer(_assessment(assessment.pk)).data, status=status.HTTP_201_CREATED)


def _assessment(pk: Any) -> Assessment:
    return Assessment.objects.select_related("assessor", "institution", "ruleset", "voided_by").get(pk=pk)


@extend_schema_view(
    list=_list_schema("筛查列表 · List screenings", ScreeningSerializer,
                      "The screenings of the pregnancies you may see.", filters=("pregnancy",)),
    retrieve=extend_schema(summary="筛查 · Read a screening",
                           responses={200: ScreeningSerializer, 403: SCREENING_REFUSALS[0],
                                      404: SCREENING_REFUSALS[1]}),
)
class ScreeningViewSet(RecordViewSet):
    serializer_class = ScreeningSerializer
    queryset = Screening.objects.none()
    list_filters = ("pregnancy",)

    def get_queryset(self) -> QuerySet[Screening]:
        return visible_screenings(self.request.user).select_related("institution", "screened_by",
                                                                    "assessment_referral")


ASSESSMENT_DENIED, ASSESSMENT_NOT_FOUND, ASSESSMENT_CONFLICT = ASSESSMENT_REFUSALS


@extend_schema_view(
    list=_list_schema("评估列表 · List risk assessments", AssessmentSerializer,
                      "The assessments (valid and voided) of the pregnancies you may see.", filters=("pregnancy",)),
    retrieve=extend_schema(summary="风险评估 · Read a risk assessment",
                           responses={200: AssessmentSerializer, 403: ASSESSMENT_DENIED, 404: ASSESSMENT_NOT_FOUND}),
)
class AssessmentViewSet(StepsMixin, RecordViewSet):
    record_name = "assessment"
    serializer_class = AssessmentSerializer
    queryset = Assessment.objects.none()
    list_filters = ("pregnancy",)

    def get_queryset(self) -> QuerySet[Assessment]:
        return visible_assessments(self.request.user).select_related("assessor", "institution", "ruleset",
                                                                     "voided_by")

    def _detail(self, assessment: Assessment) -> Any:
        return AssessmentSerializer(_assessment(assessment.pk)).data

    @step_schema("作废评估 · Void a wrong assessment", ReasonSerializer, detail=AssessmentSerializer,
                 refusals=ASSESSMENT_REFUSALS,
                 description="A doctor of the assessing institution; the assessment stays, marked voided with the "
                             "reason, and the pregnancy's colour returns to the latest valid one. Twice: 409.")
    @action(detail=True, methods=["post"])
    def void(self, request: Request, **kwargs: Any) -> Response:
        return self._step(ReasonSerializer, lambda a, by, d: services.assessment_void(assessment=a, by=by,
                                                                                      reason=d["reason"]))
