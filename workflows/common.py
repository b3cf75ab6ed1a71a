"""Small helpers every process service uses."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext as _

from cases.limits import check_text_lengths
from organisations.http import ActionDenied, TransitionConflict
from organisations.models import Institution
from organisations.selectors import member_of


def save_with_history(obj: models.Model, *, by: Any, reason: str, update_fields: list[str] | None = None) -> None:
    """Save with the history row's user and reason (simple-history reads these two attributes).

    A text longer than its field allows is refused here, so every service (and the API and imports
    behind them) answers it as a field error."""
    check_text_lengths(obj)
    obj._history_user = by  # type: ignore[attr-defined]
    obj._change_reason = reason[:100]  # type: ignore[attr-defined]
    if update_fields is not None and "updated_at" not in update_fields and any(
            getattr(field, "auto_now", False) and field.name == "updated_at" for field in obj._meta.concrete_fields):
        # A partial save is a change too: the API's sync (updated_since, the cursor) must see it.
        update_fields = [*update_fields, "updated_at"]
    obj.save(update_fields=update_fields)


def require_member(*, user: Any, institution: Institution, roles: set[str] | frozenset[str]) -> None:
    """The user acts for ``institution`` in one of ``roles``, or is refused with a reason."""
    if not member_of(user=user, institution=institution, roles=roles):
        raise ActionDenied(_("You do not hold a role at %(institution)s that allows this.")
                           % {"institution": institution.name})


def require_step(allowed: bool, record: Any, states: Iterable[str], reason: str) -> None:
    """A step of a record's state machine: 403 with ``reason`` when the role does not allow it, 409 when the
    record's state has moved on (another user took the step first)."""
    if not allowed:
        raise ActionDenied(reason)
    if record.state not in tuple(states):
        raise TransitionConflict(_("This step is no longer open: it is now “%(state)s”.")
                                 % {"state": record.get_state_display()})


def required_text(value: Any, field: str, message: str) -> str:
    """A text a step needs (a reason, a summary): stripped, or a field error with ``message``."""
    text = (value or "").strip()
    if not text:
        raise ValidationError({field: [message]})
    return text


def require_perm(*, user: Any, perm: str, reason: str) -> None:
    if not user.has_perm(perm):
        raise ActionDenied(reason)


def require_view_women(user: Any) -> None:
    """Every page about a woman (the register, her record, her pregnancies, the assessment worklist)."""
    require_perm(user=user, perm="cases.view_woman", reason=_("Your role does not include reading women's records."))


def uploads_validate(model: type[models.Model], uploads: Any) -> list[Any]:
    """Every file checked by ``model``'s ``file`` validators before anything is written: one bad file refuses
    them all, each message naming its file (the field error ``files``)."""
    from pathlib import PurePosixPath

    from django.core.exceptions import ValidationError

    uploads = list(uploads)
    errors: list[str] = []
    for upload in uploads:
        try:
            model._meta.get_field("file").run_validators(upload)  # type: ignore[union-attr]
        except ValidationError as exc:
            errors.extend(f"{PurePosixPath(upload.name).name}: {m}" for m in exc.messages)
    if errors:
        raise ValidationError({"files": errors})
    if not uploads:
        raise ValidationError({"files": _("Choose at least one file.")})
    return uploads
