"""The portal's step-by-step intake: a draft saved at every step, resumed, sent for review
through intake_submit, and only ever the signed-in patient's own."""

import re
import threading

import pytest
from django.db import IntegrityError, connections, transaction

from clinic.core.errors import Conflict
from clinic.core.phones import format_phone
from clinic.users.actor import Actor
from clinic.users.roles import Role
from patients import selectors, services
from patients.models import IntakeItemKind, IntakeStatus, IntakeSubmission
from patients.questionnaire import RED_FLAGS
from patients.services import INTAKE_DRAFT_STEPS
from patients.tests.factories import PatientFactory
from portal.intake_forms import AboutForm

pytestmark = pytest.mark.django_db

STEP_URLS = {step: f"/portal/intake/{step}/" for step in INTAKE_DRAFT_STEPS}
DONE = "/portal/intake/done/"


# --- What a browser posts for each step ----------------------------------------------------


def about_data(patient, **changes) -> dict:
    """Every field as the page shows it (the chart's values), with the patient's changes."""
    return {name: getattr(patient, name) or "" for name in AboutForm.base_fields} | changes


def pain_data(**overrides) -> dict:
    return {
        "chief_complaint": "Low back pain down the left leg for six months",
        "pain_locations": ["low_back", "leg"],
        "onset": "gradual",
        "pain_duration": "6 months",
        "treatments": ["physical therapy"],
        "other_treatments": "ibuprofen\n",
    } | overrides


def rows_data(prefix: str, rows: list[dict], **extra) -> dict:
    data = {
        f"{prefix}-TOTAL_FORMS": str(len(rows)),
        f"{prefix}-INITIAL_FORMS": "0",
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "30",
    }
    for index, row in enumerate(rows):
        for name, value in row.items():
            data[f"{prefix}-{index}-{name}"] = value
    return data | extra


APIXABAN = {"name": "Apixaban", "dose": "5 mg", "frequency": "twice a day"}
GABAPENTIN = {"name": "Gabapentin", "dose": "300 mg"}
CONTRAST = {
    "substance": "Iohexol",
    "reaction": "hives",
    "severity": "moderate",
    "procedure_class": "iodinated_contrast",
}


def questionnaire_data(nrs="7", region="low_back", phq9=(0,) * 9, **extra) -> dict:
    data = {"nrs_score": nrs, "nrs_body_region": region}
    data |= {f"phq9_q{n}": str(value) for n, value in enumerate(phq9, start=1)}
    return data | extra


def safety_data(*positive, blood_thinner="no", **extra) -> dict:
    answers = {key: "yes" if key in positive else "no" for key in RED_FLAGS}
    return answers | {"blood_thinner": blood_thinner} | extra


def post(client, step, data, action="continue"):
    return client.post(STEP_URLS[step], {**data, "action": action})


def walk(client, patient, *, red_flags=(), phq9=(0,) * 9):
    """Fill in every step (each a 302 to the next) up to the review page."""
    steps = [
        ("about", about_data(patient, insurance_payer="Blue Cross")),
        ("pain", pain_data()),
        ("medications", rows_data("med", [APIXABAN])),
        ("allergies", rows_data("allergy", [CONTRAST])),
        ("conditions", {"conditions": ["diabetes"], "devices": ["pacemaker"]}),
        ("questionnaires", questionnaire_data(phq9=phq9)),
        ("safety", safety_data(*red_flags)),
    ]
    for index, (step, data) in enumerate(steps):
        response = post(client, step, data)
        assert response.status_code == 302, (step, response.content.decode()[:3000])
        next_step = steps[index + 1][0] if index + 1 < len(steps) else "review"
        assert response["Location"] == STEP_URLS[next_step]


def draft_of(patient) -> IntakeSubmission:
    return IntakeSubmission.objects.get(patient=patient, status=IntakeStatus.DRAFT)


@pytest.fixture
def second_patient_user(make_user):
    user = make_user("pat2", Role.PATIENT, first_name="Quinn")
    PatientFactory(user=user, legal_first_name="Quinn")
    return user


# --- The whole walk ------------------------------------------------------------------------


