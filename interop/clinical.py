"""The chart's clinical lists as US Core 6.1 resources: Condition (problems and the ICD-10-CM
indications of procedure orders), AllergyIntolerance, MedicationStatement (US Core has no
profile for it) and Procedure (performed records with their CPT code, site and side)."""

from datetime import date

from django.utils import timezone

from patients.icd10 import diagnosis_for
from patients.models import Allergy, AllergySeverity, Condition, Medication
from procedures.models import ProcedureOrder, ProcedureRecord, Side

from .codes import (
    ALLERGY_CLINICAL,
    ALLERGY_VERIFICATION,
    CONDITION_CATEGORY,
    CONDITION_CLINICAL,
    CONDITION_VERIFICATION,
    CPT,
    ICD10CM,
    SNOMED,
    clinic_system,
    profile,
)
from .validate import instant, reference, without_empty

# SNOMED CT laterality qualifiers (the values of US Core's and mCODE's laterality bindings).
LATERALITY = {
    Side.LEFT: ("7771000", "Left"),
    Side.RIGHT: ("24028007", "Right"),
    Side.BILATERAL: ("51440002", "Right and left"),
}
LATERALITY_EXTENSION = "http://hl7.org/fhir/us/mcode/StructureDefinition/mcode-laterality-qualifier"
# What a procedure order's indication is: a problem the clinician diagnosed for it.
PROBLEM_CATEGORY = [
    {"coding": [{"system": CONDITION_CATEGORY, "code": "problem-list-item"}]},
]
SEVERITY = {
    AllergySeverity.MILD: "mild",
    AllergySeverity.MODERATE: "moderate",
    AllergySeverity.SEVERE: "severe",
    AllergySeverity.ANAPHYLAXIS: "severe",
}


def is_current(end_date: date | None) -> bool:
    return end_date is None or end_date > timezone.localdate()


def status_concept(system: str, code: str) -> dict:
    return {"coding": [{"system": system, "code": code}]}


def icd10_coding(code: str) -> list[dict]:
    """The condition's ICD-10-CM coding, with the clinic's list's description when listed."""
    if not code:
        return []
    listed = diagnosis_for(code)
    return [
        without_empty({"system": ICD10CM, "code": code, "display": listed and listed.description})
    ]


def condition_resource(condition: Condition) -> dict:
    text = condition.description or condition.get_kind_display()
    current = is_current(condition.end_date)
    return without_empty(
        {
            "resourceType": "Condition",
            "id": str(condition.id),
            "meta": profile("us-core-condition-problems-health-concerns"),
            "clinicalStatus": status_concept(
                CONDITION_CLINICAL, "active" if current else "resolved"
            ),
            "verificationStatus": status_concept(CONDITION_VERIFICATION, "confirmed"),
            "category": PROBLEM_CATEGORY,
            "code": {
                "coding": [
                    *icd10_coding(condition.icd10_code),
                    {
                        "system": clinic_system("condition-kind"),
                        "code": condition.kind,
                        "display": condition.get_kind_display(),
                    },
                ],
                "text": text,
            },
            "subject": reference("Patient", condition.patient_id),
            "onsetDateTime": condition.start_date.isoformat() if condition.start_date else None,
            "abatementDateTime": None
            if current or not condition.end_date
            else (condition.end_date.isoformat()),
            "recordedDate": instant(condition.recorded_at),
        }
    )


def indication_resource(order: ProcedureOrder) -> dict:
    """A procedure order's indication, coded in ICD-10-CM, as a Condition sharing the
    order's id."""
    return without_empty(
        {
            "resourceType": "Condition",
            "id": str(order.id),
            "meta": profile("us-core-condition-problems-health-concerns"),
            "clinicalStatus": status_concept(CONDITION_CLINICAL, "active"),
            "verificationStatus": status_concept(CONDITION_VERIFICATION, "confirmed"),
            "category": PROBLEM_CATEGORY,
            "code": {
                "coding": [
                    {
                        "system": ICD10CM,
                        "code": order.indication_code,
                        "display": order.indication_text,
                    }
                ],
                "text": order.indication_text,
            },
            "subject": reference("Patient", order.patient_id),
            "recordedDate": instant(order.ordered_at),
            "note": [{"text": "Indication of a procedure order."}],
        }
    )


