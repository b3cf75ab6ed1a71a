"""The admin: every change asks for a reason (kept in history); every list is scoped to what the admin may
see, and every change to what she may change (organisations/administration.py): seeing is not changing."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.contrib.auth.admin import GroupAdmin as DjangoGroupAdmin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.http import Http404, HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext as _gettext
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from organisations import administration as rules
from organisations.models import (
    AccessLog,
    DutyShift,
    Institution,
    Membership,
    Region,
    RescueCentre,
    Role,
    User,
)
from organisations.scoping import forget_scope
from organisations.selectors import (
    visible_access_logs,
    visible_institutions,
    visible_memberships,
    visible_regions,
    visible_rescue_centres,
    visible_users,
)
from organisations.services import membership_grant


class ReadOnlyAdminMixin:
    """Records written by the system (alerts, deadlines, access log): shown, never edited here."""

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False


class ReasonForm(forms.ModelForm):
    change_reason = forms.CharField(
        label=_("Reason for this change"), max_length=100, required=True,
        help_text=_("Kept in the record's history with your name and the time."),
    )
    # Set per request by the admin: why the record, as edited, may not be saved by this user (None: it may).
    admin_denial: Any = None

    def _post_clean(self) -> None:
        super()._post_clean()  # type: ignore[misc]
        if self.admin_denial is not None and not self.errors:
            reason = self.admin_denial(self)
            if reason:
                self.add_error(None, reason)


class ReasonAdminMixin:
    """Require a change reason and store it, with the user, on the history row; allow a change only where
    the user may change (``may_change`` on the stored record, ``denial`` on the record as edited)."""

    reason_form = ReasonForm
    scoped_fk_selectors: dict[str, Any] = {}

    def may_change(self, request, obj) -> bool:  # type: ignore[no-untyped-def]
        return True

    def denial(self, request, form) -> str | None:  # type: ignore[no-untyped-def]
        return None

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        if not super().has_change_permission(request, obj):  # type: ignore[misc]
            return False
        return obj is None or self.may_change(request, obj)

    def get_form(self, request, obj=None, change=False, **kwargs):  # type: ignore[no-untyped-def]
        kwargs.setdefault("form", type(f"{self.model.__name__}ReasonForm", (self.reason_form,), {}))  # type: ignore[attr-defined]
        form = super().get_form(request, obj, change=change, **kwargs)  # type: ignore[misc]
        admin_ = self

        def check(bound: forms.ModelForm) -> str | None:
            return admin_.denial(request, bound)

        form.admin_denial = staticmethod(check)
        return form

    def get_fieldsets(self, request, obj=None):  # type: ignore[no-untyped-def]
        fieldsets = list(super().get_fieldsets(request, obj))  # type: ignore[misc]
        names = [f for _name, opts in fieldsets for f in opts.get("fields", ())]
        if "change_reason" not in names:
            fieldsets.append((_("Why"), {"fields": ("change_reason",)}))
        return fieldsets

    def save_model(self, request, obj, form, change):  # type: ignore[no-untyped-def]
        # The form has checked this already; a path that skips the form (or a future one) must not.
        if self.denial(request, form):
            raise PermissionDenied
        obj._change_reason = form.cleaned_data.get("change_reason", "")
        obj._history_user = request.user
        super().save_model(request, obj, form, change)  # type: ignore[misc]

    def history_form_view(self, request, object_id, version_id, extra_context=None):  # type: ignore[no-untyped-def]
        # django-simple-history reads the version outside this admin's queryset and saves a POSTed revert
        # for anyone who may merely view the record: out of scope is missing, reverting is changing.
        current = self.get_object(request, unquote(object_id))  # type: ignore[attr-defined]
        if current is None:
            raise Http404
        if request.method == "POST" and not self.has_change_permission(request, current):
            raise PermissionDenied
        return super().history_form_view(request, object_id, version_id, extra_context)  # type: ignore[misc]

    def formfield_for_foreignkey(self, db_field, request, **kwargs):  # type: ignore[no-untyped-def]
        selector = self.scoped_fk_selectors.get(db_field.name)
        if selector is not None:
            kwargs["queryset"] = selector(request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)  # type: ignore[misc]

    def formfield_for_manytomany(self, db_field, request, **kwargs):  # type: ignore[no-untyped-def]
        selector = self.scoped_fk_selectors.get(db_field.name)
        if selector is not None:
            kwargs["queryset"] = selector(request.user)
        return super().formfield_for_manytomany(db_field, request, **kwargs)  # type: ignore[misc]


@admin.register(Region)
class RegionAdmin(ReasonAdminMixin, SimpleHistoryAdmin):
    """Regions the admin may see; she changes only those strictly below her area's own region."""

    list_display = ("code", "name", "level", "parent")
    list_filter = ("level",)
    search_fields = ("code", "name")
    scoped_fk_selectors = {"parent": rules.administered_regions}

    def get_queryset(self, request):  # type: ignore[no-untyped-def]
        return visible_regions(request.user).select_related("parent")

    def get_readonly_fields(self, request, obj=None):  # type: ignore[no-untyped-def]
        # The code is the primary key: "changing" it in a form would overwrite the region of that code.
        return ("code",) if obj is not None else ()

    def may_change(self, request, obj) -> bool:  # type: ignore[no-untyped-def]
        return rules.can_change_region(by=request.user, region=obj)

    def denial(self, request, form) -> str | None:  # type: ignore[no-untyped-def]
        return rules.region_denial(by=request.user, region=form.instance)