def test_a_full_walk_sends_one_intake_to_the_staff_queue(
    client, patient_user, own_patient, clinician_user
):
    client.sign_in(patient_user)
    home = client.get("/portal/").content.decode()
    assert "Fill in your intake before your first visit" in home
    assert 'href="/portal/intake/"' in home
    assert "Start your intake" in client.get("/portal/intake/").content.decode()

    page = client.get(STEP_URLS["about"]).content.decode()
    assert "Step 1 of 8" in page
    assert f'value="{format_phone(own_patient.phone)}"' in page, "it starts from the chart"
    assert re.search(r'<a href="/portal/intake/about/" aria-current="step">', page)

    # Medicines: two rows, the second added with "Add another medicine" (no JavaScript).
    walk_to_medications = [
        ("about", about_data(own_patient, phone="(919) 555-0142", insurance_payer="Blue Cross")),
        ("pain", pain_data()),
    ]
    for step, data in walk_to_medications:
        assert post(client, step, data).status_code == 302
    added = post(client, "medications", rows_data("med", [APIXABAN]), action="add")
    assert added.status_code == 302
    assert added["Location"] == "/portal/intake/medications/?add=1"
    page = client.get("/portal/intake/medications/?add=1").content.decode()
    assert 'value="Apixaban"' in page
    assert re.search(r'<input[^>]*name="med-1-name"[^>]*autofocus', page), "focus on the new row"
    response = post(client, "medications", rows_data("med", [APIXABAN, GABAPENTIN, {}]))
    assert response["Location"] == STEP_URLS["allergies"]
    assert post(client, "allergies", rows_data("allergy", [CONTRAST])).status_code == 302
    assert (
        post(client, "conditions", {"conditions": ["diabetes"], "devices": ["pacemaker"]})[
            "Location"
        ]
        == STEP_URLS["questionnaires"]
    )
    assert post(client, "questionnaires", questionnaire_data()).status_code == 302
    assert post(client, "safety", safety_data())["Location"] == STEP_URLS["review"]

    review = client.get(STEP_URLS["review"]).content.decode()
    for shown in ("Step 8 of 8", "Apixaban", "Gabapentin", "Iohexol", "Blue Cross", "Diabetes"):
        assert shown in review, shown
    assert "Low back pain down the left leg" in review

    sent = client.post(STEP_URLS["review"])
    assert sent.status_code == 302 and sent["Location"] == DONE
    done = client.get(DONE).content.decode()
    assert "Intake submitted, waiting for review" in done

    submission = IntakeSubmission.objects.get(patient=own_patient)  # the draft is gone
    assert submission.status == IntakeStatus.SUBMITTED and not submission.urgent
    assert submission.submitted_by == patient_user and not submission.entered_by_staff
    assert submission in selectors.intake_queue(user=clinician_user)
    assert submission.answers == {
        "chief_complaint": "Low back pain down the left leg for six months",
        "pain_locations": ["low_back", "leg"],
        "onset": "gradual",
        "pain_duration": "6 months",
        "treatments_tried": ["physical therapy", "ibuprofen"],
        "red_flags": dict.fromkeys(RED_FLAGS, False),
        "blood_thinner": "no",
        "blood_thinner_name": "",
    }
    items = {(i.kind, i.field): i.proposed for i in submission.items.exclude(kind="medication")}
    assert items.pop(("demographic", "phone")) == "+19195550142"
    assert items.pop(("demographic", "insurance_payer")) == "Blue Cross"
    assert items.pop(("allergy", "")) == CONTRAST
    assert items.pop(("condition", "")) == {"kind": "diabetes"}
    assert items.pop(("device", "")) == {"kind": "pacemaker"}
    assert items.pop(("assessment", "")) in (
        {"instrument": "nrs", "body_region": "low_back", "items": {"score": 7}},
        {"instrument": "phq9", "body_region": "", "items": {f"q{n}": 0 for n in range(1, 10)}},
    )
    assert sorted(
        i.proposed["instrument"] for i in submission.items.filter(kind=IntakeItemKind.ASSESSMENT)
    ) == ["nrs", "phq9"]
    medications = sorted(
        (i.proposed for i in submission.items.filter(kind="medication")), key=lambda m: m["name"]
    )
    assert medications == [APIXABAN, GABAPENTIN]

    queue = client  # the staff see it through the existing API too
    queue.sign_in(clinician_user)
    listed = queue.get("/api/v1/intakes/").json()
    assert [row["id"] for row in listed["results"]] == [str(submission.pk)]

    client.sign_in(patient_user)
    home = client.get("/portal/").content.decode()
    assert "Intake submitted, waiting for review" in home
    assert "Start your intake" not in home and "Fill in your intake" not in home
    start = client.get("/portal/intake/").content.decode()
    assert "waiting for review" in start and "Start your intake" not in start
    assert client.get(STEP_URLS["about"])["Location"] == "/portal/intake/"


