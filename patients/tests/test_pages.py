"""The staff pages of the patients app, driven through the test client."""

import re
import uuid
from datetime import date, timedelta
from html.parser import HTMLParser

import pytest
from django.utils import timezone

from clinic.users.actor import Actor
from clinic.users.roles import Role
from patients import services
from patients.models import (
    Allergy,
    Assessment,
    Condition,
    Decision,
    DuplicateCandidate,
    DuplicateStatus,
    ImplantedDevice,
    IntakeStatus,
    Medication,
    Patient,
    PatientStatus,
)
from patients.questionnaire import RED_FLAGS
from patients.tests.factories import PatientFactory
from scheduling.tests.factories import LocationFactory

pytestmark = pytest.mark.django_db

STAFF = ["front_desk_user", "clinician_user", "manager_user"]


# --- Helpers ----------------------------------------------------------------------------


def answers(**positive_flags) -> dict:
    return {
        "chief_complaint": "Low back pain down the left leg",
        "pain_locations": ["low_back", "leg"],
        "onset": "gradual",
        "treatments_tried": ["physical therapy"],
        "red_flags": {key: positive_flags.get(key, False) for key in RED_FLAGS},
    }


def submit_intake(patient, by, *, flags=None, **parts):
    return services.intake_submit(
        patient=patient, by=Actor.desk(by), answers=answers(**(flags or {})), **parts
    )


class _FormValues(HTMLParser):
    """The values a browser would submit from the first form with method=post."""

    def __init__(self):
        super().__init__()
        self.values: dict[str, str] = {}
        self._select = None
        self._in_form = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form" and attrs.get("method") == "post":
            self._in_form = True
        if not self._in_form:
            return
        name = attrs.get("name")
        if tag == "input" and name and name != "csrfmiddlewaretoken":
            if attrs.get("type") in ("checkbox", "radio"):
                if "checked" in attrs:
                    self.values[name] = attrs.get("value", "on")
            else:
                self.values[name] = attrs.get("value") or ""
        elif tag == "select" and name:
            self._select = name
            self.values.setdefault(name, "")
        elif tag == "option" and self._select and "selected" in attrs:
            self.values[self._select] = attrs.get("value") or ""

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None
        if tag == "form":
            self._in_form = False


def form_values(html: str) -> dict:
    parser = _FormValues()
    parser.feed(html)
    return parser.values


def new_patient_data(**overrides) -> dict:
    return {
        "legal_first_name": "Rosa",
        "legal_last_name": "Quintero",
        "date_of_birth": "1961-04-02",
        "sex": "female",
        "phone": "(252) 555-0142",
        "email": "rosa@example.org",
        "preferred_channel": "sms",
        "consent_sms": "on",
        "status": "active",
        **overrides,
    }


def open_pair(**second_fields):
    first = PatientFactory(
        legal_first_name="Rosa", legal_last_name="Quintero", phone="+12525550142"
    )
    second = PatientFactory(
        legal_first_name="Rosa", legal_last_name="Quintera", phone="+12525550142", **second_fields
    )
    (candidate,) = services.duplicates_detect(patient=second)
    return candidate, first, second


# --- Access -----------------------------------------------------------------------------


def _urls(patient, intake, candidate):
    return [
        "/patients/",
        "/patients/new/",
        f"/patients/{patient.pk}/",
        f"/patients/{patient.pk}/edit/",
        "/patients/intakes/",
        f"/patients/intakes/{intake.pk}/",
        "/patients/duplicates/",
    ]


@pytest.fixture
def some_of_everything(patient_user):
    patient = patient_user.patient
    intake = submit_intake(patient, patient_user, demographics={"insurance_payer": "Aetna"})
    candidate, _, _ = open_pair()
    return patient, intake, candidate


@pytest.mark.parametrize("role", STAFF)
def test_every_page_renders_for_each_staff_role(client, request, role, some_of_everything):
    client.sign_in(request.getfixturevalue(role))
    for url in _urls(*some_of_everything):
        response = client.get(url)
        assert response.status_code == 200, url


def test_every_page_is_forbidden_to_a_patient(client, patient_user, some_of_everything):
    client.sign_in(patient_user)
    for url in _urls(*some_of_everything):
        response = client.get(url)
        assert response.status_code == 403, url
        assert patient_user.patient.legal_last_name not in response.content.decode()


