"""The intake's plain question "Do you take a blood thinner?": its answers, the list of
blood thinners drawn from the drug vocabulary, and the way a "yes" reaches the clinician's
queue and, once accepted, the medication list the safety check reads."""

from datetime import timedelta

import pytest
from django.urls import reverse

from clinic.core.errors import ValidationFailed
from clinic.users.actor import Actor
from patients import selectors, services
from patients.models import Classification, IntakeItemKind, IntakeStatus
from patients.tests.conftest import intake_answers
from procedures.safety import BLOCK, safety_check
from procedures.tests.factories import TODAY, procedure_type

pytestmark = pytest.mark.django_db


def submit(patient, by, *, medications=None, demographics=None, **answers):
    return services.intake_submit(
        patient=patient,
        by=Actor.portal(by),
        answers=intake_answers(**answers),
        medications=medications or [],
        demographics=demographics or {},
    )


def medication_items(intake) -> list[dict]:
    return [i.proposed for i in intake.items.filter(kind=IntakeItemKind.MEDICATION)]


# --- The list a patient chooses from ------------------------------------------------------


def test_the_list_names_each_blood_thinner_once_with_its_confirmed_brands():
    choices = dict(selectors.blood_thinner_choices())
    assert choices["apixaban"] == "Eliquis (apixaban)"
    assert choices["warfarin"] == "Coumadin, Jantoven (warfarin)"
    assert choices["clopidogrel"] == "Plavix (clopidogrel)"
    assert choices["heparin"] == "Heparin", "a generic without a brand is listed by itself"
    assert "aspirin" in choices and "enoxaparin" in choices
    assert "ticlopidine" not in choices, "its only brand is not confirmed by a clinician"
    assert "ibuprofen" not in choices, "an NSAID is asked about among the medicines"
    assert "eptifibatide" not in choices, "given in hospital only"
    labels = [label for _, label in selectors.blood_thinner_choices()]
    assert labels == sorted(labels, key=str.casefold)


def test_the_list_is_read_in_one_query(django_assert_num_queries):
    with django_assert_num_queries(1):
        assert selectors.blood_thinner_choices()


# --- The answers --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        ({}, {"blood_thinner": "", "blood_thinner_name": ""}),
        (
            {"blood_thinner": "yes", "blood_thinner_name": " warfarin "},
            {"blood_thinner": "yes", "blood_thinner_name": "warfarin"},
        ),
        (
            {"blood_thinner": "no", "blood_thinner_name": "warfarin"},
            {"blood_thinner": "no", "blood_thinner_name": ""},
        ),
        ({"blood_thinner": "not_sure"}, {"blood_thinner": "not_sure", "blood_thinner_name": ""}),
    ],
)
def test_the_answer_is_kept_with_a_name_only_after_a_yes(own_patient, patient_user, given, kept):
    intake = submit(own_patient, patient_user, **given)
    assert {key: intake.answers[key] for key in kept} == kept


@pytest.mark.parametrize(
    ("given", "field"),
    [
        ({"blood_thinner": "maybe"}, "blood_thinner"),
        ({"blood_thinner": "yes", "blood_thinner_name": 5}, "blood_thinner_name"),
        ({"blood_thinner": "yes", "blood_thinner_name": "x" * 121}, "blood_thinner_name"),
    ],
)
def test_a_bad_answer_is_refused_by_field(own_patient, patient_user, given, field):
    with pytest.raises(ValidationFailed) as refused:
        submit(own_patient, patient_user, **given)
    assert list(refused.value.fields["answers"]) == [field]
    assert not own_patient.intakes.exists()


@pytest.mark.parametrize(
    ("answer", "status"),
    [
        ("no", IntakeStatus.REVIEWED),
        ("", IntakeStatus.REVIEWED),
        ("not_sure", IntakeStatus.SUBMITTED),
        ("yes", IntakeStatus.SUBMITTED),
    ],
)
def test_a_yes_or_not_sure_waits_in_the_clinicians_queue(
    own_patient, patient_user, clinician_user, answer, status
):
    intake = submit(own_patient, patient_user, blood_thinner=answer)  # nothing else to review
    assert intake.status == status
    queued = intake in selectors.intake_queue(user=clinician_user)
    assert queued == (status == IntakeStatus.SUBMITTED)


