from typing import TYPE_CHECKING, TypedDict

from django.db.models import Exists, OuterRef
from django.shortcuts import render

from clinic.users.access import role_required
from clinic.users.roles import Role
from patients.models import IntakeStatus, IntakeSubmission, Patient

from .booking import upcoming_for_patient

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations


class IntakeFlags(TypedDict):
    """Where the patient's intake stands, as _own_patient_with_intake annotates it."""

    intake_draft: bool
    intake_waiting: bool
    intake_reviewed: bool


def _own_patient_with_intake(user) -> "WithAnnotations[Patient, IntakeFlags] | None":
    """The signed-in patient's record, annotated with where their intake stands (in the
    same single query that loads the record)."""
    intakes = IntakeSubmission.objects.filter(patient=OuterRef("pk"))
    return (
        Patient.objects.filter(user=user)
        .annotate(
            intake_draft=Exists(intakes.filter(status=IntakeStatus.DRAFT)),
            intake_waiting=Exists(intakes.filter(status=IntakeStatus.SUBMITTED)),
            intake_reviewed=Exists(intakes.filter(status=IntakeStatus.REVIEWED)),
        )
        .first()
    )


def _intake_status(patient: "WithAnnotations[Patient, IntakeFlags] | None") -> str:
    """Where the intake stands: draft, submitted (waiting for review), reviewed or none."""
    if patient is None:
        return "none"
    if patient.intake_draft:
        return "draft"
    if patient.intake_waiting:
        return "submitted"
    return "reviewed" if patient.intake_reviewed else "none"


@role_required(Role.PATIENT)
def portal_home(request):
    """The patient's home. Only ever shows the signed-in patient's own record."""
    patient = _own_patient_with_intake(request.user)
    context = {
        "patient": patient,
        "upcoming": upcoming_for_patient(patient) if patient else [],
        "intake_status": _intake_status(patient),
    }
    return render(request, "portal/home.html", context)
