from django.db import migrations

from procedures.catalog import load_drug_vocabulary, resolve_existing_medications


class Migration(migrations.Migration):
    """The drug vocabulary ships with the catalog data (data/drug_names.csv), with the N18
    holds of its uncertain rows and the lab thresholds; medications already on a chart are
    resolved to their generic(s) and class(es)."""

    dependencies = [
        ("procedures", "0005_providers_from_sites"),
        ("patients", "0005_drug_vocabulary_and_labs"),
    ]
    operations = [
        migrations.RunPython(load_drug_vocabulary, migrations.RunPython.noop),
        migrations.RunPython(resolve_existing_medications, migrations.RunPython.noop),
    ]
