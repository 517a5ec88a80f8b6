"""CSV imports: the dry run writes nothing and reports every row; the real run (the Celery
task's body, run here in-process) writes each row once through the services; the pages are
for managers only."""

import csv
import io
from datetime import date, timedelta

import pghistory.models
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from clinic.audit.models import AuditEvent
from clinic.core.errors import ValidationFailed
from clinic.users.actor import Actor, ActorChannel
from overview.imports import import_job_check, import_job_confirm, import_job_run
from overview.models import ImportJob, ImportKind, ImportState
from patients.models import DuplicateCandidate, Patient
from patients.tests.factories import PatientFactory
from scheduling.models import Appointment
from scheduling.tests.factories import (
    AppointmentTypeFactory,
    LocationFactory,
    ProviderFactory,
    RoomFactory,
    works_every_day,
)

pytestmark = pytest.mark.django_db

PATIENT_COLUMNS = ["legal_first_name", "legal_last_name", "date_of_birth", "email", "sex"]


def csv_text(columns: list[str], rows: list[list[str]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(columns)
    writer.writerows(rows)
    return out.getvalue()


def patient_row(i: int) -> list[str]:
    born = date(1940, 1, 1) + timedelta(days=7 * i)
    return [
        f"Imported{i:04d}",
        f"Person{i:04d}",
        born.isoformat(),
        f"import{i}@example.net",
        "female",
    ]


@pytest.fixture
def manager_actor(manager_user) -> Actor:
    return Actor.of(manager_user, ActorChannel.DESK)


@pytest.fixture
def thousand_patients() -> tuple[str, dict[str, int]]:
    """1,000 rows: 20 people already here (same name and birth date, one by email only),
    5 rows repeating an earlier row of the file, 10 refused; the rest new."""
    rows = [patient_row(i) for i in range(965)]
    for i in range(20):
        first, last, born, _, _ = patient_row(2000 + i)
        PatientFactory(
            legal_first_name=first, legal_last_name=last, date_of_birth=date.fromisoformat(born)
        )
        rows.append(patient_row(2000 + i))
    rows += [patient_row(i) for i in range(5)]  # the same people again, later in the file
    rows += [["Bad", f"Date{i}", "1990-13-45", "", ""] for i in range(4)]
    rows += [["Future", f"Born{i}", "2999-01-01", "", ""] for i in range(3)]
    rows += [["", f"Nameless{i}", "1970-01-01", "", ""] for i in range(2)]
    rows += [["Wrong", "Sex", "1970-02-02", "", "sometimes"]]
    assert len(rows) == 1000
    return csv_text(PATIENT_COLUMNS, rows), {"create": 965, "matched": 25, "refused": 10}


def test_a_thousand_patients_dry_run_then_import_once(manager_actor, thousand_patients):
    text, expected = thousand_patients
    before, candidates = Patient.objects.count(), DuplicateCandidate.objects.count()

    job = import_job_check(kind=ImportKind.PATIENTS, csv_text=text, by=manager_actor)

    assert job.counts == expected
    assert (Patient.objects.count(), DuplicateCandidate.objects.count()) == (before, candidates), (
        "the dry run writes nothing"
    )
    refused = {row["row"]: row["errors"] for row in job.rows if row["outcome"] == "refused"}
    assert refused[991] == {"date_of_birth": ["Value could not be parsed using defined formats."]}
    assert refused[995] == {"date_of_birth": ["The date of birth cannot be in the future."]}
    assert set(refused[998]) == {"legal_first_name"}
    assert set(refused[1000]) == {"sex"}
    matched = [row for row in job.rows if row["outcome"] == "matched"]
    assert {row["row"] for row in matched} == set(range(966, 991))
    assert matched[0]["matches"][0]["reasons"][0] == "same date of birth and a similar name"

    import_job_confirm(job=job, by=manager_actor)
    done = import_job_run(job_id=job.pk)

    assert done is not None
    job.refresh_from_db()
    assert job.state == ImportState.DONE and job.csv_text == ""
    assert (job.processed_rows, job.percent) == (1000, 100)
    assert job.counts == {"created": 965, "matched": 25, "refused": 10}
    assert Patient.objects.count() == before + 965
    assert Patient.objects.filter(email="import7@example.net").count() == 1
    assert all("label" not in row for row in job.rows), "the names from the file went with it"
    assert import_job_run(job_id=job.pk) is None, "a second delivery of the task does nothing"

    again = import_job_check(kind=ImportKind.PATIENTS, csv_text=text, by=manager_actor)
    assert again.counts == {"matched": 990, "refused": 10}, "importing the file twice adds no one"


def test_the_run_is_audited_as_the_manager(manager_user, manager_actor):
    text = csv_text(PATIENT_COLUMNS, [patient_row(1), patient_row(2)])
    job = import_job_check(kind=ImportKind.PATIENTS, csv_text=text, by=manager_actor)
    import_job_confirm(job=job, by=manager_actor)
    import_job_run(job_id=job.pk)

    created = Patient.objects.get(email="import1@example.net")
    event = pghistory.models.Events.objects.tracks(created).get(pgh_label="insert")
    assert event.pgh_context["user"] == str(manager_user.pk)
    assert event.pgh_context["import_job"] == str(job.pk)


@pytest.fixture
def clinic_site():
    location = LocationFactory(code="denver", time_zone="America/Denver")
    provider = ProviderFactory(locations=[location], npi="1234567893")
    works_every_day(provider, location)
    room = RoomFactory(location=location, name="Exam 1")
    AppointmentTypeFactory()
    return location, provider, room


APPOINTMENT_COLUMNS = ["mrn", "appointment_type", "provider_npi", "location", "start", "room"]


def test_appointments_import_through_booking_and_a_clash_is_refused(manager_actor, clinic_site):
    first, second = PatientFactory(), PatientFactory()
    rows = [
        [first.mrn, "follow_up", "1234567893", "denver", "2030-06-03 09:00", "Exam 1"],
        [second.mrn, "follow_up", "1234567893", "denver", "2030-06-03 09:10", "Exam 1"],
        ["99999999", "follow_up", "1234567893", "denver", "2030-06-03 11:00", "Exam 1"],
        [second.mrn, "follow_up", "1234567893", "denver", "June 3rd", "Exam 1"],
        [second.mrn, "follow_up", "1234567893", "denver", "2030-03-10 02:30", "Exam 1"],
        [second.mrn, "follow_up", "1234567893", "denver", "2030-06-04 10:00", "Exam 9"],
    ]
    text = csv_text(APPOINTMENT_COLUMNS, rows)

    job = import_job_check(kind=ImportKind.APPOINTMENTS, csv_text=text, by=manager_actor)

    assert Appointment.objects.count() == 0
    assert job.counts == {"create": 1, "refused": 5}
    errors = {row["row"]: row["errors"] for row in job.rows if row["outcome"] == "refused"}
    assert errors[2] == {"row": ["The provider is already booked at that time."]}
    assert set(errors[3]) == {"patient"}
    assert set(errors[4]) == {"start"} and set(errors[6]) == {"room"}
    assert "does not exist in America/Denver" in errors[5]["start"][0]

    import_job_confirm(job=job, by=manager_actor)
    import_job_run(job_id=job.pk)
    booked = Appointment.objects.get()
    assert (booked.patient, booked.booked_by) == (first, manager_actor.user)
    job.refresh_from_db()
    assert job.counts == {"created": 1, "refused": 5}

    again = import_job_check(kind=ImportKind.APPOINTMENTS, csv_text=text, by=manager_actor)
    assert again.counts == {"matched": 1, "refused": 5}, "a visit already booked is matched"


# --- The pages --------------------------------------------------------------------------


def upload(client, text: str, kind: str = ImportKind.PATIENTS):
    file = SimpleUploadedFile("patients.csv", text.encode(), content_type="text/csv")
    return client.post(reverse("overview:imports"), {"kind": kind, "file": file})


def test_upload_dry_run_confirm_and_the_progress_figures(client, manager_user):
    client.sign_in(manager_user)
    text = csv_text(
        PATIENT_COLUMNS, [patient_row(i) for i in range(3)] + [["", "X", "1970-01-01", "", ""]]
    )

    response = upload(client, text)

    job = ImportJob.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse(
        "overview:import", args=[job.pk]
    )
    page = client.get(response["Location"])
    assert page.status_code == 200
    assert b"Dry run: nothing has been written" in page.content
    assert b"Imported0001 Person0001" in page.content
    assert Patient.objects.count() == 0
    status_url = reverse("overview:import-status", args=[job.pk])

    confirm = client.post(reverse("overview:import-confirm", args=[job.pk]))
    assert confirm.status_code == 302
    assert client.get(status_url).json() == {
        "state": "queued",
        "processed": 0,
        "total": 4,
        "percent": 0,
        "counts": {"create": 3, "refused": 1},
    }
    assert b"import-progress" in client.get(response["Location"]).content

    import_job_run(job_id=job.pk)  # what the worker runs

    status = client.get(status_url).json()
    assert (status["state"], status["processed"], status["percent"]) == ("done", 4, 100)
    assert status["counts"] == {"created": 3, "refused": 1}
    done = client.get(response["Location"]).content
    assert b"Imported0001" not in done, "the file's names are gone"
    created = Patient.objects.get(email="import1@example.net")
    assert created.mrn.encode() in done
    shown = AuditEvent.objects.filter(route="overview:import").latest("at")
    assert str(created.pk) in {str(pk) for pk in shown.patients}, "the page's read is audited"
    assert client.post(reverse("overview:import-confirm", args=[job.pk])).status_code == 409


def test_bad_uploads_are_a_400_with_the_reason(client, manager_user):
    client.sign_in(manager_user)
    missing = upload(client, "legal_first_name,email\nAna,a@example.org\n")
    assert (
        missing.status_code == 400
        and b"Missing columns: legal_last_name, date_of_birth." in missing.content
    )
    empty = upload(client, ",".join(PATIENT_COLUMNS) + "\n")
    assert empty.status_code == 400 and b"Give between 1 and 5000 rows." in empty.content
    latin = client.post(
        reverse("overview:imports"),
        {"kind": "patients", "file": SimpleUploadedFile("p.csv", "Jos\xe9".encode("latin-1"))},
    )
    assert latin.status_code == 400 and b"not UTF-8" in latin.content
    no_kind = upload(client, csv_text(PATIENT_COLUMNS, [patient_row(1)]), kind="payers")
    assert no_kind.status_code == 400
    assert ImportJob.objects.count() == 0
    assert client.get(reverse("overview:import-confirm", args=[ImportJob().pk])).status_code == 405


def test_a_file_left_unconfirmed_for_a_day_is_discarded_at_the_next_upload(manager_actor):
    text = csv_text(PATIENT_COLUMNS, [patient_row(1)])
    old = import_job_check(kind=ImportKind.PATIENTS, csv_text=text, by=manager_actor)
    ImportJob.objects.filter(pk=old.pk).update(
        created_at=old.created_at - timedelta(days=1, minutes=1)
    )
    recent = import_job_check(kind=ImportKind.PATIENTS, csv_text=text, by=manager_actor)
    import_job_check(kind=ImportKind.PATIENTS, csv_text=text, by=manager_actor)
    old.refresh_from_db()
    recent.refresh_from_db()
    assert (old.state, old.csv_text, old.rows) == (ImportState.DISCARDED, "", [])
    assert (recent.state, recent.csv_text) == (ImportState.CHECKED, text)


def test_discard_deletes_the_file(client, manager_user, manager_actor):
    job = import_job_check(
        kind=ImportKind.PATIENTS,
        csv_text=csv_text(PATIENT_COLUMNS, [patient_row(1)]),
        by=manager_actor,
    )
    client.sign_in(manager_user)
    assert client.post(reverse("overview:import-discard", args=[job.pk])).status_code == 302
    job.refresh_from_db()
    assert (job.state, job.csv_text, job.rows) == (ImportState.DISCARDED, "", [])
    assert client.post(reverse("overview:import-confirm", args=[job.pk])).status_code == 409


@pytest.mark.parametrize("role_user", ["front_desk_user", "clinician_user", "patient_user"])
def test_imports_are_for_managers_only(client, request, role_user, manager_actor):
    job = import_job_check(
        kind=ImportKind.PATIENTS,
        csv_text=csv_text(PATIENT_COLUMNS, [patient_row(1)]),
        by=manager_actor,
    )
    client.sign_in(request.getfixturevalue(role_user))
    for url in (
        reverse("overview:imports"),
        reverse("overview:import", args=[job.pk]),
        reverse("overview:import-status", args=[job.pk]),
    ):
        assert client.get(url).status_code == 403
    assert client.post(reverse("overview:import-confirm", args=[job.pk])).status_code == 403
    assert upload(client, csv_text(PATIENT_COLUMNS, [patient_row(2)])).status_code == 403
    job.refresh_from_db()
    assert job.state == ImportState.CHECKED and ImportJob.objects.count() == 1


def test_signed_out_goes_to_sign_in(client):
    response = client.get(reverse("overview:imports"))
    assert response.status_code == 302 and "login" in response["Location"]


def test_a_run_that_fails_deletes_the_file_and_says_so(manager_actor):
    job = import_job_check(
        kind=ImportKind.PATIENTS,
        csv_text=csv_text(PATIENT_COLUMNS, [patient_row(1)]),
        by=manager_actor,
    )
    import_job_confirm(job=job, by=manager_actor)
    ImportJob.objects.filter(pk=job.pk).update(csv_text="not,the,columns\n1,2,3\n")

    with pytest.raises(ValidationFailed):
        import_job_run(job_id=job.pk)

    job.refresh_from_db()
    assert (job.state, job.csv_text) == (ImportState.FAILED, "")
    assert Patient.objects.count() == 0
