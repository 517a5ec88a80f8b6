"""Danger signs reach the physician (issue 14, point 2): a PHQ-9 with item 9 above 0 or a
positive red flag, from the portal intake, a staff-entered assessment or the API, makes the
patient urgent until a clinician acknowledges it with a note."""

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from clinic.core.errors import Conflict, Forbidden, ValidationFailed
from clinic.core.templatetags.clinic_time import local_short
from clinic.users.actor import Actor
from patients import services, urgent
from patients.models import Assessment, EntrySource, IntakeItemKind, UrgentFlag
from patients.questionnaire import RED_FLAGS
from patients.tests.factories import PatientFactory
from scheduling.tests.factories import LocationFactory

pytestmark = pytest.mark.django_db

ITEM9 = "phq9_item9_positive"


def phq9(item9: int, rest: int = 0) -> dict:
    return {f"q{n}": rest for n in range(1, 9)} | {"q9": item9}


def no_red_flags(**positive) -> dict:
    return {key: positive.get(key, False) for key in RED_FLAGS}


def open_reasons(patient) -> list[str]:
    return list(urgent.open_flags(patient).values_list("reason", flat=True))


@pytest.fixture
def patient(db):
    return PatientFactory(
        legal_first_name="Rosa", legal_last_name="Quintero", home_location=LocationFactory()
    )


# --- One rule ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"instrument": "phq9", "items": phq9(1)}, [(ITEM9, "item 9 answered 1 of 3")]),
        ({"instrument": "phq9", "items": phq9(3)}, [(ITEM9, "item 9 answered 3 of 3")]),
        ({"instrument": "phq9", "items": phq9(0, rest=3)}, []),  # severe, but no item 9
        ({"instrument": "phq2", "items": {"q1": 3, "q2": 3}}, []),
        (
            {"red_flags": no_red_flags(saddle_anaesthesia=True)},
            [("red_flag:saddle_anaesthesia", "answered yes")],
        ),
        ({"red_flags": no_red_flags()}, []),
    ],
)
def test_danger_signs_is_the_one_rule(kwargs, expected):
    assert urgent.danger_signs(**kwargs) == expected


# --- Every path raises it ------------------------------------------------------------------


def test_a_staff_entered_phq9_with_item9_makes_the_patient_urgent(patient, front_desk_user):
    # The case: a total of 3 ("minimal") hid item 9 from the physician.
    assessment = services.assessment_record(
        patient=patient,
        instrument="phq9",
        items=phq9(1) | {"q1": 2},
        by=Actor.desk(front_desk_user),
    )
    assert assessment.total == 3 and assessment.band == "minimal"
    flag = UrgentFlag.objects.get(patient=patient)
    assert (flag.reason, flag.source, flag.assessment_id) == (ITEM9, "assessment", assessment.pk)
    assert flag.raised_by == front_desk_user and flag.raised_via == "desk"
    assert flag.is_open


def test_item9_zero_raises_nothing(patient, clinician_user):
    services.assessment_record(
        patient=patient, instrument="phq9", items=phq9(0, rest=2), by=Actor.desk(clinician_user)
    )
    assert not UrgentFlag.objects.exists()


def test_api_assessment_by_a_clinician(api_as, patient, clinician_user):
    response = api_as(clinician_user).post(
        f"/api/v1/patients/{patient.pk}/assessments/",
        {"instrument": "phq9", "items": phq9(2)},
        format="json",
    )
    assert response.status_code == 201, response.content
    flag = UrgentFlag.objects.get(patient=patient)
    assert flag.raised_via == "api" and str(flag.assessment_id) == response.json()["id"]


def test_api_assessment_by_the_patient_themself(api_as, patient_user, own_patient):
    response = api_as(patient_user).post(
        f"/api/v1/patients/{own_patient.pk}/assessments/",
        {"instrument": "phq9", "items": phq9(1)},
        format="json",
    )
    assert response.status_code == 201, response.content
    assert open_reasons(own_patient) == [ITEM9]


