from django.db import migrations


def national_default(apps, schema_editor):
    AlertPolicy = apps.get_model("notifications", "AlertPolicy")
    AlertPolicy.objects.get_or_create(
        province=None, kind="*",
        defaults={"ack_minutes": 5, "chain": ["on_call", "mch_officer", "bureau_officer"],
                  "sms_after_escalation": True},
    )


class Migration(migrations.Migration):
    dependencies = [("notifications", "0001_initial")]
    operations = [migrations.RunPython(national_default, migrations.RunPython.noop)]
