"""The session-cookie sign-in of the browser tests (tests/browser/__init__.py) makes a session Django accepts,
for the user named and only with the key of the server that reads it. No browser needed."""

from __future__ import annotations

import datetime as dt

import pytest
from django.conf import settings
from django.contrib.sessions.models import Session
from django.test import Client, override_settings
from django.utils import timezone

from organisations.models import User
from tests.browser import new_session_key


def signed_in_as(session_key: str) -> object:
    client = Client()
    client.cookies[settings.SESSION_COOKIE_NAME] = session_key
    response = client.get("/")
    return response.wsgi_request.user


@pytest.mark.django_db
def test_session_made_for_the_browser_is_a_signed_in_session():
    user = User.objects.create_user(username="cookie_doctor", password="pw-123456-long")  # noqa: S106
    key, data = new_session_key(user.username, password_hash=user.password, user_id=user.pk)
    Session.objects.create(session_key=key, session_data=data, expire_date=timezone.now() + dt.timedelta(hours=1))
    assert signed_in_as(key) == user


@pytest.mark.django_db
def test_session_signed_with_another_servers_key_is_refused():
    user = User.objects.create_user(username="cookie_doctor", password="pw-123456-long")  # noqa: S106
    key, data = new_session_key(user.username, password_hash=user.password, user_id=user.pk,
                                secret_key="another-server-key-0123456789-abcdefghijklmnopqrstuvwxyz")
    Session.objects.create(session_key=key, session_data=data, expire_date=timezone.now() + dt.timedelta(hours=1))
    assert not signed_in_as(key).is_authenticated
    with override_settings(SECRET_KEY="another-server-key-0123456789-abcdefghijklmnopqrstuvwxyz"):
        assert signed_in_as(key) == user