# --- Drafts: saved at every step, resumed ----------------------------------------------------


def test_the_draft_is_kept_between_requests_and_resumed_where_the_patient_left(
    client, patient_user, own_patient
):
    client.sign_in(patient_user)
    assert post(client, "about", about_data(own_patient, city="Cary")).status_code == 302
    draft = draft_of(own_patient)
    assert draft.draft == {"about": {"city": "Cary"}} and draft.draft_step == "pain"
    assert client.get("/portal/intake/")["Location"] == STEP_URLS["pain"]

    later = post(client, "pain", pain_data(chief_complaint="Neck pain since the accident"), "save")
    assert later.status_code == 302 and later["Location"] == "/portal/"
    home = client.get("/portal/", follow=True).content.decode()
    assert "Your answers are saved" in home and "Continue your intake" in home

    client.logout()
    client.sign_in(patient_user)  # another day, another session
    assert client.get("/portal/intake/")["Location"] == STEP_URLS["pain"]
    page = client.get(STEP_URLS["pain"]).content.decode()
    assert "Neck pain since the accident" in page
    assert re.search(r'value="gradual"[^>]*checked', page)
    page = client.get(STEP_URLS["about"]).content.decode()
    assert 'value="Cary"' in page
    assert IntakeSubmission.objects.filter(patient=own_patient).count() == 1
    assert set(draft_of(own_patient).draft) == {"about", "pain"}


def test_only_changed_details_are_kept_and_changing_back_drops_them(
    client, patient_user, own_patient
):
    client.sign_in(patient_user)
    post(client, "about", about_data(own_patient, city="Cary", insurance_payer="Aetna"))
    post(client, "about", about_data(own_patient, insurance_payer="Aetna"))
    assert draft_of(own_patient).draft["about"] == {"insurance_payer": "Aetna"}


def test_a_phone_number_typed_as_shown_or_otherwise_is_not_a_change(
    client, patient_user, own_patient
):
    client.sign_in(patient_user)
    shown = format_phone(own_patient.phone)
    digits = own_patient.phone.removeprefix("+1")
    page = client.get(STEP_URLS["about"]).content.decode()
    assert f'value="{shown}"' in page and own_patient.phone not in page
    for typed in (shown, own_patient.phone, f"{digits[:3]}.{digits[3:6]}.{digits[6:]}"):
        post(client, "about", about_data(own_patient, phone=typed, city="Cary"))
        assert draft_of(own_patient).draft["about"] == {"city": "Cary"}, typed
    post(client, "about", about_data(own_patient, phone="(919) 555-0142"))
    assert draft_of(own_patient).draft["about"] == {"phone": "+19195550142"}
    page = client.get(STEP_URLS["about"]).content.decode()
    assert 'value="(919) 555-0142"' in page


def test_an_invalid_step_is_a_400_with_errors_next_to_the_fields_and_nothing_is_lost(
    client, patient_user, own_patient
):
    client.sign_in(patient_user)
    post(client, "about", about_data(own_patient, insurance_payer="Aetna"))
    post(client, "pain", pain_data())
    post(client, "medications", rows_data("med", [APIXABAN]))
    before = draft_of(own_patient).draft

    bad = post(client, "medications", rows_data("med", [APIXABAN, {"dose": "2.5 mg"}]))
    assert bad.status_code == 400
    page = bad.content.decode()
    assert "There is a problem" in page
    assert 'href="#id_med-1-name"' in page, "the summary links to the field"
    assert 'id="id_med-1-name_error"' in page
    assert re.search(r'<input[^>]*aria-invalid="true"[^>]*id="id_med-1-name"', page) or (
        re.search(r'aria-describedby="[^"]*id_med-1-name_error"', page)
    )
    assert "Give the name of the medicine, or remove this row." in page
    assert 'value="2.5 mg"' in page, "what was typed is shown again"
    assert draft_of(own_patient).draft == before

    # A rule of the service (the phone number), shown next to its field.
    bad = post(client, "about", about_data(own_patient, phone="12"))
    assert bad.status_code == 400
    page = bad.content.decode()
    assert 'href="#id_phone"' in page and 'id="id_phone_error"' in page
    assert 'aria-describedby="id_phone_helptext id_phone_error"' in page
    assert draft_of(own_patient).draft == before

    # A radio group: the error is tied to its fieldset and linked to its first choice.
    bad = post(client, "pain", pain_data(onset="", chief_complaint=""))
    assert bad.status_code == 400
    page = bad.content.decode()
    assert 'href="#id_onset_0"' in page and 'href="#id_chief_complaint"' in page
    assert re.search(
        r'<fieldset class="field choices has-error" aria-describedby="id_onset_error"', page
    )
    assert "Error: " in page  # the page title says so first
    assert draft_of(own_patient).draft == before


