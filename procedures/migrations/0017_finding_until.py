"""Every chart-driven safety rule says until when its finding stands and what to do about it
(issue 20, point 4): two columns on SafetyRule, filled for the shipped rules. The advice keeps
the what and why; where a shipped advice also said what to do, that part moves to the action.
A rule a manager has edited keeps the advice as edited."""

import pgtrigger.compiler
import pgtrigger.migrations
from django.db import migrations, models

# (old shipped advice, new advice, until, action) by rule key: frozen here, as shipped in 0008
# and as rewritten now; a row a manager edited keeps its advice and only gains until and action.
REWORDED = {
    "contrast_allergy": (
        "Premedicate (ACR elective regimen: prednisone 50 mg by mouth 13, 7 and 1 hours before contrast, plus diphenhydramine 50 mg 1 hour before; or methylprednisolone 32 mg by mouth 12 and 2 hours before) or plan without contrast (ultrasound guidance is allowed for ESI and SI injections).",
        "a prior reaction to the same contrast class is the main risk of another.",
        "",
        "Premedicate (ACR elective regimen: prednisone 50 mg by mouth 13, 7 and 1 hours before contrast, plus diphenhydramine 50 mg 1 hour before; or methylprednisolone 32 mg by mouth 12 and 2 hours before) or plan without contrast (ultrasound guidance is allowed for ESI and SI injections).",
    ),
    "contrast_allergy_severe": (
        "A prior severe reaction: plan without contrast (ultrasound guidance is allowed for ESI and SI injections); premedication does not prevent every repeat reaction.",
        "a prior severe reaction; premedication does not prevent every repeat reaction.",
        "",
        "Plan the procedure without contrast (ultrasound guidance is allowed for ESI and SI injections) and give that plan as the override reason.",
    ),
    "pregnancy_fluoroscopy": (
        "Pregnant: no fluoroscopy or CT without a documented decision.",
        "Pregnant: no fluoroscopy or CT without a documented decision.",
        "the pregnancy has ended and its entry on the chart is closed",
        "Postpone the procedure, or plan ultrasound guidance where the procedure allows it; a documented decision to go ahead is the override reason.",
    ),
    "pregnancy_augmentation": (
        "Pregnancy is an absolute contraindication to vertebral augmentation.",
        "Pregnancy is an absolute contraindication to vertebral augmentation.",
        "the pregnancy has ended and its entry on the chart is closed",
        "Do not perform it during pregnancy: postpone it or cancel the order with the reason.",
    ),
    "cardiac_device": (
        "Pacemaker or ICD: radiofrequency ablation and spinal cord stimulation can interfere. Document the device plan (magnet or reprogramming, cardiology or the device representative).",
        "Pacemaker or ICD: radiofrequency ablation and spinal cord stimulation can interfere with it.",
        "a device plan is documented",
        "Agree the device plan (magnet or reprogramming) with cardiology or the device representative and give it as the override reason.",
    ),
    "cardiac_device_pns": (
        "Pacemaker or ICD: a peripheral nerve stimulator's pulses can be sensed by the cardiac device. Check the stimulator's labelling for cardiac devices and document the device plan (cardiology or the device representative).",
        "Pacemaker or ICD: a peripheral nerve stimulator's pulses can be sensed by the cardiac device.",
        "a device plan is documented",
        "Check the stimulator's labelling for cardiac devices, agree the device plan with cardiology or the device representative, and give it as the override reason.",
    ),
    "active_infection": (
        "Active infection is a contraindication to injections.",
        "Active infection is a contraindication to injections.",
        "the infection is treated and its entry on the chart is closed",
        "Treat the infection and postpone the procedure; close the entry on the chart when it has resolved and run the check again.",
    ),
    "active_infection_refill": (
        "Active infection: refill with strict asepsis and do not delay it; a missed refill can cause dangerous withdrawal (baclofen).",
        "Active infection: a missed refill can cause dangerous withdrawal (baclofen), so the refill is not delayed.",
        "the infection is treated",
        "Refill on time, with strict asepsis.",
    ),
    "allergy:corticosteroid": (
        "Corticosteroid allergy and this procedure may use a steroid: plan the injectate.",
        "Corticosteroid allergy and this procedure may use a steroid.",
        "",
        "Plan the injectate around the allergy and write it on the order.",
    ),
    "allergy:local_anaesthetic": (
        "Local anaesthetic allergy: check ester versus amide and choose the other class.",
        "Local anesthetic allergy.",
        "",
        "Check whether the reaction was to an ester or an amide and choose the other class.",
    ),
    "allergy:bone_cement": (
        "Bone cement or opacifier allergy before vertebral augmentation.",
        "Bone cement or opacifier allergy before vertebral augmentation.",
        "",
        "Choose a cement and opacifier the patient is not allergic to and give that as the override reason, or do not go ahead.",
    ),
    "allergy:chlorhexidine": (
        "Chlorhexidine allergy: use another skin preparation.",
        "Chlorhexidine allergy.",
        "",
        "Use another skin preparation.",
    ),
    "allergy:latex": (
        "Latex allergy: latex-free room and supplies.",
        "Latex allergy.",
        "",
        "Use a latex-free room and supplies.",
    ),
    "cancer_history": (
        "History of cancer: make sure new or changed pain was evaluated (metastasis, cord compression) before an epidural steroid injection.",
        "History of cancer: new or changed pain may come from metastasis or cord compression.",
        "the new or changed pain has been evaluated",
        "Make sure new or changed pain was evaluated before an epidural steroid injection, and note it on the order.",
    ),
    "diabetes_steroid": (
        "Diabetes and a steroid: check blood glucose on the day; steroids raise it for days.",
        "Diabetes and a steroid: steroids raise blood glucose for days.",
        "the blood glucose is checked on the day of the procedure",
        "Check the blood glucose on the day, and tell the patient it may run high for a few days.",
    ),
    "bleeding_disorder": (
        "Bleeding disorder: plan with haematology.",
        "Bleeding disorder.",
        "a plan agreed with hematology is on the order",
        "Plan the procedure with hematology and write their advice in the order's notes.",
    ),
    "opioid_sedation": (
        "Opioids and sedation add up to respiratory depression: titrate sedatives to effect, monitor ventilation (capnography) and have naloxone at hand; do not stop the opioid before the procedure (withdrawal).",
        "Opioids and sedation add up to respiratory depression.",
        "",
        "Titrate sedatives to effect, monitor ventilation (capnography) and have naloxone at hand; do not stop the opioid before the procedure (withdrawal).",
    ),
}


