"""Maternal death reporting and review (孕产妇死亡个案报告与评审): the report card and each level's conclusion.

Re-exported by ``cases.models`` so Django registers these models with the ``cases`` app.
States change only through the named transitions below, run by ``workflows/death/services.py``:

    drafted → reported (the institution) → verified (the county MCH officer; or returned for correction
    with a reason, back to the institution; or excluded as not maternal) → review at county → city →
    province (the levels the province's settings require) → reviewed → closed (locked); a provincial
    officer may unlock a closed report with a reason, back to the final level's review.

Every timestamp and conclusion is a real column: the indicators count reports on time, reviews done and
the avoidable share from them.
"""

from __future__ import annotations

import json
import re
import uuid
from functools import cache
from pathlib import Path, PurePosixPath
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from django_fsm import RETURN_VALUE, ConcurrentTransitionMixin, FSMField, transition
from simple_history.models import HistoricalRecords

from cases.limits import narrative_field, reason_field
from cases.models.highrisk import HighRiskCase
from cases.models.people import Pregnancy, Woman
from cases.models.referral import NearMiss, Referral, StoredFile, validate_attachment
from organisations.models import Institution, Region

ICD10_DATA = Path(__file__).resolve().parent.parent / "data" / "icd10_maternal.json"
ICD10_PATTERN = re.compile(r"^[A-Z]\d{2}(\.\d{1,2})?$")


@cache


def icd10_categories() -> dict[str, dict[str, Any]]:
    """The 3-character categories a maternal death's underlying cause may be coded in: O00–O99 and the
    usual indirect causes, each with its zh-hans name and the suggested classification and ICD-MM group."""
    data = json.loads(ICD10_DATA.read_text(encoding="utf-8"))
    return {row["code"]: row for row in [*data["maternal"], *data["indirect"]]}


def normalise_icd10(value: str) -> str:
    value = (value or "").strip().upper().replace("．", ".")
    if len(value) > 3 and "." not in value:
        value = f"{value[:3]}.{value[3:]}"
    return value


def validate_icd10(value: str) -> None:
    """An ICD-10 code (``O72`` or ``O72.1``) of a maternal category or a usual indirect cause."""
    code = normalise_icd10(value)
    if not ICD10_PATTERN.match(code):
        raise ValidationError(_("Write an ICD-10 code such as O72 or O72.1."), code="icd10_format")
    if code[:3] not in icd10_categories():
        raise ValidationError(_("%(code)s is not a maternal cause (O00–O99) or a usual indirect cause of "
                                "maternal death.") % {"code": code}, code="icd10_category")


def icd10_name(code: str) -> str:
    row = icd10_categories().get(normalise_icd10(code)[:3])
    return row["name"] if row else ""


def _death_attachment_path(instance: DeathAttachment, filename: str) -> str:
    # Never the uploaded name on disk: it may carry the woman's name.
    return f"death/{instance.report_id}/{uuid.uuid4().hex}{PurePosixPath(filename).suffix.lower()}"


class DeathAttachment(StoredFile):
    """A document of the investigation (核查): a copy of the medical record, an autopsy or pathology report,
    an interview note, a photo."""

    report = models.ForeignKey("cases.DeathReport", verbose_name=_("death report"), on_delete=models.PROTECT,
                               related_name="attachments")
    file = models.FileField(_("file"), upload_to=_death_attachment_path, validators=[validate_attachment])
    description = models.CharField(_("what it is"), max_length=120, blank=True)
    history = HistoricalRecords()

    class Meta(StoredFile.Meta):
        verbose_name = _("death report attachment")
        verbose_name_plural = _("death report attachments")


class ReviewLevel(models.TextChoices):
    COUNTY = "county", _("County review")
    CITY = "city", _("City review")
    PROVINCE = "province", _("Provincial review")


LEVEL_RANK = {ReviewLevel.COUNTY: 1, ReviewLevel.CITY: 2, ReviewLevel.PROVINCE: 3}
REGION_LEVEL_OF = {ReviewLevel.COUNTY: Region.Level.COUNTY, ReviewLevel.CITY: Region.Level.CITY,
                   ReviewLevel.PROVINCE: Region.Level.PROVINCE}


class CauseClass(models.TextChoices):
    DIRECT = "direct", _("Direct obstetric death")
    INDIRECT = "indirect", _("Indirect obstetric death")
    UNKNOWN = "unknown", _("Unknown")


class IcdMmGroup(models.IntegerChoices):
    ABORTIVE = 1, _("1 Pregnancy with abortive outcome")
    HYPERTENSIVE = 2, _("2 Hypertensive disorders")
    HAEMORRHAGE = 3, _("3 Obstetric haemorrhage")
    INFECTION = 4, _("4 Pregnancy-related infection")
    OTHER_OBSTETRIC = 5, _("5 Other obstetric complications")
    MANAGEMENT = 6, _("6 Unanticipated complications of management")
    NON_OBSTETRIC = 7, _("7 Non-obstetric complications")
    UNKNOWN = 8, _("8 Unknown or undetermined")
    COINCIDENTAL = 9, _("9 Coincidental causes")


