"""The chart's medication and lab forms: add a medication by any name, classify one the
drug vocabulary does not know, record a lab. Each posts, calls a service and goes back."""

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.http import require_POST

from clinic.core.errors import Forbidden, ValidationFailed
from clinic.users.access import role_required
from clinic.users.actor import Actor
from clinic.users.roles import CLINICAL_ROLES, Role

from . import selectors, services
from .forms import ClassifyForm, LabForm, MedicationForm
from .models import LAB_UNITS, Medication


def _errors(form_errors: dict) -> str:
    return " ".join(
        f"{field}: {' '.join(map(str, errors))}" for field, errors in form_errors.items()
    )


def _back(patient_id):
    return redirect("patients:chart", patient_id=patient_id)


@require_POST
@role_required(*CLINICAL_ROLES)
def medication_add(request, patient_id):
    patient = selectors.clinical_patient_for(request.user, patient_id)
    form = MedicationForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Medication not added: " + _errors(form.errors))
        return _back(patient.pk)
    fields = {k: v for k, v in form.cleaned_data.items() if v not in (None, "")}
    try:
        medication = services.clinical_entry_add(
            patient=patient, chart_list="medication", by=Actor.desk(request.user), **fields
        )
    except ValidationFailed as exc:
        messages.error(request, "Medication not added: " + _errors(exc.fields))
        return _back(patient.pk)
    assert isinstance(medication, Medication)  # chart_list="medication" makes one
    if medication.unrecognised:
        messages.warning(
            request,
            f"{medication.name} is not in the drug vocabulary: a clinician must classify it.",
        )
    else:
        messages.success(request, f"{medication.name} added ({', '.join(medication.generics)}).")
    return _back(patient.pk)


@require_POST
@role_required(Role.CLINICIAN)
def medication_classify(request, patient_id, medication_id):
    patient = selectors.clinical_patient_for(request.user, patient_id)
    medication = get_object_or_404(Medication, pk=medication_id, patient=patient)
    form = ClassifyForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Not classified: " + _errors(form.errors))
        return _back(patient.pk)
    try:
        services.medication_classify(
            medication=medication,
            by=Actor.desk(request.user),
            drug_class=form.cleaned_data["drug_class"],
            generics=form.generic_list(),
        )
    except (ValidationFailed, Forbidden) as exc:
        messages.error(request, f"Not classified: {exc}")
    else:
        messages.success(request, f"{medication.name} classified.")
    return _back(patient.pk)


@require_POST
@role_required(*CLINICAL_ROLES)
def lab_add(request, patient_id):
    patient = selectors.clinical_patient_for(request.user, patient_id)
    form = LabForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Lab not recorded: " + _errors(form.errors))
        return _back(patient.pk)
    try:
        lab = services.lab_record(patient=patient, by=Actor.desk(request.user), **form.cleaned_data)
    except ValidationFailed as exc:
        messages.error(request, "Lab not recorded: " + _errors(exc.fields))
    else:
        messages.success(
            request, f"{lab.get_kind_display()} {lab.value} {LAB_UNITS[lab.kind]} recorded."
        )
    return _back(patient.pk)
