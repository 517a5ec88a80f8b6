"""The intake's address and phones: a state from the list (a name typed elsewhere maps to
its code, never cut to two letters), a ZIP of 5 digits or ZIP+4, and phone numbers shown in
their national form."""

import pytest

from clinic.core.errors import ValidationFailed
from clinic.users.actor import Actor
from patients.services import intake_draft_save, patient_update, us_state_code, zip_code

pytestmark = pytest.mark.django_db

ABOUT_URL = "/portal/intake/about/"


@pytest.mark.parametrize(
    ("typed", "kept"),
    [("Colorado", "CO"), ("colorado", "CO"), (" co ", "CO"), ("Puerto Rico", "PR"), ("Co.", "Co.")],
)
def test_a_state_name_or_code_becomes_its_postal_code(typed, kept):
    assert us_state_code(typed) == kept


@pytest.mark.parametrize(
    ("typed", "kept"), [("80210", "80210"), ("802101234", "80210-1234"), ("8021", "8021")]
)
def test_nine_digits_get_the_zip_plus_4_dash(typed, kept):
    assert zip_code(typed) == kept


def test_the_record_refuses_an_unknown_state_and_a_short_zip_whole(own_patient):
    with pytest.raises(ValidationFailed) as refused:
        patient_update(patient=own_patient, state="Colorada", postal_code="8021")
    assert set(refused.value.fields) == {"state", "postal_code"}
    own_patient.refresh_from_db()
    assert own_patient.state != "Co"
    updated = patient_update(patient=own_patient, state="Colorado", postal_code="802101234")
    assert (updated.state, updated.postal_code) == ("CO", "80210-1234")


def test_an_intake_proposes_the_code_of_a_state_typed_in_full(own_patient, patient_user):
    draft = intake_draft_save(
        patient=own_patient,
        step="about",
        data={"state": "Colorado", "postal_code": "80210"},
        by=Actor.portal(patient_user),
    )
    assert draft.draft["about"]["state"] in ("Colorado", "CO")
    with pytest.raises(ValidationFailed) as refused:
        intake_draft_save(
            patient=own_patient,
            step="about",
            data={"state": "Co", "postal_code": "8021"},
            by=Actor.portal(patient_user),
        )
    assert set(refused.value.fields["demographics"]) == {"postal_code"}  # "Co" is CO


def test_the_about_step_offers_states_from_a_list_and_shows_phones_nationally(
    client, patient_user, own_patient
):
    own_patient.phone = "+19195550100"
    own_patient.save(update_fields=["phone"])
    client.sign_in(patient_user)
    page = client.get(ABOUT_URL).content.decode()
    assert '<select name="state"' in page
    assert '<option value="CO">Colorado</option>' in page
    assert 'value="(919) 555-0100"' in page
    assert "+19195550100" not in page


def test_a_short_zip_is_refused_next_to_its_field(client, patient_user, own_patient):
    client.sign_in(patient_user)
    response = client.post(ABOUT_URL, {"postal_code": "8021", "action": "continue"})
    assert response.status_code == 400
    assert "Enter a ZIP code of 5 digits, or ZIP+4 (80210-1234)." in response.content.decode()
