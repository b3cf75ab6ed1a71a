"""Sign-in pages: the lockout answer of django-axes, and a password reset only where e-mail works."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from viewflow.contrib.auth import AuthenticationForm, AuthViewset


def lockout_message() -> str:
    return _(
        "Too many failed sign-ins: this user name or this computer is locked for %(minutes)s minutes. "
        "Try again later, or ask your system administrator to unlock it."
    ) % {"minutes": settings.AXES_COOLOFF_MINUTES}


def lockout_response(request: HttpRequest, original_response: Any = None, credentials: Any = None) -> HttpResponse:
    """``AXES_LOCKOUT_CALLABLE``: the login page again (status 429) with the lockout message, and no
    password checked."""
    username = (credentials or {}).get("username") or request.POST.get("username", "")
    form = AuthenticationForm(request, initial={"username": username})
    return render(request, "registration/login.html", {"form": form, "lockout_message": lockout_message()},
                  status=429)


class AnmuAuthViewset(AuthViewset):
    """viewflow's login, logout and password change; the password reset pages exist only when
    ``EMAIL_HOST`` is set, since a reset sends its link by e-mail."""

    def _with_email(self, pattern: Any) -> Any:
        return pattern if settings.EMAIL_CONFIGURED else None

    @property
    def pass_reset_path(self):  # type: ignore[no-untyped-def]
        return self._with_email(super().pass_reset_path)

    @property
    def pass_reset_done_path(self):  # type: ignore[no-untyped-def]
        return self._with_email(super().pass_reset_done_path)

    @property
    def pass_reset_confirm_path(self):  # type: ignore[no-untyped-def]
        return self._with_email(super().pass_reset_confirm_path)

    @property
    def pass_reset_complete_path(self):  # type: ignore[no-untyped-def]
        return self._with_email(super().pass_reset_complete_path)
