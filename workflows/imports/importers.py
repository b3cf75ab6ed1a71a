"""One importer per kind of record, each with exactly the columns of the import format (issue 15).

An importer reads its rows in three passes: ``parse`` (each cell typed, or a field error on its column),
``prefetch`` (every record the rows name, found in a few queries: institutions by code, women and
pregnancies by external id, the existing rows by external id or document number) and ``check`` (per row,
the same validation the pages run: ``visit_errors``, ``delivery_errors``, the models' ``clean()``,
``death_import_errors``; the result is create, update or unchanged). Only when no row has an error does
``write`` run: visits in bulk with their history rows (``bulk_create_with_history``), the other kinds row
by row as their services write, each history row with the importing user and ``import <file>``.

What is the same record: an institution by its code; a woman by her document number (a woman already
registered under it is that woman: the row links its external id to her and updates what changed) or
her external id; every other record by its external id. A record named twice in one file is an error of
the second row; a woman's second pregnancy in one file is checked against the first (one ongoing
pregnancy at a time).
"""

from __future__ import annotations

import datetime as dt
from abc import ABC, abstractmethod
from typing import Any, ClassVar

from django.core.exceptions import ValidationError
from django.db.models import Max, Min, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from cases import summaries
from cases.identity import id_birth_date, normalise_id_number
from cases.models import DeathReport, Delivery, Pregnancy, ProvinceSettings, Visit, Woman, WomanLink
from cases.rules import settings_for
from cases.selectors import visible_pregnancies, visible_women
from organisations.models import AccessLog, Institution, Region
from organisations.personal import normalise_phone
from organisations.services import access_record
from workflows.common import save_with_history
from workflows.death.services import (
    death_import_changes,
    death_import_errors,
    death_report_import,
    death_report_import_update,
)
from workflows.imports import permissions
from workflows.imports.rows import Row, chunks
from workflows.routine.permissions import RECORDING_KINDS
from workflows.routine.services import (
    DELIVERY_HOOKS,
    POSTPARTUM_KINDS,
    china_date,
    delivery_errors,
    visit_errors,
)
from workflows.screening.services.registration import LOOKUP_MISMATCH, _same_woman

BATCH = 5000
YES_NO = ("yes", "no")


def _probe(candidate: Any, existing: Any) -> Any:
    """The row's values on a fresh instance, validated in place of ``existing`` (when it exists)."""
    if existing is not None:
        candidate.pk = existing.pk
        candidate._state.adding = False
    return candidate


