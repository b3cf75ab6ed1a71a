"""Organisations: regions, institutions, rescue centres, users and their memberships (roles).

Regions form the administrative tree province → city → county/district, keyed by the 6-digit
GB/T 2260 code. Institutions sit in a region. A user works at institutions through memberships, one
per role; the role decides whether the user sees an area (officers) or an institution (clinicians).
"""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from knox.models import AbstractAuthToken
from knox.settings import CONSTANTS
from simple_history.models import HistoricalRecords

from organisations.personal import mask_phone, normalise_phone, validate_phone
from organisations.uscc import validate_code

region_code_validator = RegexValidator(r"^\d{6}$", _("A region code has exactly six digits (GB/T 2260)."))
institution_code_validator = RegexValidator(r"^[0-9A-Z][0-9A-Z-]{3,31}$",
                                            _("An institution code has 4 to 32 capital letters, digits or hyphens."))


class Region(models.Model):
    class Level(models.TextChoices):
        PROVINCE = "province", _("Province")
        CITY = "city", _("City")
        COUNTY = "county", _("County or district")

    code = models.CharField(_("code"), max_length=6, primary_key=True, validators=[region_code_validator])
    name = models.CharField(pgettext_lazy("name of a place or an organisation", "name"), max_length=60)
    level = models.CharField(_("level"), max_length=10, choices=Level.choices)
    parent = models.ForeignKey(
        "self", verbose_name=_("parent region"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="children",
    )
    # Denormalised ancestors so "everything in this city" is one indexed equality, not a tree walk.
    province = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="+", editable=False
    )
    city = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="+", editable=False
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["code"]
        verbose_name = _("region")
        verbose_name_plural = _("regions")

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        if self.level == self.Level.PROVINCE:
            self.province_id, self.city_id = self.code, None
        elif self.level == self.Level.CITY:
            self.province_id, self.city_id = self.parent_id, self.code
        else:
            parent = self.parent
            self.province_id, self.city_id = (parent.province_id if parent else None), self.parent_id
        super().save(*args, **kwargs)

    def clean(self) -> None:
        expected_parent: dict[str, str | None] = {
            self.Level.PROVINCE: None, self.Level.CITY: self.Level.PROVINCE, self.Level.COUNTY: self.Level.CITY}
        if self.level == self.Level.PROVINCE:
            if self.parent_id:
                raise ValidationError({"parent": _("A province has no parent region.")})
            if self.code and not self.code.endswith("0000"):
                raise ValidationError({"code": _("A province code ends in 0000.")})
        else:
            if not self.parent_id:
                raise ValidationError({"parent": _("A city or county needs its parent region.")})
            parent = self.parent
            assert parent is not None
            if parent.level != expected_parent.get(self.level):
                raise ValidationError({"parent": _("A city sits in a province; a county sits in a city.")})
            if self.code and self.code[:2] != parent.code[:2]:
                raise ValidationError({"code": _("The code does not belong to the parent province.")})
            if self.level == self.Level.CITY and self.code and not self.code.endswith("00"):
                raise ValidationError({"code": _("A city code ends in 00.")})

    @property
    def full_name(self) -> str:
        names = []
        node: Region | None = self
        while node is not None:
            names.append(node.name)
            node = node.parent
        return "".join(reversed(names))


