"""Issue 14 point 9: every rule value is editable by a manager in the admin, and every edit is
recorded (who, when, old and new value) by django-pghistory's triggers and shown in the
admin's history of the rule."""

from datetime import timedelta

import pytest
from django.utils import timezone

from clinic.users.actor import Actor
from patients import services as chart
from patients.tests.factories import PatientFactory
from procedures.models import (
    AnticoagulantRule,
    ProcedureType,
    SafetyRule,
    SafetyThreshold,
    Steroid,
)
from procedures.rule_history import rule_edits
from procedures.safety import INFO, WARN, safety_check
from procedures.tests.factories import TODAY, procedure_type

pytestmark = pytest.mark.django_db

ADMIN = "/admin/procedures"


@pytest.fixture
def manager(client, manager_user):
    manager_user.is_staff = True
    manager_user.save(update_fields=["is_staff"])
    client.sign_in(manager_user)
    return client


def form_of(obj, **changes) -> dict:
    """The change form's fields as the admin posts them, with `changes`."""
    data = {}
    for field in obj._meta.concrete_fields:
        if not field.editable or field.name == "updated_at":
            continue
        value = getattr(obj, field.attname)
        if isinstance(value, bool):
            if value:
                data[field.name] = "on"
            continue
        data[field.name] = "" if value is None else value
    for name, value in changes.items():
        if value is False:
            data.pop(name, None)
        else:
            data[name] = "on" if value is True else value
    return data


def post_change(client, model: str, pk, data: dict):
    response = client.post(f"{ADMIN}/{model}/{pk}/change/", data)
    assert response.status_code == 302, response.content.decode()[:3000]


