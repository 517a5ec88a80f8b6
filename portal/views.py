from typing import TYPE_CHECKING, TypedDict

from django.db.models import Exists, OuterRef
from django.shortcuts import render

from clinic.users.access import role_required
from clinic.users.roles import Role
from patients.models import IntakeStatus, IntakeSubmission, Patient
from procedures.selectors import orders_visible_to

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations


class IntakeFlags(TypedDict):
    """Where the patient's intake stands, as _own_patient_with_intake annotates it."""

    intake_draft: bool
    intake_waiting: bool
    intake_reviewed: bool


def _upcoming_procedures(user) -> list:
    """The patient's own scheduled procedures (the selector scopes them), with only what the
    page shows loaded: the procedure name, the planned date and the preparation."""
    return list(
        orders_visible_to(user)
        .only("id", "planned_date", "procedure_type__name", "procedure_type__preparation")
        .order_by("planned_date", "ordered_at")
    )


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
        "upcoming_procedures": _upcoming_procedures(request.user) if patient else [],
        "intake_status": _intake_status(patient),
    }
    return render(request, "portal/home.html", context)
