"""The FHIR resources take their codes from the structured data: Procedure the catalog's
primary CPT code (ProcedureCode rows), Condition its ICD-10-CM code, Observation the
instruments' LOINC file."""

import pytest

from interop.codes import CPT, ICD10CM, LOINC
from interop.tests.test_record import search
from patients.instrument_codes import instrument_codes
from patients.models import Condition, ConditionKind
from procedures.models import ProcedureCode

pytestmark = pytest.mark.django_db


def codings(resource: dict, system: str) -> list[dict]:
    return [coding for coding in resource["code"]["coding"] if coding["system"] == system]


def test_the_procedure_code_is_the_catalog_primary_not_an_add_on(fhir_as, clinician_user, record):
    kind = record.procedure.procedure_type
    kind.procedure_codes.all().delete()
    ProcedureCode.objects.create(procedure_type=kind, position=0, code="64484", add_on=True)
    ProcedureCode.objects.create(procedure_type=kind, position=1, code="64999")

    (procedure,) = search(fhir_as(clinician_user), "Procedure", patient=str(record.patient.id))

    assert [coding["code"] for coding in codings(procedure, CPT)] == ["64999"]


def test_a_procedure_without_codes_sends_only_the_clinic_code(fhir_as, clinician_user, record):
    record.procedure.procedure_type.procedure_codes.all().delete()
    (procedure,) = search(fhir_as(clinician_user), "Procedure", patient=str(record.patient.id))
    assert codings(procedure, CPT) == []
    assert procedure["code"]["coding"][0]["code"] == record.procedure.procedure_type.code


def test_a_condition_sends_its_icd10_code_with_the_list_description(
    fhir_as, clinician_user, record
):
    listed = Condition.objects.create(
        patient=record.patient,
        kind=ConditionKind.OTHER,
        description="Sciatica",
        icd10_code="M54.16",
    )
    unlisted = Condition.objects.create(
        patient=record.patient, kind=ConditionKind.OTHER, description="Asthma", icd10_code="J45.909"
    )
    conditions = search(fhir_as(clinician_user), "Condition", patient=str(record.patient.id))
    mine = {str(listed.id), str(unlisted.id)}
    coded = {
        coding["code"]: coding
        for resource in conditions
        if resource["id"] in mine
        for coding in codings(resource, ICD10CM)
    }
    assert coded["M54.16"]["display"] == "Radiculopathy, lumbar region"
    assert "display" not in coded["J45.909"], "no description of our own for an unlisted code"


def test_observation_codes_come_from_the_instruments_file(fhir_as, clinician_user, record):
    observations = search(fhir_as(clinician_user), "Observation", patient=str(record.patient.id))
    sent = {coding["code"] for obs in observations for coding in codings(obs, LOINC)}
    shipped = {row.code for row in instrument_codes().values() if row.code}
    assert sent and sent <= shipped
