"""The API's sync (issue 17 item 3): ``updated_at`` on women, pregnancies, screenings, assessments and high-risk
cases. Existing rows take the time of their latest history row (their last change), or, without one, the time
they were made (registered, screened, assessed or voided, opened); a pregnancy without history keeps the
migration's time. Each history row takes its own time."""


import django.utils.timezone
from django.db import migrations, models
from django.db.models import F, OuterRef, Subquery
from django.db.models.functions import Coalesce

# model, its fallback when it has no history row (None: keep the migration's time)
MODELS = (("Woman", F("created_at")), ("Pregnancy", None), ("Screening", F("screened_at")),
          ("Assessment", Coalesce("voided_at", "assessed_at")), ("HighRiskCase", F("opened_at")))


def backfill(apps, schema_editor):
    for name, fallback in MODELS:
        model = apps.get_model("cases", name)
        historical = apps.get_model("cases", f"Historical{name}")
        historical.objects.update(updated_at=F("history_date"))
        latest = Subquery(historical.objects.filter(id=OuterRef("pk")).order_by("-history_date").values(
            "history_date")[:1])
        value = Coalesce(latest, fallback) if fallback is not None else Coalesce(latest, F("updated_at"))
        # A queryset update: auto_now is not applied, the computed time is kept.
        model.objects.update(updated_at=value)


class Migration(migrations.Migration):

    dependencies = [
        ('cases', '0031_evaluation_rounds'),
    ]

    operations = [
        migrations.AddField(
            model_name='assessment',
            name='updated_at',
            field=models.DateTimeField(auto_now=True, db_index=True, verbose_name='updated at'),
        ),
        migrations.AddField(
            model_name='highriskcase',
            name='updated_at',
            field=models.DateTimeField(auto_now=True, db_index=True, verbose_name='updated at'),
        ),
        migrations.AddField(
            model_name='historicalassessment',
            name='updated_at',
            field=models.DateTimeField(blank=True, db_index=True, default=django.utils.timezone.now, editable=False, verbose_name='updated at'),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name='historicalhighriskcase',
            name='updated_at',
            field=models.DateTimeField(blank=True, db_index=True, default=django.utils.timezone.now, editable=False, verbose_name='updated at'),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name='historicalpregnancy',
            name='updated_at',
            field=models.DateTimeField(blank=True, db_index=True, default=django.utils.timezone.now, editable=False, verbose_name='updated at'),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name='historicalscreening',
            name='updated_at',
            field=models.DateTimeField(blank=True, db_index=True, default=django.utils.timezone.now, editable=False, verbose_name='updated at'),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name='historicalwoman',
            name='updated_at',
            field=models.DateTimeField(blank=True, db_index=True, default=django.utils.timezone.now, editable=False, verbose_name='updated at'),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name='pregnancy',
            name='updated_at',
            field=models.DateTimeField(auto_now=True, db_index=True, verbose_name='updated at'),
        ),
        migrations.AddField(
            model_name='screening',
            name='updated_at',
            field=models.DateTimeField(auto_now=True, db_index=True, verbose_name='updated at'),
        ),
        migrations.AddField(
            model_name='woman',
            name='updated_at',
            field=models.DateTimeField(auto_now=True, db_index=True, verbose_name='updated at'),
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop),
    ]
