"""The de-identified review packet: each death report's anonymous case number (given to existing reports
here, in order of death within each county and year), the province's break-the-glass window, and the
log of identified-record openings."""

import django.core.validators
import django.db.models.deletion
import simple_history.models
import uuid
from django.conf import settings
from django.db import migrations, models
from django.utils import timezone


def number_existing_reports(apps, schema_editor):
    DeathReport = apps.get_model("cases", "DeathReport")
    HistoricalDeathReport = apps.get_model("cases", "HistoricalDeathReport")
    sequence: dict[tuple[str, int], int] = {}
    for pk, region_id, died_at in DeathReport.objects.order_by("died_at", "created_at", "pk").values_list(
            "pk", "region_id", "died_at"):
        key = (region_id, timezone.localtime(died_at).year)
        sequence[key] = sequence.get(key, 0) + 1
        number = f"{region_id}-{key[1]}-{sequence[key]:03d}"
        DeathReport.objects.filter(pk=pk).update(review_number=number)
        HistoricalDeathReport.objects.filter(id=pk).update(review_number=number)
    # History of a report since deleted (none is expected: reports are protected).
    HistoricalDeathReport.objects.filter(review_number__isnull=True).update(review_number="")


class Migration(migrations.Migration):

    dependencies = [
        ('cases', '0014_death_panels'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name='deathreport',
            name='review_number',
            field=models.CharField(editable=False, max_length=24, null=True, unique=True, verbose_name='anonymous case number'),
        ),
        migrations.AddField(
            model_name='historicaldeathreport',
            name='review_number',
            field=models.CharField(db_index=True, editable=False, max_length=24, null=True, verbose_name='anonymous case number'),
        ),
        migrations.RunPython(number_existing_reports, migrations.RunPython.noop),
        migrations.AlterField(
            model_name='deathreport',
            name='review_number',
            field=models.CharField(editable=False, max_length=24, unique=True, verbose_name='anonymous case number'),
        ),
        migrations.AlterField(
            model_name='historicaldeathreport',
            name='review_number',
            field=models.CharField(db_index=True, editable=False, max_length=24, verbose_name='anonymous case number'),
        ),
        migrations.AddField(
            model_name='historicalprovincesettings',
            name='death_break_glass_hours',
            field=models.PositiveSmallIntegerField(default=12, verbose_name="hours an expert reviewer sees a death's identified record after breaking the glass"),
        ),
        migrations.AddField(
            model_name='provincesettings',
            name='death_break_glass_hours',
            field=models.PositiveSmallIntegerField(default=12, verbose_name="hours an expert reviewer sees a death's identified record after breaking the glass"),
        ),
        migrations.CreateModel(
            name='HistoricalDeathRecordAccess',
            fields=[
                ('id', models.UUIDField(db_index=True, default=uuid.uuid4, editable=False)),
                ('reason', models.TextField(validators=[django.core.validators.MaxLengthValidator(2000)], verbose_name='why the identified record is needed')),
                ('opened_at', models.DateTimeField(db_index=True, verbose_name='opened at')),
                ('expires_at', models.DateTimeField(verbose_name='identified view until')),
                ('history_id', models.AutoField(primary_key=True, serialize=False)),
                ('history_date', models.DateTimeField(db_index=True)),
                ('history_change_reason', models.CharField(max_length=100, null=True)),
                ('history_type', models.CharField(choices=[('+', 'Created'), ('~', 'Changed'), ('-', 'Deleted')], max_length=1)),
                ('history_user', models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('report', models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='cases.deathreport', verbose_name='death report')),
                ('user', models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='opened by')),
            ],
            options={
                'verbose_name': 'historical identified-record access',
                'verbose_name_plural': 'historical identified-record accesses',
                'ordering': ('-history_date', '-history_id'),
                'get_latest_by': ('history_date', 'history_id'),
            },
            bases=(simple_history.models.HistoricalChanges, models.Model),
        ),
        migrations.CreateModel(
            name='DeathRecordAccess',
            fields=[
                ('id', models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                ('reason', models.TextField(validators=[django.core.validators.MaxLengthValidator(2000)], verbose_name='why the identified record is needed')),
                ('opened_at', models.DateTimeField(db_index=True, verbose_name='opened at')),
                ('expires_at', models.DateTimeField(verbose_name='identified view until')),
                ('report', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='record_accesses', to='cases.deathreport', verbose_name='death report')),
                ('user', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='opened by')),
            ],
            options={
                'verbose_name': 'identified-record access',
                'verbose_name_plural': 'identified-record accesses',
                'ordering': ['-opened_at'],
                'indexes': [models.Index(fields=['report', 'user', 'expires_at'], name='death_access_window_idx')],
            },
        ),
    ]