class Importer(ABC):
    """One kind's import in passes: parse each row, prefetch what the rows reference, check each row, write.
    Every kind defines the three passes; the base class holds what they share."""

    kind: ClassVar[str] = ""
    columns: ClassVar[tuple[str, ...]] = ()
    # A validation's field name → the column its error is shown on (a column's own name needs no entry).
    field_columns: ClassVar[dict[str, str]] = {}

    def __init__(self, *, by: Any, reason: str, lock: bool, now: dt.datetime | None = None) -> None:
        self.by = by
        self.reason = reason
        self.lock = lock
        self.now = now or timezone.now()
        self.today = timezone.localtime(self.now).date()
        self.area = permissions.area_region_codes(by, self.kind)
        self._rules: dict[str | None, ProvinceSettings] = {}
        self._seen: dict[str, int] = {}
        self.current_line = 0  # the row being written (a refusal at write time names it)

    # --- Shared helpers -------------------------------------------------------------------------------------

    def columns_of(self, errors: dict[str, Any], row: Row, default: str = "") -> None:
        mapping = {**{name: name for name in self.columns}, **self.field_columns}
        row.field_errors(errors, mapping, default)

    def once(self, row: Row, key: str, column: str, message: Any) -> bool:
        """False (and an error) when ``key`` was already in an earlier row of the file."""
        first = self._seen.setdefault(key, row.line)
        if first != row.line:
            row.error(column, message % {"row": first})
            return False
        return True

    def rules(self, institution: Institution) -> ProvinceSettings:
        province = institution.region.province_id
        if province not in self._rules:
            self._rules[province] = settings_for(institution, on=self.today)
        return self._rules[province]

    def institutions(self, rows: list[Row], column: str) -> dict[str, Institution]:
        codes = {row.data[column] for row in rows if row.data.get(column)}
        return {i.code: i for i in Institution.objects.filter(code__in=codes).select_related("region")}

    def recording_institution(self, row: Row, column: str, found: dict[str, Institution]) -> Institution | None:
        """The institution a record names by code: existing, active, one that sees women, in the area."""
        code = row.data.get(column)
        if not code:
            return None
        institution = found.get(code)
        if institution is None:
            row.error(column, _("No institution has this code."))
        elif not permissions.in_area(self.area, institution.region_id):
            row.error(column, permissions.OUTSIDE)
        elif not institution.is_active:
            row.error(column, _("This institution is no longer active."))
        elif institution.kind not in RECORDING_KINDS:
            row.error(column, _("Name an institution that sees women, not a health bureau."))
        else:
            return institution
        return None

    def pregnancies(self, rows: list[Row], column: str = "pregnancy") -> dict[str, Pregnancy]:
        """The pregnancies the rows name by external id that the importer may see: booked in her area (or
        visible to her by the scoped selector). Out of her sight looks exactly like not found."""
        ids = {row.data[column] for row in rows if row.data.get(column)}
        found: dict[str, Pregnancy] = {}
        for batch in chunks(sorted(ids)):
            query = Pregnancy.objects.filter(external_id__in=batch).order_by()
            if self.lock:
                query = query.select_for_update()
            for pregnancy in query:
                found[pregnancy.external_id] = pregnancy
        # Their few booking institutions once each, rather than joined onto every pregnancy.
        booking = {i.pk: i for i in Institution.objects.filter(
            pk__in={p.booking_institution_id for p in found.values()}).select_related("region")}
        for pregnancy in found.values():
            pregnancy.booking_institution = booking[pregnancy.booking_institution_id]
        outside = {p.pk for p in found.values() if not permissions.in_area(self.area, p.booking_institution.region_id)}
        if outside:
            seen: set[Any] = set()
            for batch in chunks(sorted(outside)):
                seen.update(visible_pregnancies(self.by).filter(pk__in=batch).values_list("pk", flat=True))
            found = {key: p for key, p in found.items() if p.pk not in outside or p.pk in seen}
        return found

    def existing(self, model: Any, rows: list[Row], related: tuple[str, ...] = ()) -> dict[str, Any]:
        ids = {row.data["external_id"] for row in rows if row.data.get("external_id")}
        found: dict[str, Any] = {}
        for batch in chunks(sorted(ids)):
            query = model.objects.filter(external_id__in=batch).order_by()
            # (select_related() with no names would follow every foreign key)
            for obj in (query.select_related(*related) if related else query):
                found[obj.external_id] = obj
        return found

    @staticmethod
    def differences(obj: Any, values: dict[str, Any]) -> list[str]:
        return [name for name, value in values.items() if getattr(obj, name) != value]

    def plan(self, row: Row, obj: Any, values: dict[str, Any], *, new: bool) -> None:
        if new:
            row.action, row.obj = "create", obj
            return
        row.changed = self.differences(obj, values)
        row.action, row.obj = ("update" if row.changed else "unchanged"), obj
        for name, value in values.items():
            setattr(obj, name, value)

    # --- The passes ---------------------------------------------------------------------------------------

    @abstractmethod
    def parse(self, row: Row) -> None:
        """Each kind's own parse pass."""

    @abstractmethod
    def prefetch(self, rows: list[Row]) -> None:
        """Each kind's own prefetch pass."""

    @abstractmethod
    def check(self, row: Row) -> None:
        """Each kind's own check pass."""

    def write(self, rows: list[Row]) -> None:
        """Row by row (the kinds whose service writes one record at a time); visits override this in bulk."""
        for row in rows:
            self.current_line = row.line
            if row.action == "create":
                self.create(row)
            elif row.action == "update":
                self.update(row)

    def create(self, row: Row) -> None:
        save_with_history(row.obj, by=self.by, reason=self.reason)

    def update(self, row: Row) -> None:
        save_with_history(row.obj, by=self.by, reason=self.reason)