def test_every_page_sends_anonymous_users_to_sign_in(client, some_of_everything):
    for url in _urls(*some_of_everything):
        response = client.get(url)
        assert response.status_code == 302 and "/login" in response["Location"], url


@pytest.mark.parametrize("role", STAFF)
def test_unknown_ids_are_404(client, request, role, some_of_everything):
    _, intake, _ = some_of_everything
    client.sign_in(request.getfixturevalue(role))
    unknown = uuid.uuid4()
    for url in (
        f"/patients/{unknown}/",
        f"/patients/{unknown}/edit/",
        f"/patients/intakes/{unknown}/",
    ):
        assert client.get(url).status_code == 404, url
    for url in (
        f"/patients/intakes/{intake.pk}/items/{unknown}/decide/",
        f"/patients/intakes/{unknown}/items/{unknown}/decide/",
        f"/patients/duplicates/{unknown}/merge/",
        f"/patients/duplicates/{unknown}/dismiss/",
    ):
        assert client.post(url, {"decision": "accept"}).status_code == 404, url


def test_posts_are_forbidden_to_a_patient(client, patient_user, some_of_everything):
    _, intake, candidate = some_of_everything
    client.sign_in(patient_user)
    item = intake.items.get()
    decide = f"/patients/intakes/{intake.pk}/items/{item.pk}/decide/"
    assert client.post(decide, {"decision": "accept"}).status_code == 403
    assert client.post("/patients/new/", new_patient_data()).status_code == 403
    assert client.post(f"/patients/duplicates/{candidate.pk}/dismiss/").status_code == 403
    item.refresh_from_db()
    assert item.decision == Decision.PENDING
    assert not Patient.objects.filter(legal_last_name="Quintero", user__isnull=False).exists()


# --- Search -----------------------------------------------------------------------------


def test_search_finds_by_dob_in_both_formats_and_by_phone(client, front_desk_user):
    rosa = PatientFactory(
        legal_first_name="Rosa",
        legal_last_name="Quintero",
        date_of_birth=date(1961, 4, 2),
        phone="+12525550142",
    )
    PatientFactory(legal_last_name="Okoro", date_of_birth=date(1970, 1, 1), phone="+19195550999")
    client.sign_in(front_desk_user)
    for query in ("1961-04-02", "04/02/1961", "(252) 555-0142", "5550142", rosa.mrn):
        html = client.post("/patients/", {"q": query}).content.decode()
        assert f'href="/patients/{rosa.pk}/"' in html, query
        assert "Okoro" not in html, query


def test_search_terms_never_go_into_a_url(client, front_desk_user):
    """The form posts (with CSRF) to a bare path; paging posts the terms again; a term put in
    the query string is not searched."""
    PatientFactory.create_batch(26, legal_last_name="Quintero", date_of_birth=date(1961, 4, 2))
    client.sign_in(front_desk_user)
    page = client.get("/patients/").content.decode()
    form = re.search(r'<form method="(\w+)" action="([^"]*)" class="search"', page)
    assert form and form.groups() == ("post", "/patients/")
    response = client.post(form.group(2), {"q": "quintero"})
    assert response.request["PATH_INFO"] == "/patients/"
    assert response.request.get("QUERY_STRING", "") == ""
    html = response.content.decode()
    assert "csrfmiddlewaretoken" in html and "26 patients match" in html
    assert "?q=" not in html and "quintero&" not in html
    assert 'name="page" value="2"' in html and 'name="q" value="quintero"' in html
    second = client.post("/patients/", {"q": "quintero", "page": "2"}).content.decode()
    assert "Page 2 of 2" in second
    ignored = client.get("/patients/", {"q": "zzz-nobody"}).content.decode()
    assert "No patient matches" not in ignored and "Quintero" in ignored


def test_search_page_links_new_patient_and_open_duplicates(client, front_desk_user):
    open_pair()
    client.sign_in(front_desk_user)
    html = client.get("/patients/").content.decode()
    assert 'href="/patients/new/"' in html and "New patient" in html
    assert "1 possible duplicate record to review" in html
    assert 'href="/patients/duplicates/"' in html


# --- Create and edit --------------------------------------------------------------------


