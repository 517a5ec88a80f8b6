from django.db import migrations

from procedures.catalog import add_missing_thresholds, add_rfa_level_limit


class Migration(migrations.Migration):
    """Frequency rules (issue 14): the repeat-response thresholds (trigger point, SI and facet
    injections), the ESI retry interval, the genicular block's positive relief and the local
    anaesthetics' durations become editable thresholds; facet RFA gets 2 levels per session."""

    dependencies = [("procedures", "0006_drug_vocabulary_and_lab_rules")]
    operations = [
        migrations.RunPython(add_missing_thresholds, migrations.RunPython.noop),
        migrations.RunPython(add_rfa_level_limit, migrations.RunPython.noop),
    ]
