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


# The limit is a validator, not the field's max_length: validators are not part of the database
# schema, so adding them does not rebuild every table (and its history table) on SQLite.
# DRF's ModelSerializer and ``full_clean`` run them all the same.

def reason_field(verbose_name: Any, **kwargs: Any) -> models.TextField:
    return models.TextField(verbose_name, validators=[MaxLengthValidator(REASON_MAX_CHARS)], **kwargs)


def narrative_field(verbose_name: Any, **kwargs: Any) -> models.TextField:
    return models.TextField(verbose_name, validators=[MaxLengthValidator(NARRATIVE_MAX_CHARS)], **kwargs)


def text_limit(field: models.Field) -> int | None:
    """The most characters a text field takes: its max_length, or its MaxLengthValidator's."""
    if not isinstance(field, (models.CharField, models.TextField)):
        return None
    limits = [v.limit_value for v in field.validators if isinstance(v, MaxLengthValidator)]
    if field.max_length:
        limits.append(field.max_length)
    return min(limits) if limits else None  # type: ignore[type-var]


def check_text_lengths(obj: models.Model) -> None:
    """Refuse a text longer than its field allows (SQLite would store it; PostgreSQL would fail with a 500)."""
    errors: dict[str, list[str]] = {}
    for field in obj._meta.concrete_fields:
        limit = text_limit(field)
        if limit is None:
            continue
        value = getattr(obj, field.attname, None)
        if isinstance(value, str) and len(value) > limit:
            try:
                MaxLengthValidator(limit)(value)
            except ValidationError as exc:
                errors[field.name] = exc.messages
    if errors:
        raise ValidationError(errors)
