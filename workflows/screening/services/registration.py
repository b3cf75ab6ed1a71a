"""Registering a woman (found by document number, never duplicated), merging duplicates, booking a pregnancy."""

from __future__ import annotations

import contextlib
import datetime as dt
from typing import Any, NoReturn

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop

from cases.identity import id_birth_date, normalise_id_number
from cases.models import (
    Pregnancy,
    Woman,
    WomanLink,
)
from cases.models.plausibility import NeedsConfirmation, pregnancy_warnings, woman_warnings
from cases.rules import settings_for
from cases.selectors import visible_women
from notifications.recipients import to_role
from notifications.services import alert_raise
from organisations.http import ActionDenied, TransitionConflict
from organisations.models import (
    BOOKING_ROLES,
    AccessLog,
    Institution,
    Region,
)
from organisations.services import access_record
from workflows.common import require_perm, save_with_history
from workflows.screening import permissions


def woman_register(
    *, by: Any, institution: Institution, name: str, id_type: str, id_number: str = "", no_id_reason: str = "",
    date_of_birth: dt.date | None = None, phone: str = "", residence_region: Region, confirmed: bool = False,
    external_id: str = "",
) -> tuple[Woman, bool]:
    """Register a woman, or find her: one woman per document number. Returns (woman, created).

    Finding an existing record needs a second factor: her name and date of birth must match the record
    (a mismatch is refused without saying which differs, and the attempt is logged). A second
    institution that finds her may see her from then on: the look-up is logged and the institutions
    that already hold her record are told. Unusual details (a resident ID that GB 11643 gives to a man,
    an age outside the province's usual range) are saved only with ``confirmed=True``.

    ``external_id`` is the id the caller's system gives her (the API's, an importer's): another record's is
    refused; a woman found who has none gets it, one who has her own keeps it."""
    permissions.check("register", by, institution)
    number = normalise_id_number(id_number)
    external_id = (external_id or "").strip()
    rules = settings_for(institution)
    born = date_of_birth
    if born is None and id_type == Woman.IdType.RESIDENT_ID:
        with contextlib.suppress(ValueError):  # full_clean() names a bad ID number
            born = id_birth_date(number)
    for _attempt in range(2):
        mismatch: Woman | None = None
        try:
            with transaction.atomic():
                if number:
                    existing = Woman.objects.select_for_update(of=("self",)).filter(
                        id_type=id_type, id_number=number).select_related("merged_into").first()
                    if existing is not None:
                        woman = existing.merged_into or existing
                        if not _same_woman(woman, name=name, born=born):
                            mismatch = woman
                        else:
                            _external_id_check(Woman, external_id, record=woman)
                            _found(woman=woman, institution=institution, by=by)
                            if external_id and not woman.external_id:
                                woman.external_id = external_id
                                save_with_history(woman, by=by, reason="external id recorded")
                            return woman, False
                if mismatch is None:
                    _external_id_check(Woman, external_id)
                    woman = Woman(name=name.strip(), id_type=id_type, id_number=number, no_id_reason=no_id_reason,
                                  phone=phone, residence_region=residence_region, registered_by=institution,
                                  external_id=external_id)
                    woman.date_of_birth = born  # type: ignore[assignment]
                    woman.full_clean()
                    warnings = woman_warnings(woman, settings=rules, on=timezone.localdate())
                    if warnings and not confirmed:
                        raise NeedsConfirmation(warnings)
                    save_with_history(woman, by=by, reason="registered")
                    _link(woman=woman, institution=institution, by=by)
                    return woman, True
        except IntegrityError:
            continue  # another desk registered the same number at the same moment: find hers
        # Out of the transaction, so the refused attempt stays in the access log.
        assert mismatch is not None  # noqa: S101  (the only way out of the block without returning)
        _refuse_lookup(woman=mismatch, institution=institution, by=by)
    raise ActionDenied(_("This woman could not be registered; try again."))


