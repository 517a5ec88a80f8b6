"""Searches: paging with _count and next links, _include, the Appointment search parameters,
free slots, and the same number of queries however many rows a page shows."""

from urllib.parse import urlencode, urlsplit

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from interop.codes import ICD10CM, clinic_system
from interop.tests.conftest import whole_record
from interop.tests.test_record import search, valid
from patients.tests.factories import PatientFactory

pytestmark = pytest.mark.django_db


def follow(client, url: str) -> dict:
    parts = urlsplit(url)
    response = client.get(f"{parts.path}?{parts.query}")
    assert response.status_code == 200, response.content
    return valid(response.json())


def test_pages_follow_next_links_until_every_match_is_seen(fhir_as, clinician_user):
    PatientFactory.create_batch(7)
    client = fhir_as(clinician_user)
    bundle = valid(client.get("/fhir/Patient", {"_count": 3}).json())
    assert bundle["total"] == 7
    seen, pages = [], 0
    while True:
        pages += 1
        seen += [entry["resource"]["id"] for entry in bundle["entry"]]
        assert len(bundle["entry"]) <= 3
        next_links = [link["url"] for link in bundle["link"] if link["relation"] == "next"]
        if not next_links:
            break
        assert "_count=3" in next_links[0]
        bundle = follow(client, next_links[0])
    assert pages == 3
    assert len(seen) == len(set(seen)) == 7
    previous = [link for link in bundle["link"] if link["relation"] == "previous"]
    assert "_offset=3" in previous[0]["url"]


def test_a_page_spans_the_tables_a_search_reads(fhir_as, clinician_user, record):
    """Condition reads problems and orders' indications: paging walks across both."""
    client = fhir_as(clinician_user)
    patient = str(record.patient.id)
    first = valid(client.get("/fhir/Condition", {"patient": patient, "_count": 1}).json())
    second = follow(
        client, next(link["url"] for link in first["link"] if link["relation"] == "next")
    )
    codes = [
        entry["resource"]["code"]["coding"][0]["system"]
        for entry in first["entry"] + second["entry"]
    ]
    assert first["total"] == 2
    assert codes == [clinic_system("condition-kind"), ICD10CM]


def test_appointments_include_their_patients(fhir_as, front_desk_user, record, someone_else):
    client = fhir_as(front_desk_user)
    bundle = valid(client.get("/fhir/Appointment", {"_include": "Appointment:patient"}).json())
    matches = [e for e in bundle["entry"] if e["search"]["mode"] == "match"]
    included = [e for e in bundle["entry"] if e["search"]["mode"] == "include"]
    assert len(matches) == bundle["total"] == 2
    assert {e["resource"]["resourceType"] for e in included} == {"Patient"}
    assert {e["resource"]["id"] for e in included} == {
        str(record.patient.id),
        str(someone_else.patient.id),
    }
    assert all(e["fullUrl"].endswith(f"Patient/{e['resource']['id']}") for e in included)


def test_appointments_search_by_patient_practitioner_date_and_status(
    fhir_as, front_desk_user, fhir_clinic, record, someone_else
):
    client = fhir_as(front_desk_user)
    mine = record.appointment
    day = mine.start.astimezone(fhir_clinic.location.zone).date()

    def ids(**query) -> set[str]:
        return {resource["id"] for resource in search(client, "Appointment", **query)}

    assert ids(patient=f"Patient/{record.patient.id}") == {str(mine.id)}
    assert ids(practitioner=str(fhir_clinic.provider.id), status="booked") >= {str(mine.id)}
    assert ids(practitioner=str(fhir_clinic.other_provider.id)) == set()
    assert ids(date=f"ge{day}", patient=str(record.patient.id)) == {str(mine.id)}
    assert ids(date=f"lt{day}", patient=str(record.patient.id)) == set()
    assert ids(status="cancelled") == set()


def test_free_slots_come_from_availability(fhir_as, patient_user, fhir_clinic, record):
    client = fhir_as(patient_user)
    day = fhir_clinic.start_on(3).date()
    slots = search(
        client,
        "Slot",
        **{
            "service-type": fhir_clinic.visit_type.code,
            "schedule": f"Schedule/{fhir_clinic.provider.id}",
            "start": f"ge{day}",
        },
    )
    starts = {slot["start"] for slot in slots}
    assert slots and all(slot["status"] == "free" for slot in slots)
    booked = record.appointment.start.isoformat().replace("+00:00", "Z")
    assert booked not in starts  # the visit the patient holds is not free
    read = client.get(f"/fhir/Slot/{slots[0]['id']}")
    assert read.status_code == 200
    assert read.json() == slots[0]


def query_count(client, path: str, query: dict) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path, query)
    assert response.status_code == 200, response.content
    return len(queries)


@pytest.mark.parametrize(
    ("path", "query", "expected"),
    [
        # One for the token with its user's role (clinic/users/tokens.py), a count and a
        # page per table, the audit row.
        ("/fhir/Patient", {}, 4),
        ("/fhir/Appointment", {"_include": "Appointment:patient"}, 5),
        ("/fhir/Observation", {}, 5),
        ("/fhir/Procedure", {}, 5),  # and one for the catalog's CPT codes
        ("/fhir/Condition", {}, 6),
        ("/fhir/QuestionnaireResponse", {}, 7),
    ],
)
def test_a_search_costs_the_same_queries_for_one_patient_or_three(
    fhir_as, clinician_user, fhir_clinic, path, query, expected
):
    client = fhir_as(clinician_user)
    whole_record(fhir_clinic, PatientFactory())
    one = query_count(client, path, query)
    whole_record(fhir_clinic, PatientFactory())
    whole_record(fhir_clinic, PatientFactory())
    assert query_count(client, path, query) == one == expected


def post_search(client, path: str, **terms: str):
    """A search with its terms in a form body, as FHIR R4 defines POST _search."""
    return client.post(path, urlencode(terms), content_type="application/x-www-form-urlencoded")


def test_a_search_by_a_persons_details_is_posted_never_put_in_a_url(
    fhir_as, front_desk_user, record
):
    client = fhir_as(front_desk_user)
    patient = record.patient
    PatientFactory.create_batch(2)
    refused = client.get("/fhir/Patient", {"family": patient.legal_last_name})
    assert refused.status_code == 400
    assert "_search" in refused.json()["issue"][0]["diagnostics"]
    response = post_search(
        client,
        "/fhir/Patient/_search?_count=1",
        family=patient.legal_last_name,
        birthdate=patient.date_of_birth.isoformat(),
    )
    assert response.status_code == 200, response.content
    bundle = valid(response.json())
    assert [e["resource"]["id"] for e in bundle["entry"]] == [str(patient.id)]
    links = " ".join(link["url"] for link in bundle["link"])
    assert patient.legal_last_name not in links
    assert patient.date_of_birth.isoformat() not in links
    by_mrn = post_search(client, "/fhir/Patient/_search", identifier=patient.mrn)
    assert [e["resource"]["id"] for e in by_mrn.json()["entry"]] == [str(patient.id)]
