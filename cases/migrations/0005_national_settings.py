"""The national defaults of the province settings (domain.md §9: 14 days, 72 h / 24 h reports)."""

import datetime as dt

from django.db import migrations


def national(apps, schema_editor):
    ProvinceSettings = apps.get_model("cases", "ProvinceSettings")
    if not ProvinceSettings.objects.filter(province__isnull=True).exists():
        ProvinceSettings.objects.create(province=None, effective_from=dt.date(2017, 11, 20),
                                        screening_optional_items=["6.5", "6.6", "6.7"])


class Migration(migrations.Migration):
    dependencies = [("cases", "0004_screening_assessment_case")]
    operations = [migrations.RunPython(national, migrations.RunPython.noop)]
