# Availability reads the providers' and rooms' busy time in a window through these indexes
# (see scheduling/availability.py). Built CONCURRENTLY when the migration runs on its own (a
# deploy: the appointment table is the largest a clinic has, and bookings go on meanwhile);
# plainly when it runs inside a transaction (a test migrating back and forth).

import django.contrib.postgres.indexes
from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models

import scheduling.models

HOLDS_TIME = ["booked", "checked_in", "in_room", "completed"]


class AddIndexConcurrentlyWhenAlone(AddIndexConcurrently):
    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if not schema_editor.connection.in_atomic_block:
            return super().database_forwards(app_label, schema_editor, from_state, to_state)
        model = to_state.apps.get_model(app_label, self.model_name)
        if self.allow_migrate_model(schema_editor.connection.alias, model):
            # Deferred foreign-key checks of rows written earlier in the transaction would
            # forbid the index ("pending trigger events"): run them now.
            schema_editor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            schema_editor.add_index(model, self.index)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if not schema_editor.connection.in_atomic_block:
            return super().database_backwards(app_label, schema_editor, from_state, to_state)
        model = from_state.apps.get_model(app_label, self.model_name)
        if self.allow_migrate_model(schema_editor.connection.alias, model):
            schema_editor.remove_index(model, self.index)


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("scheduling", "0012_patient_data_audited"),
    ]

    operations = [
        AddIndexConcurrentlyWhenAlone(
            model_name="appointment",
            index=django.contrib.postgres.indexes.GistIndex(
                models.F("provider"),
                scheduling.models.TsTzRange("block_start", "block_end", models.Value("[)")),
                condition=models.Q(("status__in", HOLDS_TIME)),
                name="appointment_provider_busy_idx",
            ),
        ),
        AddIndexConcurrentlyWhenAlone(
            model_name="appointment",
            index=django.contrib.postgres.indexes.GistIndex(
                models.F("room"),
                scheduling.models.TsTzRange("block_start", "block_end", models.Value("[)")),
                condition=models.Q(("room__isnull", False), ("status__in", HOLDS_TIME)),
                name="appointment_room_busy_idx",
            ),
        ),
    ]
