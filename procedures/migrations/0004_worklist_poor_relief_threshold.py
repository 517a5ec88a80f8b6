from django.db import migrations

from procedures.catalog import add_missing_thresholds


class Migration(migrations.Migration):
    """The clinician worklist's poor-relief line becomes an editable threshold."""

    dependencies = [("procedures", "0003_record_next_refill_due")]
    operations = [migrations.RunPython(add_missing_thresholds, migrations.RunPython.noop)]
