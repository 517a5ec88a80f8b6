"""The research export: none of Safe Harbor's identifiers leaves, dates move together within
a patient, ages over 89 are grouped, only managers export and every export is logged."""

import csv
import io
from datetime import date, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from clinic.audit.models import AuditEvent
from patients.models import Payer, PayerKind
from patients.tests.factories import PatientFactory
from procedures.models import ProcedureRecord
from procedures.tests.factories import ProcedureRecordFactory, at
from reports.models import ResearchExport
from reports.research import age_group, date_shift, study_ids

from .outcome_data import outcome

pytestmark = pytest.mark.django_db

EXPORT_URL = "/reports/research/export/"
BORN = date(1930, 2, 14)  # 95 on the procedure days


def distinctive_patient():
    """A patient whose every identifier is a string no export would hold by chance."""
    return PatientFactory(
        legal_first_name="Zebulonia",
        legal_last_name="Quackenbush",
        preferred_name="Zebby",
        date_of_birth=BORN,
        phone="+19195557731",
        email="zebulonia.quackenbush@example.net",
        address_line1="4417 Xylophone Crescent",
        address_line2="Apartment 9Q",
        city="Frostproof",
        state="FL",
        postal_code="33843",
        emergency_contact_name="Ignatius Quackenbush",
        emergency_contact_phone="+19195557732",
        insurance_payer="Quackcare Mutual",
        insurance_member_id="MEMBER-88412-QX",
        insurance_group="GROUP-QX-5521",
        referring_physician_name="Dr Octavia Wobblesworth",
        referring_physician_phone="+19195557733",
        referring_physician_npi="1928374650",
        payer=Payer.objects.create(name="Quackcare Mutual Plan", kind=PayerKind.COMMERCIAL),
    )


def seed_two_procedures():
    patient = distinctive_patient()
    first = ProcedureRecordFactory(
        patient=patient,
        performed_at=at(date(2025, 1, 15)),
        code="tfesi_ls",
        pre_nrs=8,
        complications="Dr Octavia Wobblesworth called about a headache",
        notes="Seen with Ignatius Quackenbush",
    )
    second = ProcedureRecordFactory(
        patient=patient, performed_at=at(date(2025, 3, 1)), code="tfesi_ls", pre_nrs=6
    )
    outcome(first, 14, 4, 2)
    outcome(first, 91, 2, 1)
    return patient, first, second


def identifiers(patient, records: list[ProcedureRecord]) -> list[str]:
    """Every identifier of the patient the export must not hold, in the forms it could take."""
    values = [
        patient.legal_first_name,
        patient.legal_last_name,
        patient.preferred_name,
        patient.mrn,
        str(patient.pk),
        patient.phone,
        patient.phone.removeprefix("+1"),
        "7731",
        patient.email,
        patient.address_line1,
        "Xylophone",
        patient.city,
        patient.postal_code,
        patient.postal_code[:3] + ",",
        patient.emergency_contact_name,
        patient.insurance_payer,
        patient.insurance_member_id,
        patient.insurance_group,
        "Wobblesworth",
        patient.referring_physician_npi,
        patient.payer.name,
        BORN.isoformat(),
        "1930",
        "95",
        "@",
        "http",
    ]
    for record in records:
        performed = record.performed_at.date()
        values += [
            str(record.pk),
            performed.isoformat(),
            performed.strftime("%m/%d/%Y"),
            (performed + timedelta(days=14)).isoformat(),
        ]
    return values


def download(client, manager_user, **dates) -> tuple[str, list[dict]]:
    client.sign_in(manager_user)
    response = client.post(EXPORT_URL, {"start": "2025-01-01", "end": "2025-03-31"} | dates)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    text = response.content.decode()
    return text, list(csv.DictReader(io.StringIO(text)))


def test_no_safe_harbor_identifier_leaves(client, manager_user):
    patient, first, second = seed_two_procedures()
    text, rows = download(client, manager_user)
    assert len(rows) == 2
    for value in identifiers(patient, [first, second]):
        assert value.lower() not in text.lower(), value
    assert {row["age"] for row in rows} == {"90+"}
    assert {row["complication"] for row in rows} == {"yes", "no"}
    assert {row["state"] for row in rows} == {"FL"}  # allowed: not smaller than a state


