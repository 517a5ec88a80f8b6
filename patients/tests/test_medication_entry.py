"""Issue 14: medications entered by any name on the chart, in the intake and in the admin
resolve through the drug vocabulary; labs are recorded on the chart page."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from clinic.users.actor import Actor
from patients import services
from patients.models import Classification, IntakeItemKind, LabResult, Medication
from patients.tests.conftest import intake_answers
from patients.tests.factories import PatientFactory


@pytest.fixture
def patient(db):
    return PatientFactory()


def test_chart_form_adds_a_brand_name_resolved(client, clinician_user, patient):
    client.sign_in(clinician_user)
    answer = client.post(
        reverse("patients:medication-add", args=[patient.pk]),
        {"name": "Eliquis 5 mg", "dose": "5 mg", "frequency": "twice daily"},
    )
    assert answer.status_code == 302
    medication = Medication.objects.get(patient=patient)
    assert (medication.name, medication.generics, medication.drug_class) == (
        "Eliquis 5 mg",
        ["apixaban"],
        "doac",
    )
    page = client.get(reverse("patients:chart", args=[patient.pk])).content.decode()
    assert "apixaban" in page and "affects bleeding" in page


def test_an_unknown_name_is_flagged_on_the_chart_and_a_clinician_classifies_it(
    client, clinician_user, patient
):
    client.sign_in(clinician_user)
    client.post(reverse("patients:medication-add", args=[patient.pk]), {"name": "Zorblatin"})
    medication = Medication.objects.get(patient=patient)
    assert medication.classification == Classification.UNRECOGNISED
    page = client.get(reverse("patients:chart", args=[patient.pk])).content.decode()
    assert "unrecognised — clinician to classify" in page
    assert reverse("patients:medication-classify", args=[patient.pk, medication.pk]) in page
    client.post(
        reverse("patients:medication-classify", args=[patient.pk, medication.pk]),
        {"drug_class": "opioid", "generics": "zorblatin"},
    )
    medication.refresh_from_db()
    assert medication.classification == Classification.CLINICIAN
    assert (medication.drug_classes, medication.classified_by) == (["opioid"], clinician_user)
    page = client.get(reverse("patients:chart", args=[patient.pk])).content.decode()
    assert "unrecognised — clinician to classify" not in page


def test_the_front_desk_cannot_add_medications_or_labs(client, front_desk_user, patient):
    client.sign_in(front_desk_user)
    url = reverse("patients:medication-add", args=[patient.pk])
    assert client.post(url, {"name": "Eliquis"}).status_code == 403
    url = reverse("patients:lab-add", args=[patient.pk])
    assert (
        client.post(url, {"kind": "inr", "value": "1", "taken_on": "2026-01-01"}).status_code == 403
    )
    assert not Medication.objects.exists() and not LabResult.objects.exists()


def test_chart_form_records_a_lab_and_refuses_a_bad_one(client, clinician_user, patient):
    client.sign_in(clinician_user)
    url = reverse("patients:lab-add", args=[patient.pk])
    today = timezone.localdate()
    client.post(url, {"kind": "platelets", "value": "180", "taken_on": today.isoformat()})
    future = (today + timedelta(days=3)).isoformat()
    answer = client.post(url, {"kind": "inr", "value": "1.0", "taken_on": future}, follow=True)
    assert "cannot be taken in the future" in answer.content.decode()
    assert list(LabResult.objects.values_list("kind", "unit")) == [("platelets", "10^9/L")]
    page = client.get(reverse("patients:chart", args=[patient.pk])).content.decode()
    assert "Platelet count" in page and "180" in page


def test_an_intake_medication_is_resolved_when_accepted(clinician_user, patient):
    clinician = Actor.desk(clinician_user)
    intake = services.intake_submit(
        patient=patient,
        by=Actor.system(),
        answers=intake_answers(),
        medications=[{"name": "xarelto", "drug_class": "other", "dose": "20 mg"}],
    )
    item = intake.items.get(kind=IntakeItemKind.MEDICATION)
    services.intake_item_decide(item=item, by=clinician, accept=True)
    medication = Medication.objects.get(patient=patient)
    assert (medication.name, medication.generics, medication.drug_class) == (
        "xarelto",
        ["rivaroxaban"],
        "doac",
    )


def test_the_intake_review_shows_what_the_vocabulary_makes_of_a_name(
    client, clinician_user, patient
):
    intake = services.intake_submit(
        patient=patient,
        by=Actor.system(),
        answers=intake_answers(),
        medications=[
            {"name": "Plavix", "drug_class": "other"},
            {"name": "Zorblatin", "drug_class": "other"},
        ],
    )
    client.sign_in(clinician_user)
    page = client.get(reverse("patients:intake", args=[intake.pk])).content.decode()
    assert "recognised: clopidogrel" in page
    assert "unrecognised — clinician to classify" in page


def test_renaming_a_medication_resolves_it_again(clinician_user, patient):
    clinician = Actor.desk(clinician_user)
    medication = services.clinical_entry_add(
        patient=patient, chart_list="medication", by=clinician, name="Plavix"
    )
    services.clinical_entry_update(entry=medication, name="Brilinta")
    assert (medication.generics, medication.classification) == (["ticagrelor"], "vocabulary")


def test_resolved_fields_cannot_be_written_directly(clinician_user, patient):
    from clinic.core.errors import ValidationFailed

    with pytest.raises(ValidationFailed):
        services.clinical_entry_add(
            patient=patient,
            chart_list="medication",
            by=Actor.desk(clinician_user),
            name="Zorblatin",
            generics=["apixaban"],
        )
