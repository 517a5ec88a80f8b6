"""The drill-down from a registry row to its patients: who may open it, what it lists, the
audit row naming each patient shown, and bad links answered with a 400."""

from urllib.parse import urlsplit

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from clinic.audit.models import AuditEvent
from reports.outcomes import outcomes_report

from .outcome_data import FILTERS, outcome, performed, seed_clinic

pytestmark = pytest.mark.django_db

PAGE = "/reports/outcomes/patients/"


def link_of(table: str, dimension: str, group: str, point: str | None = None) -> str:
    rows = next(t for t in outcomes_report(FILTERS).tables if t.key == table).rows
    found = [
        r
        for r in rows
        if r["dimension"] == dimension
        and r["group"] == group
        and r.get("point", None) in (point, None)
    ]
    return str(found[0]["patients_url"])


def test_a_row_lists_its_patients_and_audits_each(client, clinician_user):
    clinic = seed_clinic()
    link = link_of("responders", "Payer", "Acme Health", "2 weeks")
    client.sign_in(clinician_user)
    response = client.get(link)
    assert response.status_code == 200
    html = response.content.decode()
    shown = [clinic.lumbar_1, clinic.cervical_1, clinic.cervical_0]
    for record in shown:
        assert record.patient.mrn in html
    assert clinic.lumbar_2.patient.mrn not in html  # no payer on file
    assert clinic.outside.patient.mrn not in html  # after the end date
    assert "Payer: Acme Health" in html and "2 weeks" in html
    event = AuditEvent.objects.get(route="report-outcome-patients")
    assert set(event.patients) == {record.patient_id for record in shown}
    assert event.username == clinician_user.username
    assert urlsplit(event.path).path == PAGE


def test_a_point_lists_the_follow_up_the_registry_counted(client, manager_user):
    clinic = seed_clinic()
    link = link_of("responders", "Provider", "Dr. Bo Second, DO", "2 weeks")
    client.sign_in(manager_user)
    html = client.get(link).content.decode()
    assert clinic.lumbar_2.patient.mrn in html
    assert "<td>7</td><td>30.0</td><td>3</td>" in html  # day 10, not day 20's 40%


def test_a_procedure_row_lists_complications(client, clinician_user):
    clinic = seed_clinic()
    link = link_of("procedures", "Procedure type", clinic.lumbar_1.procedure_type.name)
    client.sign_in(clinician_user)
    html = client.get(link).content.decode()
    assert "Vasovagal episode" in html
    assert clinic.lumbar_2.patient.mrn in html


@pytest.mark.parametrize("role", ["front_desk_user", "patient_user"])
def test_only_clinicians_and_managers(client, role, request):
    clinic = seed_clinic()
    link = link_of("responders", "Payer", "Acme Health", "2 weeks")
    client.sign_in(request.getfixturevalue(role))
    response = client.get(link)
    assert response.status_code == 403
    assert clinic.lumbar_1.patient.mrn not in response.content.decode()
    assert not AuditEvent.objects.filter(route="report-outcome-patients").exists()


def test_signed_out_goes_to_sign_in(client):
    response = client.get(f"{PAGE}?dimension=region&group=lumbar_sacral")
    assert response.status_code == 302


@pytest.mark.parametrize(
    "query",
    [
        "",
        "dimension=payroll&group=x",
        "dimension=provider&group=not-a-uuid",
        "dimension=region&group=lumbar_sacral&point=9y",
        "dimension=region&group=lumbar_sacral&start=2025-03-01&end=2025-01-01",
        "dimension=region&group=lumbar_sacral&provider=00000000-0000-0000-0000-000000000000",
    ],
)
def test_bad_links_are_a_400(client, clinician_user, query):
    client.sign_in(clinician_user)
    response = client.get(f"{PAGE}?{query}")
    assert response.status_code == 400
    assert "does not name a row of the registry" in response.content.decode()


def test_post_is_refused(client, clinician_user):
    client.sign_in(clinician_user)
    assert client.post(f"{PAGE}?dimension=region&group=lumbar_sacral").status_code == 405


def test_queries_do_not_grow_with_patients(client, clinician_user):
    clinic = seed_clinic()
    link = link_of("responders", "Region", "Lumbar Sacral", "2 weeks")
    client.sign_in(clinician_user)
    client.get(link)
    counts = []
    for more in (0, 4):
        for _ in range(more):
            extra = performed(clinic.lumbar_1.performed_at.date(), code="tfesi_ls", pre_nrs=8)
            outcome(extra, 14, 4, 2)
        with CaptureQueriesContext(connection) as queries:
            html = client.get(link).content.decode()
        counts.append(len(queries))
    assert html.count("<tr>") == 1 + 2 + 4  # the header, the two lumbar, the four added
    assert counts[0] == counts[1]
