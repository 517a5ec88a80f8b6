"""The intake's safety step asks plainly "Do you take a blood thinner?" (yes, no or not
sure, then which one, from the drug vocabulary), and the medicines step no longer asks the
patient to classify a medicine."""

import re

import pytest

from patients.models import IntakeItemKind, IntakeSubmission, Patient
from patients.services import BLOOD_THINNER_NOTE
from portal.tests.test_intake import (
    DONE,
    STEP_URLS,
    draft_of,
    post,
    safety_data,
    walk,
)

pytestmark = pytest.mark.django_db

SAFETY = STEP_URLS["safety"]


def selected(page: str, name: str) -> str:
    """The value of the chosen option of select `name` ("" for none)."""
    select = re.search(rf'<select name="{name}".*?</select>', page, re.S)
    assert select, name
    chosen = re.search(r'<option value="([^"]*)" selected>', select.group(0))
    return chosen.group(1) if chosen else ""


def test_the_safety_step_asks_plainly_with_the_vocabularys_names(
    client, patient_user, own_patient, django_assert_num_queries
):
    client.sign_in(patient_user)
    # session, user, role groups, the patient, the draft, the list of blood thinners, the audit
    with django_assert_num_queries(7):
        page = client.get(SAFETY).content.decode()
    assert "Do you take a blood thinner?" in page
    for value in ("yes", "no", "not_sure"):
        assert re.search(rf'<input type="radio" name="blood_thinner" value="{value}"', page)
    assert '<option value="apixaban">Eliquis (apixaban)</option>' in page
    assert '<option value="warfarin">Coumadin, Jantoven (warfarin)</option>' in page
    assert '<option value="another">Another one, or I don&#x27;t know its name</option>' in page
    assert "Advil" not in page and "ticlopidine" not in page
    assert selected(page, "blood_thinner_name") == ""


def test_the_medicines_step_asks_no_class(client, patient_user, own_patient):
    client.sign_in(patient_user)
    page = client.get(STEP_URLS["medications"]).content.decode()
    assert "drug_class" not in page and "What kind of medicine" not in page
    assert "As on the bottle or box, for example Eliquis or gabapentin." in page


def test_a_yes_asks_which_one_next_to_the_list(client, patient_user, own_patient):
    client.sign_in(patient_user)
    for answer in ("", "yes"):
        response = post(client, "safety", safety_data(blood_thinner=answer))
        assert response.status_code == 400
    page = response.content.decode()
    assert 'href="#id_blood_thinner_name"' in page
    assert 'id="id_blood_thinner_name_error"' in page
    assert "Choose which one, or “Another one, or I don&#x27;t know its name”." in page
    assert re.search(r'<input type="radio" name="blood_thinner" value="yes"[^>]*checked', page)
    assert not IntakeSubmission.objects.filter(patient=own_patient).exists()


def test_a_listed_blood_thinner_is_kept_shown_again_and_sent_as_a_medication(
    client, patient_user, own_patient, clinician_user
):
    client.sign_in(patient_user)
    walk(client, own_patient)
    answer = safety_data(blood_thinner="yes", blood_thinner_name="warfarin")
    assert post(client, "safety", answer)["Location"] == STEP_URLS["review"]
    section = draft_of(own_patient).draft["safety"]
    assert (section["blood_thinner"], section["blood_thinner_name"]) == ("yes", "warfarin")

    page = client.get(SAFETY).content.decode()
    assert selected(page, "blood_thinner_name") == "warfarin"
    review = client.get(STEP_URLS["review"]).content.decode()
    assert "Do you take a blood thinner?" in review
    assert "Yes: Coumadin, Jantoven (warfarin)" in review

    assert client.post(STEP_URLS["review"])["Location"] == DONE
    submission = IntakeSubmission.objects.get(patient=own_patient)
    named = submission.items.filter(kind=IntakeItemKind.MEDICATION, proposed__name="warfarin")
    assert [item.proposed for item in named] == [{"name": "warfarin", "notes": BLOOD_THINNER_NOTE}]
    assert submission.answers["blood_thinner"] == "yes"


def test_another_blood_thinner_keeps_its_typed_name(client, patient_user, own_patient):
    client.sign_in(patient_user)
    answer = safety_data(
        blood_thinner="yes", blood_thinner_name="another", blood_thinner_other=" Savaysa 30 mg "
    )
    assert post(client, "safety", answer).status_code == 302
    assert draft_of(own_patient).draft["safety"]["blood_thinner_name"] == "Savaysa 30 mg"
    page = client.get(SAFETY).content.decode()
    assert selected(page, "blood_thinner_name") == "another"
    assert 'value="Savaysa 30 mg"' in page
    assert "Yes: Savaysa 30 mg" in client.get(STEP_URLS["review"]).content.decode()

    unknown = safety_data(blood_thinner="yes", blood_thinner_name="another")
    assert post(client, "safety", unknown).status_code == 302
    page = client.get(SAFETY).content.decode()
    assert selected(page, "blood_thinner_name") == "another", "a yes without a name stays so"
    assert "Yes (the name is not known)" in client.get(STEP_URLS["review"]).content.decode()


@pytest.mark.parametrize("answer", ["no", "not_sure"])
def test_a_name_left_chosen_after_no_or_not_sure_is_not_kept(
    client, patient_user, own_patient, answer
):
    client.sign_in(patient_user)
    data = safety_data(blood_thinner=answer, blood_thinner_name="warfarin")
    assert post(client, "safety", data).status_code == 302
    section = draft_of(own_patient).draft["safety"]
    assert (section["blood_thinner"], section["blood_thinner_name"]) == (answer, "")
    page = client.get(SAFETY).content.decode()
    assert re.search(
        rf'<input type="radio" name="blood_thinner" value="{answer}"[^>]*checked', page
    )
    assert selected(page, "blood_thinner_name") == ""


def test_the_question_is_asked_in_spanish(client, patient_user, own_patient):
    Patient.objects.filter(pk=own_patient.pk).update(language="es")
    client.sign_in(patient_user)
    page = client.get(SAFETY).content.decode()
    assert "¿Toma algún anticoagulante?" in page
    assert "Eliquis (apixaban)" in page, "names of medicines stay as they are"