# --- Institutions ----------------------------------------------------------------------------------------------

class InstitutionImporter(Importer):
    kind = "institutions"
    columns = ("code", "name", "kind", "level", "region")
    # The one constraint over several fields: one name per region.
    field_columns = {"__all__": "name"}

    def parse(self, row: Row) -> None:
        d = row.data
        d["code"] = row.text("code", required=True, max_length=32).upper()
        d["name"] = row.text("name", required=True, max_length=120)
        d["kind"] = row.choice("kind", Institution.Kind.values)
        d["level"] = row.integer("level", required=False, low=1, high=3)
        d["region"] = row.text("region", required=True)
        if d["region"] and not (len(d["region"]) == 6 and d["region"].isdigit()):
            row.error("region", _("A region code has exactly six digits (GB/T 2260)."))

    def prefetch(self, rows: list[Row]) -> None:
        self.found = {i.code: i for i in Institution.objects.filter(code__in=[r.data["code"] for r in rows])
                      .select_related("region")}
        self.regions = {r.code: r for r in Region.objects.filter(code__in=[r.data["region"] for r in rows])}

    def check(self, row: Row) -> None:
        d = row.data
        if not self.once(row, f"code:{d['code']}", "code", _("This code is also in row %(row)s.")):
            return
        region = self.regions.get(d["region"])
        if region is None:
            row.error("region", _("No region has this code."))
            return
        if not permissions.in_area(self.area, region.code):
            row.error("region", permissions.REGION_OUTSIDE)
        existing = self.found.get(d["code"])
        if existing is not None and not permissions.in_area(self.area, existing.region_id):
            row.error("code", permissions.OUTSIDE)
        if row.errors:
            return
        self.once(row, f"name:{region.code}:{d['name']}", "name", _("An institution of this name in this region is "
                                                                     "also in row %(row)s."))
        obj = existing or Institution(code=d["code"])
        values = {"name": d["name"], "kind": d["kind"], "level": d["level"], "region": region}
        probe = _probe(Institution(code=d["code"], phone=existing.phone if existing else "", **values), existing)
        try:
            probe.full_clean()
        except ValidationError as exc:
            self.columns_of(exc.message_dict, row)
            return
        self.plan(row, obj, {**values, "region_id": region.code}, new=existing is None)
        if existing is None:
            for name, value in values.items():
                setattr(obj, name, value)


# --- Women --------------------------------------------------------------------------------------------------------