class Avoidability(models.TextChoices):
    AVOIDABLE = "avoidable", _("Avoidable")
    CONDITIONALLY = "conditionally", _("Avoidable had conditions been created")
    UNAVOIDABLE = "unavoidable", _("Unavoidable")


class ReviewStage(models.TextChoices):
    """The rows of the 12-cell table (十二格表): where the problem lay."""

    INDIVIDUAL = "individual", _("Individual, family and community")
    HEALTH_SYSTEM = "health_system", _("Health-care system")
    OTHER_SECTORS = "other_sectors", _("Other sectors of society")


class ReviewAspect(models.TextChoices):
    """The columns of the 12-cell table: what kind of problem."""

    KNOWLEDGE = "knowledge", _("Knowledge and skills")
    ATTITUDE = "attitude", _("Attitude")
    RESOURCES = "resources", _("Resources")
    MANAGEMENT = "management", pgettext_lazy("12-cell table aspect", "Management")


# The 12 cells, one definition for the model, the forms, the minutes, the API and the indicators: (stage,
# aspect, column). Each cell is a nullable boolean column (a problem found: yes / no / not assessed) and a
# text column ``f"{column}_note"`` saying what the problem was (required when yes).
TABLE_CELLS: tuple[tuple[str, str, str], ...] = tuple(
    (stage.value, aspect.value, f"{stage.value}_{aspect.value}") for stage in ReviewStage for aspect in ReviewAspect)
CELL_COLUMNS: tuple[str, ...] = tuple(column for _s, _a, column in TABLE_CELLS)


class Delay(models.TextChoices):
    """The three delays (三个延误), each a nullable boolean column with a ``_note`` text column."""

    SEEKING = "delay_seeking", _("Delay in deciding to seek care")
    REACHING = "delay_reaching", _("Delay in reaching a health facility")
    RECEIVING = "delay_receiving", _("Delay in receiving adequate care")


DELAY_COLUMNS: tuple[str, ...] = tuple(Delay.values)


def cell_label(stage: str, aspect: str) -> Any:
    return format_lazy("{} · {}", ReviewStage(stage).label, ReviewAspect(aspect).label)


def _cell(stage: str, aspect: str) -> models.BooleanField:
    return models.BooleanField(cell_label(stage, aspect), null=True, blank=True)


def _cell_note(stage: str, aspect: str) -> models.TextField:
    return reason_field(format_lazy("{}: {}", cell_label(stage, aspect), _("what the problem was")), blank=True)


def _delay(delay: Delay) -> models.BooleanField:
    return models.BooleanField(delay.label, null=True, blank=True)


def _delay_note(delay: Delay) -> models.TextField:
    return reason_field(format_lazy("{}: {}", delay.label, _("what happened")), blank=True)