def _external_id_check(model: type[Woman] | type[Pregnancy], external_id: str, *, record: Any = None) -> None:
    """400 on ``external_id`` when another record of ``model`` has it (the unique constraint backs it up)."""
    taken = model.objects.filter(external_id=external_id)
    if record is not None:
        taken = taken.exclude(pk=record.pk)
    if external_id and taken.exists():
        raise ValidationError({"external_id": _("Another record has this external id.")})


def woman_find(*, by: Any, institution: Institution, id_type: str, id_number: str, name: str,
               date_of_birth: dt.date | None = None) -> Woman:
    """Find a woman by her document number without registering anyone (the API's look-up): the same second
    factor, log, sight and alert as finding her at registration. No record and a mismatch get the same
    answer, and both are logged."""
    permissions.check("register", by, institution)
    number = normalise_id_number(id_number)
    if not number:
        raise ValidationError({"id_number": _("Enter the document number.")})
    born = date_of_birth
    if born is None and id_type == Woman.IdType.RESIDENT_ID:
        with contextlib.suppress(ValueError):
            born = id_birth_date(number)
    with transaction.atomic():
        existing = Woman.objects.select_for_update(of=("self",)).filter(
            id_type=id_type, id_number=number).select_related("merged_into").first()
        woman = (existing.merged_into or existing) if existing is not None else None
        if woman is not None and _same_woman(woman, name=name, born=born):
            _found(woman=woman, institution=institution, by=by)
            return woman
    _refuse_lookup(woman=woman, institution=institution, by=by)


def _found(*, woman: Woman, institution: Institution, by: Any) -> None:
    """A matching look-up: ``institution`` may see her from now on, the holders of her record are told, the
    look-up is logged."""
    if _link(woman=woman, institution=institution, by=by):
        _tell_record_holders(woman=woman, institution=institution)
    access_record(user=by, action=AccessLog.Action.LOOKUP, obj=woman,
                  summary=f"{woman._meta.verbose_name} {woman.name}（{_('found by document number')}）",
                  region=woman.residence_region, institution=institution)


def _refuse_lookup(*, woman: Woman | None, institution: Institution, by: Any) -> NoReturn:
    """Log a refused look-up (outside any transaction, so it stays) and refuse it without saying why."""
    if woman is not None:
        access_record(user=by, action=AccessLog.Action.LOOKUP, obj=woman,
                      summary=_("look-up by document number refused: details do not match"),
                      region=woman.residence_region, institution=institution)
    else:
        access_record(user=by, action=AccessLog.Action.LOOKUP, object_type=Woman._meta.label_lower,
                      summary=_("look-up by document number refused: no such record"), institution=institution)
    raise ValidationError(LOOKUP_MISMATCH)


LOOKUP_MISMATCH = gettext_lazy("No record was found with these details, or its details do not match: check the "
                               "document number, the name and the date of birth.")


def _same_woman(woman: Woman, *, name: str, born: dt.date | None) -> bool:
    """The second factor of a look-up by document number: the same name (spaces and case aside) and
    the same date of birth."""
    def key(text: str) -> str:
        return "".join((text or "").split()).casefold()

    return bool(key(name)) and key(name) == key(woman.name) and born is not None and born == woman.date_of_birth


def _tell_record_holders(*, woman: Woman, institution: Institution) -> None:
    """An informational alert (routine: no escalation, no SMS) to the booking doctors of every
    institution that already holds her record: another institution can now read it."""
    holders = Institution.objects.filter(
        Q(pk=woman.registered_by_id) | Q(pk__in=WomanLink.objects.filter(woman=woman).values("institution_id"))
    ).exclude(pk=institution.pk).filter(is_active=True).order_by("name")
    for holder in holders:
        alert_raise(
            kind="screening.woman_found", subject=woman, link=reverse("cases:woman_detail", args=[woman.pk]),
            title=gettext_noop("Another institution found the record of %(woman)s"),
            body=gettext_noop("%(institution)s entered her document number, name and date of birth and may "
                              "read her record from now on. If she is not in their care, tell your MCH officer."),
            params={"woman": woman.name, "institution": institution.name},
            to=[to_role(holder, role) for role in sorted(BOOKING_ROLES)], institution=holder,
        )


