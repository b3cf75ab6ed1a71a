"""The per-record history page: who changed what, when and why, for any model with history.

Each app registers its models with the selector that scopes them, so the history page of a record
is exactly as visible as the record itself.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import models
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from organisations.reasons import reason_display

Selector = Callable[[Any], QuerySet]

_REGISTRY: dict[str, Selector] = {}
# Fields never shown in a history diff (secrets and personal numbers are masked, not hidden).
HIDDEN_FIELDS = {"password", "history_change_reason", "last_login"}


def history_register(model: type[models.Model], selector: Selector) -> None:
    _REGISTRY[model._meta.label_lower] = selector


def history_selector(label: str) -> Selector | None:
    return _REGISTRY.get(label.lower())


@dataclass
class FieldChange:
    field: str
    old: str
    new: str


@dataclass
class HistoryEntry:
    when: Any
    who: str
    kind: str
    reason: str
    changes: list[FieldChange]


def _display(model: type[models.Model], field_name: str, value: Any, masker: Callable[[str, Any], str]) -> str:
    if value is None or value == "":
        return "—"
    try:
        field: Any = model._meta.get_field(field_name)
    except Exception:
        return str(value)
    if getattr(field, "choices", None):
        return str(dict(field.flatchoices).get(value, value))
    if isinstance(field, models.BooleanField):
        return _("yes") if value else _("no")
    if field.is_relation and field.related_model is not None:
        related = field.related_model._default_manager.filter(pk=value).first()
        return str(related) if related is not None else str(value)
    return masker(field_name, value)


def _default_masker(field_name: str, value: Any) -> str:
    from organisations.personal import mask_id_number, mask_phone

    if "phone" in field_name:
        return mask_phone(str(value))
    if field_name in {"id_number", "document_number"}:
        return mask_id_number(str(value))
    return str(value)


def history_entries(obj: models.Model, *, masker: Callable[[str, Any], str] = _default_masker) -> list[HistoryEntry]:
    """Newest first. Each entry lists the fields that changed against the previous version."""
    model = type(obj)
    kinds = {"+": _("created"), "~": _("changed"), "-": _("deleted")}
    records = list(obj.history.all().select_related("history_user").order_by("history_date", "history_id"))  # type: ignore[attr-defined]
    entries: list[HistoryEntry] = []
    previous = None
    for record in records:
        changes: list[FieldChange] = []
        if previous is None:
            for field in model._meta.concrete_fields:
                if field.name in HIDDEN_FIELDS or field.primary_key:
                    continue
                value = getattr(record, field.attname, None)
                if value not in (None, ""):
                    changes.append(FieldChange(str(field.verbose_name), "—",
                                               _display(model, field.name, value, masker)))
        else:
            delta = record.diff_against(previous, excluded_fields=list(HIDDEN_FIELDS & {
                f.name for f in model._meta.concrete_fields}))
            for change in delta.changes:
                try:
                    verbose = str(getattr(model._meta.get_field(change.field), "verbose_name", change.field))
                except Exception:
                    verbose = change.field
                changes.append(FieldChange(verbose, _display(model, change.field, change.old, masker),
                                           _display(model, change.field, change.new, masker)))
        user = record.history_user
        entries.append(HistoryEntry(
            when=record.history_date,
            who=(str(user) if user else _("system")),
            kind=kinds.get(record.history_type, record.history_type),
            reason=reason_display(record.history_change_reason),
            changes=changes,
        ))
        previous = record
    entries.reverse()
    return entries
