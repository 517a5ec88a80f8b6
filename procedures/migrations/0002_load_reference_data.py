from django.db import migrations

from procedures.catalog import load_reference_data


class Migration(migrations.Migration):
    """The catalog and the safety rules ship with the product (procedures/data/*.csv)."""

    dependencies = [("procedures", "0001_initial")]
    operations = [migrations.RunPython(load_reference_data, migrations.RunPython.noop)]
