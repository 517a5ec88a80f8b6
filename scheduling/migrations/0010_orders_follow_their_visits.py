"""Orders and visits agree: a procedure order is "scheduled" only while a visit holds it
(booked, checked in, in the room, or completed and waiting for its record). Before this, a
cancelled or missed visit could leave its order "scheduled" with nothing behind it, and the
demo scheduled orders without visits; such orders become "authorized" again, to be booked.

In the scheduling app: it sees both models (its Appointment points at the order), while the
procedures app below it never reads scheduling's tables.
"""

from django.db import migrations
from django.db.models import Exists, OuterRef

# Literals, not the models' constants: a migration keeps the meaning it had when written.
HOLDS_ORDER = ["booked", "checked_in", "in_room", "completed"]


def release_orders_without_visits(apps, schema_editor):
    ProcedureOrder = apps.get_model("procedures", "ProcedureOrder")
    Appointment = apps.get_model("scheduling", "Appointment")
    held = Appointment.objects.filter(procedure_order=OuterRef("pk"), status__in=HOLDS_ORDER)
    ProcedureOrder.objects.filter(status="scheduled").exclude(Exists(held)).update(
        status="authorized"
    )


class Migration(migrations.Migration):
    dependencies = [
        ("procedures", "0005_providers_from_sites"),
        ("scheduling", "0009_desk_workspace"),
    ]

    operations = [
        # Nothing to put back on the way down: "authorized" is a valid state either way.
        migrations.RunPython(release_orders_without_visits, migrations.RunPython.noop),
    ]