@pytest.mark.parametrize("role", STAFF)
def test_create_a_patient_and_land_on_the_chart(client, request, role):
    location = LocationFactory()
    client.sign_in(request.getfixturevalue(role))
    response = client.post(
        "/patients/new/", new_patient_data(home_location=str(location.pk)), follow=True
    )
    patient = Patient.objects.get()
    assert response.redirect_chain[-1][0] == f"/patients/{patient.pk}/"
    assert (patient.phone, patient.home_location, patient.consent_sms) == (
        "+12525550142",
        location,
        True,
    )
    assert f"MRN {patient.mrn}" in response.content.decode()


def test_create_form_groups_fields_and_labels_every_input(client, front_desk_user):
    client.sign_in(front_desk_user)
    html = client.get("/patients/new/").content.decode()
    for legend in (
        "Name and birth",
        "Contact and consent",
        "Address",
        "Emergency contact",
        "Insurance",
        "Referring physician",
        "Clinic",
    ):
        assert f"<legend>{legend}</legend>" in html
    for name in services.DEMOGRAPHIC_FIELDS:
        assert f'for="id_{name}"' in html, name


def test_create_with_a_bad_phone_and_a_future_birth_date_shows_both_errors(client, front_desk_user):
    client.sign_in(front_desk_user)
    future = (timezone.localdate() + timedelta(days=3)).isoformat()
    response = client.post("/patients/new/", new_patient_data(phone="555-01", date_of_birth=future))
    assert response.status_code == 400
    html = response.content.decode()
    assert "This phone number has the wrong number of digits." in html
    assert "The date of birth cannot be in the future." in html
    for name in ("phone", "date_of_birth"):
        assert f'id="id_{name}_error"' in html
        assert re.search(rf'<input[^>]*aria-describedby="[^"]*id_{name}_error', html), name
        assert re.search(rf'<input[^>]*aria-invalid="true"[^>]*id="id_{name}"', html), name
    assert Patient.objects.count() == 0
    assert DuplicateCandidate.objects.count() == 0


def test_create_with_missing_names_is_a_400_from_the_form(client, front_desk_user):
    client.sign_in(front_desk_user)
    response = client.post("/patients/new/", new_patient_data(legal_first_name=""))
    assert response.status_code == 400
    assert 'id="id_legal_first_name_error"' in response.content.decode()
    assert Patient.objects.count() == 0


def test_create_that_finds_a_duplicate_says_so_with_a_link(client, front_desk_user):
    PatientFactory(legal_first_name="Rosa", legal_last_name="Quintero", phone="+12525550142")
    client.sign_in(front_desk_user)
    response = client.post("/patients/new/", new_patient_data(), follow=True)
    html = response.content.decode()
    assert "may be the same person as 1 other record" in html
    assert '<a href="/patients/duplicates/">Review possible duplicates</a>' in html


def test_edit_changes_only_the_fields_the_user_changed(client, front_desk_user, monkeypatch):
    patient = PatientFactory(
        city="Durham", consent_sms=True, email="old@example.org", home_location=LocationFactory()
    )
    client.sign_in(front_desk_user)
    values = form_values(client.get(f"/patients/{patient.pk}/edit/").content.decode())
    assert values["consent_sms"] == "on" and values["city"] == "Durham"
    # Someone else saves the email while this form is open.
    Patient.objects.filter(pk=patient.pk).update(email="new@example.org")
    calls = []
    real_update = services.patient_update

    def spy(**kwargs):
        calls.append(sorted(set(kwargs) - {"patient"}))
        return real_update(**kwargs)

    monkeypatch.setattr(services, "patient_update", spy)
    values |= {"city": "Raleigh", "phone": "919 555 0177"}
    values.pop("consent_sms")  # unticked
    response = client.post(f"/patients/{patient.pk}/edit/", values)
    assert response.status_code == 302 and response["Location"] == f"/patients/{patient.pk}/"
    assert calls == [["city", "consent_sms", "phone"]]
    patient.refresh_from_db()
    assert (patient.city, patient.phone, patient.consent_sms, patient.email) == (
        "Raleigh",
        "+19195550177",
        False,
        "new@example.org",
    )


def test_edit_without_changes_writes_nothing(client, clinician_user, monkeypatch):
    patient = PatientFactory()
    client.sign_in(clinician_user)
    values = form_values(client.get(f"/patients/{patient.pk}/edit/").content.decode())
    monkeypatch.setattr(services, "patient_update", lambda **_: pytest.fail("no update"))
    response = client.post(f"/patients/{patient.pk}/edit/", values, follow=True)
    assert "Nothing was changed." in response.content.decode()


