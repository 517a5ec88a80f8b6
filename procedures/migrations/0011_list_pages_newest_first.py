from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("procedures", "0010_patient_data_audited"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="procedureorder",
            index=models.Index(fields=["-ordered_at"], name="order_newest_idx"),
        ),
        migrations.AddIndex(
            model_name="procedurerecord",
            index=models.Index(fields=["-performed_at"], name="record_newest_idx"),
        ),
    ]
