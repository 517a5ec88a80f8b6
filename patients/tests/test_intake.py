"""Intake review never loses data and never overwrites the chart without a decision."""

import pytest

from clinic.core.errors import Conflict, Forbidden, ValidationFailed
from clinic.users.actor import Actor
from patients import services
from patients.models import Allergy, Assessment, Decision, IntakeStatus
from patients.tests.conftest import intake_answers, red_flags

pytestmark = pytest.mark.django_db


def submit(patient, by, **parts):
    return services.intake_submit(
        patient=patient, by=Actor.desk(by), answers=intake_answers(), **parts
    )


def test_submitting_leaves_the_chart_untouched(own_patient, patient_user):
    phone_before = own_patient.phone
    intake = submit(
        own_patient,
        patient_user,
        demographics={"phone": "(919) 555-0199", "insurance_payer": "Blue Cross"},
        allergies=[{"substance": "Iodinated contrast", "procedure_class": "iodinated_contrast"}],
        assessments=[{"instrument": "nrs", "body_region": "low_back", "items": {"score": 8}}],
    )
    own_patient.refresh_from_db()
    assert own_patient.phone == phone_before
    assert own_patient.insurance_payer == ""
    assert not Allergy.objects.filter(patient=own_patient).exists()
    assert not Assessment.objects.filter(patient=own_patient).exists()
    assert intake.status == IntakeStatus.SUBMITTED
    kinds = sorted((i.kind, i.field) for i in intake.items.all())
    assert kinds == [
        ("allergy", ""),
        ("assessment", ""),
        ("demographic", "insurance_payer"),
        ("demographic", "phone"),
    ]
    phone_item = intake.items.get(field="phone")
    assert phone_item.proposed == "+19195550199"
    assert phone_item.chart_value_at_submission == phone_before


def test_unchanged_demographics_make_no_items(own_patient, patient_user):
    intake = submit(own_patient, patient_user, demographics={"phone": own_patient.phone})
    assert intake.items.count() == 0
    assert intake.status == IntakeStatus.REVIEWED


def test_accepting_applies_and_attributes_each_item(own_patient, patient_user, clinician_user):
    intake = submit(
        own_patient,
        patient_user,
        allergies=[{"substance": "Latex", "procedure_class": "latex", "severity": "severe"}],
        assessments=[{"instrument": "phq2", "items": {"q1": 1, "q2": 1}}],
    )
    for item in intake.items.all():
        services.intake_item_decide(item=item, by=Actor.desk(clinician_user), accept=True)
    allergy = own_patient.allergies.get()
    assert (allergy.substance, allergy.source, allergy.recorded_by) == (
        "Latex",
        "intake",
        clinician_user,
    )
    assessment = own_patient.assessments.get()
    assert assessment.total == 2 and assessment.recorded_by == clinician_user
    assert assessment.taken_at == intake.submitted_at
    intake.refresh_from_db()
    assert intake.status == IntakeStatus.REVIEWED and intake.reviewed_at
    for item in intake.items.all():
        assert item.decided_by == clinician_user and item.created_record_id


def test_a_chart_changed_since_submission_is_not_overwritten_silently(
    own_patient, patient_user, front_desk_user
):
    intake = submit(own_patient, patient_user, demographics={"phone": "919-555-0111"})
    services.patient_update(patient=own_patient, phone="919-555-0122")  # someone else, meanwhile
    item = intake.items.get()
    with pytest.raises(Conflict) as caught:
        services.intake_item_decide(item=item, by=Actor.desk(front_desk_user), accept=True)
    assert caught.value.code == "chart_changed"
    assert caught.value.extra["current"] == "+19195550122"
    own_patient.refresh_from_db()
    assert own_patient.phone == "+19195550122"
    item.refresh_from_db()
    assert item.decision == Decision.PENDING

    services.intake_item_decide(
        item=item, by=Actor.desk(front_desk_user), accept=True, overwrite=True
    )
    own_patient.refresh_from_db()
    item.refresh_from_db()
    assert own_patient.phone == "+19195550111"
    assert item.replaced_value == "+19195550122", "the replaced value is kept"


def test_rejecting_keeps_the_proposal_and_the_chart(own_patient, patient_user, front_desk_user):
    before = own_patient.phone
    intake = submit(own_patient, patient_user, demographics={"phone": "919-555-0133"})
    item = services.intake_item_decide(
        item=intake.items.get(), by=Actor.desk(front_desk_user), accept=False, note="wrong number"
    )
    own_patient.refresh_from_db()
    assert own_patient.phone == before
    assert (item.decision, item.proposed, item.decision_note) == (
        "rejected",
        "+19195550133",
        "wrong number",
    )


def test_an_item_is_decided_once(own_patient, patient_user, front_desk_user):
    intake = submit(own_patient, patient_user, demographics={"city": "Cary"})
    item = intake.items.get()
    services.intake_item_decide(item=item, by=Actor.desk(front_desk_user), accept=True)
    with pytest.raises(Conflict, match="already accepted"):
        services.intake_item_decide(item=item, by=Actor.desk(front_desk_user), accept=False)