class WomanImporter(Importer):
    kind = "women"
    columns = ("external_id", "name", "id_type", "id_number", "no_id_reason", "date_of_birth", "phone",
               "residence_region", "registered_by")
    UPDATED = ("name", "id_type", "id_number", "no_id_reason", "date_of_birth", "phone", "residence_region_id")

    def parse(self, row: Row) -> None:
        d = row.data
        d["external_id"] = row.text("external_id", required=True, max_length=64)
        d["name"] = row.text("name", required=True, max_length=60)
        d["id_type"] = row.choice("id_type", Woman.IdType.values)
        d["id_number"] = normalise_id_number(row.text("id_number", max_length=32))
        d["no_id_reason"] = row.text("no_id_reason", max_length=200)
        d["date_of_birth"] = row.date("date_of_birth", required=False)
        phone = row.text("phone", max_length=20)
        d["phone"] = normalise_phone(phone) if phone else ""
        d["residence_region"] = row.text("residence_region", required=True)
        d["registered_by"] = row.text("registered_by", required=True).upper()

    def prefetch(self, rows: list[Row]) -> None:
        self.found = self.existing(Woman, rows, related=("merged_into",))
        documents = {(r.data["id_type"], r.data["id_number"]) for r in rows if r.data["id_number"]}
        self.by_document: dict[tuple[str, str], Woman] = {}
        for batch in chunks(sorted(documents), 2000):
            q = Q(pk__in=[])
            for id_type, number in batch:
                q |= Q(id_type=id_type, id_number=number)
            for woman in Woman.objects.filter(q).select_related("merged_into"):
                self.by_document[(woman.id_type, woman.id_number)] = woman
        self.regions = {r.code: r for r in Region.objects.filter(code__in={r.data["residence_region"] for r in rows})}
        self.institution_codes = self.institutions(rows, "registered_by")
        women = {w.pk for w in [*self.found.values(), *self.by_document.values()]}
        self.visible = set(visible_women(self.by).filter(pk__in=women).values_list("pk", flat=True)) if women else set()

    def check(self, row: Row) -> None:
        d = row.data
        if not self.once(row, f"ext:{d['external_id']}", "external_id", _("This external id is also in row %(row)s.")):
            return
        if d["id_number"] and not self.once(row, f"doc:{d['id_type']}:{d['id_number']}", "id_number",
                                            _("This document number is also in row %(row)s.")):
            return
        region = self.regions.get(d["residence_region"])
        if region is None:
            row.error("residence_region", _("No region has this code."))
        institution = self.recording_institution(row, "registered_by", self.institution_codes)
        by_ext = self.found.get(d["external_id"])
        by_doc = self.by_document.get((d["id_type"], d["id_number"])) if d["id_number"] else None
        if by_doc is not None and by_doc.merged_into_id:
            by_doc = by_doc.merged_into
        if by_ext is not None and by_doc is not None and by_ext.pk != by_doc.pk:
            row.error("id_number", _("Another woman is registered with this document number."))
        elif by_ext is None and by_doc is not None and by_doc.external_id:
            row.error("external_id", _("The woman registered with this document number has another external id."))
        if row.errors:
            return
        assert region is not None and institution is not None  # noqa: S101  (refused above otherwise)
        woman = by_ext or by_doc
        born = d["date_of_birth"]
        if born is None and d["id_type"] == Woman.IdType.RESIDENT_ID:
            try:
                born = id_birth_date(d["id_number"])
            except ValueError:
                born = None  # clean() names the bad number
        if born is None and d["id_type"] != Woman.IdType.RESIDENT_ID:
            row.error("date_of_birth", _("This column is required."))
            return
        if woman is not None and woman.pk not in self.visible:
            # Found by her document in another area: the registration's second factor, then only the link.
            if not _same_woman(woman, name=d["name"], born=born):
                row.error("id_number", LOOKUP_MISMATCH)
                return
            row.extra["link_only"] = True
            row.extra["institution"] = institution
            self.plan(row, woman, {"external_id": d["external_id"]}, new=False)
            return
        values = {"name": d["name"], "id_type": d["id_type"], "id_number": d["id_number"],
                  "no_id_reason": d["no_id_reason"], "date_of_birth": born, "phone": d["phone"],
                  "residence_region_id": region.code}
        probe = _probe(Woman(registered_by=institution, residence_region=region,
                             **{k: v for k, v in values.items() if k != "residence_region_id"}), woman)
        try:
            probe.full_clean(exclude=["registered_by", "residence_region", "external_id", "merged_into", "id_type"])
        except ValidationError as exc:
            self.columns_of(exc.message_dict, row)
            return
        values["date_of_birth"], values["id_number"] = probe.date_of_birth, probe.id_number
        row.extra["institution"] = institution
        if woman is None:
            probe.external_id = d["external_id"]
            self.plan(row, probe, values, new=True)
        else:
            self.plan(row, woman, {**values, "external_id": d["external_id"]}, new=False)

    def create(self, row: Row) -> None:
        super().create(row)
        WomanLink.objects.get_or_create(woman=row.obj, institution=row.extra["institution"],
                                        defaults={"created_by": self.by})

    def update(self, row: Row) -> None:
        super().update(row)
        if row.extra.get("link_only"):
            # Found by her document in another area, as registration finds her: logged, and linked.
            woman, institution = row.obj, row.extra["institution"]
            access_record(user=self.by, action=AccessLog.Action.LOOKUP, obj=woman,
                          summary=f"{woman._meta.verbose_name} {woman.name}（{_('found by document number')}）",
                          region=woman.residence_region, institution=institution)
            WomanLink.objects.get_or_create(woman=woman, institution=institution, defaults={"created_by": self.by})