def _link(*, woman: Woman, institution: Institution, by: Any) -> bool:
    """Give ``institution`` sight of her record; True if it did not have it yet."""
    _link_row, created = WomanLink.objects.get_or_create(woman=woman, institution=institution,
                                                         defaults={"created_by": by})
    return created


def woman_merge(*, keep: Woman, duplicate: Woman, by: Any, reason: str) -> Woman:
    """An MCH officer merges two records of one woman: pregnancies and links move to ``keep``."""
    require_perm(user=by, perm="cases.merge_woman", reason=_("Only MCH officers merge women's records."))
    if not reason.strip():
        raise ValidationError({"reason": _("Say why these two records are the same woman.")})
    if keep.pk == duplicate.pk:
        raise ValidationError({"duplicate": _("Choose two different records.")})
    with transaction.atomic():
        women = {w.pk: w for w in visible_women(by).select_for_update(of=("self",)).filter(pk__in=[keep.pk, duplicate.pk])}
        if len(women) != 2:
            raise ActionDenied(_("Both records must be in your area."))
        keep, duplicate = women[keep.pk], women[duplicate.pk]
        if duplicate.merged_into_id or keep.merged_into_id:
            raise TransitionConflict(_("One of these records was already merged."))
        for pregnancy in Pregnancy.objects.filter(woman=duplicate):
            pregnancy.woman = keep
            save_with_history(pregnancy, by=by, reason=f"merged: {reason}")
        for link in WomanLink.objects.filter(woman=duplicate):
            WomanLink.objects.get_or_create(woman=keep, institution=link.institution,
                                            defaults={"created_by": link.created_by})
        duplicate.merged_into = keep
        duplicate.merged_at = timezone.now()
        save_with_history(duplicate, by=by, reason=f"merged into another record: {reason}")
        save_with_history(keep, by=by, reason=f"absorbed a duplicate record: {reason}")
    return keep


def pregnancy_book(
    *, woman: Woman, institution: Institution, by: Any, lmp: dt.date, booking_date: dt.date,
    gravidity: int, parity: int, edd_ultrasound: dt.date | None = None, confirmed: bool = False,
    external_id: str = "",
) -> Pregnancy:
    """Book a pregnancy (建册). A woman has at most one ongoing pregnancy. Impossible dates are refused
    (cases/models/plausibility.py); a mother's age outside the province's usual range needs ``confirmed=True``."""
    permissions.check("book", by, institution)
    with transaction.atomic():
        woman = visible_women(by).select_for_update(of=("self",)).get(pk=woman.pk)
        if woman.merged_into_id:
            raise TransitionConflict(_("This record was merged into another; book on that one."))
        if Pregnancy.objects.filter(woman=woman, status=Pregnancy.Status.ONGOING).exists():
            raise ValidationError({"lmp": _("She already has an ongoing pregnancy; close it before booking another.")})
        external_id = (external_id or "").strip()
        _external_id_check(Pregnancy, external_id)
        pregnancy = Pregnancy(woman=woman, booking_institution=institution, lmp=lmp, booking_date=booking_date,
                              gravidity=gravidity, parity=parity, edd_ultrasound=edd_ultrasound,
                              external_id=external_id)
        pregnancy.full_clean(exclude=["status"])
        warnings = pregnancy_warnings(pregnancy, settings=settings_for(institution, on=booking_date))
        if warnings and not confirmed:
            raise NeedsConfirmation(warnings)
        try:
            with transaction.atomic():
                save_with_history(pregnancy, by=by, reason="booked")
        except IntegrityError:  # another system booked a pregnancy with this external id at this moment
            raise ValidationError({"external_id": _("Another record has this external id.")}) from None
        _link(woman=woman, institution=institution, by=by)
    return pregnancy
