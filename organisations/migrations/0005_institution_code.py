"""Every institution gets a unique code (统一社会信用代码 or another code of the province's systems).

Rows that exist get a placeholder built from their region and an ordinal (``ANMU-350121-0001``) that an
administrator replaces with the real code; a code is what importers and other systems name an institution by.
"""

import django.core.validators
from django.db import migrations, models


def fill_codes(apps, schema_editor):
    Institution = apps.get_model("organisations", "Institution")
    HistoricalInstitution = apps.get_model("organisations", "HistoricalInstitution")
    counts: dict[str, int] = {}
    for institution in Institution.objects.order_by("region_id", "name", "id"):
        counts[institution.region_id] = counts.get(institution.region_id, 0) + 1
        institution.code = f"ANMU-{institution.region_id}-{counts[institution.region_id]:04d}"
        institution.save(update_fields=["code"])
    # Earlier history rows show the code the institution has now (the column did not exist then).
    for institution in Institution.objects.all():
        HistoricalInstitution.objects.filter(id=institution.id).update(code=institution.code)


class Migration(migrations.Migration):
    dependencies = [("organisations", "0004_role_institution_head")]

    operations = [
        migrations.AddField("institution", "code", models.CharField(max_length=32, null=True, verbose_name="institution code")),
        migrations.AddField("historicalinstitution", "code", models.CharField(max_length=32, null=True, db_index=True, verbose_name="institution code")),
        migrations.RunPython(fill_codes, migrations.RunPython.noop),
    ]
