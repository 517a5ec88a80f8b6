import pytest

from clinic.users.actor import Actor
from patients import services
from patients.questionnaire import RED_FLAGS


def red_flags(**positive) -> dict:
    return {key: positive.get(key, False) for key in RED_FLAGS}


def intake_answers(**overrides) -> dict:
    answers = {
        "chief_complaint": "Low back pain down the left leg for six months",
        "pain_locations": ["low_back", "leg"],
        "onset": "gradual",
        "treatments_tried": ["physical therapy", "ibuprofen"],
        "red_flags": red_flags(),
    }
    return answers | overrides


@pytest.fixture
def fill_chart(clinician_user):
    """Give a patient one row in every chart list and one NRS score."""

    def fill(patient):
        add = services.clinical_entry_add
        add(
            patient=patient,
            chart_list="allergy",
            by=Actor.desk(clinician_user),
            substance="Iohexol",
            procedure_class="iodinated_contrast",
            severity="moderate",
        )
        add(
            patient=patient,
            chart_list="medication",
            by=Actor.desk(clinician_user),
            name="Apixaban",
            drug_class="doac",
            dose="5 mg",
            frequency="twice daily",
        )
        add(patient=patient, chart_list="condition", by=Actor.desk(clinician_user), kind="diabetes")
        add(
            patient=patient,
            chart_list="device",
            by=Actor.desk(clinician_user),
            kind="pacemaker",
            manufacturer="Acme",
        )
        services.assessment_record(
            patient=patient,
            instrument="nrs",
            items={"score": 7},
            body_region="low_back",
            by=Actor.desk(clinician_user),
        )
        return patient

    return fill