def allergy_resource(allergy: Allergy) -> dict:
    current = is_current(allergy.end_date)
    reaction: dict = {}
    if allergy.reaction:
        reaction = without_empty(
            {
                "manifestation": [{"text": allergy.reaction}],
                "severity": SEVERITY.get(AllergySeverity(allergy.severity)),
            }
        )
    return without_empty(
        {
            "resourceType": "AllergyIntolerance",
            "id": str(allergy.id),
            "meta": profile("us-core-allergyintolerance"),
            "clinicalStatus": status_concept(ALLERGY_CLINICAL, "active" if current else "resolved"),
            "verificationStatus": status_concept(ALLERGY_VERIFICATION, "confirmed"),
            "criticality": "high" if allergy.severity == AllergySeverity.ANAPHYLAXIS else None,
            "code": {"text": allergy.substance},
            "patient": reference("Patient", allergy.patient_id),
            "onsetDateTime": allergy.start_date.isoformat() if allergy.start_date else None,
            "recordedDate": instant(allergy.recorded_at),
            "reaction": [reaction] if reaction else [],
            "note": [{"text": allergy.notes}] if allergy.notes else [],
        }
    )


def medication_resource(medication: Medication) -> dict:
    current = is_current(medication.end_date)
    dosage = " ".join(part for part in (medication.dose, medication.frequency) if part)
    period = without_empty(
        {
            "start": medication.start_date.isoformat() if medication.start_date else None,
            "end": medication.end_date.isoformat() if medication.end_date else None,
        }
    )
    return without_empty(
        {
            "resourceType": "MedicationStatement",
            "id": str(medication.id),
            "status": "active" if current else "completed",
            "medicationCodeableConcept": {"text": medication.name},
            "subject": reference("Patient", medication.patient_id),
            "effectivePeriod": period,
            "dateAsserted": instant(medication.recorded_at),
            "dosage": [{"text": dosage}] if dosage else [],
            "note": [{"text": medication.notes}] if medication.notes else [],
        }
    )


def cpt_concept(record: ProcedureRecord) -> dict:
    """The catalog's primary CPT code (its first code that is not an add-on) and the
    procedure's name."""
    procedure_type = record.procedure_type
    primary = procedure_type.primary_cpt
    coding = [{"system": CPT, "code": primary.code}] if primary else []
    coding.append(
        {
            "system": clinic_system("procedure-type"),
            "code": procedure_type.code,
            "display": procedure_type.name,
        }
    )
    return {"coding": coding, "text": procedure_type.name}


def body_site(record: ProcedureRecord) -> dict:
    region = record.procedure_type.region.replace("_", " ")
    levels = ", ".join(record.levels)
    site: dict = {"text": f"{region}: {levels}" if levels else region}
    side = LATERALITY.get(Side(record.side)) if record.side else None
    if side:
        code, display = side
        site["text"] += f", {display.lower()}"
        site["extension"] = [
            {
                "url": LATERALITY_EXTENSION,
                "valueCodeableConcept": {
                    "coding": [{"system": SNOMED, "code": code, "display": display}]
                },
            }
        ]
    return site


def procedure_resource(record: ProcedureRecord) -> dict:
    order = record.order
    reason = []
    if order is not None:
        reason = [
            {
                "coding": [{"system": ICD10CM, "code": order.indication_code}],
                "text": order.indication_text,
            }
        ]
    return without_empty(
        {
            "resourceType": "Procedure",
            "id": str(record.id),
            "meta": profile("us-core-procedure"),
            "status": "completed",
            "code": cpt_concept(record),
            "subject": reference("Patient", record.patient_id),
            "performedDateTime": instant(record.performed_at),
            "performer": [
                {
                    "actor": reference(
                        "Practitioner", record.performer_id, record.performer.display_name
                    )
                }
            ],
            "location": reference("Location", record.location_id, record.location.name),
            "reasonCode": reason,
            "bodySite": [body_site(record)],
            "complication": [{"text": record.complications}] if record.complications else [],
        }
    )
