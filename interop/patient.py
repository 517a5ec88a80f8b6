"""A patient as a US Core 6.1 Patient: the must-support elements we hold (identifier, name,
telecom, gender, birthDate, address, communication language). Race, ethnicity and birth
sex are not recorded by the clinic, so their extensions are left out, as US Core allows."""

from patients.models import Patient, PatientStatus

from .codes import IDENTIFIER_TYPE, LANGUAGE, clinic_system, profile
from .validate import reference, without_empty

LANGUAGE_NAMES = {"en": "English", "es": "Spanish"}


def mrn_identifier(patient: Patient) -> dict:
    return {
        "use": "usual",
        "type": {"coding": [{"system": IDENTIFIER_TYPE, "code": "MR"}], "text": "MRN"},
        "system": clinic_system("mrn"),
        "value": patient.mrn,
    }


def names(patient: Patient) -> list[dict]:
    official = {
        "use": "official",
        "family": patient.legal_last_name,
        "given": [patient.legal_first_name],
    }
    if not patient.preferred_name:
        return [official]
    return [
        official,
        {"use": "usual", "family": patient.legal_last_name, "given": [patient.preferred_name]},
    ]


def telecom(patient: Patient) -> list[dict]:
    points = []
    if patient.phone:
        points.append({"system": "phone", "value": patient.phone, "use": "mobile"})
    if patient.email:
        points.append({"system": "email", "value": patient.email, "use": "home"})
    return points


def address(patient: Patient) -> list[dict]:
    lines = [line for line in (patient.address_line1, patient.address_line2) if line]
    found = without_empty(
        {
            "use": "home",
            "line": lines,
            "city": patient.city,
            "state": patient.state,
            "postalCode": patient.postal_code,
        }
    )
    return [found] if len(found) > 1 else []


def emergency_contact(patient: Patient) -> list[dict]:
    if not patient.emergency_contact_name:
        return []
    contact = {
        "relationship": [{"text": patient.emergency_contact_relationship or "Emergency contact"}],
        "name": {"text": patient.emergency_contact_name},
    }
    if patient.emergency_contact_phone:
        contact["telecom"] = [{"system": "phone", "value": patient.emergency_contact_phone}]
    return [contact]


def patient_resource(patient: Patient) -> dict:
    language = patient.language or "en"
    resource = {
        "resourceType": "Patient",
        "id": str(patient.id),
        "meta": profile("us-core-patient"),
        "identifier": [mrn_identifier(patient)],
        "active": patient.status == PatientStatus.ACTIVE and patient.merged_into_id is None,
        "name": names(patient),
        "telecom": telecom(patient),
        "gender": patient.sex,
        "birthDate": patient.date_of_birth.isoformat(),
        "address": address(patient),
        "contact": emergency_contact(patient),
        "communication": [
            {
                "language": {
                    "coding": [
                        {
                            "system": LANGUAGE,
                            "code": language,
                            "display": LANGUAGE_NAMES.get(language, language),
                        }
                    ]
                },
                "preferred": True,
            }
        ],
    }
    if patient.status == PatientStatus.DECEASED:
        resource["deceasedBoolean"] = True
    if patient.merged_into_id:
        resource["link"] = [
            {"other": reference("Patient", patient.merged_into_id), "type": "replaced-by"}
        ]
    return without_empty(resource)
