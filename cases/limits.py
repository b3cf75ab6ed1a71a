"""Length limits of the free text people type, and the checks that keep implausible data out.

Two sizes: a *reason* (why a step was taken, a note, a diagnosis: a paragraph) and a *narrative*
(a plan, a course of treatment, feedback, findings: a page or two). Every user-filled TextField
uses one of them through :func:`reason_field` / :func:`narrative_field`, so the form, the
serializer and the model (``full_clean`` and :func:`check_text_lengths`, which every service save
runs) all refuse a longer text.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator
from django.db import models

REASON_MAX_CHARS = 2_000
NARRATIVE_MAX_CHARS = 10_000


def reason_field(verbose_name: Any, **kwargs: Any) -> models.TextField:
    return models.TextField(verbose_name, max_length=REASON_MAX_CHARS,
                            validators=[MaxLengthValidator(REASON_MAX_CHARS)], **kwargs)


def narrative_field(verbose_name: Any, **kwargs: Any) -> models.TextField:
    return models.TextField(verbose_name, max_length=NARRATIVE_MAX_CHARS,
                            validators=[MaxLengthValidator(NARRATIVE_MAX_CHARS)], **kwargs)


def check_text_lengths(obj: models.Model) -> None:
    """Refuse a text longer than its field allows (SQLite would store it; PostgreSQL would fail with a 500)."""
    errors: dict[str, list[str]] = {}
    for field in obj._meta.concrete_fields:
        if not isinstance(field, (models.CharField, models.TextField)) or not field.max_length:
            continue
        value = getattr(obj, field.attname, None)
        if isinstance(value, str) and len(value) > field.max_length:
            try:
                MaxLengthValidator(field.max_length)(value)
            except ValidationError as exc:
                errors[field.name] = exc.messages
    if errors:
        raise ValidationError(errors)