class DeathReport(ConcurrentTransitionMixin, models.Model):
    """The maternal death report card (孕产妇死亡报告卡), with the process around it."""

    class State(models.TextChoices):
        DRAFTED = "drafted", _("Drafted, not reported")
        REPORTED = "reported", _("Reported, awaiting verification")
        RETURNED = "returned", _("Returned for correction")
        VERIFIED = "verified", _("Verified, under investigation")
        EXCLUDED = "excluded", _("Excluded: not a maternal death")
        REVIEW_COUNTY = "review_county", _("Awaiting county review")
        REVIEW_CITY = "review_city", _("Awaiting city review")
        REVIEW_PROVINCE = "review_province", _("Awaiting provincial review")
        REVIEWED = "reviewed", _("Reviewed, awaiting closure")
        CLOSED = "closed", _("Closed and locked")

    class Origin(models.TextChoices):
        CASE = "case", _("Recorded on a high-risk case")
        REFERRAL = "referral", _("Outcome of a referral")
        PREGNANCY = "pregnancy", _("Recorded on a pregnancy")
        MANUAL = "manual", _("Reported by hand")
        IMPORT = "import", _("Imported from another system")

    class Place(models.TextChoices):
        PROVINCE_CITY_HOSPITAL = "province_city_hospital", _("Provincial or city hospital")
        COUNTY_HOSPITAL = "county_hospital", _("County or district hospital")
        TOWNSHIP = "township", _("Township health centre")
        VILLAGE = "village", _("Village delivery room")
        HOME = "home", _("Home")
        TRANSIT = "transit", _("On the way")
        OTHER = "other", _("Other")
        UNKNOWN = "unknown", _("Unknown")

    class Registration(models.TextChoices):
        LOCAL = "local", _("Local household registration")
        NON_LOCAL = "non_local", _("Non-local household registration")

    class Planned(models.TextChoices):
        PLANNED = "planned", _("Within the plan")
        UNPLANNED = "unplanned", _("Outside the plan")
        UNKNOWN = "unknown", _("Unknown")

    class Education(models.TextChoices):
        NONE = "none", _("Illiterate or semi-literate")
        PRIMARY = "primary", _("Primary school")
        JUNIOR = "junior", _("Junior secondary school")
        SENIOR = "senior", _("Senior secondary school")
        COLLEGE = "college", _("College or above")
        UNKNOWN = "unknown", _("Unknown")

    class Income(models.TextChoices):
        BELOW_1000 = "lt1000", _("Under 1000 yuan")
        FROM_1000 = "1000", _("1000–1999 yuan")
        FROM_2000 = "2000", _("2000–3999 yuan")
        FROM_4000 = "4000", _("4000–7999 yuan")
        FROM_8000 = "8000", _("8000 yuan or more")
        UNKNOWN = "unknown", _("Unknown")

    class Terrain(models.TextChoices):
        PLAIN = "plain", _("Plain")
        MOUNTAIN = "mountain", _("Mountain")
        HILL = "hill", _("Semi-mountain")
        BASIN = "basin", _("Basin (坝区)")
        OTHER = "other", _("Other")

    class DeliveryMode(models.TextChoices):
        UNDELIVERED = "undelivered", _("Not delivered")
        SPONTANEOUS = "spontaneous", _("Spontaneous vaginal")
        ASSISTED = "assisted", _("Operative vaginal")
        CAESAREAN = "caesarean", _("Caesarean")

    class Basis(models.TextChoices):
        AUTOPSY = "autopsy", _("Autopsy")
        PATHOLOGY = "pathology", _("Pathology")
        CLINICAL = "clinical", _("Clinical")
        INFERRED = "inferred", _("Inferred after death")

    OPEN_STATES = (State.DRAFTED, State.REPORTED, State.RETURNED, State.VERIFIED, State.REVIEW_COUNTY,
                   State.REVIEW_CITY, State.REVIEW_PROVINCE, State.REVIEWED)
    REVIEW_STATES = {ReviewLevel.COUNTY: State.REVIEW_COUNTY, ReviewLevel.CITY: State.REVIEW_CITY,
                     ReviewLevel.PROVINCE: State.REVIEW_PROVINCE}
    # The card's fields an institution fills in (forms and the API list these, never the state).
    CARD_FIELDS = (
        "card_number", "supplementary", "residence_region", "residence_address", "registration", "planned",
        "age_years", "ethnicity", "education", "income", "terrain", "gravidity", "parity", "abortions", "lmp",
        "delivered_at", "died_at", "delivery_place", "delivery_institution", "delivery_transferred_in",
        "delivery_first_visit", "death_place", "death_institution", "death_transferred_in", "death_first_visit",
        "delivery_mode", "new_method_delivery", "birth_attendant", "antenatal_care", "first_visit_weeks",
        "antenatal_visits", "last_antenatal_institution", "cause_a", "cause_b", "cause_c", "cause_d",
        "diagnosis_basis", "underlying_cause", "icd10", "cause_class", "icd_mm_group",
    )
    # What the card needs before it is reported.
    REQUIRED_TO_REPORT = ("died_at", "death_place", "delivery_mode", "cause_a", "diagnosis_basis",
                          "underlying_cause", "icd10", "cause_class", "icd_mm_group", "age_years")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # The id another system (an MCH platform's death register) gives this death: an import run twice finds
    # the report it made the first time (workflows/imports).
    external_id = models.CharField(_("external id"), max_length=64, blank=True, editable=False,
                                   help_text=_("The id another system gives this record; unique where given."))
    woman = models.ForeignKey(Woman, verbose_name=_("woman"), on_delete=models.PROTECT, related_name="death_reports")
    pregnancy = models.ForeignKey(Pregnancy, verbose_name=_("pregnancy"), null=True, blank=True,
                                  on_delete=models.PROTECT, related_name="death_reports")
    case = models.ForeignKey(HighRiskCase, verbose_name=_("high-risk case"), null=True, blank=True,
                             on_delete=models.PROTECT, related_name="death_reports")
    referral = models.ForeignKey(Referral, verbose_name=_("referral"), null=True, blank=True,
                                 on_delete=models.PROTECT, related_name="death_reports")
    origin = models.CharField(_("origin"), max_length=10, choices=Origin.choices, editable=False)
    reporting_institution = models.ForeignKey(
        Institution, verbose_name=_("reporting institution"), on_delete=models.PROTECT, related_name="+",
        help_text=_("Where she died, or the institution that learnt of the death."))
    region = models.ForeignKey(Region, verbose_name=_("county"), on_delete=models.PROTECT, related_name="+",
                               help_text=_("The county whose MCH institute verifies and investigates."))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("created by"), on_delete=models.PROTECT,
                                   related_name="+")
    state = FSMField(_("state"), default=State.DRAFTED, choices=State.choices, editable=False)
    # The anonymous case number expert reviewers know the death by (county code, year of death, sequence):
    # given once when the report is created (workflows/death/services/packet.py), never changed.
    review_number = models.CharField(_("anonymous case number"), max_length=24, unique=True, editable=False)

    # --- The card (domain.md §5.3) ---
    card_number = models.CharField(_("card number"), max_length=30, blank=True)
    supplementary = models.BooleanField(_("supplementary card (补卡)"), default=False)
    residence_region = models.ForeignKey(Region, verbose_name=_("usual residence"), null=True, blank=True,
                                         on_delete=models.PROTECT, related_name="+")
    residence_address = models.CharField(_("current address"), max_length=200, blank=True)
    registration = models.CharField(_("household registration"), max_length=10, choices=Registration.choices,
                                    blank=True)
    planned = models.CharField(_("within the birth plan"), max_length=10, choices=Planned.choices, blank=True)
    age_years = models.PositiveSmallIntegerField(_("age (years)"), null=True, blank=True,
                                                 validators=[MinValueValidator(10), MaxValueValidator(65)])
    ethnicity = models.CharField(_("ethnicity"), max_length=20, blank=True)
    education = models.CharField(_("education"), max_length=10, choices=Education.choices, blank=True)
    income = models.CharField(_("household income per head per year"), max_length=8, choices=Income.choices,
                              blank=True)
    terrain = models.CharField(_("area of residence"), max_length=10, choices=Terrain.choices, blank=True)
    gravidity = models.PositiveSmallIntegerField(_("gravidity"), null=True, blank=True,
                                                 validators=[MaxValueValidator(30)])
    parity = models.PositiveSmallIntegerField(_("parity"), null=True, blank=True, validators=[MaxValueValidator(30)])
    abortions = models.PositiveSmallIntegerField(_("induced abortions"), null=True, blank=True,
                                                 validators=[MaxValueValidator(30)])
    lmp = models.DateField(_("last menstrual period"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)
    died_at = models.DateTimeField(_("died at"), db_index=True)
    delivery_place = models.CharField(_("place of delivery"), max_length=24, choices=Place.choices, blank=True)
    delivery_institution = models.ForeignKey(Institution, verbose_name=_("delivery institution"), null=True,
                                             blank=True, on_delete=models.PROTECT, related_name="+")
    delivery_transferred_in = models.BooleanField(_("transferred in before delivery"), null=True, blank=True)
    delivery_first_visit = models.BooleanField(_("delivery hospital was the first-visit hospital"), null=True,
                                               blank=True)
    death_place = models.CharField(_("place of death"), max_length=24, choices=Place.choices, blank=True)
    death_institution = models.ForeignKey(Institution, verbose_name=_("institution where she died"), null=True,
                                          blank=True, on_delete=models.PROTECT, related_name="+")
    death_transferred_in = models.BooleanField(_("transferred in from another hospital"), null=True, blank=True)
    death_first_visit = models.BooleanField(_("that hospital was the first-visit hospital"), null=True, blank=True)
    delivery_mode = models.CharField(_("delivery mode"), max_length=12, choices=DeliveryMode.choices, blank=True)
    new_method_delivery = models.BooleanField(_("modern delivery method (新法接生)"), null=True, blank=True)
    birth_attendant = models.CharField(_("birth attendant"), max_length=60, blank=True)
    antenatal_care = models.BooleanField(_("antenatal care"), null=True, blank=True)
    first_visit_weeks = models.PositiveSmallIntegerField(_("gestational week at first antenatal visit"), null=True,
                                                         blank=True, validators=[MaxValueValidator(45)])
    antenatal_visits = models.PositiveSmallIntegerField(_("number of antenatal checks"), null=True, blank=True,
                                                        validators=[MaxValueValidator(60)])
    last_antenatal_institution = models.CharField(_("institution of the last antenatal check"), max_length=120,
                                                  blank=True)
    cause_a = models.CharField(_("a. disease or condition directly leading to death"), max_length=200, blank=True)
    cause_b = models.CharField(_("b. due to (or as a consequence of)"), max_length=200, blank=True)
    cause_c = models.CharField(_("c. due to (or as a consequence of)"), max_length=200, blank=True)
    cause_d = models.CharField(_("d. due to (or as a consequence of)"), max_length=200, blank=True)
    diagnosis_basis = models.CharField(_("basis of the diagnosis"), max_length=10, choices=Basis.choices, blank=True)
    underlying_cause = models.CharField(_("underlying cause of death"), max_length=200, blank=True)
    icd10 = models.CharField(_("ICD-10 code of the underlying cause"), max_length=8, blank=True,
                             validators=[validate_icd10])
    cause_class = models.CharField(_("direct or indirect"), max_length=10, choices=CauseClass.choices, blank=True)
    icd_mm_group = models.PositiveSmallIntegerField(_("WHO ICD-MM group"), choices=IcdMmGroup.choices, null=True,
                                                    blank=True)

    # --- The process: every step's time and person as real columns ---
    report_due_at = models.DateTimeField(_("report due"), null=True, blank=True)
    card_due_at = models.DateTimeField(_("card due at the county MCH institute"), null=True, blank=True)
    investigation_due_at = models.DateTimeField(_("investigation due"), null=True, blank=True)
    review_due_at = models.DateTimeField(_("current review due"), null=True, blank=True)
    reported_at = models.DateTimeField(_("reported at"), null=True, blank=True, db_index=True)
    reported_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("reported by"), null=True, blank=True,
                                    on_delete=models.PROTECT, related_name="+")
    returned_at = models.DateTimeField(_("returned at"), null=True, blank=True)
    return_reason = reason_field(_("what to correct"), blank=True)
    verified_at = models.DateTimeField(_("verified at"), null=True, blank=True, db_index=True)
    verified_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("verified by"), null=True, blank=True,
                                    on_delete=models.PROTECT, related_name="+")
    excluded_at = models.DateTimeField(_("excluded at"), null=True, blank=True)
    exclusion_reason = reason_field(_("why it is not a maternal death"), blank=True)
    investigated_at = models.DateTimeField(_("investigated at"), null=True, blank=True, db_index=True)
    investigated_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("investigated by"), null=True,
                                        blank=True, on_delete=models.PROTECT, related_name="+")
    investigation = narrative_field(_("investigation findings"), blank=True)
    interviews = narrative_field(_("interviews (family, staff)"), blank=True)
    review_levels = models.JSONField(_("levels that review"), default=list, blank=True, editable=False)
    highest_level_reached = models.PositiveSmallIntegerField(_("highest review level reached"), default=0,
                                                             editable=False)
    final_level = models.CharField(_("level of the final conclusion"), max_length=10, choices=ReviewLevel.choices,
                                   blank=True)
    final_avoidability = models.CharField(_("final conclusion"), max_length=14, choices=Avoidability.choices,
                                          blank=True, db_index=True)
    final_icd10 = models.CharField(_("final ICD-10 code"), max_length=8, blank=True)
    final_cause_class = models.CharField(_("final direct or indirect"), max_length=10, choices=CauseClass.choices,
                                         blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    closed_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("closed by"), null=True, blank=True,
                                  on_delete=models.PROTECT, related_name="+")
    unlocked_at = models.DateTimeField(_("unlocked at"), null=True, blank=True)
    unlocked_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("unlocked by"), null=True, blank=True,
                                    on_delete=models.PROTECT, related_name="+")
    unlock_reason = reason_field(_("why unlocked"), blank=True)
    process = models.OneToOneField("viewflow.Process", null=True, blank=True, editable=False,
                                   on_delete=models.SET_NULL, related_name="death_report")
    history = HistoricalRecords(excluded_fields=["process"])

    class Meta:
        ordering = ["-died_at"]
        verbose_name = _("maternal death report")
        verbose_name_plural = _("maternal death reports")
        indexes = [models.Index(fields=["region", "state"], name="death_region_state_idx"),
                   models.Index(fields=["reporting_institution", "state"], name="death_institution_state_idx")]
        constraints = [models.UniqueConstraint(fields=["external_id"], condition=~models.Q(external_id=""),
                                               name="deathreport_unique_external_id")]

    def __str__(self) -> str:
        return f"{self.woman} · {self.died_at:%Y-%m-%d}"

    @property
    def is_open(self) -> bool:
        return self.state in self.OPEN_STATES

    @property
    def is_locked(self) -> bool:
        return self.state == self.State.CLOSED

    @property
    def review_level(self) -> str | None:
        """The level whose review is awaited now, if any."""
        for level, state in self.REVIEW_STATES.items():
            if self.state == state:
                return level
        return None

    @property
    def icd10_name(self) -> str:
        return icd10_name(self.icd10) if self.icd10 else ""

    def clean(self) -> None:
        errors: dict[str, list[Any]] = {}
        self.icd10 = normalise_icd10(self.icd10)
        if self.parity is not None and self.gravidity is not None and self.parity >= self.gravidity:
            errors["parity"] = [_("Parity counts earlier births, so it is below gravidity.")]
        if self.delivered_at and self.died_at and self.delivered_at > self.died_at:
            errors["delivered_at"] = [_("The delivery cannot be after the death.")]
        if self.lmp and self.died_at and self.lmp > self.died_at.date():
            errors["lmp"] = [_("The last menstrual period cannot be after the death.")]
        if self.delivery_mode == self.DeliveryMode.UNDELIVERED and self.delivered_at:
            errors["delivery_mode"] = [_("A delivery time is given: choose how she delivered.")]
        if errors:
            raise ValidationError(errors)

    def missing_to_report(self) -> dict[str, list[Any]]:
        """The card's fields still empty that a report needs."""
        return {name: [_("Fill this in before reporting.")] for name in self.REQUIRED_TO_REPORT
                if getattr(self, name) in (None, "")}

    # --- Transitions ---

    @transition(field=state, source=[State.DRAFTED, State.RETURNED], target=State.REPORTED)
    def report(self, *, by: Any, at: Any) -> None:
        self.reported_at, self.reported_by = at, by

    @transition(field=state, source=State.REPORTED, target=State.RETURNED)
    def return_for_correction(self, *, at: Any, reason: str) -> None:
        self.returned_at, self.return_reason = at, reason

    @transition(field=state, source=State.REPORTED, target=State.VERIFIED)
    def verify(self, *, by: Any, at: Any) -> None:
        self.verified_at, self.verified_by = at, by

    @transition(field=state, source=[State.DRAFTED, State.REPORTED, State.RETURNED, State.VERIFIED],
                target=State.EXCLUDED)
    def exclude(self, *, at: Any, reason: str) -> None:
        self.excluded_at, self.exclusion_reason = at, reason

    @transition(field=state, source=State.VERIFIED, target=State.REVIEW_COUNTY)
    def record_investigation(self, *, by: Any, at: Any, findings: str, interviews: str, levels: list[str]) -> None:
        self.investigated_at, self.investigated_by = at, by
        self.investigation, self.interviews = findings, interviews
        self.review_levels = levels
        self.highest_level_reached = LEVEL_RANK[ReviewLevel.COUNTY]

    @transition(field=state, source=[State.REVIEW_COUNTY, State.REVIEW_CITY, State.REVIEW_PROVINCE],
                target=RETURN_VALUE(State.REVIEW_CITY, State.REVIEW_PROVINCE, State.REVIEWED))
    def conclude_review(self, *, conclusion: DeathReviewConclusion, next_level: str | None) -> str:
        """The level's conclusion becomes the report's final one until a higher level concludes."""
        self.final_level = conclusion.level
        self.final_avoidability = conclusion.avoidability
        self.final_icd10 = conclusion.icd10
        self.final_cause_class = conclusion.cause_class
        if next_level is None:
            return self.State.REVIEWED
        self.highest_level_reached = max(self.highest_level_reached, LEVEL_RANK[ReviewLevel(next_level)])
        return self.REVIEW_STATES[ReviewLevel(next_level)]

    @transition(field=state, source=State.REVIEWED, target=State.CLOSED)
    def close(self, *, by: Any, at: Any) -> None:
        self.closed_at, self.closed_by = at, by

    @transition(field=state, source=State.CLOSED,
                target=RETURN_VALUE(State.REVIEW_COUNTY, State.REVIEW_CITY, State.REVIEW_PROVINCE))
    def unlock(self, *, by: Any, at: Any, reason: str) -> str:
        self.unlocked_at, self.unlocked_by, self.unlock_reason = at, by, reason
        self.closed_at = None
        return self.REVIEW_STATES[ReviewLevel(self.final_level or ReviewLevel.COUNTY)]