# --- Pregnancies --------------------------------------------------------------------------------------------------

class PregnancyImporter(Importer):
    kind = "pregnancies"
    columns = ("external_id", "woman", "lmp", "edd_ultrasound", "gravidity", "parity", "booking_date",
               "booking_institution")

    def parse(self, row: Row) -> None:
        d = row.data
        d["external_id"] = row.text("external_id", required=True, max_length=64)
        d["woman"] = row.text("woman", required=True)
        d["lmp"] = row.date("lmp")
        d["edd_ultrasound"] = row.date("edd_ultrasound", required=False)
        d["gravidity"] = row.integer("gravidity", low=1, high=30)
        d["parity"] = row.integer("parity", low=0, high=30)
        d["booking_date"] = row.date("booking_date")
        d["booking_institution"] = row.text("booking_institution", required=True).upper()

    def prefetch(self, rows: list[Row]) -> None:
        self.found = self.existing(Pregnancy, rows, related=("booking_institution__region", "woman"))
        keys = {r.data["woman"] for r in rows}
        self.women: dict[str, Woman] = {}
        for batch in chunks(sorted(keys)):
            # Hers: a woman she may see, or one an institution of her area registered (living elsewhere).
            women = list(Woman.objects.filter(external_id__in=batch).select_related("merged_into", "registered_by"))
            seen = set(visible_women(self.by).filter(pk__in=[w.pk for w in women]).values_list("pk", flat=True))
            for woman in women:
                if woman.pk in seen or permissions.in_area(self.area, woman.registered_by.region_id):
                    self.women[woman.external_id] = woman.merged_into or woman
        self.ongoing: dict[Any, Any] = dict(Pregnancy.objects.filter(
            woman__in=[w.pk for w in self.women.values()], status=Pregnancy.Status.ONGOING).values_list("woman_id", "pk"))
        self.institution_codes = self.institutions(rows, "booking_institution")
        found = [p.pk for p in self.found.values()]
        self.visible = set(visible_pregnancies(self.by).filter(pk__in=found).values_list("pk", flat=True)) \
            if found else set()

    def check(self, row: Row) -> None:
        d = row.data
        if not self.once(row, d["external_id"], "external_id", _("This external id is also in row %(row)s.")):
            return
        woman = self.women.get(d["woman"])
        if woman is None:
            row.error("woman", _("No woman with this external id in your area."))
        institution = self.recording_institution(row, "booking_institution", self.institution_codes)
        existing = self.found.get(d["external_id"])
        if existing is not None and existing.pk not in self.visible:
            row.error("external_id", _("Another record has this external id."))
        elif existing is not None and woman is not None and existing.woman_id != woman.pk:
            row.error("woman", _("This pregnancy was imported for another woman."))
        if row.errors:
            return
        assert woman is not None and institution is not None  # noqa: S101
        values = {"lmp": d["lmp"], "edd_ultrasound": d["edd_ultrasound"], "gravidity": d["gravidity"],
                  "parity": d["parity"], "booking_date": d["booking_date"], "booking_institution": institution}
        probe = _probe(Pregnancy(woman=woman, **values), existing)
        try:
            probe.full_clean(exclude=["status", "woman", "booking_institution", "external_id"])
        except ValidationError as exc:
            self.columns_of(exc.message_dict, row)
            return
        if existing is None:
            other = self.ongoing.get(woman.pk)
            if other is not None:
                row.error("lmp", _("She already has an ongoing pregnancy; close it before booking another."))
                return
            probe.external_id = d["external_id"]
            self.ongoing[woman.pk] = probe.pk
            self.plan(row, probe, values, new=True)
        else:
            values["booking_institution_id"] = values.pop("booking_institution").pk
            self.plan(row, existing, values, new=False)
            if "booking_institution_id" in row.changed:
                existing.booking_institution = institution

    def create(self, row: Row) -> None:
        super().create(row)
        WomanLink.objects.get_or_create(woman=row.obj.woman, institution=row.obj.booking_institution,
                                        defaults={"created_by": self.by})