def test_edit_with_a_bad_phone_is_400_and_keeps_the_record(client, front_desk_user):
    patient = PatientFactory(phone="+12525550142")
    client.sign_in(front_desk_user)
    values = form_values(client.get(f"/patients/{patient.pk}/edit/").content.decode())
    response = client.post(
        f"/patients/{patient.pk}/edit/", values | {"phone": "12", "city": "Cary"}
    )
    assert response.status_code == 400
    assert 'id="id_phone_error"' in response.content.decode()
    patient.refresh_from_db()
    assert (patient.phone, patient.city) == ("+12525550142", "")


# --- Chart ------------------------------------------------------------------------------


def fill_chart(patient, entries: int, by):
    for n in range(entries):
        Allergy.objects.create(patient=patient, substance=f"Substance {n}", recorded_by=by)
        Medication.objects.create(
            patient=patient, name=f"Drug {n:02d}", drug_class="opioid", recorded_by=by
        )
        Condition.objects.create(patient=patient, kind="other", description=f"Condition {n}")
        ImplantedDevice.objects.create(patient=patient, kind="other", description=f"Device {n}")
        Assessment.objects.create(
            patient=patient,
            instrument="nrs",
            body_region=["low_back", "neck", "knee", "hip"][n % 4],
            items={"score": n % 11},
            total=n % 11,
            band="mild",
            taken_at=timezone.now() - timedelta(days=n),
        )
    Allergy.objects.create(
        patient=patient, substance="Iohexol", procedure_class="iodinated_contrast"
    )
    Medication.objects.create(patient=patient, name="Warfarin", drug_class="vitamin_k_antagonist")


def test_front_desk_sees_no_clinical_lists(client, front_desk_user, clinician_user):
    patient = PatientFactory(insurance_payer="Aetna", emergency_contact_name="Luis Quintero")
    fill_chart(patient, 2, clinician_user)
    client.sign_in(front_desk_user)
    html = client.get(f"/patients/{patient.pk}/").content.decode()
    assert "Aetna" in html and "Luis Quintero" in html and patient.mrn in html
    for clinical in ("Warfarin", "Iohexol", "Allergies", "Medications", "Latest scores"):
        assert clinical not in html


@pytest.mark.date_sensitive
def test_clinician_sees_the_summary_with_anticoagulants_first_and_flagged(client, clinician_user):
    patient = PatientFactory(
        date_of_birth=date(1961, 4, 2), phone="+12525550142", needs_verification=True
    )
    fill_chart(patient, 2, clinician_user)
    intake = submit_intake(patient, clinician_user, demographics={"city": "Cary"})
    client.sign_in(clinician_user)
    html = client.get(f"/patients/{patient.pk}/").content.decode()
    assert "(252) 555-0142" in html and "1961-04-02" in html
    assert f"(age {patient.age_on(timezone.localdate())})" in html
    assert "Needs verification" in html
    meds = html[html.index('id="medications"') :]
    assert meds.index("Warfarin") < meds.index("Drug 00")
    warfarin = meds[meds.index("Warfarin") :]
    assert warfarin.index("affects bleeding — check holds") < warfarin.index("Drug 00")
    assert "Procedure-relevant: Iodinated contrast" in html
    assert "NRS (numeric rating scale)" in html and "Mild (1-3)" in html
    assert f'href="/patients/intakes/{intake.pk}/"' in html


