import secrets

from django.db import migrations, models

import sites.models


def give_each_provider_a_token(apps, schema_editor):
    Provider = apps.get_model("scheduling", "Provider")
    for provider in Provider.objects.filter(calendar_token__isnull=True):
        provider.calendar_token = secrets.token_urlsafe(32)
        provider.save(update_fields=["calendar_token"])


class Migration(migrations.Migration):
    """A unique secret per provider for the calendar feed (added empty, filled, made unique)."""

    dependencies = [("scheduling", "0002_appointments_and_hours")]

    operations = [
        migrations.AddField(
            model_name="provider",
            name="calendar_token",
            field=models.CharField(editable=False, max_length=64, null=True),
        ),
        migrations.RunPython(give_each_provider_a_token, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="provider",
            name="calendar_token",
            field=models.CharField(
                default=sites.models.new_calendar_token,
                editable=False,
                help_text="The secret in the provider's calendar feed address; renew it to revoke.",
                max_length=64,
                unique=True,
            ),
        ),
    ]