def test_dates_shift_together_within_a_patient(client, manager_user):
    patient, *_ = seed_two_procedures()
    _, rows = download(client, manager_user)
    shifted = sorted(date.fromisoformat(row["performed_on_shifted"]) for row in rows)
    assert shifted[1] - shifted[0] == timedelta(days=45)  # 15 January to 1 March
    assert shifted[0] != date(2025, 1, 15)
    assert shifted[0] - date(2025, 1, 15) == date_shift(patient.pk)
    assert len({row["study_id"] for row in rows}) == 1


def test_outcomes_at_each_point_are_exported(client, manager_user):
    seed_two_procedures()
    _, rows = download(client, manager_user)
    first = min(rows, key=lambda row: row["performed_on_shifted"])
    assert (first["nrs_2w"], first["relief_percent_2w"], first["pgic_2w"]) == ("4", "50.0", "2")
    assert (first["nrs_3m"], first["relief_percent_3m"]) == ("2", "75.0")
    assert first["nrs_6m"] == first["relief_percent_6m"] == ""


def test_study_ids_are_new_in_each_export():
    patient_ids = {PatientFactory.build().pk for _ in range(12)}
    exports = [study_ids(patient_ids) for _ in range(3)]
    assert all(len(set(ids.values())) == 12 for ids in exports)
    assert len({tuple(sorted(ids.items())) for ids in exports}) > 1


def test_date_shift_is_stable_and_never_zero():
    patient_ids = [PatientFactory.build().pk for _ in range(200)]
    shifts = [date_shift(patient_id) for patient_id in patient_ids]
    assert shifts == [date_shift(patient_id) for patient_id in patient_ids]
    assert all(timedelta(days=-180) <= s <= timedelta(days=180) and s for s in shifts)
    assert len(set(shifts)) > 50


@pytest.mark.parametrize(
    ("born", "age"),
    [(date(1935, 6, 16), "89"), (date(1935, 6, 15), "90+"), (date(1920, 1, 1), "90+")],
)
def test_ages_over_89_are_grouped(born, age):
    assert age_group(born, date(2025, 6, 15)) == age


def test_export_is_logged_and_audited(client, manager_user):
    patient, *_ = seed_two_procedures()
    before = datetime.now().astimezone() - timedelta(minutes=1)
    download(client, manager_user)
    log = ResearchExport.objects.get()
    assert (log.username, log.rows, log.patients) == (manager_user.username, 2, 1)
    assert (log.start, log.end) == (date(2025, 1, 1), date(2025, 3, 31))
    event = AuditEvent.objects.filter(route="report-research-export").get()
    assert event.patients == [patient.pk]
    assert event.at >= before
    assert patient.mrn not in event.path
    page = client.get(EXPORT_URL)
    assert page.status_code == 200
    assert manager_user.username in page.content.decode()


@pytest.mark.parametrize("role", ["clinician_user", "front_desk_user", "patient_user"])
def test_only_managers_export(client, role, request):
    seed_two_procedures()
    client.sign_in(request.getfixturevalue(role))
    assert client.get(EXPORT_URL).status_code == 403
    assert client.post(EXPORT_URL, {"start": "2025-01-01", "end": "2025-03-31"}).status_code == 403
    assert not ResearchExport.objects.exists()


def test_bad_dates_are_a_400_and_export_nothing(client, manager_user):
    client.sign_in(manager_user)
    response = client.post(EXPORT_URL, {"start": "2025-03-01", "end": "2025-01-01"})
    assert response.status_code == 400
    assert "The end date is before the start date." in response.content.decode()
    assert client.post(EXPORT_URL, {"start": "soon"}).status_code == 400
    assert client.put(EXPORT_URL).status_code == 405
    assert not ResearchExport.objects.exists()


def test_export_queries_do_not_grow_with_rows(client, manager_user):
    client.sign_in(manager_user)
    counts = []
    for more in (1, 5):
        for _ in range(more):
            record = ProcedureRecordFactory(performed_at=at(date(2025, 2, 1)), pre_nrs=8)
            outcome(record, 14, 4, 2)
        with CaptureQueriesContext(connection) as queries:
            client.post(EXPORT_URL, {"start": "2025-01-01", "end": "2025-03-31"})
        counts.append(len(queries))
    assert counts[0] == counts[1]
    assert [log.rows for log in ResearchExport.objects.order_by("at")] == [1, 6]