@admin.register(Institution)
class InstitutionAdmin(ReasonAdminMixin, SimpleHistoryAdmin):
    """Institutions the admin may see (hers and the centres covering them); she changes those of her area."""

    list_display = ("name", "code", "kind", "level", "region", "prenatal_screening", "prenatal_diagnosis", "is_active")
    list_filter = ("kind", "level", "prenatal_screening", "prenatal_diagnosis", "is_active")
    search_fields = ("name", "code")
    scoped_fk_selectors = {"region": rules.administered_regions}

    def get_queryset(self, request):  # type: ignore[no-untyped-def]
        return visible_institutions(request.user)

    def may_change(self, request, obj) -> bool:  # type: ignore[no-untyped-def]
        return rules.can_change_institution(by=request.user, institution=obj)

    def denial(self, request, form) -> str | None:  # type: ignore[no-untyped-def]
        return rules.institution_denial(by=request.user, institution=form.instance)


@admin.register(RescueCentre)
class RescueCentreAdmin(ReasonAdminMixin, SimpleHistoryAdmin):
    """A covering city or provincial centre is shown, not changed: its duty phone is what senders dial."""

    list_display = ("institution", "level", "duty_phone", "is_active")
    list_filter = ("level", "is_active")
    filter_horizontal = ("regions",)
    # The duty doctors keep the beds current through their page (organisations.services.centre_beds_update).
    readonly_fields = ("icu_beds_available", "delivery_beds_available", "beds_updated_at", "beds_updated_by")
    scoped_fk_selectors = {"institution": rules.administered_institutions, "regions": rules.administered_regions}

    def get_queryset(self, request):  # type: ignore[no-untyped-def]
        return visible_rescue_centres(request.user)

    def may_change(self, request, obj) -> bool:  # type: ignore[no-untyped-def]
        return rules.can_change_centre(by=request.user, centre=obj)

    def denial(self, request, form) -> str | None:  # type: ignore[no-untyped-def]
        return rules.centre_denial(by=request.user, centre=form.instance,
                                   regions=form.cleaned_data.get("regions") or ())


def _membership_users(user: Any) -> Any:
    """Whom the admin may give a membership: users she sees, never herself, a superuser or another admin."""
    users = visible_users(user)
    if rules.is_superuser(user):
        return users
    return users.exclude(Q(pk=user.pk) | Q(is_superuser=True) | Q(is_staff=True))