# --- Visits (in bulk) ---------------------------------------------------------------------------------------------

class VisitImporter(Importer):
    kind = "visits"
    columns = ("external_id", "pregnancy", "kind", "date", "institution")

    def parse(self, row: Row) -> None:
        d = row.data
        d["external_id"] = row.text("external_id", required=True, max_length=64)
        d["pregnancy"] = row.text("pregnancy", required=True)
        d["kind"] = row.text("kind")
        d["date"] = row.date("date", required=False)  # visit_errors names a missing date
        d["institution"] = row.text("institution", required=True).upper()

    def prefetch(self, rows: list[Row]) -> None:
        self.found = self.existing(Visit, rows)
        self.pregnancy_of = self.pregnancies(rows)
        self.delivered_on: dict[Any, dt.date] = {}
        for batch in chunks([p.pk for p in self.pregnancy_of.values()]):
            self.delivered_on.update(Delivery.objects.filter(pregnancy_id__in=batch).values_list(
                "pregnancy_id", "delivered_on"))
        self.institution_codes = self.institutions(rows, "institution")

    def check(self, row: Row) -> None:
        d = row.data
        if not self.once(row, d["external_id"], "external_id", _("This external id is also in row %(row)s.")):
            return
        pregnancy = self.pregnancy_of.get(d["pregnancy"])
        if pregnancy is None:
            row.error("pregnancy", _("No pregnancy with this external id in your area."))
        institution = self.recording_institution(row, "institution", self.institution_codes)
        existing = self.found.get(d["external_id"])
        if existing is not None and pregnancy is not None and existing.pregnancy_id != pregnancy.pk:
            row.error("external_id", _("Another record has this external id."))
        if row.errors:
            return
        assert pregnancy is not None and institution is not None  # noqa: S101
        errors = visit_errors(pregnancy=pregnancy, kind=d["kind"], date=d["date"],
                              delivered_on=self.delivered_on.get(pregnancy.pk), today=self.today,
                              rules=self.rules(pregnancy.booking_institution))
        if errors:
            self.columns_of(errors, row)
            return
        values = {"kind": d["kind"], "date": d["date"], "institution_id": institution.pk}
        if existing is None:
            obj = Visit(pregnancy=pregnancy, external_id=d["external_id"], recorded_by=self.by, **values)
            self.plan(row, obj, values, new=True)
        else:
            self.plan(row, existing, values, new=False)

    def write(self, rows: list[Row]) -> None:
        new = [row.obj for row in rows if row.action == "create"]
        changed = [row.obj for row in rows if row.action == "update"]
        if new:
            bulk_create_with_history(new, Visit, batch_size=BATCH, default_user=self.by,
                                     default_change_reason=self.reason[:100], default_date=self.now)
        if changed:
            for visit in changed:
                visit.updated_at = self.now
            # Small batches: an UPDATE … CASE grows with its batch.
            bulk_update_with_history(changed, Visit, ["kind", "date", "institution", "updated_at"], batch_size=500,
                                     default_user=self.by, default_change_reason=self.reason[:100],
                                     default_date=self.now)
        # Bulk writes send no signals: the deliveries these visits count for are brought up to date here.
        summaries.refresh_pregnancies(row.obj.pregnancy_id for row in rows if row.action in ("create", "update"))


# --- Deliveries -------------------------------------------------------------------------------------------------