def test_rows_are_removed_without_javascript(client, patient_user, own_patient):
    client.sign_in(patient_user)
    post(client, "medications", rows_data("med", [APIXABAN, GABAPENTIN]))
    removed = post(client, "medications", rows_data("med", [APIXABAN, GABAPENTIN]), "remove-0")
    assert removed.status_code == 302 and removed["Location"] == STEP_URLS["medications"]
    assert draft_of(own_patient).draft["medications"] == [GABAPENTIN]
    page = client.get(STEP_URLS["medications"]).content.decode()
    assert "Medicine 1 removed." in page
    assert 'value="Gabapentin"' in page and "Apixaban" not in page


def test_submitting_with_a_step_missing_sends_the_patient_to_that_step(
    client, patient_user, own_patient
):
    client.sign_in(patient_user)
    post(client, "pain", pain_data())
    post(client, "questionnaires", questionnaire_data())
    response = client.post(STEP_URLS["review"])
    assert response.status_code == 400
    page = response.content.decode()
    assert "<h1>Safety questions</h1>" in page and "Step 7 of 8" in page
    assert "Your intake has not been sent yet" in page
    assert "Answer yes or no." in page and 'href="#id_major_trauma_0"' in page
    assert 'action="/portal/intake/safety/"' in page
    assert IntakeSubmission.objects.filter(patient=own_patient).count() == 1
    assert set(draft_of(own_patient).draft) == {"pain", "questionnaires"}


def test_a_partly_answered_questionnaire_is_asked_again(client, patient_user, own_patient):
    client.sign_in(patient_user)
    response = post(client, "questionnaires", questionnaire_data(phq9=(), phq9_q1="2"))
    assert response.status_code == 400
    page = response.content.decode()
    assert "Answer this one too, or leave all nine mood questions blank." in page
    assert 'href="#id_phq9_q2_0"' in page
    assert not IntakeSubmission.objects.filter(patient=own_patient).exists()


# --- Urgency -------------------------------------------------------------------------------


def test_a_red_flag_makes_the_intake_urgent(client, patient_user, own_patient, clinician_user):
    calm = PatientFactory()
    services.intake_submit(
        patient=calm,
        by=Actor.desk(clinician_user),
        answers={"chief_complaint": "Knee pain", "red_flags": dict.fromkeys(RED_FLAGS, False)},
        assessments=[{"instrument": "nrs", "body_region": "knee", "items": {"score": 3}}],
    )
    client.sign_in(patient_user)
    walk(client, own_patient, red_flags=["saddle_anaesthesia"])
    assert client.post(STEP_URLS["review"])["Location"] == DONE
    submission = IntakeSubmission.objects.get(patient=own_patient)
    assert submission.urgent and submission.urgent_reasons == ["red_flag:saddle_anaesthesia"]
    assert selectors.intake_queue(user=clinician_user).first() == submission, "urgent first"
    assert "a clinician should look at them today" in client.get(DONE).content.decode()


def test_phq9_item_9_makes_the_intake_urgent(client, patient_user, own_patient):
    client.sign_in(patient_user)
    walk(client, own_patient, phq9=(0, 0, 0, 0, 0, 0, 0, 0, 1))
    client.post(STEP_URLS["review"])
    submission = IntakeSubmission.objects.get(patient=own_patient)
    assert submission.urgent and submission.urgent_reasons == ["phq9_item9_positive"]


# --- One draft, one submission -------------------------------------------------------------