@admin.register(Membership)
class MembershipAdmin(ReasonAdminMixin, SimpleHistoryAdmin):
    """Memberships the admin may see; she grants and changes them at institutions of her area, for roles
    below her own (``ROLE_RANK``), never her own."""

    list_display = ("user", "institution", "role", "is_active")
    list_filter = ("role", "is_active")
    search_fields = ("user__username", "user__name", "institution__name")
    scoped_fk_selectors = {"institution": rules.administered_institutions, "user": _membership_users}

    def get_queryset(self, request):  # type: ignore[no-untyped-def]
        return visible_memberships(request.user)

    def formfield_for_choice_field(self, db_field, request, **kwargs):  # type: ignore[no-untyped-def]
        if db_field.name == "role":
            allowed = set(rules.grantable_roles(request.user))
            kwargs["choices"] = [(value, label) for value, label in Role.choices if value in allowed]
        return super().formfield_for_choice_field(db_field, request, **kwargs)

    def may_change(self, request, obj) -> bool:  # type: ignore[no-untyped-def]
        return rules.can_change_membership(by=request.user, membership=obj)

    def denial(self, request, form) -> str | None:  # type: ignore[no-untyped-def]
        membership = form.instance
        return rules.membership_denial(
            by=request.user, user=membership.user if membership.user_id else None,
            institution=membership.institution if membership.institution_id else None, role=membership.role)

    def save_model(self, request, obj, form, change):  # type: ignore[no-untyped-def]
        super().save_model(request, obj, form, change)
        forget_scope(obj.user)


class UserAddForm(AdminUserCreationForm):
    """A system admin's new user starts with a role at an institution of her area (so she can see and
    manage the account); a superuser may leave both empty."""

    institution = forms.ModelChoiceField(label=_("institution"), queryset=Institution.objects.none(), required=False)
    role = forms.ChoiceField(label=_("role"), choices=(), required=False)
    change_reason = ReasonForm.base_fields["change_reason"]
    by: Any = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["institution"].queryset = rules.administered_institutions(self.by)  # type: ignore[attr-defined]
        allowed = set(rules.grantable_roles(self.by))
        self.fields["role"].choices = [("", "---------")] + [  # type: ignore[attr-defined]
            (value, label) for value, label in Role.choices if value in allowed]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        institution, role = data.get("institution"), data.get("role")
        if not institution and not role and rules.is_superuser(self.by):
            return data
        if not institution or not role:
            raise ValidationError(_("Give the new user a role at an institution of your area."))
        reason = rules.membership_denial(by=self.by, user=None, institution=institution, role=role)
        if reason:
            raise ValidationError(reason)
        try:
            Membership(institution=institution, role=role).clean()
        except ValidationError as exc:
            raise ValidationError(exc.messages) from exc
        return data