class DeliveryImporter(Importer):
    kind = "deliveries"
    columns = ("external_id", "pregnancy", "delivered_at", "place", "institution", "mode", "live_births",
               "stillbirths")
    # The file has no babies nor indication columns: their errors name the counts and the mode.
    field_columns = {"babies": "live_births", "caesarean_indication": "mode", "gestational_weeks": "delivered_at",
                     "gestational_days": "delivered_at"}

    def parse(self, row: Row) -> None:
        d = row.data
        d["external_id"] = row.text("external_id", required=True, max_length=64)
        d["pregnancy"] = row.text("pregnancy", required=True)
        d["delivered_at"] = row.moment("delivered_at", required=False)
        d["place"] = row.text("place")
        d["institution"] = row.text("institution").upper()
        d["mode"] = row.text("mode")
        d["live_births"] = row.integer("live_births", required=False, high=8)
        d["stillbirths"] = row.integer("stillbirths", required=False, high=8)

    def prefetch(self, rows: list[Row]) -> None:
        self.found = self.existing(Delivery, rows)
        self.pregnancy_of = self.pregnancies(rows)
        ids = [p.pk for p in self.pregnancy_of.values()]
        self.delivery_of: dict[Any, Any] = {}
        self.bounds: dict[Any, tuple[dt.date | None, dt.date | None]] = {}
        for batch in chunks(ids):
            self.delivery_of.update(Delivery.objects.filter(pregnancy_id__in=batch).values_list("pregnancy_id", "pk"))
            for pk, last, first in Visit.objects.filter(pregnancy_id__in=batch).values("pregnancy_id").annotate(
                    last=Max("date", filter=Q(kind=Visit.Kind.ANTENATAL)),
                    first=Min("date", filter=Q(kind__in=POSTPARTUM_KINDS))).values_list("pregnancy_id", "last", "first"):
                self.bounds[pk] = (last, first)
        self.institution_codes = self.institutions(rows, "institution")

    def check(self, row: Row) -> None:
        d = row.data
        if not self.once(row, d["external_id"], "external_id", _("This external id is also in row %(row)s.")):
            return
        pregnancy = self.pregnancy_of.get(d["pregnancy"])
        if pregnancy is None:
            row.error("pregnancy", _("No pregnancy with this external id in your area."))
            return
        if not self.once(row, f"pregnancy:{pregnancy.pk}", "pregnancy", _("This pregnancy's delivery is also in row "
                                                                          "%(row)s.")):
            return
        institution = self.recording_institution(row, "institution", self.institution_codes)
        existing = self.found.get(d["external_id"])
        if existing is not None and existing.pregnancy_id != pregnancy.pk:
            row.error("external_id", _("Another record has this external id."))
        elif existing is None and (pregnancy.status != Pregnancy.Status.ONGOING or pregnancy.pk in self.delivery_of):
            row.error("pregnancy", _("This pregnancy is no longer ongoing: its delivery or end is recorded."))
        if row.errors:
            return
        last_antenatal, first_postpartum = self.bounds.get(pregnancy.pk, (None, None))
        errors = delivery_errors(
            pregnancy=pregnancy, delivered_at=d["delivered_at"], place=d["place"], institution=institution,
            mode=d["mode"], caesarean_indication="", gestational_weeks=None, gestational_days=None, babies=None,
            live_births=d["live_births"], stillbirths=d["stillbirths"], now=self.now,
            last_antenatal=last_antenatal, first_postpartum=first_postpartum)
        # An import has no indication column: a caesarean is recorded without it (the page asks for it).
        errors.pop("caesarean_indication", None)
        if errors:
            self.columns_of(errors, row)
            return
        assert d["delivered_at"] is not None  # noqa: S101
        values = {"delivered_at": d["delivered_at"], "delivered_on": china_date(d["delivered_at"]),
                  "place": d["place"], "institution_id": institution.pk if institution else None, "mode": d["mode"],
                  "live_births": d["live_births"], "stillbirths": d["stillbirths"] or 0}
        if existing is None:
            obj = Delivery(pregnancy=pregnancy, external_id=d["external_id"], recorded_by=self.by, **values)
            self.plan(row, obj, values, new=True)
        else:
            self.plan(row, existing, values, new=False)

    def create(self, row: Row) -> None:
        delivery = row.obj
        super().create(row)
        pregnancy = delivery.pregnancy
        pregnancy.deliver()
        save_with_history(pregnancy, by=self.by, reason=self.reason)
        for hook in DELIVERY_HOOKS:
            hook(pregnancy=pregnancy, delivery=delivery, by=self.by)

    def update(self, row: Row) -> None:
        delivery = row.obj
        if {"mode"} & set(row.changed) and delivery.mode != Delivery.Mode.CAESAREAN:
            delivery.caesarean_indication = ""
        super().update(row)
        if {"live_births", "stillbirths"} & set(row.changed):
            # The babies recorded no longer say what happened: they go (their history keeps them).
            for baby in delivery.babies.all():
                baby._history_user = self.by
                baby._change_reason = self.reason[:100]
                baby.delete()