class ReviewMeeting(ConcurrentTransitionMixin, models.Model):
    """A review panel (评审会) at one level: a date, a chair and members (the level's expert reviewers and
    MCH officers), an agenda of deaths awaiting that level's review and, optionally, near-miss cases
    reviewed in the same meeting. Planned until its minutes are finalised (``held``); then read-only."""

    class State(models.TextChoices):
        PLANNED = "planned", pgettext_lazy("review meeting", "Planned")
        HELD = "held", _("Held, minutes finalised")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    level = models.CharField(_("review level"), max_length=10, choices=ReviewLevel.choices)
    region = models.ForeignKey(Region, verbose_name=_("region"), on_delete=models.PROTECT, related_name="+",
                               help_text=_("The county, city or province whose panel meets."))
    held_on = models.DateField(_("held on"), db_index=True)
    place = models.CharField(_("place"), max_length=120, blank=True)
    chair = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("chair"), on_delete=models.PROTECT,
                              related_name="+")
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, verbose_name=_("members"),
                                     related_name="death_review_meetings")
    reports = models.ManyToManyField(DeathReport, verbose_name=_("deaths on the agenda"), blank=True,
                                     related_name="meetings")
    near_misses = models.ManyToManyField(NearMiss, verbose_name=_("near-miss cases on the agenda"), blank=True,
                                         related_name="review_meetings")
    notes = narrative_field(_("summary of the meeting"), blank=True)
    state = FSMField(_("state"), default=State.PLANNED, choices=State.choices, editable=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("created by"), on_delete=models.PROTECT,
                                   related_name="+")
    finalised_at = models.DateTimeField(_("minutes finalised at"), null=True, blank=True)
    finalised_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("minutes finalised by"), null=True,
                                     blank=True, on_delete=models.PROTECT, related_name="+")
    history = HistoricalRecords(m2m_fields=[members, reports, near_misses])

    class Meta:
        ordering = ["-held_on", "-created_at"]
        verbose_name = _("death review meeting")
        verbose_name_plural = _("death review meetings")
        indexes = [models.Index(fields=["region", "level", "held_on"], name="death_meeting_region_idx")]

    def __str__(self) -> str:
        return f"{self.get_level_display()} · {self.held_on:%Y-%m-%d}"

    @property
    def is_open(self) -> bool:
        return self.state == self.State.PLANNED

    @transition(field=state, source=State.PLANNED, target=State.HELD)
    def finalise(self, *, by: Any, at: Any) -> None:
        self.finalised_at, self.finalised_by = at, by


