"""The bureau's desk (约谈通报工作台) and an institution's inbox: where the application opens."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy

from workflows.interview import permissions as p
from workflows.interview.permissions import may_open

__all__ = ["DENIED", "home", "interview_menu", "may_open"]

DENIED = gettext_lazy("Interviews and circulars open to members of an institution or bureau.")

# Sections of the desk and the inbox: each sub-domain appends (label, template, context function).
DESK_SECTIONS: list[Any] = []
INBOX_SECTIONS: list[Any] = []


def interview_menu(user: Any) -> dict[str, bool]:
    return {"desk": p.has_desk(user), "inbox": p.may_open(user)}


@login_required
def home(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    desk = p.has_desk(user)
    sections = [(label, template, ctx(user)) for label, template, ctx in (DESK_SECTIONS if desk else [])]
    inbox = [(label, template, ctx(user)) for label, template, ctx in INBOX_SECTIONS]
    return render(request, "interview/home.html", {"desk": desk, "sections": sections, "inbox": inbox})
