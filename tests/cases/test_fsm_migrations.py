"""The migrations' historical models leave no django-fsm receiver behind (each one used to, and a fresh
``migrate`` spent most of its time calling them); the real models keep their transitions."""

from __future__ import annotations

from django.db.migrations.loader import MigrationLoader
from django.db.models.signals import class_prepared

from cases.models import HighRiskCase


def _receivers() -> int:
    return sum(1 for _key, receiver, *_ in class_prepared.receivers)


def test_rendering_the_migration_state_connects_no_receiver():
    state = MigrationLoader(None, ignore_no_migrations=True).project_state()
    before = _receivers()
    historical = state.apps  # renders every model of the latest state
    assert historical.get_model("cases", "HighRiskCase") is not HighRiskCase
    assert _receivers() == before


def test_the_real_models_keep_their_transitions():
    names = {t.name for t in HighRiskCase._meta.get_field("state").get_all_transitions(HighRiskCase)}
    assert {"report", "start_management", "record_delivery", "start_postpartum", "mark_lost"} <= names
