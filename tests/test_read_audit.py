"""Every page and API answer that shows a patient's data leaves an audit row naming them.

The routes are not listed by hand: the test walks the URLconf and the API schema, fills each
route's ids from the demo clinic, requests it as every role, and for each answer that shows a
patient (their MRN, "First Last", "Last, First", or their last name as a JSON value) checks
that the request's audit row names that patient. A new route with an id this test cannot fill
fails it until the id is added to ID_SOURCES: nobody can add a patient-scoped route that goes
unaudited by forgetting it here.
"""

import re
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from io import StringIO

import pytest
from django.core.management import call_command
from django.db.models import QuerySet
from django.test import override_settings
from django.urls import URLPattern, URLResolver, get_resolver

from clinic.audit.models import AuditEvent
from clinic.users.models import User
from notifications.models import Message
from patients.models import (
    Allergy,
    Assessment,
    Condition,
    DuplicateCandidate,
    ImplantedDevice,
    IntakeItem,
    IntakeSubmission,
    Medication,
    Patient,
)
from procedures.models import ProcedureOrder, ProcedureRecord
from scheduling.models import Appointment, WaitlistEntry, WaitlistOffer
from tests.signin import SignedInClient

pytestmark = pytest.mark.django_db

KWARG = re.compile(r"<(?:(?P<converter>\w+):)?(?P<name>\w+)>")
SCHEMA_PARAM = re.compile(r"\{(?P<name>\w+)\}")

# Where each route id comes from. Entries under a patient are that patient's own.
ID_SOURCES: dict[str, Callable[[Patient], QuerySet]] = {
    "patient_id": lambda p: Patient.objects.filter(pk=p.pk),
    "intake_id": lambda p: IntakeSubmission.objects.filter(patient=p),
    "item_id": lambda p: IntakeItem.objects.filter(submission__patient=p),
    "candidate_id": lambda p: DuplicateCandidate.objects.filter(patient=p),
    "duplicate_id": lambda p: DuplicateCandidate.objects.filter(patient=p),
    "medication_id": lambda p: Medication.objects.filter(patient=p),
    "message_id": lambda p: Message.objects.filter(patient=p),
    "appointment_id": lambda p: Appointment.objects.filter(patient=p),
    "order_id": lambda p: ProcedureOrder.objects.filter(patient=p),
    "record_id": lambda p: ProcedureRecord.objects.filter(patient=p),
    "offer_id": lambda p: WaitlistOffer.objects.filter(entry__patient=p),
    # The FHIR API's reads (fhir/urls.py names each type's id after its table).
    "allergy_id": lambda p: Allergy.objects.filter(patient=p),
    "condition_id": lambda p: Condition.objects.filter(patient=p),
    "assessment_id": lambda p: Assessment.objects.filter(patient=p),
}
# Ids named alike on several routes: the route's path says which table.
ENTRY_SOURCES: dict[str, Callable[[Patient], QuerySet]] = {
    "allergies": lambda p: Allergy.objects.filter(patient=p),
    "medications": lambda p: Medication.objects.filter(patient=p),
    "conditions": lambda p: Condition.objects.filter(patient=p),
    "devices": lambda p: ImplantedDevice.objects.filter(patient=p),
    "waitlist": lambda p: WaitlistEntry.objects.filter(patient=p),
}
# Routes whose ids are not a patient's rows, each with the reason it is safe to skip.
NOT_PATIENT_SCOPED = {
    "event_id": "an audit row (the manager's audit log, itself audited when it names patients)",
    "code": "a procedure type of the catalog",
    "token_id": "one of the caller's own API tokens",
    "token": "a single-use link or feed token: tests/test_read_audit.py tests the link page",
    "uidb64": "a password reset link (no patient data)",
    "name": "a report's name: figures over many patients, no one patient's data; each read is "
    "audited (reports/tests/test_pages.py)",
    "provider_id": "a provider: FHIR Practitioner, PractitionerRole and Schedule",
    "location_id": "a clinic location (FHIR Location)",
    "organization_id": "the clinic itself (FHIR Organization)",
    "slot_id": "a free slot from availability (FHIR Slot): no patient's data",
    "job_id": "a manager's CSV import: the patients its page names are loaded as records, so "
    "audited (overview/tests/test_imports.py checks it)",
}
ROLES = ("admin", "frontdesk", "physician", "patient")


@dataclass(frozen=True)
class Route:
    template: str  # Django's route text, or the schema's path with {name}
    params: tuple[str, ...]


def url_routes() -> Iterator[Route]:
    def walk(resolver: URLResolver, prefix: str) -> Iterator[str]:
        for entry in resolver.url_patterns:
            if isinstance(entry, URLResolver):
                yield from walk(entry, prefix + str(entry.pattern))
            elif isinstance(entry, URLPattern):
                yield prefix + str(entry.pattern)

    for text in walk(get_resolver(), "/"):
        if text.startswith("/admin/") or "(?" in text or "^" in text:
            continue  # Django's admin: its own pages, read-only for domain rows and audited
        yield Route(text, tuple(m["name"] for m in KWARG.finditer(text)))


