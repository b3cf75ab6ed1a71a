"""The entry grid's form: one whole-number field per data element the institution enters, checked by the same
rule as the service (``cases.models.validate_prenatal_values``), so a wrong entry comes back with its field
errors before anything is saved."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from cases.models import PrenatalDataElement, PrenatalIndicator, validate_prenatal_values
from workflows.forms import ReasonForm, apply_errors

__all__ = ["EntryForm", "ReasonForm"]


def element_name(element: PrenatalDataElement) -> str:
    language = translation.get_language() or "zh-hans"
    return element.name_zh if language.lower().startswith("zh") else element.name_en


class EntryForm(forms.Form):
    def __init__(self, *args: Any, elements: list[PrenatalDataElement], indicators: list[PrenatalIndicator],
                 disabled: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.elements, self.indicators = elements, indicators
        for element in elements:
            self.fields[element.code] = forms.IntegerField(
                label=element_name(element), required=False, min_value=0, max_value=10_000_000,
                help_text=element.definition, disabled=disabled,
                error_messages={"invalid": _("Enter a whole number, 0 or more."),
                                "min_value": _("Enter a whole number, 0 or more.")},
                widget=forms.NumberInput(attrs={"min": 0, "step": 1, "inputmode": "numeric"}))

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if self.errors:
            return cleaned
        try:
            validate_prenatal_values({e.code: cleaned.get(e.code) for e in self.elements}, self.indicators)
        except ValidationError as exc:
            apply_errors(self, exc)
        return cleaned

    def values(self) -> dict[str, int | None]:
        return {element.code: self.cleaned_data.get(element.code) for element in self.elements}

    def rows(self) -> list[tuple[PrenatalDataElement, forms.BoundField]]:
        """The grid: each data element beside its field."""
        return [(element, self[element.code]) for element in self.elements]