def test_the_database_allows_one_draft_per_patient(own_patient, other_patient):
    IntakeSubmission.objects.create(patient=own_patient, status=IntakeStatus.DRAFT)
    IntakeSubmission.objects.create(patient=other_patient, status=IntakeStatus.DRAFT)
    IntakeSubmission.objects.create(patient=own_patient, status=IntakeStatus.SUBMITTED)
    with pytest.raises(IntegrityError), transaction.atomic():
        IntakeSubmission.objects.create(patient=own_patient, status=IntakeStatus.DRAFT)


def test_saving_steps_keeps_one_draft(client, patient_user, own_patient):
    client.sign_in(patient_user)
    for step, data in (("pain", pain_data()), ("safety", safety_data()), ("pain", pain_data())):
        assert post(client, step, data).status_code == 302
    assert IntakeSubmission.objects.filter(patient=own_patient).count() == 1


def test_sending_twice_makes_one_submission(client, patient_user, own_patient):
    client.sign_in(patient_user)
    walk(client, own_patient)
    first = client.post(STEP_URLS["review"])
    second = client.post(STEP_URLS["review"])  # a double click
    assert first["Location"] == second["Location"] == DONE
    assert IntakeSubmission.objects.filter(patient=own_patient).count() == 1
    assert IntakeSubmission.objects.get(patient=own_patient).status == IntakeStatus.SUBMITTED
    with pytest.raises(Conflict) as caught:
        services.intake_draft_submit(patient=own_patient, by=Actor.portal(patient_user))
    assert caught.value.code == "no_draft"


@pytest.mark.django_db(transaction=True)
def test_two_simultaneous_sends_make_one_submission(patient_user, own_patient):
    services.intake_draft_save(
        patient=own_patient,
        step="pain",
        data={"chief_complaint": "Hip pain", "onset": "sudden"},
        by=Actor.portal(patient_user),
    )
    services.intake_draft_save(
        patient=own_patient,
        step="safety",
        data={"red_flags": dict.fromkeys(RED_FLAGS, False)},
        by=Actor.portal(patient_user),
    )
    services.intake_draft_save(
        patient=own_patient,
        step="questionnaires",
        data=[{"instrument": "nrs", "body_region": "hip", "items": {"score": 5}}],
        by=Actor.portal(patient_user),
    )
    barrier = threading.Barrier(4)
    outcomes: list[str] = []
    lock = threading.Lock()

    def send():
        try:
            barrier.wait(timeout=30)
            services.intake_draft_submit(patient=own_patient, by=Actor.portal(patient_user))
            result = "sent"
        except Conflict as conflict:
            result = conflict.code
        except Exception as error:  # anything else would be a 500
            result = f"error: {error!r}"
        finally:
            connections.close_all()
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=send) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(outcomes) == ["no_draft"] * 3 + ["sent"]
    assert list(IntakeSubmission.objects.filter(patient=own_patient).values_list("status")) == [
        (IntakeStatus.SUBMITTED,)
    ]


@pytest.mark.django_db(transaction=True)
def test_first_saves_from_two_tabs_at_once_make_one_draft(patient_user, own_patient):
    """The partial unique constraint keeps one draft; the loser of the race saves into it."""
    steps = [
        ("pain", {"chief_complaint": "Hip pain", "onset": "sudden"}),
        ("safety", {"red_flags": dict.fromkeys(RED_FLAGS, False)}),
        ("about", {"city": "Cary"}),
        ("medications", [APIXABAN]),
    ]
    barrier = threading.Barrier(len(steps))
    outcomes: list[str] = []
    lock = threading.Lock()

    def save(step, data):
        try:
            barrier.wait(timeout=30)
            services.intake_draft_save(
                patient=own_patient, step=step, data=data, by=Actor.portal(patient_user)
            )
            result = "saved"
        except Exception as error:  # anything would be a 500
            result = f"error: {error!r}"
        finally:
            connections.close_all()
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=save, args=pair) for pair in steps]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert outcomes == ["saved"] * len(steps)
    draft = IntakeSubmission.objects.get(patient=own_patient)
    assert draft.status == IntakeStatus.DRAFT
    assert set(draft.draft) == {step for step, _ in steps}, "no step's answers were lost"


# --- Access --------------------------------------------------------------------------------