class DeathReviewConclusion(models.Model):
    """One level's review conclusion (评审结论) on a death: the upper level sees the lower ones and may
    disagree; the report's final conclusion is the highest level's."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    report = models.ForeignKey(DeathReport, verbose_name=_("death report"), on_delete=models.PROTECT,
                               related_name="conclusions")
    level = models.CharField(_("review level"), max_length=10, choices=ReviewLevel.choices)
    avoidability = models.CharField(_("conclusion"), max_length=14, choices=Avoidability.choices)
    underlying_cause = models.CharField(_("agreed underlying cause"), max_length=200)
    icd10 = models.CharField(_("ICD-10 code"), max_length=8, validators=[validate_icd10])
    cause_class = models.CharField(_("direct or indirect"), max_length=10, choices=CauseClass.choices)
    icd_mm_group = models.PositiveSmallIntegerField(_("WHO ICD-MM group"), choices=IcdMmGroup.choices)
    disagrees_with_lower = models.BooleanField(_("disagrees with the lower level"), default=False)
    # The main problems found (主要问题) and the panel's reasoning: the column keeps its name ``note``.
    note = narrative_field(_("main problems and reasoning"), blank=True)
    meeting = models.ForeignKey(ReviewMeeting, verbose_name=_("review meeting"), null=True, blank=True,
                                on_delete=models.PROTECT, related_name="conclusions")
    # The 12-cell table (TABLE_CELLS): was there a problem at this stage in this aspect, and what.
    individual_knowledge = _cell("individual", "knowledge")
    individual_knowledge_note = _cell_note("individual", "knowledge")
    individual_attitude = _cell("individual", "attitude")
    individual_attitude_note = _cell_note("individual", "attitude")
    individual_resources = _cell("individual", "resources")
    individual_resources_note = _cell_note("individual", "resources")
    individual_management = _cell("individual", "management")
    individual_management_note = _cell_note("individual", "management")
    health_system_knowledge = _cell("health_system", "knowledge")
    health_system_knowledge_note = _cell_note("health_system", "knowledge")
    health_system_attitude = _cell("health_system", "attitude")
    health_system_attitude_note = _cell_note("health_system", "attitude")
    health_system_resources = _cell("health_system", "resources")
    health_system_resources_note = _cell_note("health_system", "resources")
    health_system_management = _cell("health_system", "management")
    health_system_management_note = _cell_note("health_system", "management")
    other_sectors_knowledge = _cell("other_sectors", "knowledge")
    other_sectors_knowledge_note = _cell_note("other_sectors", "knowledge")
    other_sectors_attitude = _cell("other_sectors", "attitude")
    other_sectors_attitude_note = _cell_note("other_sectors", "attitude")
    other_sectors_resources = _cell("other_sectors", "resources")
    other_sectors_resources_note = _cell_note("other_sectors", "resources")
    other_sectors_management = _cell("other_sectors", "management")
    other_sectors_management_note = _cell_note("other_sectors", "management")
    # The three delays (Delay).
    delay_seeking = _delay(Delay.SEEKING)
    delay_seeking_note = _delay_note(Delay.SEEKING)
    delay_reaching = _delay(Delay.REACHING)
    delay_reaching_note = _delay_note(Delay.REACHING)
    delay_receiving = _delay(Delay.RECEIVING)
    delay_receiving_note = _delay_note(Delay.RECEIVING)
    concluded_at = models.DateTimeField(_("concluded at"))
    concluded_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("concluded by"),
                                     on_delete=models.PROTECT, related_name="+")
    history = HistoricalRecords()

    class Meta:
        ordering = ["report", "concluded_at"]
        verbose_name = _("death review conclusion")
        verbose_name_plural = _("death review conclusions")
        constraints = [models.UniqueConstraint(fields=["report", "level"], name="death_conclusion_once_per_level")]

    def __str__(self) -> str:
        return f"{self.report_id} · {self.level} · {self.avoidability}"

    def clean(self) -> None:
        self.icd10 = normalise_icd10(self.icd10)

    @property
    def table(self) -> list[dict[str, Any]]:
        """The 12-cell table as rows of stages, each with its four cells (for the pages and the minutes)."""
        return [{"stage": stage, "label": stage.label, "cells": [
            {"aspect": aspect, "column": f"{stage.value}_{aspect.value}", "label": aspect.label,
             "value": getattr(self, f"{stage.value}_{aspect.value}"),
             "note": getattr(self, f"{stage.value}_{aspect.value}_note")} for aspect in ReviewAspect]}
            for stage in ReviewStage]

    @property
    def delays(self) -> list[dict[str, Any]]:
        return [{"column": delay.value, "label": delay.label, "value": getattr(self, delay.value),
                 "note": getattr(self, f"{delay.value}_note")} for delay in Delay]

    @property
    def has_table(self) -> bool:
        return any(getattr(self, column) is not None for column in (*CELL_COLUMNS, *DELAY_COLUMNS))


class ReviewOpinion(models.Model):
    """One panel member's agreement with a conclusion, or her dissent and why (评审专家意见)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    conclusion = models.ForeignKey(DeathReviewConclusion, verbose_name=_("conclusion"), on_delete=models.PROTECT,
                                   related_name="opinions")
    member = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("member"), on_delete=models.PROTECT,
                               related_name="+")
    agrees = models.BooleanField(_("agrees with the conclusion"))
    dissent = reason_field(_("dissenting opinion"), blank=True)
    recorded_at = models.DateTimeField(_("recorded at"))
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("recorded by"), on_delete=models.PROTECT,
                                    related_name="+")
    history = HistoricalRecords()

    class Meta:
        ordering = ["conclusion", "recorded_at"]
        verbose_name = _("review opinion")
        verbose_name_plural = _("review opinions")
        constraints = [models.UniqueConstraint(fields=["conclusion", "member"], name="death_opinion_once_per_member")]

    def __str__(self) -> str:
        return f"{self.member} · {'agrees' if self.agrees else 'dissents'}"

    def clean(self) -> None:
        if not self.agrees and not (self.dissent or "").strip():
            raise ValidationError({"dissent": _("Write the dissenting opinion.")})


