"""Assessments as US Core 6.1 screening-assessment Observations (the total, and for PHQ-9
each item, coded in LOINC where a term exists: patients/data/loinc.csv) and intakes and
assessments as US Core QuestionnaireResponses."""

import json
from decimal import Decimal
from typing import Any

from django.conf import settings

from patients.models import Assessment, IntakeStatus, IntakeSubmission

from .codes import OBSERVATION_CATEGORY, UCUM, US_CORE_CATEGORY, instrument_concept, profile
from .validate import instant, reference, without_empty

# The instruments whose items are sent as Observations of their own (each with a LOINC code).
ITEMIZED = {"phq9"}
ITEM_SEPARATOR = "-"
SURVEY_CATEGORY = [
    {"coding": [{"system": OBSERVATION_CATEGORY, "code": "survey", "display": "Survey"}]},
]
# US Core 6.1's screening-assessment category for depression (PHQ) and functional status.
ASSESSMENT_DOMAIN = {
    "phq2": ("depression", "Depression"),
    "phq9": ("depression", "Depression"),
    "odi": ("functional-status", "Functional Status"),
    "ndi": ("functional-status", "Functional Status"),
    "peg": ("functional-status", "Functional Status"),
}


def categories(instrument: str) -> list[dict]:
    domain = ASSESSMENT_DOMAIN.get(instrument)
    if domain is None:
        return SURVEY_CATEGORY
    code, display = domain
    return [
        *SURVEY_CATEGORY,
        {"coding": [{"system": US_CORE_CATEGORY, "code": code, "display": display}]},
    ]


def score_quantity(value: Any) -> dict:
    return {"value": Decimal(str(value)), "unit": "{score}", "system": UCUM, "code": "{score}"}


def item_observation_id(assessment: Assessment, item: str) -> str:
    return f"{assessment.id}{ITEM_SEPARATOR}{item}"


def _observation(assessment: Assessment, resource_id: str, code: dict, value: Any) -> dict:
    return {
        "resourceType": "Observation",
        "id": resource_id,
        "meta": profile("us-core-observation-screening-assessment"),
        "status": "final",
        "category": categories(assessment.instrument),
        "code": code,
        "subject": reference("Patient", assessment.patient_id),
        "effectiveDateTime": instant(assessment.taken_at),
        "valueQuantity": score_quantity(value),
    }


def observations_of(assessment: Assessment) -> list[dict]:
    """The total's Observation, then (PHQ-9) one per answered item, which it lists as its
    members."""
    total = _observation(
        assessment,
        str(assessment.id),
        instrument_concept(assessment.instrument),
        assessment.total,
    )
    if assessment.body_region:
        total["bodySite"] = {"text": assessment.get_body_region_display()}
    if assessment.band:
        total["interpretation"] = [{"text": assessment.band.replace("_", " ")}]
    items = []
    if assessment.instrument in ITEMIZED:
        for key, value in sorted(assessment.items.items(), key=lambda pair: int(pair[0][1:])):
            if value is None:
                continue
            item = _observation(
                assessment,
                item_observation_id(assessment, key),
                instrument_concept(assessment.instrument, key),
                value,
            )
            item["derivedFrom"] = [reference("QuestionnaireResponse", assessment.id)]
            items.append(item)
        total["hasMember"] = [reference("Observation", item["id"]) for item in items]
    total["derivedFrom"] = [reference("QuestionnaireResponse", assessment.id)]
    return [total, *items]


def questionnaire_url(name: str) -> str:
    return f"{settings.CLINIC_BASE_URL.rstrip('/')}/fhir/Questionnaire/{name}"


def answers_of(value: Any) -> list[dict]:
    """A stored answer as FHIR answers: one per list entry; nested values as JSON text."""
    if value is None or value == "" or value == []:
        return []
    if isinstance(value, list):
        return [answer for entry in value for answer in answers_of(entry)]
    if isinstance(value, bool):
        return [{"valueBoolean": value}]
    if isinstance(value, int):
        return [{"valueInteger": value}]
    if isinstance(value, float | Decimal):
        return [{"valueDecimal": Decimal(str(value))}]
    if isinstance(value, str):
        return [{"valueString": value}]
    return [{"valueString": json.dumps(value, sort_keys=True, default=str)}]


def response_items(answers: dict) -> list[dict]:
    items = []
    for key, value in answers.items():
        found = answers_of(value)
        if found:
            items.append({"linkId": str(key), "text": str(key).replace("_", " "), "answer": found})
    return items


def intake_response(intake: IntakeSubmission) -> dict:
    status = "completed" if intake.status != IntakeStatus.DRAFT else "in-progress"
    return without_empty(
        {
            "resourceType": "QuestionnaireResponse",
            "id": str(intake.id),
            "meta": profile("us-core-questionnaireresponse"),
            "questionnaire": questionnaire_url("intake"),
            "status": status,
            "subject": reference("Patient", intake.patient_id),
            "authored": instant(intake.submitted_at or intake.created_at),
            "author": reference("Patient", intake.patient_id)
            if not intake.entered_by_staff
            else None,
            "item": response_items(intake.answers if isinstance(intake.answers, dict) else {}),
        }
    )


def assessment_response(assessment: Assessment) -> dict:
    items = response_items(assessment.items if isinstance(assessment.items, dict) else {})
    items.append(
        {"linkId": "total", "text": "total", "answer": [{"valueDecimal": assessment.total}]}
    )
    return {
        "resourceType": "QuestionnaireResponse",
        "id": str(assessment.id),
        "meta": profile("us-core-questionnaireresponse"),
        "questionnaire": questionnaire_url(assessment.instrument),
        "status": "completed",
        "subject": reference("Patient", assessment.patient_id),
        "authored": instant(assessment.taken_at),
        "item": items,
    }
