"""The staff page that records an assessment (issue 14, point 2: the staff path of the urgent
patient). Items come from assessment_forms.DEFINITIONS, which must agree with the scorers;
the service's field errors come back as a 400 page with the answers kept and nothing
written; the roles are those of the API (clinicians and managers, not the front desk)."""

import re

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from clinic.audit.models import AuditEvent
from patients.assessment_forms import DEFINITIONS
from patients.instruments import Instrument, InstrumentError, score
from patients.models import Assessment, EntrySource, UrgentFlag
from patients.tests.factories import PatientFactory
from scheduling.tests.factories import LocationFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def patient(db):
    return PatientFactory(
        legal_first_name="Rosa",
        legal_last_name="Quintero",
        home_location=LocationFactory(),
        sex="female",
    )


def url(patient) -> str:
    return reverse("patients:assessment-record", args=[patient.pk])


def phq9(item9: int = 0, **overrides) -> dict:
    data = {"instrument": "phq9"} | {f"q{n}": "0" for n in range(1, 10)}
    return data | {"q1": "2", "q9": str(item9)} | overrides


def texts(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def radios(html: str, name: str) -> list[str]:
    return re.findall(rf'<input type="radio" name="{name}" id="[^"]+" value="([^"]+)"', html)


# --- The definitions agree with the scorers -----------------------------------------------


def _all(definition, value) -> dict:
    return {item.key: value for item in definition.items}


@pytest.mark.parametrize("instrument", Instrument.values)
def test_every_instrument_has_a_definition_whose_values_the_scorer_takes(instrument):
    definition = DEFINITIONS[instrument]
    kwargs = {"sex": "female", "age": 50}
    for item in definition.items:
        allowed = (
            [True, False]
            if item.yes_no
            else [int(v) for v, _ in item.choices] or [item.low, item.high]
        )
        base = _all(definition, allowed[0])
        for value in allowed:
            score(instrument, base | {item.key: value}, **kwargs)  # accepted
        if not item.yes_no:
            too_high = max(allowed) + 1
            with pytest.raises(InstrumentError) as refused:
                score(instrument, base | {item.key: too_high}, **kwargs)
            assert item.key in refused.value.fields  # the range shown is the scorer's
    with pytest.raises(InstrumentError) as unknown:
        score(instrument, _all(definition, 0) | {"zz": 0}, **kwargs)
    assert "zz" in unknown.value.fields  # and no item the page asks is unknown to it


# --- GET -----------------------------------------------------------------------------------


def test_the_chart_links_to_the_page_for_clinicians_only(client, clinician_user, patient):
    client.sign_in(clinician_user)
    assert url(patient) in client.get(reverse("patients:chart", args=[patient.pk])).text


def test_the_chart_has_no_link_for_the_front_desk(client, front_desk_user, patient):
    client.sign_in(front_desk_user)
    assert url(patient) not in client.get(reverse("patients:chart", args=[patient.pk])).text


def test_without_an_instrument_the_page_offers_every_one(client, clinician_user, patient):
    client.sign_in(clinician_user)
    response = client.get(url(patient))
    assert response.status_code == 200
    for value, label in Instrument.choices:
        assert f'<option value="{value}">{label}</option>' in response.text
    assert AuditEvent.objects.filter(patients__contains=[patient.pk], action="read").count() == 1


def test_phq9_renders_every_item_with_its_answers(client, clinician_user, patient):
    client.sign_in(clinician_user)
    response = client.get(url(patient), {"instrument": "phq9"})
    assert response.status_code == 200
    for n in range(1, 10):
        assert radios(response.text, f"q{n}") == ["0", "1", "2", "3"]
    assert "Thoughts of being better off dead or of self-harm" in response.text
    assert "Several days" in response.text and "Nearly every day" in response.text
    assert 'name="body_region"' not in response.text  # PHQ-9 is not about a region


def test_odi_renders_every_section_with_its_name(client, manager_user, patient):
    client.sign_in(manager_user)
    response = client.get(url(patient), {"instrument": "odi"})
    assert response.status_code == 200
    for n in range(1, 11):
        assert radios(response.text, f"s{n}") == ["0", "1", "2", "3", "4", "5"]
    for name in ("Pain intensity", "Personal care", "Sex life", "Travelling"):
        assert f"<legend>{name}</legend>" in response.text
    assert "At least 9 of 10 sections" in response.text


def test_nrs_asks_for_a_region_and_a_number(client, clinician_user, patient):
    client.sign_in(clinician_user)
    response = client.get(url(patient), {"instrument": "nrs"})
    assert '<select name="body_region" id="body_region" required>' in response.text
    assert 'type="number" name="score" id="item-score" value="" min="0" max="10"' in response.text


# --- POST: recorded ------------------------------------------------------------------------


def test_a_phq9_with_item9_is_recorded_and_flags_the_patient(client, clinician_user, patient):
    client.sign_in(clinician_user)
    response = client.post(url(patient), phq9(item9=1))
    assert response.status_code == 302
    assert response["Location"] == reverse("patients:chart", args=[patient.pk])
    assessment = Assessment.objects.get(patient=patient)
    assert assessment.instrument == "phq9" and assessment.total == 3
    assert assessment.items["q9"] == 1 and assessment.items["q1"] == 2
    assert assessment.source == EntrySource.STAFF and assessment.recorded_by == clinician_user
    flag = UrgentFlag.objects.get(patient=patient)
    assert flag.assessment == assessment and flag.acknowledged_at is None
    assert flag.raised_by == clinician_user and flag.raised_via == "desk"
    shown = texts(response)
    assert "PHQ-9 recorded: 3 (Minimal or no depression (0-4))." in shown
    assert any("now flagged urgent for a clinician" in m and "item 9" in m for m in shown)


def test_a_phq9_without_item9_flags_nothing(client, clinician_user, patient):
    client.sign_in(clinician_user)
    response = client.post(url(patient), phq9(item9=0, q2="3", q3="3", q4="3"))
    assert response.status_code == 302
    assert Assessment.objects.get(patient=patient).total == 11
    assert not UrgentFlag.objects.filter(patient=patient).exists()
    assert texts(response) == ["PHQ-9 recorded: 11 (Moderate depression (10-14))."]


def test_an_nrs_is_recorded_for_its_region(client, clinician_user, patient):
    client.sign_in(clinician_user)
    data = {"instrument": "nrs", "body_region": "low_back", "score": "6"}
    response = client.post(url(patient), data)
    assert response.status_code == 302
    assessment = Assessment.objects.get(patient=patient)
    assert (assessment.body_region, assessment.total) == ("low_back", 6)
    assert texts(response) == ["NRS (numeric rating scale) recorded: 6 (Moderate (4-6))."]


def test_an_odi_with_nine_sections_is_scored_as_a_percent(client, clinician_user, patient):
    client.sign_in(clinician_user)
    data = {"instrument": "odi"} | {f"s{n}": "2" for n in range(1, 10)}  # s10 left empty
    response = client.post(url(patient), data)
    assert response.status_code == 302
    assessment = Assessment.objects.get(patient=patient)
    assert "s10" not in assessment.items and assessment.total == 40
    assert texts(response) == [
        "Oswestry Disability Index recorded: 40% (Moderate disability (21-40%))."
    ]


def test_an_ort_takes_yes_and_no_and_the_charts_sex(client, clinician_user, patient):
    client.sign_in(clinician_user)
    data = {"instrument": "ort"} | {item.key: "no" for item in DEFINITIONS["ort"].items}
    response = client.post(url(patient), data | {"family_alcohol": "yes"})
    assert response.status_code == 302
    assessment = Assessment.objects.get(patient=patient)
    assert assessment.items["family_alcohol"] is True
    assert assessment.total == 1 + (
        1 if 16 <= patient.age_on(assessment.taken_at.date()) <= 45 else 0
    )


# --- POST: refused, nothing written --------------------------------------------------------


def _nothing_written(patient) -> None:
    assert not Assessment.objects.filter(patient=patient).exists()
    assert not UrgentFlag.objects.filter(patient=patient).exists()


def test_out_of_range_and_missing_items_are_a_400_next_to_the_items(
    client, clinician_user, patient
):
    client.sign_in(clinician_user)
    data = phq9(item9=1, q1="7", q3="2")
    del data["q2"]
    response = client.post(url(patient), data)
    assert response.status_code == 400
    _nothing_written(patient)  # item 9 was 1, but nothing recorded: nothing flagged
    html = response.text
    assert "Not recorded: please correct the following" in html
    assert re.search(r'id="item-q1_error"><li>PHQ-9 q1 is 0 to 3; got 7\.</li>', html)
    assert re.search(r'id="item-q2_error"><li>PHQ-9 q2 is required \(0 to 3\)', html)
    assert 'id="item-q3-2" value="2" checked' in html  # the answers are kept
    assert 'id="item-q9-1" value="1" checked' in html
    assert 'href="#item-q1-0"' in html  # the summary links to the item


def test_an_odi_with_too_few_sections_says_why_it_is_not_scored(client, clinician_user, patient):
    client.sign_in(clinician_user)
    data = {"instrument": "odi"} | {f"s{n}": "5" for n in range(1, 6)}
    response = client.post(url(patient), data)
    assert response.status_code == 400
    _nothing_written(patient)
    assert "Not scored: 5 of 10 ODI sections answered." in response.text
    assert 'id="item-s5-5" value="5" checked' in response.text


def test_an_nrs_without_a_region_or_with_text_is_a_400(client, clinician_user, patient):
    client.sign_in(clinician_user)
    response = client.post(url(patient), {"instrument": "nrs", "score": "six"})
    assert response.status_code == 400
    _nothing_written(patient)
    assert "An NRS score needs the body region it is about." in response.text
    assert "must be a whole number from 0 to 10; got the text &quot;six&quot;" in response.text
    assert 'value="six"' in response.text


def test_an_unknown_instrument_is_a_400(client, clinician_user, patient):
    client.sign_in(clinician_user)
    response = client.post(url(patient), {"instrument": "promis", "q1": "3"})
    assert response.status_code == 400
    assert "Choose one of the instruments listed." in response.text
    _nothing_written(patient)


@pytest.mark.parametrize("role", ["front_desk_user", "patient_user"])
def test_roles_the_api_refuses_are_refused_here(client, api_as, request, role, patient):
    user = request.getfixturevalue(role)
    client.sign_in(user)
    assert client.get(url(patient), {"instrument": "phq9"}).status_code == 403
    assert client.post(url(patient), phq9(item9=1)).status_code == 403
    _nothing_written(patient)
    assert not AuditEvent.objects.filter(patients__contains=[patient.pk]).exists()
    api = api_as(user).post(
        f"/api/v1/patients/{patient.pk}/assessments/",
        {"instrument": "phq9", "items": {f"q{n}": 0 for n in range(1, 10)}},
        format="json",
    )
    assert api.status_code in (403, 404)  # the same rule in the API
    _nothing_written(patient)


def test_a_manager_may_record_as_in_the_api(client, manager_user, patient):
    client.sign_in(manager_user)
    assert client.post(url(patient), phq9()).status_code == 302
    assert Assessment.objects.get(patient=patient).recorded_by == manager_user