def fill_until_and_action(apps, schema_editor):
    rule = apps.get_model("procedures", "SafetyRule")
    for row in rule.objects.filter(key__in=REWORDED):
        shipped, advice, until, action = REWORDED[row.key]
        row.advice = advice if row.advice == shipped else row.advice
        row.until, row.action = until, action
        row.save(update_fields=["advice", "until", "action"])


def restore_advice(apps, schema_editor):
    rule = apps.get_model("procedures", "SafetyRule")
    for row in rule.objects.filter(key__in=REWORDED):
        shipped, advice, _until, _action = REWORDED[row.key]
        if row.advice == advice:
            row.advice = shipped
            row.save(update_fields=["advice"])


class Migration(migrations.Migration):
    dependencies = [
        ("procedures", "0016_structured_cpt_codes"),
    ]

    operations = [
        pgtrigger.migrations.RemoveTrigger(
            model_name="safetyrule",
            name="insert_insert",
        ),
        pgtrigger.migrations.RemoveTrigger(
            model_name="safetyrule",
            name="change_from_update",
        ),
        pgtrigger.migrations.RemoveTrigger(
            model_name="safetyrule",
            name="change_to_update",
        ),
        pgtrigger.migrations.RemoveTrigger(
            model_name="safetyrule",
            name="delete_delete",
        ),
        migrations.AddField(
            model_name="safetyrule",
            name="action",
            field=models.TextField(default="", help_text="What the clinician does about it."),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="safetyrule",
            name="until",
            field=models.CharField(
                blank=True,
                help_text='Until when the finding stands, read after "Until": for example "the infection is treated". Empty: it does not expire (a lasting allergy).',
                max_length=200,
            ),
        ),
        migrations.AddField(
            model_name="safetyruleevent",
            name="action",
            field=models.TextField(default="", help_text="What the clinician does about it."),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="safetyruleevent",
            name="until",
            field=models.CharField(
                blank=True,
                help_text='Until when the finding stands, read after "Until": for example "the infection is treated". Empty: it does not expire (a lasting allergy).',
                max_length=200,
            ),
        ),
        migrations.AlterField(
            model_name="safetyrule",
            name="advice",
            field=models.TextField(help_text="What the finding tells the clinician, and why."),
        ),
        migrations.AlterField(
            model_name="safetyruleevent",
            name="advice",
            field=models.TextField(help_text="What the finding tells the clinician, and why."),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="safetyrule",
            trigger=pgtrigger.compiler.Trigger(
                name="insert_insert",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func='INSERT INTO "procedures_safetyruleevent" ("action", "advice", "applies_when", "certain", "key", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "severity", "source", "until") VALUES (NEW."action", NEW."advice", NEW."applies_when", NEW."certain", NEW."key", _pgh_attach_context(), NOW(), \'insert\', NEW."key", NEW."severity", NEW."source", NEW."until"); RETURN NULL;',
                    hash="3569e5f1cfeaed9d482156518820d2fcfd34b292",
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
                    condition='WHEN (OLD."action" IS DISTINCT FROM (NEW."action") OR OLD."advice" IS DISTINCT FROM (NEW."advice") OR OLD."applies_when" IS DISTINCT FROM (NEW."applies_when") OR OLD."certain" IS DISTINCT FROM (NEW."certain") OR OLD."key" IS DISTINCT FROM (NEW."key") OR OLD."severity" IS DISTINCT FROM (NEW."severity") OR OLD."source" IS DISTINCT FROM (NEW."source") OR OLD."until" IS DISTINCT FROM (NEW."until"))',
                    func='INSERT INTO "procedures_safetyruleevent" ("action", "advice", "applies_when", "certain", "key", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "severity", "source", "until") VALUES (OLD."action", OLD."advice", OLD."applies_when", OLD."certain", OLD."key", _pgh_attach_context(), NOW(), \'change_from\', OLD."key", OLD."severity", OLD."source", OLD."until"); RETURN NULL;',
                    hash="11b9d1729596dfa1b656f74928ebd4555eb871a5",
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
                    condition='WHEN (OLD."action" IS DISTINCT FROM (NEW."action") OR OLD."advice" IS DISTINCT FROM (NEW."advice") OR OLD."applies_when" IS DISTINCT FROM (NEW."applies_when") OR OLD."certain" IS DISTINCT FROM (NEW."certain") OR OLD."key" IS DISTINCT FROM (NEW."key") OR OLD."severity" IS DISTINCT FROM (NEW."severity") OR OLD."source" IS DISTINCT FROM (NEW."source") OR OLD."until" IS DISTINCT FROM (NEW."until"))',
                    func='INSERT INTO "procedures_safetyruleevent" ("action", "advice", "applies_when", "certain", "key", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "severity", "source", "until") VALUES (NEW."action", NEW."advice", NEW."applies_when", NEW."certain", NEW."key", _pgh_attach_context(), NOW(), \'change_to\', NEW."key", NEW."severity", NEW."source", NEW."until"); RETURN NULL;',
                    hash="25990135431c3e96dce54b4db2895f8bda9d6ee2",
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
                    func='INSERT INTO "procedures_safetyruleevent" ("action", "advice", "applies_when", "certain", "key", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "severity", "source", "until") VALUES (OLD."action", OLD."advice", OLD."applies_when", OLD."certain", OLD."key", _pgh_attach_context(), NOW(), \'delete\', OLD."key", OLD."severity", OLD."source", OLD."until"); RETURN NULL;',
                    hash="5a21856e90fcdc7ed8acab717c97b0ef56520b29",
                    operation="DELETE",
                    pgid="pgtrigger_delete_delete_a5ef9",
                    table="procedures_safetyrule",
                    when="AFTER",
                ),
            ),
        ),
        migrations.RunPython(fill_until_and_action, restore_advice),
    ]