class Institution(models.Model):
    class Kind(models.TextChoices):
        PRIMARY_CARE = "primary_care", _("Primary care facility")
        MIDWIFERY_HOSPITAL = "midwifery_hospital", _("Midwifery hospital")
        MCH_INSTITUTE = "mch_institute", _("Maternal and child health institute")
        HEALTH_BUREAU = "health_bureau", _("Health bureau")

    class Level(models.IntegerChoices):
        PRIMARY = 1, _("Level 1")
        SECONDARY = 2, _("Level 2")
        TERTIARY = 3, _("Level 3")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # The 18-character unified social credit code (统一社会信用代码) or another code unique in the
    # province's systems: what importers and other systems name the institution by.
    code = models.CharField(_("institution code"), max_length=32, unique=True, validators=[institution_code_validator],
                            help_text=_("The unified social credit code (统一社会信用代码), 18 characters."))
    name = models.CharField(pgettext_lazy("name of a place or an organisation", "name"), max_length=120)
    kind = models.CharField(_("kind"), max_length=24, choices=Kind.choices)
    level = models.PositiveSmallIntegerField(_("hospital level"), choices=Level.choices, null=True, blank=True)
    region = models.ForeignKey(Region, verbose_name=_("region"), on_delete=models.PROTECT,
                               related_name="institutions")
    phone = models.CharField(_("switchboard phone"), max_length=20, blank=True, validators=[validate_phone])
    is_active = models.BooleanField(_("active"), default=True)
    # Licensed prenatal services (母婴保健技术服务执业许可: 产前筛查 / 产前诊断). A licensed institution enters its
    # prenatal screening and diagnosis QC figures each period (workflows/prenatal).
    prenatal_screening = models.BooleanField(
        _("licensed for prenatal screening"), default=False,
        help_text=_("Holds the licence for prenatal screening (产前筛查)."))
    prenatal_diagnosis = models.BooleanField(
        _("licensed for prenatal diagnosis"), default=False,
        help_text=_("Holds the licence for prenatal diagnosis (产前诊断)."))
    prenatal_licence_number = models.CharField(
        _("prenatal licence number"), max_length=60, blank=True,
        help_text=_("The number of the maternal and infant health technical service licence (母婴保健技术服务执业许可证)."))
    prenatal_licence_valid_until = models.DateField(_("prenatal licence valid until"), null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["region_id", "name"]
        verbose_name = _("institution")
        verbose_name_plural = _("institutions")
        constraints = [models.UniqueConstraint(fields=["region", "name"], name="institution_unique_name_in_region")]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if self.kind == self.Kind.HEALTH_BUREAU:
            if self.level is not None:
                raise ValidationError({"level": _("A health bureau has no hospital level.")})
        elif self.level is None:
            raise ValidationError({"level": _("Choose the hospital level (1, 2 or 3).")})
        if self.phone:
            self.phone = normalise_phone(self.phone)
        licensed = self.prenatal_screening or self.prenatal_diagnosis
        if licensed and self.kind not in (self.Kind.MIDWIFERY_HOSPITAL, self.Kind.MCH_INSTITUTE):
            raise ValidationError({"kind": _("Only a hospital or an MCH institute is licensed for prenatal "
                                             "screening or diagnosis.")})
        if not licensed and (self.prenatal_licence_number or self.prenatal_licence_valid_until):
            raise ValidationError({"prenatal_licence_number": _(
                "A licence number or date needs prenatal screening or diagnosis ticked.")})
        self.prenatal_licence_number = (self.prenatal_licence_number or "").strip()
        if self.code:
            self.code = self.code.strip().upper()
            try:
                validate_code(self.code)
            except ValidationError as exc:
                raise ValidationError({"code": exc.messages}) from exc


class RescueCentre(models.Model):
    """An institution designated as a critical maternal rescue centre (危重孕产妇救治中心)."""

    class Level(models.TextChoices):
        PROVINCE = "province", _("Provincial centre")
        CITY = "city", _("City centre")
        COUNTY = "county", _("County centre")

    LEVEL_RANK = {Level.COUNTY: 1, Level.CITY: 2, Level.PROVINCE: 3}

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    institution = models.OneToOneField(Institution, verbose_name=_("host institution"),
                                       on_delete=models.PROTECT, related_name="rescue_centre")
    level = models.CharField(_("centre level"), max_length=10, choices=Level.choices)
    regions = models.ManyToManyField(Region, verbose_name=_("responsibility area"), related_name="rescue_centres",
                                     help_text=_("The regions this centre is responsible for (责任片区)."))
    duty_phone = models.CharField(_("duty phone"), max_length=20, validators=[validate_phone])
    contact_note = models.CharField(_("duty contacts"), max_length=200, blank=True,
                                    help_text=_("Who answers the duty phone, and how to reach the deputy."))
    is_active = models.BooleanField(_("active"), default=True)
    # Kept current by the centre's duty doctors; shown to a sender choosing where to refer.
    icu_beds_available = models.PositiveSmallIntegerField(_("obstetric ICU beds free"), null=True, blank=True)
    delivery_beds_available = models.PositiveSmallIntegerField(_("delivery beds free"), null=True, blank=True)
    beds_updated_at = models.DateTimeField(_("beds updated at"), null=True, blank=True)
    beds_updated_by = models.ForeignKey("User", verbose_name=_("beds updated by"), null=True, blank=True,
                                        on_delete=models.PROTECT, related_name="+")
    history = HistoricalRecords(m2m_fields=[regions])

    class Meta:
        ordering = ["institution__name"]
        verbose_name = _("rescue centre")
        verbose_name_plural = _("rescue centres")

    def __str__(self) -> str:
        return f"{self.institution.name}（{self.get_level_display()}）"

    @property
    def rank(self) -> int:
        return self.LEVEL_RANK[self.Level(self.level)]

    def clean(self) -> None:
        institution = getattr(self, "institution", None)
        if institution is None:
            return
        if institution.kind not in (Institution.Kind.MIDWIFERY_HOSPITAL, Institution.Kind.MCH_INSTITUTE):
            raise ValidationError({"institution": _("A rescue centre is hosted by a hospital.")})
        needed = Institution.Level.SECONDARY if self.level == self.Level.COUNTY else Institution.Level.TERTIARY
        if (institution.level or 0) < needed:
            raise ValidationError({"level": _("A county centre needs a level 2 hospital or higher; "
                                              "a city or provincial centre needs a level 3 hospital.")})
        if self.duty_phone:
            self.duty_phone = normalise_phone(self.duty_phone)


class Role(models.TextChoices):
    OBSTETRICIAN = "obstetrician", _("Obstetrician")
    PRIMARY_CARE = "primary_care_doctor", _("Primary-care doctor")
    MCH_OFFICER = "mch_officer", _("MCH officer")
    DUTY_DOCTOR = "duty_doctor", _("Rescue-centre duty doctor")
    BUREAU_OFFICER = "bureau_officer", _("Health-bureau officer")
    EXPERT_REVIEWER = "expert_reviewer", _("Expert reviewer")
    # The person answerable for an institution or bureau (院长, 主任, 局长): summoned to interviews, addressed by
    # circulars. Sees no clinical record by this role alone.
    HEAD = "institution_head", _("Head of the institution")
    SYSTEM_ADMIN = "system_admin", _("System administrator")


# Role sets, each defined once here and used by every process (member_of, acting_institutions in
# organisations/selectors.py). Officers oversee the area of their institution's region; clinicians see
# their institution's work.
AREA_ROLES = frozenset({Role.MCH_OFFICER, Role.BUREAU_OFFICER, Role.EXPERT_REVIEWER, Role.SYSTEM_ADMIN})
# Every clinician: books and screens (primary care with the others), refers a woman, files a near-miss check.
CLINICAL_ROLES = frozenset({Role.OBSTETRICIAN, Role.PRIMARY_CARE, Role.DUTY_DOCTOR})
# Obstetric doctors: grade risk (assessment), hold a high-risk case as its responsible doctor (so have a case
# worklist), staff a rescue centre's referrals and consultations, record a caesarean, stand on its duty roster.
OBSTETRIC_ROLES = frozenset({Role.OBSTETRICIAN, Role.DUTY_DOCTOR})
# Book a pregnancy and screen her (筛查): the first-visit institutions.
BOOKING_ROLES = frozenset({Role.OBSTETRICIAN, Role.PRIMARY_CARE})
# Answer a referral (accept, decline, redirect): the rescue centre's duty doctors.
ANSWERING_ROLES = frozenset({Role.DUTY_DOCTOR})
# Who may be asked by name for a consultation (会诊).
CONSULTANT_ROLES = frozenset({Role.EXPERT_REVIEWER, Role.DUTY_DOCTOR, Role.OBSTETRICIAN})

# How far a role reaches: a clinician works at one institution, an officer oversees an area, a system
# admin runs the accounts of her area. A system admin grants only roles ranked strictly below her own,
# so never the system-admin role itself: only a superuser grants that (organisations/administration.py).
ROLE_RANK: dict[str, int] = {
    Role.OBSTETRICIAN: 1, Role.PRIMARY_CARE: 1, Role.DUTY_DOCTOR: 1,
    Role.MCH_OFFICER: 2, Role.BUREAU_OFFICER: 2, Role.EXPERT_REVIEWER: 2, Role.HEAD: 2,
    Role.SYSTEM_ADMIN: 3,
}

ROLE_INSTITUTION_KINDS: dict[str, set[str]] = {
    Role.OBSTETRICIAN: {Institution.Kind.MIDWIFERY_HOSPITAL, Institution.Kind.MCH_INSTITUTE},
    Role.PRIMARY_CARE: {Institution.Kind.PRIMARY_CARE},
    Role.MCH_OFFICER: {Institution.Kind.MCH_INSTITUTE},
    Role.DUTY_DOCTOR: {Institution.Kind.MIDWIFERY_HOSPITAL, Institution.Kind.MCH_INSTITUTE},
    Role.BUREAU_OFFICER: {Institution.Kind.HEALTH_BUREAU},
    Role.EXPERT_REVIEWER: set(Institution.Kind.values),
    Role.HEAD: set(Institution.Kind.values),
    Role.SYSTEM_ADMIN: set(Institution.Kind.values),
}


# knox ships no types: the plugin cannot see ApiToken.user's reverse manager (auth_token_set) or its fields' types.
class User(AbstractUser):  # type: ignore[django-manager-missing]
    """A person who signs in. ``name`` is the full name as written (Chinese names do not split)."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(_("full name"), max_length=60, blank=True)
    phone = models.CharField(_("mobile phone"), max_length=20, blank=True, validators=[validate_phone],
                             help_text=_("Used for SMS when a critical alert is not acknowledged."))
    history = HistoricalRecords(excluded_fields=["password", "last_login"])

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self) -> str:
        return self.name or self.username

    def get_full_name(self) -> str:
        return self.name or super().get_full_name()

    @property
    def phone_masked(self) -> str:
        return mask_phone(self.phone)

    def clean(self) -> None:
        super().clean()
        if self.phone:
            self.phone = normalise_phone(self.phone)


class Membership(models.Model):
    """A user's role at an institution. One user may hold several (e.g. obstetrician and duty doctor)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(User, verbose_name=_("user"), on_delete=models.CASCADE, related_name="memberships")
    institution = models.ForeignKey(Institution, verbose_name=_("institution"), on_delete=models.PROTECT,
                                    related_name="memberships")
    role = models.CharField(_("role"), max_length=24, choices=Role.choices)
    is_active = models.BooleanField(_("active"), default=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["institution__name", "role"]
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [
            models.UniqueConstraint(fields=["user", "institution", "role"], name="membership_unique_role"),
        ]
        indexes = [models.Index(fields=["institution", "role", "is_active"])]

    def __str__(self) -> str:
        return f"{self.user} · {self.institution} · {self.get_role_display()}"

    def clean(self) -> None:
        institution = getattr(self, "institution", None)
        if institution is None or not self.role:
            return
        if institution.kind not in ROLE_INSTITUTION_KINDS[self.role]:
            raise ValidationError({"role": _("This role cannot be held at this kind of institution.")})
        if self.role == Role.DUTY_DOCTOR and not RescueCentre.objects.filter(institution=institution).exists():
            raise ValidationError({"role": _("Duty doctors work at an institution designated as a rescue centre.")})


class AccessLog(models.Model):
    """Who read or exported which personal record, and when. Written once, never edited."""

    class Action(models.TextChoices):
        VIEW = "view", _("Viewed")
        EXPORT = "export", _("Exported")
        LOOKUP = "lookup", _("Looked up")

    id = models.BigAutoField(primary_key=True)
    at = models.DateTimeField(_("time"), auto_now_add=True, db_index=True)
    user = models.ForeignKey(User, verbose_name=_("user"), on_delete=models.PROTECT, related_name="+")
    action = models.CharField(_("action"), max_length=10, choices=Action.choices)
    object_type = models.CharField(_("record type"), max_length=60)
    object_id = models.CharField(_("record id"), max_length=64, blank=True)
    summary = models.CharField(_("what"), max_length=200, help_text=_("Never contains an ID or phone number."))
    # Where the record belongs, so the bureau of that area can review who read it.
    region = models.ForeignKey(Region, verbose_name=_("region"), null=True, on_delete=models.PROTECT,
                               related_name="+")
    institution = models.ForeignKey(Institution, verbose_name=_("institution"), null=True,
                                    on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("access log entry")
        verbose_name_plural = _("access log")
        default_permissions = ("view",)

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.user} {self.get_action_display()} {self.summary}"


class RoleDefaultGrant(models.Model):
    """Bookkeeping: this default permission was granted to this role's group once (see roles.py)."""

    role = models.CharField(max_length=24, choices=Role.choices)
    permission = models.CharField(max_length=150)
    granted_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["role", "permission"], name="role_default_grant_once")]
        default_permissions = ()

    def __str__(self) -> str:
        return f"{self.role}: {self.permission}"


