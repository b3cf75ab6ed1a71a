"""Per-delivery summary columns: what the population indicators ask of each delivery, kept on the delivery.

The indicators (indicators/measures.py) count deliveries by facts that live in other tables: the antenatal
visits before the delivery, a postpartum visit within 28 days, an early booking, a high-risk colour or case
before the delivery, the woman's residence. Asking those tables for every delivery of a province-year is
two million index lookups per figure (benchmarks/README.md, "indicators"); so each delivery carries them as
columns, computed here by the definitions below and nowhere else, and the indicators read the columns.

Who keeps them current: :func:`refresh` runs in the same transaction as every change of an input. Every
``save()`` or ``delete()`` of a visit, assessment, high-risk case, pregnancy, woman or delivery calls it for
that pregnancy (``post_save``/``post_delete`` receivers connected in ``cases/apps.py``: the services, the
admin, the row-by-row import and the tests' factories all save). Writers in bulk, which send no signals
(the importer's visits, the demo and benchmark seeds), call it once per batch. :func:`stale` compares the
columns with the definitions recomputed: ``manage.py indicators --verify`` and the tests use it.

The columns are derived, not entered: the delivery's history leaves them out, and an ``UPDATE`` writes them
without touching ``updated_at`` (the delivery itself did not change).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from typing import Any

from django.apps import apps as django_apps
from django.db.models import (
    BooleanField,
    DateField,
    Exists,
    ExpressionWrapper,
    F,
    Func,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.functions import Coalesce

from cases.models.people import PREGNANCY_DAYS

# booking_date − (EDD − 280 days) < 91 days  ⇔  booking_date < EDD − 189 days (EDD by ultrasound) or LMP + 91 days.
EARLY_BOOKING_DAYS = 91
POSTPARTUM_VISIT_DAYS = 28
HIGH_RISK_COLOURS = ("orange", "red", "purple")

# The columns, in the order of cases/models/routine.py.
COLUMNS = ("antenatal_visits_before", "postpartum_visit_within_28d", "booked_early", "high_risk_before",
           "case_opened_before", "residence_region")
# Ids in one ``pregnancy_id IN (…)``: far below SQLite's and PostgreSQL's parameter limits.
CHUNK = 2000

GetModel = Callable[[str, str], Any]


def definitions(get_model: GetModel = django_apps.get_model) -> dict[str, Any]:
    """Each column's value for the delivery row it is evaluated on (``OuterRef`` is that delivery), by the
    issue's definitions. ``get_model`` lets a migration use its historical models."""
    visit = get_model("cases", "Visit")
    assessment = get_model("cases", "Assessment")
    case = get_model("cases", "HighRiskCase")
    pregnancy = get_model("cases", "Pregnancy")
    woman = get_model("cases", "Woman")
    visits = visit.objects.filter(pregnancy=OuterRef("pregnancy_id")).order_by()
    # COUNT(*) with no GROUP BY: a scalar subquery the visit index (pregnancy, kind, date) answers on its own.
    antenatal = (visits.filter(kind="antenatal", date__lte=OuterRef("delivered_on"))
                 .annotate(n=Func(Value(1), function="COUNT", output_field=IntegerField())).values("n"))
    last_postpartum_day = ExpressionWrapper(OuterRef("delivered_on") + dt.timedelta(days=POSTPARTUM_VISIT_DAYS),
                                            output_field=DateField())
    early_limit = Coalesce(
        ExpressionWrapper(F("edd_ultrasound") - dt.timedelta(days=PREGNANCY_DAYS - EARLY_BOOKING_DAYS),
                          output_field=DateField()),
        ExpressionWrapper(F("lmp") + dt.timedelta(days=EARLY_BOOKING_DAYS), output_field=DateField()),
        output_field=DateField())
    early = (pregnancy.objects.filter(pk=OuterRef("pregnancy_id")).order_by()
             .annotate(early=ExpressionWrapper(Q(booking_date__lt=early_limit), output_field=BooleanField()))
             .values("early"))
    return {
        # Antenatal visits dated on or before the delivery date.
        "antenatal_visits_before": Coalesce(Subquery(antenatal, output_field=IntegerField()), Value(0)),
        # A postpartum visit (not the 42-day check) 0–28 days after the delivery date.
        "postpartum_visit_within_28d": Exists(visits.filter(
            kind="postpartum", date__gte=OuterRef("delivered_on"), date__lte=last_postpartum_day)),
        # Booked before 13 weeks: booking_date − (EDD − 280) < 91 days, EDD by ultrasound, else LMP + 280.
        "booked_early": Coalesce(Subquery(early, output_field=BooleanField()), Value(False)),
        # A valid (not voided) assessment before the delivery graded orange, red or purple.
        "high_risk_before": Exists(assessment.objects.filter(
            Q(colour__in=HIGH_RISK_COLOURS) | Q(purple=True), status="valid",
            pregnancy=OuterRef("pregnancy_id"), assessed_at__lt=OuterRef("delivered_at"))),
        # A high-risk case (专案) opened before the delivery.
        "case_opened_before": Exists(case.objects.filter(pregnancy=OuterRef("pregnancy_id"),
                                                         opened_at__lt=OuterRef("delivered_at"))),
        # Where the woman lives now: a woman who moves takes her deliveries' figures with her.
        "residence_region": Subquery(woman.objects.filter(pregnancies=OuterRef("pregnancy_id"))
                                     .values("residence_region_id")[:1]),
    }


def refresh(deliveries: QuerySet[Any], *, get_model: GetModel = django_apps.get_model) -> int:
    """Recompute the columns of ``deliveries`` in one ``UPDATE``; the number of rows."""
    return deliveries.order_by().update(**definitions(get_model))


def refresh_pregnancies(pregnancy_ids: Iterable[Any]) -> int:
    """Recompute the columns of the deliveries of these pregnancies (those without one cost nothing)."""
    delivery = django_apps.get_model("cases", "Delivery")
    ids = list(dict.fromkeys(pregnancy_ids))
    return sum(refresh(delivery.objects.filter(pregnancy_id__in=ids[i:i + CHUNK]))
               for i in range(0, len(ids), CHUNK))


def stale(deliveries: QuerySet[Any]) -> QuerySet[Any]:
    """The deliveries among ``deliveries`` whose columns differ from the definitions (empty when all are
    current)."""
    expected = {f"expected_{name}": value for name, value in definitions().items()}
    differs = Q()
    for name in COLUMNS:
        column = f"{name}_id" if name == "residence_region" else name
        differs |= ~Q(**{column: F(f"expected_{name}")})
        if name == "residence_region":
            differs |= Q(residence_region__isnull=True, **{f"expected_{name}__isnull": False})
    return deliveries.order_by().annotate(**expected).filter(differs)


# --- Keeping them current: the receivers connected in cases/apps.py -----------------------------------------

def _pregnancy_of(instance: Any) -> list[Any]:
    name = type(instance)._meta.model_name
    if name == "pregnancy":
        return [instance.pk]
    if name == "woman":
        return list(django_apps.get_model("cases", "Pregnancy").objects.filter(woman_id=instance.pk)
                    .values_list("pk", flat=True))
    return [instance.pregnancy_id]


def on_change(sender: Any, instance: Any, raw: bool = False, **kwargs: Any) -> None:
    """``post_save``/``post_delete`` of an input: refresh its pregnancy's delivery (``loaddata`` excepted:
    a fixture brings its own values)."""
    if raw:
        return
    refresh_pregnancies(_pregnancy_of(instance))


INPUTS = ("Visit", "Assessment", "HighRiskCase", "Pregnancy", "Woman", "Delivery")
