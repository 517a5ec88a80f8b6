# The registry's per-procedure summary rows are folded into its per-point rows (one table, no
# join: decision 0038). Derived data: the table is made anew and the summaries' state cleared,
# so the next refresh sums everything again and the reports read live until it has.

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("reports", "0003_summaries"),
    ]

    operations = [
        migrations.RunSQL("DELETE FROM reports_summarystate", migrations.RunSQL.noop),
        migrations.DeleteModel(name="OutcomeRecord"),
        migrations.DeleteModel(name="OutcomePoint"),
        migrations.CreateModel(
            name="OutcomePoint",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("record_id", models.UUIDField()),
                ("patient_id", models.UUIDField()),
                ("day", models.DateField(db_index=True)),
                ("location_id", models.UUIDField()),
                ("performer_id", models.UUIDField()),
                ("procedure_type_id", models.UUIDField()),
                ("performed_at", models.DateTimeField()),
                ("pre_nrs", models.SmallIntegerField()),
                ("complication", models.BooleanField()),
                ("surveys_sent", models.IntegerField()),
                ("surveys_answered", models.IntegerField()),
                ("point", models.CharField(max_length=2)),
                ("nrs", models.SmallIntegerField(null=True)),
                ("percent_relief", models.DecimalField(decimal_places=1, max_digits=5, null=True)),
                ("pgic", models.SmallIntegerField(null=True)),
                ("odi_baseline", models.DecimalField(decimal_places=2, max_digits=6, null=True)),
                ("odi_follow_up", models.DecimalField(decimal_places=2, max_digits=6, null=True)),
                ("ndi_baseline", models.DecimalField(decimal_places=2, max_digits=6, null=True)),
                ("ndi_follow_up", models.DecimalField(decimal_places=2, max_digits=6, null=True)),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(
                        fields=("record_id", "point"), name="outcomepoint_unique"
                    )
                ],
            },
        ),
    ]