class DutyShift(models.Model):
    """A person on the roster of an institution for a period: on duty (值班) or on call (二线备班).

    Alerts to "the duty doctor" go to whoever is on duty at that moment; the on-call doctor is the
    deputy that escalations reach first.
    """

    class Kind(models.TextChoices):
        DUTY = "duty", _("On duty")
        ON_CALL = "on_call", _("On call (deputy)")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    institution = models.ForeignKey(Institution, verbose_name=_("institution"), on_delete=models.PROTECT,
                                    related_name="shifts")
    user = models.ForeignKey(User, verbose_name=_("doctor"), on_delete=models.PROTECT, related_name="shifts")
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.DUTY)
    starts_at = models.DateTimeField(_("starts"))
    ends_at = models.DateTimeField(_("ends"))
    handover_note = models.TextField(_("handover note"), blank=True,
                                     help_text=_("What the next shift must know: women in the centre, "
                                                 "referrals on the way, beds, equipment."))
    handover_at = models.DateTimeField(_("handed over at"), null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["institution", "starts_at"]
        verbose_name = _("duty shift")
        verbose_name_plural = _("duty roster")
        indexes = [models.Index(fields=["institution", "kind", "starts_at", "ends_at"])]
        constraints = [
            models.CheckConstraint(condition=models.Q(ends_at__gt=models.F("starts_at")),
                                   name="shift_ends_after_start"),
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.get_kind_display()} · {self.starts_at:%Y-%m-%d %H:%M}"

    def clean(self) -> None:
        if self.starts_at and self.ends_at and self.ends_at <= self.starts_at:
            raise ValidationError({"ends_at": _("A shift ends after it starts.")})
        if self.starts_at and self.ends_at and (self.ends_at - self.starts_at).total_seconds() > 72 * 3600:
            raise ValidationError({"ends_at": _("A shift lasts at most 72 hours.")})
        if self.user_id and self.institution_id and not Membership.objects.filter(
            user_id=self.user_id, institution_id=self.institution_id, is_active=True
        ).exists():
            raise ValidationError({"user": _("Only staff of this institution can be on its roster.")})


# --- Machine clients: other systems calling the API with tokens ---------------------------------------------

# The roles a machine client may hold: the clinical and officer roles whose reads and steps another system
# does on an institution's behalf. Never a system admin or a head (they run accounts or answer for people),
# nor an expert reviewer (a person named for her judgement).
API_CLIENT_ROLES = (Role.OBSTETRICIAN, Role.PRIMARY_CARE, Role.DUTY_DOCTOR, Role.MCH_OFFICER, Role.BUREAU_OFFICER)


class ApiClient(models.Model):
    """A machine client (接口账号): another system — a hospital's HIS, the provincial MCH platform — that
    calls the API with tokens.

    It is a ``User`` of its own (``user``), so every scoped selector scopes it like a person: its roles
    are ordinary ``Membership`` rows at its one ``institution``. It is a model beside the user rather than a
    flag on ``User`` because what only a machine has — the system it is, the one institution it is bound to,
    whether it is switched on, who set it up — stays off every person's row, and "is this a machine?" is one
    indexed one-to-one (``user.api_client``). Its user has no usable password and never signs in through the
    login form (``organisations/backends.py``); it authenticates only with its tokens
    (``organisations/tokens.py``), which a system admin of its area issues and revokes.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.OneToOneField(User, verbose_name=_("account"), on_delete=models.PROTECT, related_name="api_client",
                                editable=False)
    name = models.CharField(pgettext_lazy("name of a place or an organisation", "name"), max_length=60,
                            help_text=_("How the client is named in the log of its calls."))
    system = models.CharField(_("system"), max_length=120,
                              help_text=_("Which system calls the API, e.g. the HIS of a county hospital."))
    institution = models.ForeignKey(Institution, verbose_name=_("institution"), on_delete=models.PROTECT,
                                    related_name="api_clients")
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    created_by = models.ForeignKey(User, verbose_name=_("created by"), null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="+")
    history = HistoricalRecords()

    class Meta:
        ordering = ["institution__name", "name"]
        verbose_name = _("machine client")
        verbose_name_plural = _("machine clients")

    def __str__(self) -> str:
        return self.name


def is_service_account(user: object) -> bool:
    """``user`` is a machine client's account (one query at most, then cached on the user object)."""
    if not getattr(user, "is_authenticated", False) or getattr(user, "pk", None) is None:
        return False
    try:
        return getattr(user, "api_client", None) is not None
    except ApiClient.DoesNotExist:
        return False


class ApiToken(AbstractAuthToken):
    """A knox token of a machine client (``KNOX_TOKEN_MODEL``): stored as a hash (``digest``), never in full;
    ``token_key`` is the start shown to tell tokens apart. Revoking deletes the row (knox's way); the history
    keeps who issued and who revoked it, never the digest."""

    id: Any = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    digest: Any = models.CharField(max_length=CONSTANTS.DIGEST_LENGTH, unique=True, editable=False)
    created_by: Any = models.ForeignKey(User, verbose_name=_("issued by"), null=True, blank=True,
                                        on_delete=models.PROTECT, related_name="+")
    history = HistoricalRecords(excluded_fields=["digest"])

    class Meta:
        ordering = ["-created"]
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self) -> str:
        return f"{self.token_key}…"
