"""Form bits every process shares: the date and date-time pickers, the institution choice, the confirm box, the reason form, and how a service's refusal lands on a form."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.utils.translation import gettext_lazy as _

from cases.limits import REASON_MAX_CHARS
from cases.plausibility import NeedsConfirmation
from organisations.models import Institution


class DateInput(forms.DateInput):
    """A browser date picker; its value is always ISO, whatever the language."""

    input_type = "date"

    def __init__(self, attrs: dict[str, Any] | None = None, format: str | None = None) -> None:  # noqa: A002
        super().__init__(attrs=attrs, format=format or "%Y-%m-%d")


class InstitutionChoiceMixin:
    def set_institutions(self, institutions: list[Institution]) -> None:
        field = self.fields["institution"]  # type: ignore[attr-defined]
        field.queryset = Institution.objects.filter(pk__in=[i.pk for i in institutions])
        if len(institutions) == 1:
            field.initial = institutions[0].pk
            field.widget = forms.HiddenInput()


class ConfirmMixin:
    """Unusual details come back with their warnings and a "confirm" box; ticked, they are saved."""

    def add_confirm_field(self) -> None:
        self.fields["confirm"] = forms.BooleanField(  # type: ignore[attr-defined]
            label=_("I have checked these unusual details: they are right"), required=False)

    def setup_confirm(self) -> None:
        if getattr(self, "data", None) and self.data.get("confirm"):  # type: ignore[attr-defined]
            self.add_confirm_field()

    @property
    def confirmed(self) -> bool:
        return bool(self.cleaned_data.get("confirm"))  # type: ignore[attr-defined]


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=REASON_MAX_CHARS,
                             widget=forms.Textarea(attrs={"rows": 2}))


def apply_errors(form: Any, exc: ValidationError) -> None:
    if isinstance(exc, NeedsConfirmation) and hasattr(form, "add_confirm_field"):
        form.add_confirm_field()
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            if field == NON_FIELD_ERRORS:
                form.add_error(None, errors)
            elif field in form.fields:
                form.add_error(field, errors)
            else:
                form.add_error(None, [f"{field}: {message}" for message in errors])
    else:
        form.add_error(None, exc.messages)