class ImprovementMeasure(ConcurrentTransitionMixin, models.Model):
    """An improvement measure (改进措施) a review set on a death, tracked to done: an owner institution and a
    due date; open → done with evidence (the institution) → verified by the bureau over it, or back to open
    when the bureau rejects the evidence; cancelled with a reason while open.

    The institution's staff may not see the report itself: what they are shown names the report by its
    anonymous ``reference``, never the woman."""

    class State(models.TextChoices):
        OPEN = "open", pgettext_lazy("improvement measure", "Open")
        DONE = "done", _("Done, awaiting verification")
        VERIFIED = "verified", _("Verified by the bureau")
        CANCELLED = "cancelled", _("Cancelled")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    report = models.ForeignKey(DeathReport, verbose_name=_("death report"), on_delete=models.PROTECT,
                               related_name="measures")
    level = models.CharField(_("review level that set it"), max_length=10, choices=ReviewLevel.choices, blank=True)
    conclusion = models.ForeignKey(DeathReviewConclusion, verbose_name=_("review conclusion"), null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="measures")
    text = narrative_field(_("improvement measure"))
    owner_institution = models.ForeignKey(Institution, verbose_name=_("responsible institution"),
                                          on_delete=models.PROTECT, related_name="improvement_measures")
    due_on = models.DateField(pgettext_lazy("improvement measure", "due on"), db_index=True)
    state = FSMField(_("state"), default=State.OPEN, choices=State.choices, editable=False)
    set_at = models.DateTimeField(_("set at"))
    set_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("set by"), on_delete=models.PROTECT,
                               related_name="+")
    done_at = models.DateTimeField(pgettext_lazy("improvement measure", "done at"), null=True, blank=True, db_index=True)
    done_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("done by"), null=True, blank=True,
                                on_delete=models.PROTECT, related_name="+")
    evidence = narrative_field(_("evidence of what was done"), blank=True)
    verified_at = models.DateTimeField(pgettext_lazy("improvement measure", "verified at"), null=True, blank=True, db_index=True)
    verified_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("verified by"), null=True, blank=True,
                                    on_delete=models.PROTECT, related_name="+")
    verification_note = reason_field(_("verification note"), blank=True)
    rejected_at = models.DateTimeField(_("evidence last rejected at"), null=True, blank=True)
    rejected_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("evidence rejected by"), null=True,
                                    blank=True, on_delete=models.PROTECT, related_name="+")
    rejection_reason = reason_field(_("why the evidence was rejected"), blank=True)
    rejections = models.PositiveSmallIntegerField(_("times the evidence was rejected"), default=0, editable=False)
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)
    cancelled_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("cancelled by"), null=True,
                                     blank=True, on_delete=models.PROTECT, related_name="+")
    cancel_reason = reason_field(_("why cancelled"), blank=True)
    # The report never changes after the measure is set; left out of the history so that the history page, which
    # the owner institution's staff may read, never names the woman (a report's text is her name).
    history = HistoricalRecords(excluded_fields=["report"])

    class Meta:
        ordering = ["due_on", "set_at"]
        verbose_name = _("improvement measure")
        verbose_name_plural = _("improvement measures")
        indexes = [models.Index(fields=["owner_institution", "state"], name="measure_owner_state_idx"),
                   models.Index(fields=["state", "due_on"], name="measure_state_due_idx")]

    def __str__(self) -> str:
        return f"{self.reference} · {self.text[:40]}"

    @property
    def reference(self) -> str:
        """The report's anonymous reference: its county code, the year of death and the report id's first
        eight characters (no name, no document number)."""
        return reference_of(self.report)

    def is_overdue(self, today: Any) -> bool:
        return self.state == self.State.OPEN and self.due_on < today

    # --- Transitions ---

    @transition(field=state, source=State.OPEN, target=State.DONE)
    def mark_done(self, *, by: Any, at: Any, evidence: str) -> None:
        self.done_at, self.done_by, self.evidence = at, by, evidence

    @transition(field=state, source=State.DONE, target=State.VERIFIED)
    def verify(self, *, by: Any, at: Any, note: str) -> None:
        self.verified_at, self.verified_by, self.verification_note = at, by, note

    @transition(field=state, source=State.DONE, target=State.OPEN)
    def reject(self, *, by: Any, at: Any, reason: str) -> None:
        """The evidence does not show the measure done: open again (the rejected evidence stays in the history)."""
        self.rejected_at, self.rejected_by, self.rejection_reason = at, by, reason
        self.rejections += 1
        self.done_at, self.done_by = None, None

    @transition(field=state, source=State.OPEN, target=State.CANCELLED)
    def cancel(self, *, by: Any, at: Any, reason: str) -> None:
        self.cancelled_at, self.cancelled_by, self.cancel_reason = at, by, reason


def reference_of(report: DeathReport) -> str:
    """A death report's anonymous reference, e.g. ``350121-2026-1A2B3C4D``."""
    return f"{report.region_id}-{timezone.localtime(report.died_at):%Y}-{str(report.pk)[:8].upper()}"
