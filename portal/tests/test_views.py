import pytest

from clinic.users.actor import Actor
from patients.tests.factories import PatientFactory

pytestmark = pytest.mark.django_db


def test_portal_shows_only_the_signed_in_patients_record(client, patient_user):
    other = PatientFactory(legal_first_name="Zebulon", mrn="99999999")
    client.sign_in(patient_user)
    page = client.get("/portal/").content.decode()
    assert f"Welcome, {patient_user.patient.first_name}" in page
    assert patient_user.patient.mrn in page
    assert other.mrn not in page and "Zebulon" not in page


def test_a_patient_login_without_a_record_is_told_what_happens_next(client, make_user):
    from clinic.users.roles import Role

    client.sign_in(make_user("newbie", Role.PATIENT))
    assert "not linked to a patient record yet" in client.get("/portal/").content.decode()


def _scheduled(patient, clinician, code, **fields):
    """An order scheduled the one way there is: its procedure visit is booked."""
    from procedures import services
    from procedures.models import ProcedureType
    from scheduling.tests.visits import procedure_visit

    kind = ProcedureType.objects.get(code=code)
    order = services.order_create(
        patient=patient,
        procedure_type=kind,
        by=Actor.desk(clinician),
        indication_code="M54.16",
        indication_text="Lumbar radiculopathy",
        auth_status="not_needed",
        **fields,
    )
    services.order_authorize(order=order, by=Actor.desk(clinician))
    procedure_visit(order, days_ahead=9, hour=9 + 2 * patient.appointments.count())
    order.refresh_from_db()
    return order


def test_portal_shows_the_patients_own_scheduled_procedures_only(
    client, patient_user, own_patient, other_patient, clinician_user
):
    from procedures import services
    from procedures.models import ProcedureType

    mine = _scheduled(
        own_patient,
        clinician_user,
        "tfesi_ls",
        side="left",
        levels=["L5-S1"],
        notes="Private clinical note",
    )
    _scheduled(other_patient, clinician_user, "genicular_block", side="right")
    services.order_create(  # ordered, not scheduled: not shown yet
        patient=own_patient,
        procedure_type=ProcedureType.objects.get(code="trigger_point"),
        by=Actor.desk(clinician_user),
        indication_code="M79.18",
        indication_text="Myofascial pain",
        auth_status="not_needed",
    )
    client.sign_in(patient_user)
    page = client.get("/portal/").content.decode()
    assert "Your upcoming visits" in page
    assert mine.procedure_type.name in page
    assert mine.planned_date.strftime("%B") in page
    first_line = mine.procedure_type.preparation.splitlines()[0]
    assert first_line and first_line.replace("'", "&#x27;") in page
    assert "Genicular nerve block" not in page and "Trigger point injection" not in page
    for hidden in ("Private clinical note", "Lumbar radiculopathy", "M54.16", "L5-S1", "Left"):
        assert hidden not in page, hidden


def test_portal_says_when_no_procedure_is_scheduled(client, patient_user):
    client.sign_in(patient_user)
    assert "You have no visits scheduled." in client.get("/portal/").content.decode()


def test_portal_page_runs_a_fixed_number_of_queries(
    client, patient_user, own_patient, clinician_user, django_assert_num_queries
):
    _scheduled(own_patient, clinician_user, "tfesi_ls", side="left", levels=["L5-S1"])
    _scheduled(own_patient, clinician_user, "trigger_point")
    client.sign_in(patient_user)
    # session, user, role groups, the patient, their upcoming procedure visits (with the order
    # and its procedure type)
    with django_assert_num_queries(6):
        assert client.get("/portal/").status_code == 200


def test_home_and_my_appointments_show_the_same_visits_preparation_and_hold_dates(
    client, patient_user, own_patient, clinician_user
):
    from datetime import date

    from portal.booking import upcoming_for_patient

    order = _scheduled(own_patient, clinician_user, "tfesi_ls", side="left", levels=["L5-S1"])
    visit = own_patient.appointments.get()
    hold = {
        "code": "hold:clopidogrel",
        "severity": "warn",
        "reason": "Clopidogrel: hold 7 days.",
        "details": {
            "hold_start": "2030-03-02",
            "patient_text": "Plavix: take your last dose on Friday 1 March.",
        },
    }
    order.findings = [*order.findings, hold]
    order.save(update_fields=["findings"])
    visits = upcoming_for_patient(own_patient)
    assert [v.appointment.pk for v in visits] == [visit.pk]
    assert visits[0].preparation is not None
    assert visits[0].preparation.holds[-1].starts == date(2030, 3, 2)
    client.sign_in(patient_user)
    home = client.get("/portal/").content.decode()
    mine = client.get("/portal/appointments/").content.decode()
    preparation = order.procedure_type.preparation.splitlines()[0].replace("'", "&#x27;")
    for page in (home, mine):
        assert "Plavix: take your last dose on Friday 1 March." in page
        assert "From Saturday 2 March:" in page
        assert preparation in page
        assert "(303) 555-0100" in page or "Call the clinic" in page
