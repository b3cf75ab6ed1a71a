"""Form bits every page shares, from the lowest layer so that every package may use them: the date and
date-time pickers, the empty confirmation form, and how a service's refusal lands on a form."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError

# What a browser's datetime-local input sends, whatever the language.
DATETIME_LOCAL = "%Y-%m-%dT%H:%M"


class DateInput(forms.DateInput):
    """A browser date picker; its value is always ISO, whatever the language."""

    input_type = "date"

    def __init__(self, attrs: dict[str, Any] | None = None, format: str | None = None) -> None:  # noqa: A002
        super().__init__(attrs=attrs, format=format or "%Y-%m-%d")


class DateTimeLocalInput(forms.DateTimeInput):
    """A browser date-and-time picker (local time, minutes)."""

    input_type = "datetime-local"

    def __init__(self, attrs: dict[str, Any] | None = None, format: str | None = None) -> None:  # noqa: A002
        super().__init__(attrs=attrs, format=format or DATETIME_LOCAL)


def datetime_local_field(label: Any, **kwargs: Any) -> forms.DateTimeField:
    """A date-time field for the picker that also takes "YYYY-MM-DD HH:MM" typed by hand."""
    return forms.DateTimeField(label=label, input_formats=[DATETIME_LOCAL, "%Y-%m-%d %H:%M"],
                               widget=DateTimeLocalInput(), **kwargs)


class EmptyForm(forms.Form):
    """A step with nothing to fill in: the button is the whole form."""


def apply_errors(form: Any, exc: ValidationError) -> None:
    """A service's ValidationError onto the form: each message on its field, or above the form naming the field
    the form does not show. A request to confirm unusual details (``needs_confirmation``) adds the confirm box."""
    if getattr(exc, "needs_confirmation", False) and hasattr(form, "add_confirm_field"):
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