def test_portal_intake_raises_flags_at_submission(patient_user, own_patient):
    by = Actor.portal(patient_user)
    services.intake_draft_save(
        patient=own_patient, step="pain", data={"chief_complaint": "Back pain"}, by=by
    )
    services.intake_draft_save(
        patient=own_patient,
        step="questionnaires",
        data=[{"instrument": "phq9", "items": phq9(1)}],
        by=by,
    )
    services.intake_draft_save(
        patient=own_patient,
        step="safety",
        data={"red_flags": no_red_flags(new_bladder_dysfunction=True)},
        by=by,
    )
    intake = services.intake_draft_submit(patient=own_patient, by=by)
    assert intake.urgent
    assert set(intake.urgent_reasons) == {ITEM9, "red_flag:new_bladder_dysfunction"}
    flags = UrgentFlag.objects.filter(patient=own_patient)
    assert {f.reason for f in flags} == set(intake.urgent_reasons)
    assert {f.intake_id for f in flags} == {intake.pk}
    assert {f.source for f in flags} == {"intake"}
    assert {f.raised_via for f in flags} == {"portal"}


def test_accepting_the_intakes_phq9_adds_no_second_flag(patient, clinician_user):
    intake = services.intake_submit(
        patient=patient,
        by=Actor.desk(clinician_user),
        answers={"chief_complaint": "Neck pain", "red_flags": no_red_flags()},
        assessments=[{"instrument": "phq9", "items": phq9(1)}],
    )
    item = intake.items.get(kind=IntakeItemKind.ASSESSMENT)
    services.intake_item_decide(item=item, by=Actor.desk(clinician_user), accept=True)
    assert Assessment.objects.get(patient=patient).source == EntrySource.INTAKE
    assert UrgentFlag.objects.filter(patient=patient).count() == 1


# --- Only a clinician's acknowledgement closes it -----------------------------------------


@pytest.fixture
def flagged(patient, front_desk_user):
    services.assessment_record(
        patient=patient, instrument="phq9", items=phq9(1), by=Actor.desk(front_desk_user)
    )
    return patient


@pytest.mark.parametrize("role", ["front_desk_user", "manager_user", "patient_user"])
def test_only_a_clinician_may_acknowledge(request, flagged, role):
    user = request.getfixturevalue(role)
    with pytest.raises(Forbidden):
        urgent.urgent_acknowledge(patient=flagged, by=Actor.desk(user), note="Seen")
    assert open_reasons(flagged) == [ITEM9]


@pytest.mark.parametrize("note", ["", "   ", None])
def test_an_acknowledgement_needs_a_note(flagged, clinician_user, note):
    with pytest.raises(ValidationFailed) as raised:
        urgent.urgent_acknowledge(patient=flagged, by=Actor.desk(clinician_user), note=note)
    assert "note" in raised.value.fields
    assert open_reasons(flagged) == [ITEM9]


def test_acknowledgement_is_recorded_and_closes_every_open_flag(flagged, clinician_user):
    services.intake_submit(
        patient=flagged,
        by=Actor.desk(clinician_user),
        answers={"chief_complaint": "x", "red_flags": no_red_flags(fever_or_chills=True)},
    )
    assert sorted(open_reasons(flagged)) == [ITEM9, "red_flag:fever_or_chills"]
    before = timezone.now()
    done = urgent.urgent_acknowledge(
        patient=flagged, by=Actor.desk(clinician_user), note="Called; safety plan agreed."
    )
    assert len(done) == 2 and open_reasons(flagged) == []
    for flag in UrgentFlag.objects.filter(patient=flagged):
        assert flag.acknowledged_by == clinician_user
        assert flag.acknowledged_at >= before
        assert flag.acknowledgement_note == "Called; safety plan agreed."
    with pytest.raises(Conflict) as again:
        urgent.urgent_acknowledge(patient=flagged, by=Actor.desk(clinician_user), note="again")
    assert again.value.code == "nothing_open"


def test_a_new_danger_sign_after_an_acknowledgement_opens_a_new_flag(flagged, clinician_user):
    urgent.urgent_acknowledge(patient=flagged, by=Actor.desk(clinician_user), note="Seen")
    services.assessment_record(
        patient=flagged, instrument="phq9", items=phq9(2), by=Actor.desk(clinician_user)
    )
    assert [f.detail for f in urgent.open_flags(flagged)] == ["item 9 answered 2 of 3"]


def test_the_database_refuses_an_acknowledgement_without_who_or_note(flagged, clinician_user):
    flag = UrgentFlag.objects.get(patient=flagged)
    with pytest.raises(IntegrityError), transaction.atomic():
        UrgentFlag.objects.filter(pk=flag.pk).update(acknowledged_at=timezone.now())
    with pytest.raises(IntegrityError), transaction.atomic():
        UrgentFlag.objects.filter(pk=flag.pk).update(
            acknowledged_at=timezone.now(), acknowledged_by=clinician_user
        )