# --- Deaths -------------------------------------------------------------------------------------------------------

class DeathImporter(Importer):
    kind = "deaths"
    columns = ("external_id", "pregnancy", "died_at", "maternal", "exclusion_reason", "icd10")

    def parse(self, row: Row) -> None:
        d = row.data
        d["external_id"] = row.text("external_id", required=True, max_length=64)
        d["pregnancy"] = row.text("pregnancy", required=True)
        d["died_at"] = row.moment("died_at", required=False, date_alone=True)
        maternal = row.choice("maternal", YES_NO)
        d["maternal"] = {"yes": True, "no": False}.get(maternal)
        d["exclusion_reason"] = row.text("exclusion_reason", max_length=2000)
        d["icd10"] = row.text("icd10", max_length=8).upper()

    def prefetch(self, rows: list[Row]) -> None:
        self.found = self.existing(DeathReport, rows)
        self.pregnancy_of = self.pregnancies(rows)
        self.open_reports = set(DeathReport.objects.filter(
            pregnancy__in=[p.pk for p in self.pregnancy_of.values()]).exclude(
            state=DeathReport.State.EXCLUDED).values_list("pregnancy_id", flat=True))

    def check(self, row: Row) -> None:
        d = row.data
        if not self.once(row, d["external_id"], "external_id", _("This external id is also in row %(row)s.")):
            return
        pregnancy = self.pregnancy_of.get(d["pregnancy"])
        if pregnancy is None:
            row.error("pregnancy", _("No pregnancy with this external id in your area."))
            return
        existing = self.found.get(d["external_id"])
        if existing is None and not self.once(row, f"pregnancy:{pregnancy.pk}", "pregnancy",
                                              _("A death on this pregnancy is also in row %(row)s.")):
            return
        errors = death_import_errors(pregnancy=pregnancy, died_at=d["died_at"], maternal=d["maternal"],
                                     exclusion_reason=d["exclusion_reason"], icd10=d["icd10"], now=self.now,
                                     report=existing, open_report=pregnancy.pk in self.open_reports)
        if errors:
            self.columns_of(errors, row)
            return
        if existing is None:
            row.action, row.obj = "create", pregnancy
            return
        changed = death_import_changes(existing, died_at=d["died_at"], maternal=d["maternal"],
                                       exclusion_reason=d["exclusion_reason"], icd10=d["icd10"])
        row.action, row.obj, row.changed = ("update" if changed else "unchanged"), existing, changed

    def create(self, row: Row) -> None:
        d = row.data
        death_report_import(pregnancy=row.obj, by=self.by, external_id=d["external_id"], died_at=d["died_at"],
                            maternal=d["maternal"], exclusion_reason=d["exclusion_reason"], icd10=d["icd10"],
                            reason=self.reason, now=self.now)

    def update(self, row: Row) -> None:
        d = row.data
        death_report_import_update(report=row.obj, by=self.by, died_at=d["died_at"], maternal=d["maternal"],
                                   exclusion_reason=d["exclusion_reason"], icd10=d["icd10"], reason=self.reason,
                                   now=self.now)


IMPORTERS: dict[str, type[Importer]] = {
    importer.kind: importer
    for importer in (InstitutionImporter, WomanImporter, PregnancyImporter, VisitImporter, DeliveryImporter,
                     DeathImporter)
}
KINDS = tuple(IMPORTERS)
