"""A FHIR client reads a demo-like patient's whole record over HTTP: every resource type,
every resource validating against the R4 models, US Core's must-support elements present."""

import pytest
from fhir.resources.R4B import get_fhir_model_class

from interop.codes import CPT, ICD10CM, LOINC, US_CORE
from interop.tests.conftest import PHQ9
from interop.urls import ID_NAMES
from interop.validate import r4_checked

pytestmark = pytest.mark.django_db

CHART_TYPES = (
    "Appointment",
    "Procedure",
    "Observation",
    "QuestionnaireResponse",
    "MedicationStatement",
    "AllergyIntolerance",
    "Condition",
)


def valid(resource: dict) -> dict:
    """The resource, after checking it validates against its R4B model and, strictly, its
    R4 (4.0.1) model."""
    get_fhir_model_class(resource["resourceType"]).model_validate(resource)
    return r4_checked(resource)


def search(client, path: str, **query) -> list[dict]:
    response = client.get(f"/fhir/{path}", query)
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("application/fhir+json")
    bundle = valid(response.json())
    assert bundle["type"] == "searchset"
    return [valid(entry["resource"]) for entry in bundle.get("entry", [])]


def test_the_whole_record_reads_and_every_resource_validates(fhir_as, clinician_user, record):
    client = fhir_as(clinician_user)
    patient = record.patient
    found = {name: search(client, name, patient=str(patient.id)) for name in CHART_TYPES}
    found["Patient"] = [valid(client.get(f"/fhir/Patient/{patient.id}").json())]
    for name in ("Practitioner", "PractitionerRole", "Location", "Organization", "Schedule"):
        found[name] = search(client, name)
    assert {name for name, resources in found.items() if not resources} == set()
    assert set(found) | {"Slot"} == set(ID_NAMES)
    # Each resource the search found reads back the same by its id.
    for name, resources in found.items():
        for resource in resources:
            read = client.get(f"/fhir/{name}/{resource['id']}")
            assert read.status_code == 200, (name, read.content)
            assert valid(read.json()) == resource
    counts = {name: len(resources) for name, resources in found.items()}
    # PHQ-9: its total and its nine items; NRS, PEG, ODI; an intake and four surveys.
    assert counts["Observation"] == 13
    assert counts["QuestionnaireResponse"] == 5
    assert counts["Condition"] == 2  # the problem and the order's ICD-10-CM indication
    assert counts["Appointment"] == counts["Procedure"] == 1


def test_the_patient_carries_us_core_must_support_elements(fhir_as, clinician_user, record):
    patient = fhir_as(clinician_user).get(f"/fhir/Patient/{record.patient.id}").json()
    assert patient["meta"]["profile"] == [f"{US_CORE}us-core-patient"]
    assert patient["identifier"][0]["value"] == record.patient.mrn
    assert patient["identifier"][0]["type"]["coding"][0]["code"] == "MR"
    official = patient["name"][0]
    assert official["family"] == record.patient.legal_last_name
    assert official["given"] == [record.patient.legal_first_name]
    assert patient["name"][1]["given"] == ["Robbie"]
    assert patient["gender"] == "female"
    assert patient["birthDate"] == record.patient.date_of_birth.isoformat()
    assert patient["address"] == [
        {
            "use": "home",
            "line": ["12 Main St"],
            "city": "Raleigh",
            "state": "NC",
            "postalCode": "27601",
        }
    ]
    assert {point["system"] for point in patient["telecom"]} == {"phone", "email"}
    assert patient["communication"][0]["language"]["coding"][0]["code"] == "es"


def test_procedures_carry_cpt_body_site_and_side(fhir_as, clinician_user, record):
    (procedure,) = search(fhir_as(clinician_user), "Procedure", patient=str(record.patient.id))
    assert procedure["meta"]["profile"] == [f"{US_CORE}us-core-procedure"]
    cpt = [c for c in procedure["code"]["coding"] if c["system"] == CPT]
    assert [c["code"] for c in cpt] == ["64483"]
    site = procedure["bodySite"][0]
    assert "L4-L5" in site["text"]
    assert site["extension"][0]["valueCodeableConcept"]["coding"][0]["code"] == "7771000"
    assert procedure["reasonCode"][0]["coding"][0] == {"system": ICD10CM, "code": "M54.16"}
    assert procedure["performer"][0]["actor"]["reference"] == (
        f"Practitioner/{record.procedure.performer_id}"
    )


def test_scores_carry_loinc_codes_and_phq9_lists_its_items(fhir_as, clinician_user, record):
    observations = search(fhir_as(clinician_user), "Observation", patient=str(record.patient.id))
    by_code = {
        coding["code"]: obs
        for obs in observations
        for coding in obs["code"]["coding"]
        if coding["system"] == LOINC
    }
    assert {"72514-3", "97909-6", "91147-9", "44261-6"} <= set(by_code)
    phq9 = by_code["44261-6"]
    assert phq9["valueQuantity"]["value"] == sum(PHQ9.values())
    members = [member["reference"].removeprefix("Observation/") for member in phq9["hasMember"]]
    items = {obs["id"]: obs for obs in observations if obs["id"] in members}
    item_codes = {c["code"] for obs in items.values() for c in obs["code"]["coding"]}
    assert len(items) == 9
    assert {"44250-9", "44260-8"} <= item_codes
    categories = {c["code"] for cat in phq9["category"] for c in cat["coding"]}
    assert categories == {"survey", "depression"}
    assert by_code["72514-3"]["bodySite"]["text"] == "Low back"
