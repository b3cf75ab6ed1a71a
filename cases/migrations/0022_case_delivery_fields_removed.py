"""The high-risk case keeps no copy of the delivery: the pregnancy's Delivery record (moved there by 0021) is
the one source."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('cases', '0021_case_deliveries_moved'),
    ]

    operations = [
        migrations.RemoveField(
            model_name='highriskcase',
            name='delivered_at',
        ),
        migrations.RemoveField(
            model_name='highriskcase',
            name='delivery_institution',
        ),
        migrations.RemoveField(
            model_name='highriskcase',
            name='delivery_mode',
        ),
        migrations.RemoveField(
            model_name='highriskcase',
            name='delivery_outcome',
        ),
        migrations.RemoveField(
            model_name='historicalhighriskcase',
            name='delivered_at',
        ),
        migrations.RemoveField(
            model_name='historicalhighriskcase',
            name='delivery_institution',
        ),
        migrations.RemoveField(
            model_name='historicalhighriskcase',
            name='delivery_mode',
        ),
        migrations.RemoveField(
            model_name='historicalhighriskcase',
            name='delivery_outcome',
        ),
    ]