def test_a_threshold_edit_records_who_when_old_and_new(manager, manager_user):
    before = timezone.now()
    threshold = SafetyThreshold.objects.get(key="medication_recent_days")
    post_change(manager, "safetythreshold", threshold.key, form_of(threshold, value="10"))
    threshold.refresh_from_db()
    assert threshold.value == 10
    [edit] = [e for e in rule_edits(threshold) if e.action == "changed"]
    assert (edit.who, edit.field, edit.old, edit.new) == (
        manager_user.username,
        "value",
        "30.00",
        "10.00",
    )
    assert before - timedelta(seconds=5) <= edit.at <= timezone.now()
    page = manager.get(f"{ADMIN}/safetythreshold/{threshold.key}/history/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "rule-edits" in html and manager_user.username in html
    assert "30.00" in html and "10.00" in html


def test_an_unchanged_save_records_no_edit(manager):
    threshold = SafetyThreshold.objects.get(key="esi_max_sessions")
    post_change(manager, "safetythreshold", threshold.key, form_of(threshold))
    assert [e for e in rule_edits(threshold) if e.action == "changed"] == []


def test_the_recently_stopped_window_is_editable_and_changes_the_check(manager, clinician_user):
    patient = PatientFactory()
    chart.clinical_entry_add(
        patient=patient,
        chart_list="medication",
        by=Actor.desk(clinician_user),
        name="Apixaban",
        start_date=TODAY - timedelta(days=100),
        end_date=TODAY - timedelta(days=20),
    )

    def held() -> bool:
        findings = safety_check(
            patient=patient,
            procedure_type=procedure_type("scs_trial"),
            planned_date=TODAY,
            today=TODAY,
        )
        return any(f.code.startswith("hold:apixaban") for f in findings)

    assert held()  # stopped 20 days ago, inside the 30-day window
    threshold = SafetyThreshold.objects.get(key="medication_recent_days")
    post_change(manager, "safetythreshold", threshold.key, form_of(threshold, value="10"))
    assert not held()


def test_a_rule_severity_edit_in_the_admin_is_recorded_and_used(manager, manager_user):
    rule = SafetyRule.objects.get(key="allergy:latex")
    post_change(manager, "safetyrule", "allergy:latex", form_of(rule, severity=WARN))
    rule.refresh_from_db()
    assert rule.severity == WARN
    edits = [e for e in rule_edits(rule) if e.action == "changed"]
    # Migration 0017's rewording is in the history too, as the system's edit.
    changes = {(e.field, e.old, e.new, e.who) for e in edits if e.who == manager_user.username}
    assert changes == {("severity", INFO, WARN, manager_user.username)}
    page = manager.get(f"{ADMIN}/safetyrule/allergy:latex/history/").content.decode()
    assert manager_user.username in page and "severity" in page


def test_the_non_particulate_flag_is_in_the_admin_and_its_edit_recorded(manager, manager_user):
    kind = ProcedureType.objects.get(code="tfesi_ct")
    page = manager.get(f"{ADMIN}/proceduretype/{kind.pk}/change/").content.decode()
    assert 'name="nonparticulate_steroid_only"' in page
    data = form_of(kind, nonparticulate_steroid_only=not kind.nonparticulate_steroid_only)
    data["providers"] = [str(p.pk) for p in kind.providers.all()]
    data["follow_up_plan"] = '{"outcome_survey_days": [14]}'
    data["allowed_levels"] = ",".join(kind.allowed_levels)
    data["uncertain_fields"] = ",".join(kind.uncertain_fields)
    risks = kind.consent_risks
    assert any("," in risk for risk in risks), "a risk with a comma of its own"
    data["consent_risks"] = "\r\n".join(risks) + "\r\n"
    data |= {f"procedure_codes-{part}": "0" for part in ("TOTAL_FORMS", "INITIAL_FORMS")}
    post_change(manager, "proceduretype", kind.pk, data)
    flipped = not kind.nonparticulate_steroid_only
    kind.refresh_from_db()
    assert kind.nonparticulate_steroid_only is flipped
    assert kind.consent_risks == risks  # one a line: commas inside a risk survive
    edits = {(e.field, e.new, e.who) for e in rule_edits(kind) if e.action == "changed"}
    assert ("nonparticulate_steroid_only", str(flipped), manager_user.username) in edits


@pytest.mark.parametrize(
    ("model", "get", "field", "value"),
    [
        ("steroid", lambda: Steroid.objects.get(name="triamcinolone"), "max_dose_per_session_mg", "60"),
        ("anticoagulantrule", lambda: AnticoagulantRule.objects.get(drug="warfarin"), "high_hours", "144"),
    ],
)  # fmt: skip
def test_other_rule_tables_record_their_edits(manager, manager_user, model, get, field, value):
    obj = get()
    data = form_of(obj, **{field: value})
    if model == "anticoagulantrule":
        data["match_names"] = ",".join(obj.match_names)
    post_change(manager, model, obj.pk, data)
    edits = [e for e in rule_edits(get()) if e.action == "changed"]
    assert [(e.field, e.who) for e in edits] == [(field, manager_user.username)]
    assert manager.get(f"{ADMIN}/{model}/{obj.pk}/history/").status_code == 200


def test_an_edit_outside_the_admin_is_recorded_without_a_user():
    threshold = SafetyThreshold.objects.get(key="esi_max_sessions")
    threshold.value = 5
    threshold.save()
    [edit] = [e for e in rule_edits(threshold) if e.action == "changed"]
    assert edit.who == "system (outside the admin)" and (edit.old, edit.new) == ("4.00", "5.00")


def test_rules_cannot_be_added_or_deleted_by_a_manager(manager):
    assert manager.get(f"{ADMIN}/safetyrule/add/").status_code == 403
    assert manager.get(f"{ADMIN}/safetyrule/cancer_history/delete/").status_code == 403
    assert SafetyRule.objects.filter(key="cancer_history").exists()


def test_the_front_desk_cannot_see_the_rule_history(client, front_desk_user):
    front_desk_user.is_staff = True
    front_desk_user.save(update_fields=["is_staff"])
    client.sign_in(front_desk_user)
    response = client.get(f"{ADMIN}/safetythreshold/esi_max_sessions/history/")
    assert response.status_code in (302, 403)
