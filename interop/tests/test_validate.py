"""What /fhir/ sends is checked against the R4 (4.0.1) models as well as R4B: the strict R4
check refuses an element R4 lacks, a wrong type and a missing required element."""

import pytest
from fhirclient.models.fhirabstractbase import FHIRValidationError

from interop.validate import r4_checked, validated

PATIENT = {"resourceType": "Patient", "id": "p1", "birthDate": "1960-04-02", "gender": "female"}


def test_a_valid_resource_passes_both_models_unchanged():
    assert validated(PATIENT) == PATIENT
    assert r4_checked(PATIENT) is PATIENT


@pytest.mark.parametrize(
    ("resource", "named"),
    [
        pytest.param(PATIENT | {"nickname": "Jo"}, "nickname", id="element-not-in-r4"),
        pytest.param(PATIENT | {"active": "yes"}, "active", id="wrong-type"),
        pytest.param(
            {"resourceType": "Slot", "id": "s1", "start": "2026-12-07T09:00:00-07:00"},
            "schedule",
            id="required-element-missing",
        ),
    ],
)
def test_the_r4_check_refuses_what_r4_does_not_allow(resource, named):
    with pytest.raises(FHIRValidationError, match=named):
        r4_checked(resource)
