# The per-visit wait rows become per-minute histograms (decision 0038: exact medians over
# hundreds of thousands of rows were the slowest report). Derived data: the new table starts
# empty and the summaries' state is cleared, so the next refresh sums everything again and
# the reports read live until it has.

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("reports", "0004_outcome_rows"),
    ]

    operations = [
        migrations.RunSQL("DELETE FROM reports_summarystate", migrations.RunSQL.noop),
        migrations.DeleteModel(name="VisitWait"),
        migrations.CreateModel(
            name="VisitWaitMinute",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("day", models.DateField()),
                ("location_id", models.UUIDField()),
                ("provider_id", models.UUIDField()),
                ("appointment_type_id", models.UUIDField()),
                ("procedure_type_id", models.UUIDField(null=True)),
                ("stage", models.CharField(max_length=8)),
                ("minute", models.IntegerField()),
                ("visits", models.IntegerField()),
            ],
            options={
                "indexes": [
                    models.Index(fields=["day", "location_id"], name="visitwaitminute_day_idx")
                ],
            },
        ),
    ]
