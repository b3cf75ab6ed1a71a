"""The API's sync for referrals (issue 17 item 3): ``updated_at`` on referrals. Existing rows take the time of
their latest history row (their last change), or, without one, the time they were requested. Each history row
takes its own time."""


import django.utils.timezone
from django.db import migrations, models
from django.db.models import F, OuterRef, Subquery
from django.db.models.functions import Coalesce


def backfill(apps, schema_editor):
    referral = apps.get_model("cases", "Referral")
    historical = apps.get_model("cases", "HistoricalReferral")
    historical.objects.update(updated_at=F("history_date"))
    latest = Subquery(historical.objects.filter(id=OuterRef("pk")).order_by("-history_date").values(
        "history_date")[:1])
    # A queryset update: auto_now is not applied, the computed time is kept.
    referral.objects.update(updated_at=Coalesce(latest, F("requested_at")))


class Migration(migrations.Migration):

    dependencies = [
        ('cases', '0032_sync_updated_at'),
    ]

    operations = [
        migrations.AddField(
            model_name='historicalreferral',
            name='updated_at',
            field=models.DateTimeField(blank=True, db_index=True, default=django.utils.timezone.now, editable=False, verbose_name='updated at'),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name='referral',
            name='updated_at',
            field=models.DateTimeField(auto_now=True, db_index=True, default=django.utils.timezone.now, verbose_name='updated at'),
            preserve_default=False,
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop),
    ]