def test_a_named_blood_thinner_is_proposed_as_a_medication(own_patient, patient_user):
    intake = submit(
        own_patient,
        patient_user,
        blood_thinner="yes",
        blood_thinner_name="warfarin",
        medications=[{"name": "Gabapentin", "dose": "300 mg"}],
    )
    assert medication_items(intake) == [
        {"name": "Gabapentin", "dose": "300 mg"},
        {"name": "warfarin", "notes": services.BLOOD_THINNER_NOTE},
    ]


@pytest.mark.parametrize("listed", ["Coumadin 5 mg", "WARFARIN"])
def test_a_blood_thinner_listed_among_the_medicines_is_not_proposed_twice(
    own_patient, patient_user, listed
):
    intake = submit(
        own_patient,
        patient_user,
        blood_thinner="yes",
        blood_thinner_name="warfarin",
        medications=[{"name": listed}],
    )
    assert medication_items(intake) == [{"name": listed}]


def test_an_unknown_name_is_proposed_once_as_typed(own_patient, patient_user):
    unlisted = submit(own_patient, patient_user, blood_thinner="yes", blood_thinner_name="Xyz")
    assert [m["name"] for m in medication_items(unlisted)] == ["Xyz"]
    unlisted.delete()
    listed = submit(
        own_patient,
        patient_user,
        blood_thinner="yes",
        blood_thinner_name="xyz",
        medications=[{"name": "XYZ"}],
    )
    assert medication_items(listed) == [{"name": "XYZ"}]


def test_a_yes_without_a_name_proposes_no_medication(own_patient, patient_user):
    intake = submit(own_patient, patient_user, blood_thinner="yes")
    assert medication_items(intake) == []
    assert intake.status == IntakeStatus.SUBMITTED


# --- From the answer to the safety check --------------------------------------------------


def test_accepted_the_named_brand_feeds_the_safety_check(own_patient, patient_user, clinician_user):
    tfesi = procedure_type("tfesi_ls")
    in_two_days = TODAY + timedelta(days=2)

    def holds():
        findings = safety_check(
            patient=own_patient, procedure_type=tfesi, planned_date=in_two_days, today=TODAY
        )
        return [f for f in findings if f.code.startswith("hold:")]

    assert holds() == []
    intake = submit(own_patient, patient_user, blood_thinner="yes", blood_thinner_name="Eliquis")
    [item] = intake.items.filter(kind=IntakeItemKind.MEDICATION)
    services.intake_item_decide(item=item, by=Actor.desk(clinician_user), accept=True)

    medication = own_patient.medications.get()
    assert (medication.name, medication.generics, medication.drug_classes) == (
        "Eliquis",
        ["apixaban"],
        ["doac"],
    )
    assert medication.classification == Classification.VOCABULARY
    assert medication.source == "intake" and medication.notes == services.BLOOD_THINNER_NOTE
    assert [f.severity for f in holds()] == [BLOCK]


# --- What the staff read ------------------------------------------------------------------


def test_the_reviewer_reads_the_answer_in_the_queue_and_on_the_intake(
    client, own_patient, other_patient, patient_user, clinician_user, front_desk_user
):
    named = submit(
        own_patient,
        patient_user,
        blood_thinner="yes",
        blood_thinner_name="warfarin",
        demographics={"city": "Cary"},  # the front desk's part: it sees this intake too
    )
    unsure = submit(other_patient, patient_user, blood_thinner="not_sure")
    client.sign_in(clinician_user)
    queue = client.get(reverse("patients:intake-queue")).content.decode()
    assert "Blood thinner: Yes: warfarin" in queue
    assert "Blood thinner: Not sure: ask the patient" in queue

    page = client.get(reverse("patients:intake", args=[unsure.pk])).content.decode()
    assert "<dt>Blood thinner</dt>" in page and "Not sure: ask the patient" in page
    assert "Check holds" in page
    page = client.get(reverse("patients:intake", args=[named.pk])).content.decode()
    assert "Yes: warfarin" in page and "affects bleeding — check holds" in page

    client.sign_in(front_desk_user)  # clinical answers are not the front desk's
    queue = client.get(reverse("patients:intake-queue")).content.decode()
    assert reverse("patients:intake", args=[named.pk]) in queue
    assert "Blood thinner" not in queue
