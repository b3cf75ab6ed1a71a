"""Out of scope looks exactly like missing (404); in scope but not allowed is 403 with a reason."""

from __future__ import annotations

from typing import Any, TypeVar

from django.core.exceptions import ObjectDoesNotExist, PermissionDenied, ValidationError
from django.db.models import Model, QuerySet
from django.http import Http404
from django.utils.translation import gettext as _

M = TypeVar("M", bound=Model)


def get_visible_or_404(queryset: QuerySet[M], **lookup: Any) -> M:
    """Fetch one object from an already scoped queryset; a bad id, a missing record and a record out
    of scope all give the same 404."""
    try:
        return queryset.get(**lookup)
    except (ObjectDoesNotExist, ValidationError, ValueError):
        raise Http404(_("Not found.")) from None


class ActionDenied(PermissionDenied):
    """Raised with a translated reason; rendered as a 403 page or a 403 JSON body."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class TransitionConflict(ActionDenied):
    """The record is no longer in a state that allows this step (someone else acted first): 409 in the
    API, the same explanatory page as a refusal in the UI."""
