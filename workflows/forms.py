"""Form bits every process shares: the institution choice, the confirm box, the reason form. The pickers,
the empty form and ``apply_errors`` are in organisations/forms.py, re-exported here for the processes."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from cases.limits import REASON_MAX_CHARS
from organisations.forms import DateInput, DateTimeLocalInput, EmptyForm, apply_errors, datetime_local_field
from organisations.models import Institution

__all__ = [
    "ConfirmMixin", "DateInput", "DateTimeLocalInput", "EmptyForm", "InstitutionChoiceMixin", "ReasonForm",
    "apply_errors", "datetime_local_field",
]


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