def schema_routes(client: SignedInClient) -> Iterator[Route]:
    schema = client.get("/api/schema/", {"format": "json"}).json()
    for path, operations in schema["paths"].items():
        if "get" in operations:
            yield Route(path, tuple(m["name"] for m in SCHEMA_PARAM.finditer(path)))


def candidates(route: Route, name: str, patient: Patient) -> list[uuid.UUID] | None:
    if name == "entry_id":
        table = next((key for key in ENTRY_SOURCES if f"/{key}/" in route.template), None)
        source = ENTRY_SOURCES.get(table or "")
    else:
        source = ID_SOURCES.get(name)
    if source is None:
        return None
    return list(source(patient).values_list("pk", flat=True)[:3])


def concrete_paths(route: Route, patient: Patient) -> Iterator[str]:
    """The route with its ids filled from this patient's rows (one path per id tried)."""
    path = route.template
    for name in route.params:
        found = candidates(route, name, patient) or []
        if not found:
            return
        value = str(found[0])
        path = KWARG.sub(lambda m, n=name, v=value: v if m["name"] == n else m[0], path)
        path = path.replace("{" + name + "}", value)
    yield path


@dataclass(frozen=True)
class Identity:
    patient_id: uuid.UUID
    marks: tuple[str, ...]  # any one shows the patient
    json_names: tuple[str, str]  # both, as JSON strings, show the patient

    def mark_in(self, body: str) -> str | None:
        found = next((mark for mark in self.marks if mark in body), None)
        if found is None and all(name in body for name in self.json_names):
            found = " ".join(self.json_names)
        return found


def identities() -> list[Identity]:
    people = Patient.objects.values_list("pk", "mrn", "legal_first_name", "legal_last_name")
    return [
        Identity(pk, (mrn, f"{first} {last}", f"{last}, {first}"), (f'"{first}"', f'"{last}"'))
        for pk, mrn, first, last in people
    ]


# The signed-in person's own name from their login account, in every page's header.
OWN_NAME = re.compile(r'<span class="who">[^<]*</span>')


def shown(body: str, people: list[Identity]) -> dict[uuid.UUID, str]:
    """The patients the body shows, each with the first mark found."""
    body = OWN_NAME.sub("", body)
    found = {}
    for person in people:
        mark = person.mark_in(body)
        if mark is not None:
            found[person.patient_id] = mark
    return found


@pytest.fixture
def demo(clock) -> dict[str, User]:
    with override_settings(DEBUG=True):
        call_command(
            "seed_demo", "--patients", "12", "--password", "demo-pass-123", stdout=StringIO()
        )
    return {name: User.objects.get(username=name) for name in ROLES}


def audited_since(last_at) -> set[uuid.UUID]:
    rows = AuditEvent.objects.filter(at__gt=last_at) if last_at else AuditEvent.objects.all()
    return {patient for row in rows for patient in row.patients}


def latest_at():
    return AuditEvent.objects.order_by("-at").values_list("at", flat=True).first()


def check_route(client, path: str, people: list[Identity]) -> tuple[int, list[str]]:
    """GET the path; the marks of the patients it showed that no new audit row names."""
    before = latest_at()
    response = client.get(path)
    if response.status_code != 200 or response.streaming:
        return response.status_code, []
    body = response.content.decode(errors="replace")
    audited = audited_since(before)
    return 200, sorted(mark for pid, mark in shown(body, people).items() if pid not in audited)


def focus_patient(users: dict[str, User]) -> Patient:
    """The demo's portal patient: the one whose own pages the patient role can open."""
    return users["patient"].patient


def test_every_route_showing_a_patient_names_them_in_the_audit(demo):
    patient = focus_patient(demo)
    people = identities()
    staff_client = SignedInClient()
    staff_client.sign_in(demo["admin"])
    routes = {route.template: route for route in url_routes()}
    routes |= {route.template: route for route in schema_routes(staff_client)}

    unfillable = sorted(
        f"{route.template} ({name})"
        for route in routes.values()
        for name in route.params
        if name not in NOT_PATIENT_SCOPED and candidates(route, name, patient) is None
    )
    assert not unfillable, f"routes with ids this test cannot fill: {unfillable}"

    unaudited: list[str] = []
    seen: dict[str, set[int]] = {}
    for role in ROLES:
        client = SignedInClient()
        client.sign_in(demo[role])
        for route in routes.values():
            if any(name in NOT_PATIENT_SCOPED for name in route.params):
                continue
            for path in concrete_paths(route, patient):
                status, missing = check_route(client, path, people)
                if route.params:
                    seen.setdefault(route.template, set()).add(status)
                if missing:
                    unaudited.append(f"{role} GET {path}: shows {missing}, unaudited")
    assert not unaudited, "\n".join(unaudited)
    # A route no role could open was not checked: each must be one that only takes POSTs
    # (405 to a GET), never a page that failed to load for want of data.
    statuses_by_route = {template: statuses for template, statuses in seen.items()}
    unchecked = sorted(
        template
        for template, statuses in statuses_by_route.items()
        if 200 not in statuses and 405 not in statuses
    )
    assert not unchecked, f"patient routes no role could open, so unchecked: {unchecked}"
