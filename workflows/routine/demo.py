"""Demo routine records (``manage.py seed_demo --first-look``): about a year of deliveries in every demo
county, each with its woman, pregnancy, antenatal visits, babies and postpartum visits, so that the
indicators have something to count (早孕建册率, 系统管理率, 住院分娩率, 剖宫产率, …).

Realistic gaps on purpose: some women booked late (after 13 weeks), some with fewer than five antenatal
visits (a few with none), a few home or en-route deliveries, about 35 % caesareans, a few twins and
stillbirths, most with a postpartum visit within 28 days and a 42-day check, some with neither.

Written in bulk with their history rows (``bulk_create_with_history``), not through the services one by
one: the services' rules hold by construction (dates are drawn inside the windows they check), and the
first look stays fast. Idempotent: a county whose demo deliveries exist is left alone (their external ids
start with ``DEMO-<county code>-``).
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone
from simple_history.utils import bulk_create_with_history

from cases import summaries
from cases.identity import id_check_char
from cases.models import Baby, Delivery, Pregnancy, Visit, Woman
from organisations.demo import REASON, K, person_name
from organisations.models import Institution, Membership, Region, Role
from workflows.routine.services import CHINA

DAYS = 365
INDICATIONS = ["瘢痕子宫", "胎儿窘迫", "头盆不称", "臀位", "前置胎盘", "重度子痫前期", "社会因素", "引产失败"]


@dataclass
class _County:
    code: str
    primary: list[Institution]
    hospitals: list[Institution]


def _counties() -> list[_County]:
    found: dict[str, _County] = {}
    for institution in Institution.objects.filter(is_active=True, region__level=Region.Level.COUNTY).order_by(
            "region_id", "name"):
        county = found.setdefault(institution.region_id, _County(institution.region_id, [], []))
        if institution.kind == K.PRIMARY_CARE:
            county.primary.append(institution)
        elif institution.kind in (K.MIDWIFERY_HOSPITAL, K.MCH_INSTITUTE):
            county.hospitals.append(institution)
    return [c for c in found.values() if c.primary and c.hospitals]


def _prefix(code: str) -> str:
    return f"DEMO-{code}-"


def seed_routine(*, per_county: tuple[int, int] = (200, 400), seed: int = 42,
                 today: dt.date | None = None) -> int:
    """Add a year of delivered pregnancies to each demo county that has none yet; returns how many deliveries."""
    today = today or timezone.localdate()
    counties = _counties()
    done = {code for code in (c.code for c in counties)
            if Delivery.objects.filter(external_id__startswith=_prefix(code)).exists()}
    made = 0
    for county in counties:
        if county.code in done:
            continue
        rng = random.Random(f"{seed}-{county.code}")  # noqa: S311  (demo data)
        member = Membership.objects.filter(institution__in=county.hospitals, role=Role.OBSTETRICIAN,
                                           is_active=True).select_related("user").order_by("user__username").first()
        doctor = member.user if member is not None else None
        made += _seed_county(county, rng=rng, count=rng.randint(*per_county), today=today, doctor=doctor)
    return made


def _id_number(rng: random.Random, region: str, born: dt.date, taken: set[str]) -> str:
    while True:
        first17 = f"{region}{born:%Y%m%d}{rng.randint(0, 499) * 2:03d}"  # even 17th digit: a woman (GB 11643)
        number = first17 + id_check_char(first17)
        if number not in taken:
            taken.add(number)
            return number


def _seed_county(county: _County, *, rng: random.Random, count: int, today: dt.date, doctor: Any) -> int:
    prefix = _prefix(county.code)
    taken = set(Woman.objects.filter(id_type=Woman.IdType.RESIDENT_ID, id_number__startswith=county.code)
                .values_list("id_number", flat=True))
    region = Region.objects.get(pk=county.code)
    women: list[Woman] = []
    pregnancies: list[Pregnancy] = []
    deliveries: list[Delivery] = []
    babies: list[Baby] = []
    visits: list[Visit] = []
    for n in range(count):
        ref = f"{prefix}{n + 1:04d}"
        delivered_on = today - dt.timedelta(days=rng.randint(1, DAYS))
        days_pregnant = rng.randint(230, 258) if rng.random() < 0.07 else rng.randint(259, 290)
        lmp = delivered_on - dt.timedelta(days=days_pregnant)
        late = rng.random() < 0.15
        booking_date = lmp + dt.timedelta(days=rng.randint(95, 170) if late else rng.randint(42, 88))
        booker = rng.choice(county.primary + county.hospitals)
        born = lmp - dt.timedelta(days=rng.randint(20 * 365, 40 * 365))
        woman = Woman(name=person_name(rng), id_type=Woman.IdType.RESIDENT_ID, external_id=ref,
                      id_number=_id_number(rng, county.code, born, taken), date_of_birth=born,
                      phone=f"13{rng.randint(0, 9)}{rng.randint(0, 99999999):08d}", residence_region=region,
                      registered_by=booker)
        gravidity = rng.randint(1, 4)
        pregnancy = Pregnancy(woman=woman, external_id=ref, lmp=lmp, gravidity=gravidity,
                              parity=rng.randint(0, gravidity - 1), booking_date=booking_date,
                              booking_institution=booker, status=Pregnancy.Status.DELIVERED)
        women.append(woman)
        pregnancies.append(pregnancy)
        # Antenatal visits: the booking visit, then more until the delivery (a few women have none at all).
        roll = rng.random()
        wanted = 0 if roll < 0.02 else rng.randint(1, 4) if roll < 0.17 else rng.randint(5, 11)
        span = max(0, (delivered_on - booking_date).days - 1)
        dates = sorted({booking_date, *(booking_date + dt.timedelta(days=rng.randint(0, span))
                                        for _ in range(max(0, wanted - 1)))}) if wanted else []
        for i, day in enumerate(dates):
            visits.append(Visit(pregnancy=pregnancy, kind=Visit.Kind.ANTENATAL, date=day,
                                institution=booker if i == 0 else rng.choice(county.hospitals),
                                external_id=f"{ref}-A{i + 1}", recorded_by=doctor))
        # The delivery.
        roll = rng.random()
        place = (Delivery.Place.HOME if roll < 0.015 else Delivery.Place.EN_ROUTE if roll < 0.025
                 else Delivery.Place.INSTITUTION)
        roll = rng.random()
        mode = (Delivery.Mode.CAESAREAN if roll < 0.35 else Delivery.Mode.ASSISTED_VAGINAL if roll < 0.38
                else Delivery.Mode.SPONTANEOUS) if place == Delivery.Place.INSTITUTION else Delivery.Mode.SPONTANEOUS
        moment = dt.datetime.combine(delivered_on, dt.time(rng.randint(0, 23), rng.randint(0, 59)), tzinfo=CHINA)
        twins = rng.random() < 0.015
        outcomes = [Baby.Outcome.STILLBORN if rng.random() < 0.006 else Baby.Outcome.LIVE
                    for _ in range(2 if twins else 1)]
        weeks, days = divmod(days_pregnant, 7)
        delivery = Delivery(
            pregnancy=pregnancy, external_id=ref, delivered_at=moment, delivered_on=delivered_on, place=place,
            institution=rng.choice(county.hospitals) if place == Delivery.Place.INSTITUTION else None, mode=mode,
            caesarean_indication=rng.choice(INDICATIONS) if mode == Delivery.Mode.CAESAREAN else "",
            gestational_weeks=weeks, gestational_days=days,
            live_births=outcomes.count(Baby.Outcome.LIVE), stillbirths=outcomes.count(Baby.Outcome.STILLBORN),
            outcome="母婴平安" if Baby.Outcome.STILLBORN not in outcomes else "死胎", recorded_by=doctor)
        deliveries.append(delivery)
        for order, outcome in enumerate(outcomes, start=1):
            babies.append(Baby(delivery=delivery, order=order, outcome=outcome,
                               sex=rng.choice([Baby.Sex.FEMALE, Baby.Sex.MALE]),
                               weight_g=rng.randint(1900, 2900) if twins else rng.randint(2500, 4200)))
        # Postpartum: most women are visited at home within 28 days, most have the 42-day check.
        if rng.random() < 0.88:
            for i, after in enumerate(sorted({rng.randint(3, 7), *([rng.randint(14, 28)] if rng.random() < 0.5
                                                                    else [])})):
                day = delivered_on + dt.timedelta(days=after)
                if day <= today:
                    visits.append(Visit(pregnancy=pregnancy, kind=Visit.Kind.POSTPARTUM, date=day,
                                        institution=rng.choice(county.primary), external_id=f"{ref}-P{i + 1}",
                                        recorded_by=doctor))
        day42 = delivered_on + dt.timedelta(days=rng.randint(42, 56))
        if rng.random() < 0.75 and day42 <= today:
            visits.append(Visit(pregnancy=pregnancy, kind=Visit.Kind.POSTPARTUM_42D, date=day42,
                                institution=rng.choice(county.hospitals), external_id=f"{ref}-D42",
                                recorded_by=doctor))
    with transaction.atomic():
        for rows, model in ((women, Woman), (pregnancies, Pregnancy), (deliveries, Delivery), (babies, Baby),
                            (visits, Visit)):
            # The ids are UUIDs made in Python, so every row's foreign keys are already set.
            bulk_create_with_history(rows, model, batch_size=1000, default_change_reason=REASON,
                                     default_user=doctor)
        # A bulk insert sends no signals: the deliveries' summary columns are computed here, in one go.
        summaries.refresh_pregnancies(d.pregnancy_id for d in deliveries)
    return len(deliveries)
