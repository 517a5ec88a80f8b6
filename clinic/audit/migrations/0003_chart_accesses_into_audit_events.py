"""Every chart-open row kept before the audit log becomes an audit row (the old table stays)."""

import uuid

from django.db import migrations

CHANNEL_BY_VIA = {"api": "api"}


def copy_chart_accesses(apps, schema_editor):
    ChartAccess = apps.get_model("audit", "ChartAccess")
    AuditEvent = apps.get_model("audit", "AuditEvent")
    accesses = ChartAccess.objects.select_related("user").order_by("accessed_at").iterator()
    AuditEvent.objects.bulk_create(
        (
            AuditEvent(
                request_id=uuid.uuid4(),
                at=access.accessed_at,
                user_id=access.user_id,
                username=access.user.username,
                channel=CHANNEL_BY_VIA.get(access.via, "desk"),
                action="read",
                method="GET",
                route=f"chart-access:{access.via}",
                path="",
                status=200,
                patients=[access.patient_id],
            )
            for access in accesses
        ),
        batch_size=2000,
    )


class Migration(migrations.Migration):
    dependencies = [("audit", "0002_patient_data_audited")]

    operations = [migrations.RunPython(copy_chart_accesses, migrations.RunPython.noop)]
