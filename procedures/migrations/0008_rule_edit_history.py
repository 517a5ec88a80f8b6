import django.contrib.postgres.fields
import django.db.models.deletion
import pgtrigger.compiler
import pgtrigger.migrations
import uuid
from django.db import migrations, models

from clinic.users.roles import sync_role_groups
from procedures.catalog import add_missing_safety_rules


class Migration(migrations.Migration):
    """Every edit of a rule value is recorded (issue 14 point 9): django-pghistory's triggers on
    the catalog, thresholds, hold rules, steroids and the new chart-driven SafetyRule store the
    row before and after each update, with who made it. SafetyRule gets its shipped rows (the
    allergy, condition, device and medication rules of issue 14 point 8) and the glucose
    threshold; managers may view and change the rules."""

    dependencies = [
        ("pghistory", "0007_auto_20250421_0444"),
        ("procedures", "0007_frequency_rules"),
    ]
    operations = [
        migrations.CreateModel(
            name="AnticoagulantRuleEvent",
            fields=[
                ("pgh_id", models.AutoField(primary_key=True, serialize=False)),
                ("pgh_created_at", models.DateTimeField(auto_now_add=True)),
                ("pgh_label", models.TextField(help_text="The event label.")),
                ("id", models.UUIDField(default=uuid.uuid4, editable=False, serialize=False)),
                ("drug", models.CharField(max_length=120)),
                ("drug_class", models.CharField(max_length=32)),
                (
                    "match_names",
                    django.contrib.postgres.fields.ArrayField(
                        base_field=models.CharField(max_length=60),
                        help_text="Lower-case names that identify the drug in a medication list.",
                        size=None,
                    ),
                ),
                (
                    "high_decision",
                    models.CharField(
                        choices=[
                            ("hold", "Hold"),
                            ("shared_decision", "Shared decision with the prescriber"),
                            ("no_hold", "No hold"),
                        ],
                        max_length=16,
                    ),
                ),
                ("high_hours", models.PositiveIntegerField(blank=True, null=True)),
                (
                    "intermediate_decision",
                    models.CharField(
                        choices=[
                            ("hold", "Hold"),
                            ("shared_decision", "Shared decision with the prescriber"),
                            ("no_hold", "No hold"),
                        ],
                        max_length=16,
                    ),
                ),
                ("intermediate_hours", models.PositiveIntegerField(blank=True, null=True)),
                (
                    "low_decision",
                    models.CharField(
                        choices=[
                            ("hold", "Hold"),
                            ("shared_decision", "Shared decision with the prescriber"),
                            ("no_hold", "No hold"),
                        ],
                        max_length=16,
                    ),
                ),
                ("low_hours", models.PositiveIntegerField(blank=True, null=True)),
                ("requires_normal_inr", models.BooleanField(default=False)),
                ("restart_after", models.CharField(blank=True, max_length=120)),
                (
                    "note",
                    models.TextField(
                        blank=True, help_text="The source's wording, ranges included."
                    ),
                ),
                ("source", models.CharField(max_length=120)),
                ("certain", models.BooleanField(default=True)),
            ],
            options={"abstract": False},
        ),
        migrations.CreateModel(
            name="ProcedureTypeEvent",
            fields=[
                ("pgh_id", models.AutoField(primary_key=True, serialize=False)),
                ("pgh_created_at", models.DateTimeField(auto_now_add=True)),
                ("pgh_label", models.TextField(help_text="The event label.")),
                ("id", models.UUIDField(default=uuid.uuid4, editable=False, serialize=False)),
                ("code", models.SlugField(db_index=False, max_length=40)),
                ("name", models.CharField(max_length=160)),
                (
                    "family",
                    models.CharField(help_text="e.g. esi, mbb, rfa, si, tpi", max_length=40),
                ),
                (
                    "region",
                    models.CharField(
                        help_text="Body region for payer limits, e.g. lumbar_sacral, knee.",
                        max_length=40,
                    ),
                ),
                (
                    "cpt_codes",
                    models.CharField(blank=True, max_length=200, verbose_name="CPT codes"),
                ),
                ("imaging", models.CharField(blank=True, max_length=200)),
                (
                    "steroid",
                    models.CharField(
                        choices=[("yes", "Yes"), ("optional", "Optional"), ("no", "No")],
                        default="no",
                        max_length=10,
                    ),
                ),
                (
                    "nonparticulate_steroid_only",
                    models.BooleanField(
                        default=False,
                        help_text="Only a non-particulate steroid (dexamethasone) may be used.",
                    ),
                ),
                (
                    "contrast",
                    models.CharField(
                        choices=[("yes", "Yes"), ("optional", "Optional"), ("no", "No")],
                        default="no",
                        max_length=10,
                    ),
                ),
                (
                    "sedation",
                    models.CharField(
                        choices=[
                            ("none", "None (local anaesthetic)"),
                            ("optional", "Sometimes (moderate sedation if documented)"),
                            ("usual", "Usually moderate sedation"),
                            ("general", "MAC or general anaesthesia"),
                        ],
                        default="none",
                        max_length=10,
                    ),
                ),
                ("needs_driver", models.BooleanField(default=False)),
                (
                    "fasting_hours",
                    models.PositiveSmallIntegerField(
                        default=0,
                        help_text="Hours without solid food before; 0 when no fasting is needed.",
                    ),
                ),
                (
                    "purpose",
                    models.CharField(
                        choices=[
                            ("diagnostic", "Diagnostic"),
                            ("therapeutic", "Therapeutic"),
                            ("both", "Diagnostic and therapeutic"),
                        ],
                        max_length=12,
                    ),
                ),
                (
                    "bleeding_risk",
                    models.CharField(
                        choices=[
                            ("low", "Low"),
                            ("intermediate", "Intermediate"),
                            ("high", "High"),
                        ],
                        max_length=12,
                    ),
                ),
                (
                    "default_minutes",
                    models.PositiveSmallIntegerField(help_text="Room time for one level."),
                ),
                ("minutes_per_extra_level", models.PositiveSmallIntegerField(default=0)),
                ("turnover_minutes", models.PositiveSmallIntegerField(default=10)),
                (
                    "room_kind",
                    models.CharField(
                        choices=[
                            ("consult", "Consult room"),
                            ("fluoroscopy_suite", "Procedure suite with fluoroscopy"),
                            ("ultrasound", "Ultrasound room"),
                            ("procedure_room", "Procedure room"),
                            ("operating_room", "Operating room"),
                            ("recovery", "Recovery"),
                        ],
                        max_length=32,
                    ),
                ),
                ("side_applies", models.BooleanField(default=False)),
                ("levels_apply", models.BooleanField(default=False)),
                (
                    "allowed_levels",
                    django.contrib.postgres.fields.ArrayField(
                        base_field=models.CharField(max_length=8),
                        blank=True,
                        default=list,
                        size=None,
                    ),
                ),
                (
                    "max_levels",
                    models.PositiveSmallIntegerField(
                        blank=True,
                        help_text="Most levels in one session; empty for no limit.",
                        null=True,
                    ),
                ),
                (
                    "follow_up_plan",
                    models.JSONField(
                        blank=True,
                        default=dict,
                        help_text="next_day_check, pain_diary_hours, outcome_survey_days, wound_check_days.",
                    ),
                ),
                ("follow_up_notes", models.TextField(blank=True)),
                (
                    "preparation",
                    models.TextField(
                        blank=True,
                        help_text="What the patient is told to do before; shown to patients.",
                    ),
                ),
                (
                    "uncertain_fields",
                    django.contrib.postgres.fields.ArrayField(
                        base_field=models.CharField(max_length=40),
                        blank=True,
                        default=list,
                        size=None,
                    ),
                ),
                ("source_note", models.TextField(blank=True)),
                ("is_active", models.BooleanField(default=True)),
            ],
            options={"abstract": False},
        ),
        migrations.CreateModel(
            name="SafetyRule",
            fields=[
                ("key", models.CharField(max_length=60, primary_key=True, serialize=False)),
                (
                    "applies_when",
                    models.CharField(help_text="When the safety check uses it.", max_length=300),
                ),
                (
                    "severity",
                    models.CharField(
                        choices=[
                            ("block", "Block (a clinician must override it)"),
                            ("warn", "Warning"),
                            ("info", "Information"),
                        ],
                        max_length=8,
                    ),
                ),
                ("advice", models.TextField(help_text="What the finding tells the clinician.")),
                ("source", models.CharField(max_length=200)),
                (
                    "certain",
                    models.BooleanField(
                        default=True,
                        help_text="Unticked until a clinician confirms it against the source.",
                    ),
                ),
                ("updated_at", models.DateTimeField(auto_now=True)),
            ],
            options={"ordering": ["key"]},
        ),
        migrations.CreateModel(
            name="SafetyRuleEvent",
            fields=[
                ("pgh_id", models.AutoField(primary_key=True, serialize=False)),
                ("pgh_created_at", models.DateTimeField(auto_now_add=True)),
                ("pgh_label", models.TextField(help_text="The event label.")),
                ("key", models.CharField(max_length=60, serialize=False)),
                (
                    "applies_when",
                    models.CharField(help_text="When the safety check uses it.", max_length=300),
                ),
                (
                    "severity",
                    models.CharField(
                        choices=[
                            ("block", "Block (a clinician must override it)"),
                            ("warn", "Warning"),
                            ("info", "Information"),
                        ],
                        max_length=8,
                    ),
                ),
                ("advice", models.TextField(help_text="What the finding tells the clinician.")),
                ("source", models.CharField(max_length=200)),
                (
                    "certain",
                    models.BooleanField(
                        default=True,
                        help_text="Unticked until a clinician confirms it against the source.",
                    ),
                ),
            ],
            options={"abstract": False},
        ),
        migrations.CreateModel(
            name="SafetyThresholdEvent",
            fields=[
                ("pgh_id", models.AutoField(primary_key=True, serialize=False)),
                ("pgh_created_at", models.DateTimeField(auto_now_add=True)),
                ("pgh_label", models.TextField(help_text="The event label.")),
                ("key", models.SlugField(db_index=False, max_length=60, serialize=False)),
                ("value", models.DecimalField(decimal_places=2, max_digits=8)),
                ("unit", models.CharField(max_length=30)),
                ("description", models.CharField(max_length=300)),
                ("source", models.CharField(max_length=200)),
                ("certain", models.BooleanField(default=True)),
            ],
            options={"abstract": False},
        ),
        migrations.CreateModel(
            name="SteroidEvent",
            fields=[
                ("pgh_id", models.AutoField(primary_key=True, serialize=False)),
                ("pgh_created_at", models.DateTimeField(auto_now_add=True)),
                ("pgh_label", models.TextField(help_text="The event label.")),
                ("name", models.CharField(max_length=40, serialize=False)),
                (
                    "methylprednisolone_factor",
                    models.DecimalField(
                        decimal_places=3,
                        help_text="mg of methylprednisolone per mg of this.",
                        max_digits=6,
                    ),
                ),
                (
                    "max_dose_per_session_mg",
                    models.DecimalField(blank=True, decimal_places=2, max_digits=6, null=True),
                ),
                ("particulate", models.BooleanField(default=True)),
                ("source", models.CharField(max_length=200)),
                ("certain", models.BooleanField(default=True)),
            ],
            options={"abstract": False},
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="anticoagulantrule",
            trigger=pgtrigger.compiler.Trigger(
                name="insert_insert",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func='INSERT INTO "procedures_anticoagulantruleevent" ("certain", "drug", "drug_class", "high_decision", "high_hours", "id", "intermediate_decision", "intermediate_hours", "low_decision", "low_hours", "match_names", "note", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "requires_normal_inr", "restart_after", "source") VALUES (NEW."certain", NEW."drug", NEW."drug_class", NEW."high_decision", NEW."high_hours", NEW."id", NEW."intermediate_decision", NEW."intermediate_hours", NEW."low_decision", NEW."low_hours", NEW."match_names", NEW."note", _pgh_attach_context(), NOW(), \'insert\', NEW."id", NEW."requires_normal_inr", NEW."restart_after", NEW."source"); RETURN NULL;',
                    hash="b5129b880ecd5f8b1aa897561eb1003d0c8c4211",
                    operation="INSERT",
                    pgid="pgtrigger_insert_insert_84968",
                    table="procedures_anticoagulantrule",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="anticoagulantrule",
            trigger=pgtrigger.compiler.Trigger(
                name="change_from_update",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    condition="WHEN (OLD.* IS DISTINCT FROM NEW.*)",
                    func='INSERT INTO "procedures_anticoagulantruleevent" ("certain", "drug", "drug_class", "high_decision", "high_hours", "id", "intermediate_decision", "intermediate_hours", "low_decision", "low_hours", "match_names", "note", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "requires_normal_inr", "restart_after", "source") VALUES (OLD."certain", OLD."drug", OLD."drug_class", OLD."high_decision", OLD."high_hours", OLD."id", OLD."intermediate_decision", OLD."intermediate_hours", OLD."low_decision", OLD."low_hours", OLD."match_names", OLD."note", _pgh_attach_context(), NOW(), \'change_from\', OLD."id", OLD."requires_normal_inr", OLD."restart_after", OLD."source"); RETURN NULL;',
                    hash="7bb7cff76bbb3da6188334d205e655214af87280",
                    operation="UPDATE",
                    pgid="pgtrigger_change_from_update_4b446",
                    table="procedures_anticoagulantrule",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="anticoagulantrule",
            trigger=pgtrigger.compiler.Trigger(
                name="change_to_update",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    condition="WHEN (OLD.* IS DISTINCT FROM NEW.*)",
                    func='INSERT INTO "procedures_anticoagulantruleevent" ("certain", "drug", "drug_class", "high_decision", "high_hours", "id", "intermediate_decision", "intermediate_hours", "low_decision", "low_hours", "match_names", "note", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "requires_normal_inr", "restart_after", "source") VALUES (NEW."certain", NEW."drug", NEW."drug_class", NEW."high_decision", NEW."high_hours", NEW."id", NEW."intermediate_decision", NEW."intermediate_hours", NEW."low_decision", NEW."low_hours", NEW."match_names", NEW."note", _pgh_attach_context(), NOW(), \'change_to\', NEW."id", NEW."requires_normal_inr", NEW."restart_after", NEW."source"); RETURN NULL;',
                    hash="17c8c895df705a9c3c166b974599d4a3cf7ae73d",
                    operation="UPDATE",
                    pgid="pgtrigger_change_to_update_e8ca2",
                    table="procedures_anticoagulantrule",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="anticoagulantrule",
            trigger=pgtrigger.compiler.Trigger(
                name="delete_delete",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func='INSERT INTO "procedures_anticoagulantruleevent" ("certain", "drug", "drug_class", "high_decision", "high_hours", "id", "intermediate_decision", "intermediate_hours", "low_decision", "low_hours", "match_names", "note", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "requires_normal_inr", "restart_after", "source") VALUES (OLD."certain", OLD."drug", OLD."drug_class", OLD."high_decision", OLD."high_hours", OLD."id", OLD."intermediate_decision", OLD."intermediate_hours", OLD."low_decision", OLD."low_hours", OLD."match_names", OLD."note", _pgh_attach_context(), NOW(), \'delete\', OLD."id", OLD."requires_normal_inr", OLD."restart_after", OLD."source"); RETURN NULL;',
                    hash="4ce2e624cf740e760e6220b018508070294afc7f",
                    operation="DELETE",
                    pgid="pgtrigger_delete_delete_b1599",
                    table="procedures_anticoagulantrule",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="proceduretype",
            trigger=pgtrigger.compiler.Trigger(
                name="insert_insert",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func='INSERT INTO "procedures_proceduretypeevent" ("allowed_levels", "bleeding_risk", "code", "contrast", "cpt_codes", "default_minutes", "family", "fasting_hours", "follow_up_notes", "follow_up_plan", "id", "imaging", "is_active", "levels_apply", "max_levels", "minutes_per_extra_level", "name", "needs_driver", "nonparticulate_steroid_only", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "preparation", "purpose", "region", "room_kind", "sedation", "side_applies", "source_note", "steroid", "turnover_minutes", "uncertain_fields") VALUES (NEW."allowed_levels", NEW."bleeding_risk", NEW."code", NEW."contrast", NEW."cpt_codes", NEW."default_minutes", NEW."family", NEW."fasting_hours", NEW."follow_up_notes", NEW."follow_up_plan", NEW."id", NEW."imaging", NEW."is_active", NEW."levels_apply", NEW."max_levels", NEW."minutes_per_extra_level", NEW."name", NEW."needs_driver", NEW."nonparticulate_steroid_only", _pgh_attach_context(), NOW(), \'insert\', NEW."id", NEW."preparation", NEW."purpose", NEW."region", NEW."room_kind", NEW."sedation", NEW."side_applies", NEW."source_note", NEW."steroid", NEW."turnover_minutes", NEW."uncertain_fields"); RETURN NULL;',
                    hash="637f6d70307f37aee4763a770725e958b1729f99",
                    operation="INSERT",
                    pgid="pgtrigger_insert_insert_4c63e",
                    table="procedures_proceduretype",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="proceduretype",
            trigger=pgtrigger.compiler.Trigger(
                name="change_from_update",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    condition="WHEN (OLD.* IS DISTINCT FROM NEW.*)",
                    func='INSERT INTO "procedures_proceduretypeevent" ("allowed_levels", "bleeding_risk", "code", "contrast", "cpt_codes", "default_minutes", "family", "fasting_hours", "follow_up_notes", "follow_up_plan", "id", "imaging", "is_active", "levels_apply", "max_levels", "minutes_per_extra_level", "name", "needs_driver", "nonparticulate_steroid_only", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "preparation", "purpose", "region", "room_kind", "sedation", "side_applies", "source_note", "steroid", "turnover_minutes", "uncertain_fields") VALUES (OLD."allowed_levels", OLD."bleeding_risk", OLD."code", OLD."contrast", OLD."cpt_codes", OLD."default_minutes", OLD."family", OLD."fasting_hours", OLD."follow_up_notes", OLD."follow_up_plan", OLD."id", OLD."imaging", OLD."is_active", OLD."levels_apply", OLD."max_levels", OLD."minutes_per_extra_level", OLD."name", OLD."needs_driver", OLD."nonparticulate_steroid_only", _pgh_attach_context(), NOW(), \'change_from\', OLD."id", OLD."preparation", OLD."purpose", OLD."region", OLD."room_kind", OLD."sedation", OLD."side_applies", OLD."source_note", OLD."steroid", OLD."turnover_minutes", OLD."uncertain_fields"); RETURN NULL;',
                    hash="0fb8dc18a33e7587d94bb36cf0ea77bf955a8ad3",
                    operation="UPDATE",
                    pgid="pgtrigger_change_from_update_9c175",
                    table="procedures_proceduretype",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="proceduretype",
            trigger=pgtrigger.compiler.Trigger(
                name="change_to_update",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    condition="WHEN (OLD.* IS DISTINCT FROM NEW.*)",
                    func='INSERT INTO "procedures_proceduretypeevent" ("allowed_levels", "bleeding_risk", "code", "contrast", "cpt_codes", "default_minutes", "family", "fasting_hours", "follow_up_notes", "follow_up_plan", "id", "imaging", "is_active", "levels_apply", "max_levels", "minutes_per_extra_level", "name", "needs_driver", "nonparticulate_steroid_only", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "preparation", "purpose", "region", "room_kind", "sedation", "side_applies", "source_note", "steroid", "turnover_minutes", "uncertain_fields") VALUES (NEW."allowed_levels", NEW."bleeding_risk", NEW."code", NEW."contrast", NEW."cpt_codes", NEW."default_minutes", NEW."family", NEW."fasting_hours", NEW."follow_up_notes", NEW."follow_up_plan", NEW."id", NEW."imaging", NEW."is_active", NEW."levels_apply", NEW."max_levels", NEW."minutes_per_extra_level", NEW."name", NEW."needs_driver", NEW."nonparticulate_steroid_only", _pgh_attach_context(), NOW(), \'change_to\', NEW."id", NEW."preparation", NEW."purpose", NEW."region", NEW."room_kind", NEW."sedation", NEW."side_applies", NEW."source_note", NEW."steroid", NEW."turnover_minutes", NEW."uncertain_fields"); RETURN NULL;',
                    hash="15af77368192292167238fda171fbd88076ab1cf",
                    operation="UPDATE",
                    pgid="pgtrigger_change_to_update_6a738",
                    table="procedures_proceduretype",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="proceduretype",
            trigger=pgtrigger.compiler.Trigger(
                name="delete_delete",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func='INSERT INTO "procedures_proceduretypeevent" ("allowed_levels", "bleeding_risk", "code", "contrast", "cpt_codes", "default_minutes", "family", "fasting_hours", "follow_up_notes", "follow_up_plan", "id", "imaging", "is_active", "levels_apply", "max_levels", "minutes_per_extra_level", "name", "needs_driver", "nonparticulate_steroid_only", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "preparation", "purpose", "region", "room_kind", "sedation", "side_applies", "source_note", "steroid", "turnover_minutes", "uncertain_fields") VALUES (OLD."allowed_levels", OLD."bleeding_risk", OLD."code", OLD."contrast", OLD."cpt_codes", OLD."default_minutes", OLD."family", OLD."fasting_hours", OLD."follow_up_notes", OLD."follow_up_plan", OLD."id", OLD."imaging", OLD."is_active", OLD."levels_apply", OLD."max_levels", OLD."minutes_per_extra_level", OLD."name", OLD."needs_driver", OLD."nonparticulate_steroid_only", _pgh_attach_context(), NOW(), \'delete\', OLD."id", OLD."preparation", OLD."purpose", OLD."region", OLD."room_kind", OLD."sedation", OLD."side_applies", OLD."source_note", OLD."steroid", OLD."turnover_minutes", OLD."uncertain_fields"); RETURN NULL;',
                    hash="168ba354ad506c271ecc926f4c6d0be33e0533fc",
                    operation="DELETE",
                    pgid="pgtrigger_delete_delete_bc860",
                    table="procedures_proceduretype",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="safetythreshold",
            trigger=pgtrigger.compiler.Trigger(
                name="insert_insert",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func='INSERT INTO "procedures_safetythresholdevent" ("certain", "description", "key", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "source", "unit", "value") VALUES (NEW."certain", NEW."description", NEW."key", _pgh_attach_context(), NOW(), \'insert\', NEW."key", NEW."source", NEW."unit", NEW."value"); RETURN NULL;',
                    hash="5dc99222cf1a0b937adb2c2eae6c669c6f25a6a3",
                    operation="INSERT",
                    pgid="pgtrigger_insert_insert_267ac",
                    table="procedures_safetythreshold",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="safetythreshold",
            trigger=pgtrigger.compiler.Trigger(
                name="change_from_update",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    condition='WHEN (OLD."certain" IS DISTINCT FROM (NEW."certain") OR OLD."description" IS DISTINCT FROM (NEW."description") OR OLD."key" IS DISTINCT FROM (NEW."key") OR OLD."source" IS DISTINCT FROM (NEW."source") OR OLD."unit" IS DISTINCT FROM (NEW."unit") OR OLD."value" IS DISTINCT FROM (NEW."value"))',
                    func='INSERT INTO "procedures_safetythresholdevent" ("certain", "description", "key", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "source", "unit", "value") VALUES (OLD."certain", OLD."description", OLD."key", _pgh_attach_context(), NOW(), \'change_from\', OLD."key", OLD."source", OLD."unit", OLD."value"); RETURN NULL;',
                    hash="ba648aaf8f3985031149fd3d4229d21786854c3e",
                    operation="UPDATE",
                    pgid="pgtrigger_change_from_update_03c6e",
                    table="procedures_safetythreshold",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="safetythreshold",
            trigger=pgtrigger.compiler.Trigger(
                name="change_to_update",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    condition='WHEN (OLD."certain" IS DISTINCT FROM (NEW."certain") OR OLD."description" IS DISTINCT FROM (NEW."description") OR OLD."key" IS DISTINCT FROM (NEW."key") OR OLD."source" IS DISTINCT FROM (NEW."source") OR OLD."unit" IS DISTINCT FROM (NEW."unit") OR OLD."value" IS DISTINCT FROM (NEW."value"))',
                    func='INSERT INTO "procedures_safetythresholdevent" ("certain", "description", "key", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "source", "unit", "value") VALUES (NEW."certain", NEW."description", NEW."key", _pgh_attach_context(), NOW(), \'change_to\', NEW."key", NEW."source", NEW."unit", NEW."value"); RETURN NULL;',
                    hash="49d9b842aaef4fe71753ec2e2bc6397b5255a77a",
                    operation="UPDATE",
                    pgid="pgtrigger_change_to_update_ebae1",
                    table="procedures_safetythreshold",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="safetythreshold",
            trigger=pgtrigger.compiler.Trigger(
                name="delete_delete",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func='INSERT INTO "procedures_safetythresholdevent" ("certain", "description", "key", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "source", "unit", "value") VALUES (OLD."certain", OLD."description", OLD."key", _pgh_attach_context(), NOW(), \'delete\', OLD."key", OLD."source", OLD."unit", OLD."value"); RETURN NULL;',
                    hash="08ef59065a76c322f3f667357dc952425002639b",
                    operation="DELETE",
                    pgid="pgtrigger_delete_delete_a34e5",
                    table="procedures_safetythreshold",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="steroid",
            trigger=pgtrigger.compiler.Trigger(
                name="insert_insert",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func='INSERT INTO "procedures_steroidevent" ("certain", "max_dose_per_session_mg", "methylprednisolone_factor", "name", "particulate", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "source") VALUES (NEW."certain", NEW."max_dose_per_session_mg", NEW."methylprednisolone_factor", NEW."name", NEW."particulate", _pgh_attach_context(), NOW(), \'insert\', NEW."name", NEW."source"); RETURN NULL;',
                    hash="a33c68e3f92b7ce47397cbef02c0e47883aa1aba",
                    operation="INSERT",
                    pgid="pgtrigger_insert_insert_ca331",
                    table="procedures_steroid",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="steroid",
            trigger=pgtrigger.compiler.Trigger(
                name="change_from_update",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    condition="WHEN (OLD.* IS DISTINCT FROM NEW.*)",
                    func='INSERT INTO "procedures_steroidevent" ("certain", "max_dose_per_session_mg", "methylprednisolone_factor", "name", "particulate", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "source") VALUES (OLD."certain", OLD."max_dose_per_session_mg", OLD."methylprednisolone_factor", OLD."name", OLD."particulate", _pgh_attach_context(), NOW(), \'change_from\', OLD."name", OLD."source"); RETURN NULL;',
                    hash="5c27f187fb1c91370f5bf1e9c2eac7219b908f04",
                    operation="UPDATE",
                    pgid="pgtrigger_change_from_update_213ca",
                    table="procedures_steroid",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="steroid",
            trigger=pgtrigger.compiler.Trigger(
                name="change_to_update",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    condition="WHEN (OLD.* IS DISTINCT FROM NEW.*)",
                    func='INSERT INTO "procedures_steroidevent" ("certain", "max_dose_per_session_mg", "methylprednisolone_factor", "name", "particulate", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "source") VALUES (NEW."certain", NEW."max_dose_per_session_mg", NEW."methylprednisolone_factor", NEW."name", NEW."particulate", _pgh_attach_context(), NOW(), \'change_to\', NEW."name", NEW."source"); RETURN NULL;',
                    hash="416bf1ada7ea7d96b414b7959fcd9b539a6d4afa",
                    operation="UPDATE",
                    pgid="pgtrigger_change_to_update_dfb8b",
                    table="procedures_steroid",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="steroid",
            trigger=pgtrigger.compiler.Trigger(
                name="delete_delete",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func='INSERT INTO "procedures_steroidevent" ("certain", "max_dose_per_session_mg", "methylprednisolone_factor", "name", "particulate", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "source") VALUES (OLD."certain", OLD."max_dose_per_session_mg", OLD."methylprednisolone_factor", OLD."name", OLD."particulate", _pgh_attach_context(), NOW(), \'delete\', OLD."name", OLD."source"); RETURN NULL;',
                    hash="361e99ae4335b7b6d7fd472d2d239a1b36665d3d",
                    operation="DELETE",
                    pgid="pgtrigger_delete_delete_323ba",
                    table="procedures_steroid",
                    when="AFTER",
                ),
            ),
        ),
        migrations.AddField(
            model_name="anticoagulantruleevent",
            name="pgh_context",
            field=models.ForeignKey(
                db_constraint=False,
                null=True,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                to="pghistory.context",
            ),
        ),
        migrations.AddField(
            model_name="anticoagulantruleevent",
            name="pgh_obj",
            field=models.ForeignKey(
                db_constraint=False,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="events",
                to="procedures.anticoagulantrule",
            ),
        ),
        migrations.AddField(
            model_name="proceduretypeevent",
            name="pgh_context",
            field=models.ForeignKey(
                db_constraint=False,
                null=True,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                to="pghistory.context",
            ),
        ),
        migrations.AddField(
            model_name="proceduretypeevent",
            name="pgh_obj",
            field=models.ForeignKey(
                db_constraint=False,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="events",
                to="procedures.proceduretype",
            ),
        ),
        migrations.AddConstraint(
            model_name="safetyrule",
            constraint=models.CheckConstraint(
                condition=models.Q(("severity__in", ["block", "warn", "info"])),
                name="safetyrule_severity_valid",
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="safetyrule",
            trigger=pgtrigger.compiler.Trigger(
                name="insert_insert",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func='INSERT INTO "procedures_safetyruleevent" ("advice", "applies_when", "certain", "key", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "severity", "source") VALUES (NEW."advice", NEW."applies_when", NEW."certain", NEW."key", _pgh_attach_context(), NOW(), \'insert\', NEW."key", NEW."severity", NEW."source"); RETURN NULL;',
                    hash="88de1acadbab275a9c66a0bef059c02dbb856c9e",
                    operation="INSERT",
                    pgid="pgtrigger_insert_insert_2940e",
                    table="procedures_safetyrule",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="safetyrule",
            trigger=pgtrigger.compiler.Trigger(
                name="change_from_update",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    condition='WHEN (OLD."advice" IS DISTINCT FROM (NEW."advice") OR OLD."applies_when" IS DISTINCT FROM (NEW."applies_when") OR OLD."certain" IS DISTINCT FROM (NEW."certain") OR OLD."key" IS DISTINCT FROM (NEW."key") OR OLD."severity" IS DISTINCT FROM (NEW."severity") OR OLD."source" IS DISTINCT FROM (NEW."source"))',
                    func='INSERT INTO "procedures_safetyruleevent" ("advice", "applies_when", "certain", "key", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "severity", "source") VALUES (OLD."advice", OLD."applies_when", OLD."certain", OLD."key", _pgh_attach_context(), NOW(), \'change_from\', OLD."key", OLD."severity", OLD."source"); RETURN NULL;',
                    hash="ec03440ab4621c6bf79999ff970060b9ac982e66",
                    operation="UPDATE",
                    pgid="pgtrigger_change_from_update_d80a1",
                    table="procedures_safetyrule",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="safetyrule",
            trigger=pgtrigger.compiler.Trigger(
                name="change_to_update",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    condition='WHEN (OLD."advice" IS DISTINCT FROM (NEW."advice") OR OLD."applies_when" IS DISTINCT FROM (NEW."applies_when") OR OLD."certain" IS DISTINCT FROM (NEW."certain") OR OLD."key" IS DISTINCT FROM (NEW."key") OR OLD."severity" IS DISTINCT FROM (NEW."severity") OR OLD."source" IS DISTINCT FROM (NEW."source"))',
                    func='INSERT INTO "procedures_safetyruleevent" ("advice", "applies_when", "certain", "key", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "severity", "source") VALUES (NEW."advice", NEW."applies_when", NEW."certain", NEW."key", _pgh_attach_context(), NOW(), \'change_to\', NEW."key", NEW."severity", NEW."source"); RETURN NULL;',
                    hash="969eb87c4b3d8328bbc49bf41f582f31ce144e58",
                    operation="UPDATE",
                    pgid="pgtrigger_change_to_update_20470",
                    table="procedures_safetyrule",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="safetyrule",
            trigger=pgtrigger.compiler.Trigger(
                name="delete_delete",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func='INSERT INTO "procedures_safetyruleevent" ("advice", "applies_when", "certain", "key", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "severity", "source") VALUES (OLD."advice", OLD."applies_when", OLD."certain", OLD."key", _pgh_attach_context(), NOW(), \'delete\', OLD."key", OLD."severity", OLD."source"); RETURN NULL;',
                    hash="52d3ca04b05552cd5b297044452ecade0074f1d1",
                    operation="DELETE",
                    pgid="pgtrigger_delete_delete_a5ef9",
                    table="procedures_safetyrule",
                    when="AFTER",
                ),
            ),
        ),
        migrations.AddField(
            model_name="safetyruleevent",
            name="pgh_context",
            field=models.ForeignKey(
                db_constraint=False,
                null=True,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                to="pghistory.context",
            ),
        ),
        migrations.AddField(
            model_name="safetyruleevent",
            name="pgh_obj",
            field=models.ForeignKey(
                db_constraint=False,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="events",
                to="procedures.safetyrule",
            ),
        ),
        migrations.AddField(
            model_name="safetythresholdevent",
            name="pgh_context",
            field=models.ForeignKey(
                db_constraint=False,
                null=True,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                to="pghistory.context",
            ),
        ),
        migrations.AddField(
            model_name="safetythresholdevent",
            name="pgh_obj",
            field=models.ForeignKey(
                db_constraint=False,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="events",
                to="procedures.safetythreshold",
            ),
        ),
        migrations.AddField(
            model_name="steroidevent",
            name="pgh_context",
            field=models.ForeignKey(
                db_constraint=False,
                null=True,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                to="pghistory.context",
            ),
        ),
        migrations.AddField(
            model_name="steroidevent",
            name="pgh_obj",
            field=models.ForeignKey(
                db_constraint=False,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="events",
                to="procedures.steroid",
            ),
        ),
        migrations.RunPython(add_missing_safety_rules, migrations.RunPython.noop),
        migrations.RunPython(sync_role_groups, migrations.RunPython.noop),
    ]
