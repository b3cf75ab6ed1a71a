"""Routine records, step 2: the 42-day check's window as a province setting, and every delivery recorded on a
high-risk case moved into the pregnancy's Delivery record (one source of truth; 0022 then drops the case's
copy).

What the move assumes, because the case kept less than a Delivery holds:
- the time: the case kept a date only, so the delivery is put at 12:00 China time on that day;
- the babies: not recorded on the case, so one live birth (live_births=1, stillbirths=0) and no Baby rows;
- the place: at the case's delivery institution when one was named, else "other" (no institution);
- the mode: vaginal → spontaneous, assisted → assisted_vaginal, caesarean → caesarean (an empty mode, which
  the old form never allowed, becomes spontaneous); a caesarean's indication was not asked, so it is empty;
- the outcome text is kept; recorded_by is whoever recorded the case's delivery in its history, if known.
A pregnancy that already has a Delivery keeps it. Each moved row gets a history row with the reason
"moved from the high-risk case". Reversing copies the Delivery back onto the case.
"""

import datetime as dt
import uuid
from zoneinfo import ZoneInfo

from django.db import migrations, models
from django.utils import timezone

CHINA = ZoneInfo("Asia/Shanghai")
MODES = {"vaginal": "spontaneous", "assisted": "assisted_vaginal", "caesarean": "caesarean"}
REASON = "moved from the high-risk case"


def move(apps, schema_editor):
    HighRiskCase = apps.get_model("cases", "HighRiskCase")
    Delivery = apps.get_model("cases", "Delivery")
    HistoricalDelivery = apps.get_model("cases", "HistoricalDelivery")
    HistoricalHighRiskCase = apps.get_model("cases", "HistoricalHighRiskCase")
    now = timezone.now()
    has_delivery = set(Delivery.objects.values_list("pregnancy_id", flat=True))
    for case in HighRiskCase.objects.filter(delivered_at__isnull=False).order_by("pk").iterator():
        if case.pregnancy_id in has_delivery:
            continue
        recorder = (HistoricalHighRiskCase.objects.filter(id=case.pk, history_change_reason="delivered")
                    .order_by("history_date").values_list("history_user_id", flat=True).first())
        delivered_at = dt.datetime.combine(case.delivered_at, dt.time(12, 0), tzinfo=CHINA)
        delivery = Delivery.objects.create(
            id=uuid.uuid4(), pregnancy_id=case.pregnancy_id, delivered_at=delivered_at,
            delivered_on=case.delivered_at,
            place="institution" if case.delivery_institution_id else "other",
            institution_id=case.delivery_institution_id, mode=MODES.get(case.delivery_mode, "spontaneous"),
            caesarean_indication="", live_births=1, stillbirths=0, outcome=case.delivery_outcome or "",
            recorded_by_id=recorder)
        fields = {f.attname: getattr(delivery, f.attname) for f in Delivery._meta.concrete_fields}
        HistoricalDelivery.objects.create(**fields, history_date=now, history_type="+",
                                          history_change_reason=REASON, history_user_id=recorder)
        has_delivery.add(case.pregnancy_id)


def move_back(apps, schema_editor):
    HighRiskCase = apps.get_model("cases", "HighRiskCase")
    Delivery = apps.get_model("cases", "Delivery")
    back = {value: key for key, value in MODES.items()}
    for delivery in Delivery.objects.filter(pregnancy__highrisk_case__isnull=False).iterator():
        HighRiskCase.objects.filter(pregnancy_id=delivery.pregnancy_id).update(
            delivered_at=delivery.delivered_on, delivery_institution_id=delivery.institution_id,
            delivery_mode=back.get(delivery.mode, "vaginal"), delivery_outcome=delivery.outcome)


class Migration(migrations.Migration):

    dependencies = [
        ('cases', '0020_routine_records'),
    ]

    operations = [
        migrations.AddField(
            model_name='historicalprovincesettings',
            name='postpartum_42d_from_days',
            field=models.PositiveSmallIntegerField(default=35, verbose_name='earliest day after delivery for the 42-day postpartum check'),
        ),
        migrations.AddField(
            model_name='historicalprovincesettings',
            name='postpartum_42d_to_days',
            field=models.PositiveSmallIntegerField(default=90, verbose_name='latest day after delivery for the 42-day postpartum check (and any postpartum visit)'),
        ),
        migrations.AddField(
            model_name='provincesettings',
            name='postpartum_42d_from_days',
            field=models.PositiveSmallIntegerField(default=35, verbose_name='earliest day after delivery for the 42-day postpartum check'),
        ),
        migrations.AddField(
            model_name='provincesettings',
            name='postpartum_42d_to_days',
            field=models.PositiveSmallIntegerField(default=90, verbose_name='latest day after delivery for the 42-day postpartum check (and any postpartum visit)'),
        ),
        migrations.RunPython(move, move_back),
    ]