@pytest.mark.parametrize(
    ("parts", "reasons"),
    [
        (
            {"answers": intake_answers(red_flags=red_flags(saddle_anaesthesia=True))},
            ["red_flag:saddle_anaesthesia"],
        ),
        (
            {
                "assessments": [
                    {"instrument": "phq9", "items": {f"q{i}": 0 for i in range(1, 9)} | {"q9": 1}}
                ]
            },
            ["phq9_item9_positive"],
        ),
        ({}, []),
    ],
)
def test_red_flags_and_phq9_item9_make_an_intake_urgent(own_patient, patient_user, parts, reasons):
    parts = {"answers": intake_answers()} | parts
    intake = services.intake_submit(patient=own_patient, by=Actor.portal(patient_user), **parts)
    assert intake.urgent is bool(reasons)
    assert intake.urgent_reasons == reasons


def test_urgent_intakes_lead_the_queue(own_patient, other_patient, patient_user, clinician_user):
    from patients.selectors import intake_queue

    calm = submit(own_patient, patient_user, demographics={"city": "Apex"})
    urgent = services.intake_submit(
        patient=other_patient,
        by=Actor.desk(clinician_user),
        answers=intake_answers(red_flags=red_flags(progressive_leg_weakness=True)),
        demographics={"city": "Durham"},
    )
    assert list(intake_queue(user=clinician_user)) == [urgent, calm]


def test_bad_intake_input_is_reported_per_field_and_nothing_is_stored(own_patient, patient_user):
    with pytest.raises(ValidationFailed) as caught:
        services.intake_submit(
            patient=own_patient,
            by=Actor.portal(patient_user),
            answers={"chief_complaint": "", "red_flags": {"fever_or_chills": "yes"}},
            demographics={"date_of_birth": "2999-01-01", "phone": "12"},
            medications=[{"name": "Mystery", "drug_class": "unicorn"}],
            assessments=[{"instrument": "nrs", "body_region": "neck", "items": {"score": 11}}],
        )
    fields = caught.value.fields
    assert fields["answers"]["chief_complaint"] == ["This field is required."]
    assert fields["answers"]["red_flags"]["fever_or_chills"] == ["Answer true or false."]
    assert "major_trauma" in fields["answers"]["red_flags"]
    assert fields["demographics"]["date_of_birth"] == ["The date of birth cannot be in the future."]
    assert "phone" in fields["demographics"]
    assert "drug_class" in fields["medications"]["0"]
    assert fields["assessments"]["0"]["items"]["score"] == ["NRS is 0 to 10; got 11."]
    assert own_patient.intakes.count() == 0


def test_an_intake_cannot_propose_the_clinics_own_fields(own_patient, patient_user):
    with pytest.raises(ValidationFailed) as caught:
        submit(
            own_patient,
            patient_user,
            demographics={"status": "deceased", "needs_verification": False},
        )
    assert set(caught.value.fields["demographics"]) == {"status", "needs_verification"}


def test_an_urgent_intake_without_changes_waits_for_a_clinician(
    own_patient, patient_user, front_desk_user, clinician_user, client
):
    intake = services.intake_submit(
        patient=own_patient,
        by=Actor.portal(patient_user),
        answers=intake_answers(red_flags=red_flags(new_bladder_dysfunction=True)),
    )
    assert intake.status == IntakeStatus.SUBMITTED
    with pytest.raises(Forbidden):
        services.intake_mark_reviewed(submission=intake, by=Actor.desk(front_desk_user))
    client.sign_in(clinician_user)
    assert "Mark reviewed" in client.get(f"/patients/intakes/{intake.pk}/").content.decode()
    response = client.post(f"/patients/intakes/{intake.pk}/reviewed/")
    assert response.status_code == 302
    intake.refresh_from_db()
    assert intake.status == IntakeStatus.REVIEWED and intake.reviewed_at


def test_an_urgent_intake_stays_queued_when_the_front_desk_decides_its_last_item(
    own_patient, patient_user, front_desk_user, clinician_user, api_as
):
    intake = services.intake_submit(
        patient=own_patient,
        by=Actor.portal(patient_user),
        answers=intake_answers(red_flags=red_flags(fever_or_chills=True)),
        demographics={"city": "Garner"},
    )
    services.intake_item_decide(
        item=intake.items.get(), by=Actor.desk(front_desk_user), accept=True
    )
    intake.refresh_from_db()
    assert intake.status == IntakeStatus.SUBMITTED
    response = api_as(clinician_user).post(f"/api/v1/intakes/{intake.pk}/reviewed/")
    assert response.status_code == 200 and response.json()["status"] == "reviewed"
    again = api_as(clinician_user).post(f"/api/v1/intakes/{intake.pk}/reviewed/")
    assert again.status_code == 409


def test_items_must_be_decided_before_an_intake_is_marked_reviewed(
    own_patient, patient_user, clinician_user
):
    intake = submit(own_patient, patient_user, demographics={"city": "Cary"})
    with pytest.raises(Conflict) as caught:
        services.intake_mark_reviewed(submission=intake, by=Actor.desk(clinician_user))
    assert caught.value.code == "items_pending"


def test_a_naive_time_is_a_field_error(own_patient, clinician_user):
    from datetime import datetime

    with pytest.raises(ValidationFailed) as caught:
        services.assessment_record(
            patient=own_patient,
            instrument="nrs",
            items={"score": 3},
            body_region="knee",
            by=Actor.desk(clinician_user),
            taken_at=datetime(2026, 1, 5, 9, 0),  # noqa: DTZ001 - the naive time under test
        )
    assert "taken_at" in caught.value.fields