@pytest.mark.parametrize("entries", [2, 20])
@pytest.mark.parametrize(
    ("role", "queries"),
    [
        # session, user, the second factor's device, groups (role), patient with home
        # location, the access-log insert, the open urgent flags (the banner)
        ("front_desk_user", 7),
        # ... + allergies, medications, conditions, devices, assessments, labs, intakes
        ("clinician_user", 14),
    ],
)
def test_chart_query_count_is_fixed(
    client, request, django_assert_num_queries, clinician_user, entries, role, queries
):
    patient = PatientFactory(home_location=LocationFactory())
    fill_chart(patient, entries, clinician_user)
    for _ in range(entries // 10 + 1):
        submit_intake(patient, clinician_user, demographics={"city": "Cary"})
    client.sign_in(request.getfixturevalue(role))
    with django_assert_num_queries(queries):
        response = client.get(f"/patients/{patient.pk}/")
    assert response.status_code == 200


# --- Intake queue -----------------------------------------------------------------------


def test_queue_lists_urgent_first_with_reasons_in_plain_words(client, clinician_user):
    calm = PatientFactory(legal_last_name="Calm")
    urgent = PatientFactory(legal_last_name="Urgent")
    submit_intake(calm, clinician_user, demographics={"city": "Cary"})
    submit_intake(
        urgent,
        clinician_user,
        flags={"saddle_anaesthesia": True},
        assessments=[{"instrument": "phq9", "items": {f"q{i}": 1 for i in range(1, 10)}}],
    )
    client.sign_in(clinician_user)
    html = client.get("/patients/intakes/").content.decode()
    assert html.index(urgent.full_name) < html.index(calm.full_name)
    assert html.count('class="badge danger">Urgent<') == 1
    assert f"Red flag: {RED_FLAGS['saddle_anaesthesia']}" in html
    assert (
        "PHQ-9 item 9 above 0 (thoughts of self-harm): needs same-day clinician attention" in html
    )


def test_front_desk_queue_shows_urgency_but_not_the_clinical_reasons(
    client, front_desk_user, clinician_user
):
    patient = PatientFactory()
    submit_intake(
        patient, clinician_user, flags={"fever_or_chills": True}, demographics={"city": "Cary"}
    )
    only_clinical = PatientFactory(legal_last_name="Clinicalonly")
    submit_intake(only_clinical, clinician_user, medications=[{"name": "X", "drug_class": "nsaid"}])
    client.sign_in(front_desk_user)
    html = client.get("/patients/intakes/").content.decode()
    assert patient.full_name in html and "Urgent" in html
    assert RED_FLAGS["fever_or_chills"] not in html
    assert "Clinicalonly" not in html


def test_empty_queue_says_so(client, front_desk_user):
    client.sign_in(front_desk_user)
    assert "No intakes are waiting for review." in client.get("/patients/intakes/").content.decode()


@pytest.mark.parametrize("intakes", [1, 6])
@pytest.mark.parametrize("role", ["front_desk_user", "clinician_user"])
def test_queue_query_count_is_fixed(
    client, request, django_assert_num_queries, clinician_user, intakes, role
):
    for n in range(intakes):
        submit_intake(
            PatientFactory(),
            clinician_user,
            flags={"major_trauma": n % 2 == 0},
            demographics={"city": f"Town {n}"},
        )
    client.sign_in(request.getfixturevalue(role))
    # session, user, the second factor's device, groups (role), the queue with its patients
    with django_assert_num_queries(6):
        response = client.get("/patients/intakes/")
    assert response.content.decode().count("Submitted ") == intakes


# --- Intake review ----------------------------------------------------------------------


@pytest.fixture
def reviewed_intake(patient_user):
    patient = patient_user.patient
    intake = submit_intake(
        patient,
        patient_user,
        flags={"fever_or_chills": True},
        demographics={"phone": "(919) 555-0111", "insurance_payer": "Aetna"},
        medications=[{"name": "Apixaban", "drug_class": "doac", "dose": "5 mg"}],
    )
    return patient, intake


def decide_url(intake, item):
    return f"/patients/intakes/{intake.pk}/items/{item.pk}/decide/"


def test_review_page_shows_answers_flags_and_items_to_a_clinician(
    client, clinician_user, reviewed_intake
):
    _, intake = reviewed_intake
    client.sign_in(clinician_user)
    html = client.get(f"/patients/intakes/{intake.pk}/").content.decode()
    assert "Low back pain down the left leg" in html
    assert RED_FLAGS["fever_or_chills"] in html
    assert "Apixaban" in html and "affects bleeding — check holds" in html
    assert "Direct oral anticoagulant" in html
    assert "(919) 555-0111" in html and "Aetna" in html
    assert html.count(">Accept</button>") == 3


def test_front_desk_sees_only_demographic_items(client, front_desk_user, reviewed_intake):
    _, intake = reviewed_intake
    client.sign_in(front_desk_user)
    html = client.get(f"/patients/intakes/{intake.pk}/").content.decode()
    assert "Aetna" in html
    for clinical in ("Apixaban", "Low back pain", RED_FLAGS["fever_or_chills"]):
        assert clinical not in html
    assert html.count(">Accept</button>") == 2


def test_accept_and_reject_through_the_page(client, clinician_user, reviewed_intake):
    patient, intake = reviewed_intake
    client.sign_in(clinician_user)
    payer = intake.items.get(field="insurance_payer")
    medication = intake.items.get(kind="medication")
    phone = intake.items.get(field="phone")
    response = client.post(decide_url(intake, payer), {"decision": "accept", "note": "card seen"})
    assert response.status_code == 302
    assert response["Location"] == f"/patients/intakes/{intake.pk}/"
    response = client.post(decide_url(intake, medication), {"decision": "accept"}, follow=True)
    assert "Accepted: Medication." in response.content.decode()
    client.post(decide_url(intake, phone), {"decision": "reject", "note": "wrong number"})
    patient.refresh_from_db()
    assert patient.insurance_payer == "Aetna"
    assert patient.phone != "+19195550111"
    assert patient.medications.get().name == "Apixaban"
    phone.refresh_from_db()
    assert (phone.decision, phone.decided_by, phone.decision_note) == (
        Decision.REJECTED,
        clinician_user,
        "wrong number",
    )
    intake.refresh_from_db()
    assert intake.status == IntakeStatus.REVIEWED
    html = client.get(f"/patients/intakes/{intake.pk}/").content.decode()
    assert "Accept</button>" not in html
    assert html.count("by Chris") == 3 and "Note: card seen" in html


def test_chart_changed_conflict_then_accept_and_replace(client, front_desk_user, reviewed_intake):
    patient, intake = reviewed_intake
    services.patient_update(patient=patient, phone="919-555-0122")  # meanwhile, at the desk
    item = intake.items.get(field="phone")
    client.sign_in(front_desk_user)
    html = client.get(f"/patients/intakes/{intake.pk}/").content.decode()
    assert "The chart has changed since: it now says “(919) 555-0122”" in html
    response = client.post(decide_url(intake, item), {"decision": "accept", "note": "called"})
    assert response.status_code == 409
    html = response.content.decode()
    assert "Current value: <strong>(919) 555-0122</strong>" in html
    assert "Proposed: <strong>(919) 555-0111</strong>" in html
    assert "Accept and replace" in html and 'name="overwrite" value="1"' in html
    patient.refresh_from_db()
    item.refresh_from_db()
    assert patient.phone == "+19195550122" and item.decision == Decision.PENDING

    response = client.post(
        decide_url(intake, item), {"decision": "accept", "overwrite": "1", "note": "called"}
    )
    assert response.status_code == 302
    patient.refresh_from_db()
    item.refresh_from_db()
    assert patient.phone == "+19195550111"
    assert (item.decision, item.replaced_value, item.decided_by) == (
        Decision.ACCEPTED,
        "+19195550122",
        front_desk_user,
    )


def test_front_desk_deciding_a_clinical_item_is_403(client, front_desk_user, reviewed_intake):
    _, intake = reviewed_intake
    item = intake.items.get(kind="medication")
    client.sign_in(front_desk_user)
    response = client.post(decide_url(intake, item), {"decision": "accept"})
    assert response.status_code == 403
    item.refresh_from_db()
    assert item.decision == Decision.PENDING


def test_deciding_twice_is_a_message_not_an_error(client, front_desk_user, reviewed_intake):
    _, intake = reviewed_intake
    item = intake.items.get(field="insurance_payer")
    client.sign_in(front_desk_user)
    client.post(decide_url(intake, item), {"decision": "reject"})
    response = client.post(decide_url(intake, item), {"decision": "accept"}, follow=True)
    assert response.redirect_chain[-1] == (f"/patients/intakes/{intake.pk}/", 302)
    assert "This item was already rejected." in response.content.decode()
    item.refresh_from_db()
    assert item.decision == Decision.REJECTED


def test_a_decision_without_accept_or_reject_is_400(client, front_desk_user, reviewed_intake):
    _, intake = reviewed_intake
    item = intake.items.get(field="insurance_payer")
    client.sign_in(front_desk_user)
    response = client.post(decide_url(intake, item), {"decision": "maybe"})
    assert response.status_code == 400
    assert f'id="item-{item.pk}-error"' in response.content.decode()


# --- Duplicates -------------------------------------------------------------------------


def test_duplicates_page_shows_each_pair_side_by_side(client, front_desk_user):
    _, first, second = open_pair()
    client.sign_in(front_desk_user)
    html = client.get("/patients/duplicates/").content.decode()
    for patient in (first, second):
        assert patient.mrn in html and patient.email in html
        assert f"Merge into {patient.legal_last_name}, {patient.legal_first_name}" in html
    assert "same phone" in html and "(252) 555-0142" in html
    assert "Not the same person" in html


def test_merge_through_the_page(client, front_desk_user):
    candidate, first, second = open_pair()
    client.sign_in(front_desk_user)
    prefix = f"merge-{candidate.pk}"
    response = client.post(
        f"/patients/duplicates/{candidate.pk}/merge/",
        {f"{prefix}-survivor": str(first.pk), f"{prefix}-confirm": "on"},
        follow=True,
    )
    assert f"Merged MRN {second.mrn} into MRN {first.mrn}" in response.content.decode()
    second.refresh_from_db()
    candidate.refresh_from_db()
    assert second.merged_into == first and second.status == PatientStatus.INACTIVE
    assert candidate.status == DuplicateStatus.MERGED


def test_merge_needs_the_confirmation(client, front_desk_user):
    candidate, first, second = open_pair()
    client.sign_in(front_desk_user)
    prefix = f"merge-{candidate.pk}"
    response = client.post(
        f"/patients/duplicates/{candidate.pk}/merge/", {f"{prefix}-survivor": str(first.pk)}
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "Tick this box to confirm the merge." in html
    assert f'aria-describedby="id_{prefix}-confirm_error"' in html
    second.refresh_from_db()
    assert second.merged_into is None


def test_merge_conflict_is_shown_not_a_500(client, front_desk_user, make_user):
    first_login = make_user("rosa1", Role.PATIENT)
    second_login = make_user("rosa2", Role.PATIENT)
    first = PatientFactory(phone="+12525550142", user=first_login)
    second = PatientFactory(phone="+12525550142", user=second_login)
    (candidate,) = services.duplicates_detect(patient=second)
    client.sign_in(front_desk_user)
    prefix = f"merge-{candidate.pk}"
    response = client.post(
        f"/patients/duplicates/{candidate.pk}/merge/",
        {f"{prefix}-survivor": str(first.pk), f"{prefix}-confirm": "on"},
    )
    assert response.status_code == 409
    assert "Both records have a portal login" in response.content.decode()
    second.refresh_from_db()
    assert second.merged_into is None


def test_dismiss_through_the_page(client, clinician_user):
    candidate, _, _ = open_pair()
    client.sign_in(clinician_user)
    response = client.post(f"/patients/duplicates/{candidate.pk}/dismiss/", follow=True)
    html = response.content.decode()
    assert "are marked as different people" in html
    assert "No possible duplicates to review." in html
    candidate.refresh_from_db()
    assert (candidate.status, candidate.resolved_by) == (DuplicateStatus.DISMISSED, clinician_user)
    again = client.post(f"/patients/duplicates/{candidate.pk}/dismiss/", follow=True)
    assert "already dismissed" in again.content.decode()
    merge = client.post(f"/patients/duplicates/{candidate.pk}/merge/", follow=True)
    assert "already resolved" in merge.content.decode()


@pytest.mark.parametrize("pairs", [1, 5])
def test_duplicates_page_query_count_is_fixed(
    client, front_desk_user, django_assert_num_queries, pairs
):
    for n in range(pairs):
        first = PatientFactory(phone=f"+1252555{n:04d}")
        second = PatientFactory(phone=first.phone)
        services.duplicates_detect(patient=second)
    client.sign_in(front_desk_user)
    # session, user, the second factor's device, groups (role), open pairs with both records
    with django_assert_num_queries(6):
        response = client.get("/patients/duplicates/")
    assert response.content.decode().count("Not the same person") == pairs


def test_the_chart_links_to_the_patients_procedures(
    client, clinician_user, front_desk_user, own_patient
):
    client.sign_in(clinician_user)
    html = client.get(f"/patients/{own_patient.pk}/").content.decode()
    assert f"/procedures/orders/?patient={own_patient.pk}" in html
    assert f"/procedures/orders/new/?patient={own_patient.pk}" in html
    client.sign_in(front_desk_user)
    html = client.get(f"/patients/{own_patient.pk}/").content.decode()
    assert f"/procedures/orders/?patient={own_patient.pk}" in html
    assert "/procedures/orders/new/" not in html