# --- API -----------------------------------------------------------------------------------


def test_api_lists_and_acknowledges(api_as, flagged, clinician_user, front_desk_user):
    url = f"/api/v1/patients/{flagged.pk}/urgent/"
    listed = api_as(clinician_user).get(url)
    assert listed.status_code == 200
    assert [(f["reason"], f["detail"]) for f in listed.json()] == [
        (ITEM9, "item 9 answered 1 of 3")
    ]
    assert "self-harm" in listed.json()[0]["reason_label"]

    desk = api_as(front_desk_user).post(url + "acknowledge/", {"note": "ok"}, format="json")
    assert desk.status_code == 403
    assert api_as(front_desk_user).get(url).status_code == 404  # clinical, as other lists

    blank = api_as(clinician_user).post(url + "acknowledge/", {"note": ""}, format="json")
    assert blank.status_code == 400 and "note" in blank.json()["fields"]

    done = api_as(clinician_user).post(url + "acknowledge/", {"note": "Seen today"}, format="json")
    assert done.status_code == 200, done.content
    body = done.json()[0]
    assert body["acknowledged_by"] == clinician_user.username
    assert body["acknowledgement_note"] == "Seen today"
    assert api_as(clinician_user).get(url).json() == []
    again = api_as(clinician_user).post(url + "acknowledge/", {"note": "x"}, format="json")
    assert again.status_code == 409


# --- Pages ---------------------------------------------------------------------------------


def test_chart_banner_by_role_and_acknowledgement(client, flagged, front_desk_user, clinician_user):
    chart = f"/patients/{flagged.pk}/"
    client.sign_in(front_desk_user)
    desk = client.get(chart).content.decode()
    assert 'id="urgent-banner"' in desk and "A clinician must see this patient today" in desk
    assert "self-harm" not in desk  # the front desk sees that it is urgent, not why
    assert "Only a clinician can acknowledge it." in desk
    refused = client.post(f"/patients/{flagged.pk}/urgent/acknowledge/", {"note": "x"})
    assert refused.status_code == 403 and open_reasons(flagged) == [ITEM9]

    client.sign_in(clinician_user)
    page = client.get(chart).content.decode()
    assert "PHQ-9 item 9 above 0" in page and "item 9 answered 1 of 3" in page
    assert 'name="note"' in page
    response = client.post(
        f"/patients/{flagged.pk}/urgent/acknowledge/", {"note": "Called", "back": "history"}
    )
    assert response.status_code == 302
    assert response["Location"] == f"/patients/{flagged.pk}/history/"
    assert open_reasons(flagged) == []
    assert 'id="urgent-banner"' not in client.get(chart).content.decode()


def test_history_banner_and_item9_beside_the_total(client, flagged, clinician_user):
    client.sign_in(clinician_user)
    page = client.get(f"/patients/{flagged.pk}/history/").content.decode()
    assert 'id="urgent-banner"' in page
    assert "PHQ-9: 1 (minimal) · item 9: 1 (thoughts of self-harm)" in page
    body = client.get(f"/api/v1/patients/{flagged.pk}/history/").json()
    assert [f["reason"] for f in body["urgent"]] == [ITEM9]
    titles = [e["title"] for e in body["events"] if e["kind"] == "assessment"]
    assert titles == ["PHQ-9: 1 (minimal) · item 9: 1 (thoughts of self-harm)"]


def test_worklist_lists_the_patient_until_acknowledged(client, flagged, clinician_user):
    client.sign_in(clinician_user)
    page = client.get("/history/worklist/").content.decode()
    section = page[page.index('id="urgent"') : page.index('id="procedures"')]
    assert "Rosa Quintero" in section and f"MRN {flagged.mrn}" in section
    assert "PHQ-9 item 9 above 0" in section and "item 9 answered 1 of 3" in section
    flag = UrgentFlag.objects.get(patient=flagged)
    assert local_short(flag.raised_at, flagged.home_location) in section  # the date, local
    urgent.urgent_acknowledge(patient=flagged, by=Actor.desk(clinician_user), note="Seen")
    page = client.get("/history/worklist/").content.decode()
    section = page[page.index('id="urgent"') : page.index('id="procedures"')]
    assert "Rosa Quintero" not in section
    assert "No patient has an open danger sign." in section
