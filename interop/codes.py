"""The code systems and codes the FHIR API sends: LOINC for the instruments (the instruments'
own file, patients/data/loinc.csv, each row with its source), and the clinic's own systems
for what has no standard code yet."""

from django.conf import settings

from patients.instrument_codes import instrument_codes

LOINC = "http://loinc.org"
CPT = "http://www.ama-assn.org/go/cpt"
ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
NPI = "http://hl7.org/fhir/sid/us-npi"
SNOMED = "http://snomed.info/sct"
UCUM = "http://unitsofmeasure.org"
IDENTIFIER_TYPE = "http://terminology.hl7.org/CodeSystem/v2-0203"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
CONDITION_CATEGORY = "http://terminology.hl7.org/CodeSystem/condition-category"
CONDITION_CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
CONDITION_VERIFICATION = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
ALLERGY_CLINICAL = "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical"
ALLERGY_VERIFICATION = "http://terminology.hl7.org/CodeSystem/allergyintolerance-verification"
US_CORE_CATEGORY = "http://hl7.org/fhir/us/core/CodeSystem/us-core-category"
LANGUAGE = "urn:ietf:bcp:47"
US_CORE = "http://hl7.org/fhir/us/core/StructureDefinition/"


def clinic_system(name: str) -> str:
    """A code or identifier system of this clinic's own (MRN, instrument, visit type)."""
    return f"{settings.CLINIC_BASE_URL.rstrip('/')}/fhir/sid/{name}"


def profile(name: str) -> dict:
    return {"profile": [f"{US_CORE}{name}"]}


def instrument_concept(instrument: str, item: str = "") -> dict:
    """The CodeableConcept of an instrument's total (item "") or of one of its items: the
    LOINC code when there is one, always the clinic's own code beside it."""
    known = instrument_codes().get((instrument, item))
    local_code = f"{instrument}.{item}" if item else instrument
    display = known.display if known else local_code
    coding = [{"system": clinic_system("instrument"), "code": local_code, "display": display}]
    if known and known.code:
        coding.insert(0, {"system": LOINC, "code": known.code, "display": display})
    return {"coding": coding, "text": display}