@admin.register(User)
class UserAdmin(ReasonAdminMixin, SimpleHistoryAdmin, DjangoUserAdmin):
    """Users the admin may see. Only a superuser sets the staff and superuser flags; a system admin changes
    the accounts of people who work only in her area, and of herself only the personal details (her
    password on the ordinary password page)."""

    list_display = ("username", "name", "phone_masked", "is_active", "is_staff")
    search_fields = ("username", "name")
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        (_("Personal info"), {"fields": ("name", "phone", "email")}),
        (_("Permissions"), {"fields": ("is_active", "is_staff", "is_superuser")}),
    )
    add_form = UserAddForm
    add_fieldsets = (
        (None, {"classes": ("wide",), "fields": ("username", "name", "phone", "usable_password", "password1",
                                                 "password2")}),
        (_("First membership"), {"fields": ("institution", "role")}),
        (_("Why"), {"fields": ("change_reason",)}),
    )

    def get_form(self, request, obj=None, change=False, **kwargs):  # type: ignore[no-untyped-def]
        if obj is None:  # the add form is Django's own two-password form, with a first membership
            kwargs["form"] = type("UserAddReasonForm", (self.add_form,), {"by": request.user})
            return DjangoUserAdmin.get_form(self, request, obj, change=change, **kwargs)
        kwargs["form"] = type("UserChangeReasonForm", (ReasonForm, self.form), {})
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fieldsets(self, request, obj=None):  # type: ignore[no-untyped-def]
        if obj is None:
            return self.add_fieldsets
        return super().get_fieldsets(request, obj)

    def get_readonly_fields(self, request, obj=None):  # type: ignore[no-untyped-def]
        fields = list(super().get_readonly_fields(request, obj))
        if not rules.is_superuser(request.user):
            fields += ["is_staff", "is_superuser"]
            if obj is not None and obj.pk == request.user.pk:
                fields += ["username", "is_active"]
        return fields

    def may_change(self, request, obj) -> bool:  # type: ignore[no-untyped-def]
        return obj.pk == request.user.pk or rules.user_denial(by=request.user, user=obj) is None

    def denial(self, request, form) -> str | None:  # type: ignore[no-untyped-def]
        by, user = request.user, form.instance
        if rules.is_superuser(by):
            return None
        stored = User.objects.filter(pk=user.pk).values("is_staff", "is_superuser", "is_active").first()
        if stored is None:  # being added
            return _gettext("Only a superuser sets the staff and superuser flags.") if (
                user.is_staff or user.is_superuser) else None
        if (stored["is_staff"], stored["is_superuser"]) != (user.is_staff, user.is_superuser):
            return _gettext("Only a superuser sets the staff and superuser flags.")
        if user.pk == by.pk:
            return None if stored["is_active"] == user.is_active else rules.user_denial(by=by, user=user)
        return rules.user_denial(by=by, user=user)

    def save_model(self, request, obj, form, change):  # type: ignore[no-untyped-def]
        super().save_model(request, obj, form, change)
        if not change and form.cleaned_data.get("institution") and form.cleaned_data.get("role"):
            membership_grant(user=obj, institution=form.cleaned_data["institution"], role=form.cleaned_data["role"],
                             by=request.user, reason=form.cleaned_data.get("change_reason", ""))

    def user_change_password(self, request, id, form_url=""):  # type: ignore[no-untyped-def]
        # One's own password is changed on the ordinary page, which asks for the old one first.
        if str(request.user.pk) == str(unquote(id)) and not rules.is_superuser(request.user):
            return HttpResponseRedirect(reverse("password_change"))
        return super().user_change_password(request, id, form_url)

    @admin.display(description=_("mobile phone"))
    def phone_masked(self, obj: User) -> str:
        return obj.phone_masked

    def get_queryset(self, request):  # type: ignore[no-untyped-def]
        return visible_users(request.user)


if admin.site.is_registered(Group):
    admin.site.unregister(Group)


@admin.register(Group)
class RoleGroupAdmin(DjangoGroupAdmin):
    """The role groups are nationwide: a permission taken from "obstetrician" is taken from every
    obstetrician of every province. Only a superuser changes them; system admins may look."""

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return rules.is_superuser(request.user)

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return rules.is_superuser(request.user)

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return rules.is_superuser(request.user)


@admin.register(AccessLog)
class AccessLogAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("at", "user", "action", "object_type", "summary", "region")
    list_filter = ("action", "object_type")
    date_hierarchy = "at"

    def get_queryset(self, request):  # type: ignore[no-untyped-def]
        return visible_access_logs(request.user)


@admin.register(DutyShift)
class DutyShiftAdmin(ReasonAdminMixin, SimpleHistoryAdmin):
    list_display = ("institution", "user", "kind", "starts_at", "ends_at")
    list_filter = ("kind",)
    date_hierarchy = "starts_at"
    scoped_fk_selectors = {"institution": rules.administered_institutions, "user": visible_users}

    def get_queryset(self, request):  # type: ignore[no-untyped-def]
        return DutyShift.objects.filter(institution__in=visible_institutions(request.user)).select_related(
            "institution", "user")

    def may_change(self, request, obj) -> bool:  # type: ignore[no-untyped-def]
        return rules.can_change_institution(by=request.user, institution=obj.institution)

    def denial(self, request, form) -> str | None:  # type: ignore[no-untyped-def]
        shift = form.instance
        if not shift.institution_id or rules.can_change_institution(by=request.user, institution=shift.institution):
            return None
        return _gettext("You change the rosters of institutions of your own area only.")
