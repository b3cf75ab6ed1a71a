"""django-fsm-2 in the migrations' historical models.

``FSMFieldMixin.contribute_to_class`` connects a ``class_prepared`` receiver for every class the field is put
on, so that it can collect the class's transition methods. The migration framework renders each model many
times over (every operation re-renders the models it touches and their relations), and every rendering left
one more receiver behind until the garbage collector came round: a fresh ``migrate`` spent more than half of
its five minutes calling them (cProfile, 2026-12-02: 22 million calls to ``_collect_transitions`` for 35 000
rendered classes). A historical model has no methods, so it has no transitions to collect; for those classes
the receiver is disconnected again as soon as the field is set up.
"""

from __future__ import annotations

from typing import Any

from django.apps import apps as global_apps
from django.db.models.signals import class_prepared
from django_fsm import FSMFieldMixin

_original = FSMFieldMixin.contribute_to_class


def _contribute_to_class(self: Any, cls: type, name: str, private_only: bool = False, **kwargs: Any) -> None:
    _original(self, cls, name, private_only=private_only, **kwargs)
    if cls._meta.apps is not global_apps:  # type: ignore[attr-defined]
        class_prepared.disconnect(self._collect_transitions)


def install() -> None:
    """Idempotent; called from ``CasesConfig.ready`` before any migration renders a model."""
    if FSMFieldMixin.contribute_to_class is not _contribute_to_class:
        FSMFieldMixin.contribute_to_class = _contribute_to_class  # type: ignore[method-assign]