def test_a_patient_never_sees_or_changes_another_patients_draft(
    client, api_as, patient_user, own_patient, second_patient_user
):
    client.sign_in(patient_user)
    post(client, "pain", pain_data(chief_complaint="Alpha private complaint"))
    post(client, "about", about_data(own_patient, insurance_payer="Alpha Insurance"))
    mine = draft_of(own_patient)

    client.sign_in(second_patient_user)
    other = second_patient_user.patient
    for url in [*STEP_URLS.values(), "/portal/intake/", "/portal/"]:
        page = client.get(url, follow=True).content.decode()
        assert "Alpha private complaint" not in page and "Alpha Insurance" not in page, url
        assert own_patient.phone not in page, url
    assert client.get(STEP_URLS["review"])["Location"] == "/portal/intake/"  # no draft of theirs
    post(client, "pain", pain_data(chief_complaint="Quinn's own complaint"))
    assert draft_of(other).draft["pain"]["chief_complaint"] == "Quinn's own complaint"
    mine.refresh_from_db()
    assert mine.draft["pain"]["chief_complaint"] == "Alpha private complaint"

    # Nor through the API: 404, with nothing of the other patient in the body.
    api = api_as(second_patient_user)
    for url in (f"/api/v1/intakes/{mine.pk}/", f"/api/v1/patients/{own_patient.pk}/intakes/"):
        response = api.get(url)
        assert response.status_code == 404, url
        assert "Alpha" not in response.content.decode()


@pytest.mark.parametrize("role_user", ["front_desk_user", "clinician_user", "manager_user"])
def test_staff_get_a_403(client, request, role_user, own_patient):
    client.sign_in(request.getfixturevalue(role_user))
    for url in ["/portal/intake/", *STEP_URLS.values(), DONE]:
        assert client.get(url).status_code == 403, url
    assert post(client, "pain", pain_data()).status_code == 403
    assert client.post(STEP_URLS["review"]).status_code == 403
    assert not IntakeSubmission.objects.exists()


def test_anonymous_visitors_are_sent_to_sign_in(client):
    for url in ["/portal/intake/", STEP_URLS["pain"], STEP_URLS["review"], DONE]:
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"] == f"/accounts/login/?next={url}"
    assert post(client, "pain", pain_data()).status_code == 302
    assert client.post(STEP_URLS["review"]).status_code == 302
    assert not IntakeSubmission.objects.exists()


def test_a_patient_login_without_a_record_is_told_what_happens_next(client, make_user):
    client.sign_in(make_user("newbie", Role.PATIENT))
    for url in ["/portal/intake/", STEP_URLS["pain"], STEP_URLS["review"]]:
        response = client.get(url)
        assert response.status_code == 200
        assert "not linked to a patient record yet" in response.content.decode()
    post(client, "pain", pain_data())
    assert not IntakeSubmission.objects.exists()


# --- Query counts --------------------------------------------------------------------------


@pytest.mark.parametrize("rows", [1, 25])
def test_a_step_page_runs_a_fixed_number_of_queries(
    client, patient_user, own_patient, rows, django_assert_num_queries
):
    services.intake_draft_save(
        patient=own_patient,
        step="medications",
        data=[{"name": f"Medicine {n}", "drug_class": "other"} for n in range(rows)],
        by=Actor.portal(patient_user),
    )
    client.sign_in(patient_user)
    # session, user, role groups, the patient, the draft
    with django_assert_num_queries(6):
        response = client.get(STEP_URLS["medications"])
    assert response.status_code == 200
    assert response.content.decode().count('class="card intake-row"') == rows
    with django_assert_num_queries(6):
        assert client.get(STEP_URLS["review"]).status_code == 200


def test_staff_never_see_or_close_a_draft(client, patient_user, own_patient, clinician_user):
    from clinic.core.errors import Conflict
    from patients.services import intake_mark_reviewed

    client.sign_in(patient_user)
    post(client, "pain", pain_data())
    draft = draft_of(own_patient)
    client.sign_in(clinician_user)
    chart = client.get(f"/patients/{own_patient.pk}/").content.decode()
    assert str(draft.pk) not in chart
    assert client.get(f"/patients/intakes/{draft.pk}/").status_code == 404
    api = client.get(f"/api/v1/patients/{own_patient.pk}/intakes/").json()
    assert str(draft.pk) not in str(api)
    with pytest.raises(Conflict):
        intake_mark_reviewed(submission=draft, by=Actor.desk(clinician_user))
    draft.refresh_from_db()
    assert draft.status == "draft" and draft.draft
