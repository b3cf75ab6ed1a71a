"""Open alert sockets follow the login that opened them (decoupled from auth, hence signals).

A session that logs out closes its sockets, and so does every session of a user who is deactivated:
their sockets would otherwise keep receiving alerts, women's names included. Both are pushes, best
effort; the consumer's periodic re-check (ALERT_SOCKET_RECHECK_SECONDS) closes what they miss.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.signals import user_logged_out
from django.db import transaction
from django.db.models.signals import post_save
from django.dispatch import receiver

from notifications import push


@receiver(user_logged_out, dispatch_uid="anmu-alert-sockets-logout")
def close_sockets_on_logout(sender: Any, request: Any = None, user: Any = None, **kwargs: Any) -> None:
    session_key = getattr(getattr(request, "session", None), "session_key", None)
    if session_key:
        push.push_sessions_ended(session_key=session_key)


@receiver(post_save, sender=settings.AUTH_USER_MODEL, dispatch_uid="anmu-alert-sockets-deactivated")
def close_sockets_on_deactivation(sender: Any, instance: Any, update_fields: Any = None, **kwargs: Any) -> None:
    if instance.is_active or (update_fields is not None and "is_active" not in update_fields):
        return
    user_id = instance.pk
    transaction.on_commit(lambda: push.push_sessions_ended(user_id=user_id), robust=True)
