"""Runs beat while they work, so a run whose worker was killed is closed within minutes."""

import django.utils.timezone
from django.db import migrations, models


def last_sign_of_life_is_the_start(apps, schema_editor):
    ImportRun = apps.get_model("syndication", "ImportRun")
    ImportRun.objects.update(heartbeat_at=models.F("started_at"))


class Migration(migrations.Migration):
    dependencies = [
        ("syndication", "0003_websub_subscriptions"),
    ]

    operations = [
        migrations.AddField(
            model_name="importrun",
            name="heartbeat_at",
            field=models.DateTimeField(
                default=django.utils.timezone.now,
                help_text="The worker's last sign of life; a running run silent for long is closed.",
            ),
        ),
        migrations.RunPython(last_sign_of_life_is_the_start, migrations.RunPython.noop),
    ]
