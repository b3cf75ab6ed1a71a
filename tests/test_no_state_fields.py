"""A state changes only through a named transition: no form and no writable serializer field may set a status
or state (the promised guard; it reads every form and serializer class of the project's packages)."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import pytest
from django import forms
from rest_framework import serializers

STATE_NAMES = {"state", "status"}


def _is_filter(cls: type) -> bool:
    """A list's filter (RegisterFilterForm, ListFilterSerializer) reads a state to narrow a list; it sets none."""
    return "Filter" in cls.__name__
PACKAGES = ("workflows", "organisations", "notifications", "cases")


def _modules():  # type: ignore[no-untyped-def]
    for name in PACKAGES:
        package = importlib.import_module(name)
        yield package
        for info in pkgutil.walk_packages(package.__path__, prefix=f"{name}."):
            if ".migrations" in info.name or info.name.endswith((".tests", ".apps")):
                continue
            yield importlib.import_module(info.name)


def _classes(base: type) -> list[type]:
    found = {}
    for module in _modules():
        for _name, value in inspect.getmembers(module, inspect.isclass):
            if issubclass(value, base) and value.__module__.split(".")[0] in PACKAGES:
                found[f"{value.__module__}.{value.__qualname__}"] = value
    return list(found.values())


@pytest.mark.django_db
def test_no_form_lists_a_status_or_state_field():
    forms_found = _classes(forms.BaseForm)
    assert len(forms_found) > 30  # the guard reads the real forms, not an empty list
    offending = [f"{form.__module__}.{form.__qualname__}.{name}" for form in forms_found if not _is_filter(form)
                 for name in getattr(form, "base_fields", {}) if name in STATE_NAMES]
    assert offending == []


@pytest.mark.django_db
def test_no_serializer_writes_a_status_or_state_field():
    found = [s for s in _classes(serializers.Serializer) if not inspect.isabstract(s) and not _is_filter(s)]
    assert len(found) > 5
    offending = []
    for serializer_class in found:
        for name, field in serializer_class().fields.items():
            source = getattr(field, "source", name) or name
            if (name in STATE_NAMES or source.split(".")[-1] in STATE_NAMES) and not field.read_only:
                offending.append(f"{serializer_class.__module__}.{serializer_class.__qualname__}.{name}")
    assert offending == []


def test_the_guard_would_see_a_state_field():
    class Bad(forms.Form):
        state = forms.CharField()

    assert "state" in Bad.base_fields
