"""Scoped reads of alerts: a person sees the alerts addressed to them, and nothing else."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from notifications.models import Alert


def visible_alerts(user: Any) -> QuerySet[Alert]:
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return Alert.objects.none()
    return Alert.objects.filter(recipient=user)
