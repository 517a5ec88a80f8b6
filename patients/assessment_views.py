"""The staff page to record an assessment (PHQ-9, NRS, ODI, ...) from the chart.

The same rule as the API (AssessmentListApi): clinicians and managers may record one, the
front desk may not. The page picks an instrument, renders its items from
assessment_forms.DEFINITIONS and calls `services.assessment_record`; the service's field
errors come back as a 400 page with the answers kept. Every request is a look at the chart
and is audited (via "assess")."""

from decimal import Decimal

from django.contrib import messages
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from clinic.core.errors import ValidationFailed
from clinic.users.access import role_required
from clinic.users.actor import Actor
from clinic.users.roles import CLINICAL_ROLES

from . import selectors, services, urgent
from .assessment_forms import DEFINITIONS, Definition, parse_answers
from .instruments import Instrument
from .models import Assessment, BodyRegion
from .views import band_label


@require_http_methods(["GET", "POST"])
@role_required(*CLINICAL_ROLES)
def assessment_record(request, patient_id):
    patient = selectors.clinical_patient_for(request.user, patient_id)
    data = request.POST if request.method == "POST" else request.GET
    chosen = str(data.get("instrument", ""))
    definition = DEFINITIONS.get(chosen)
    context = {"patient": patient, "instruments": Instrument.choices, "chosen": chosen}
    if definition is None:
        status = 400 if chosen or request.method == "POST" else 200
        if status == 400:
            context["errors"] = {"instrument": ["Choose one of the instruments listed."]}
        return render(request, "patients/assessment_form.html", context, status=status)
    items, raw = parse_answers(definition, request.POST)
    region = str(request.POST.get("body_region", "")) if definition.region else ""
    context |= {"definition": definition, "raw": raw, "region": region}
    if request.method == "GET":
        return _form(request, context, {}, status=200)
    try:
        assessment = services.assessment_record(
            patient=patient,
            instrument=definition.instrument,
            items=items,
            body_region=region,
            by=Actor.desk(request.user),
        )
    except ValidationFailed as exc:
        return _form(request, context, exc.fields, status=400)
    _report(request, assessment)
    return redirect("patients:chart", patient_id=patient.pk)


def _form(request, context: dict, fields: dict, *, status: int):
    definition: Definition = context["definition"]
    item_errors, general = _split(fields)
    rows = [
        {
            "item": item,
            "value": context["raw"].get(item.key, ""),
            "errors": item_errors.get(item.key, []),
        }
        for item in definition.items
    ]
    context |= {
        "rows": rows,
        "general_errors": general,
        "region_errors": [str(m) for m in fields.get("body_region", [])],
        "regions": BodyRegion.choices,
        "has_errors": bool(fields),
    }
    return render(request, "patients/assessment_form.html", context, status=status)


def _split(fields: dict) -> tuple[dict[str, list[str]], list[str]]:
    """The service's errors by item, and those about the whole set of answers."""
    items = fields.get("items", {})
    if not isinstance(items, dict):
        items = {"items": items}
    by_item = {key: [str(m) for m in messages] for key, messages in items.items()}
    general = by_item.pop("items", []) + by_item.pop("age", [])
    for key in ("instrument", "taken_at"):
        general += [str(m) for m in fields.get(key, [])]
    return by_item, general


def _total(assessment: Assessment) -> str:
    total = f"{Decimal(assessment.total).normalize():f}"
    return f"{total}%" if assessment.instrument == Instrument.ODI else total


def _report(request, assessment: Assessment) -> None:
    band = band_label(assessment.instrument, assessment.band)
    messages.success(
        request,
        f"{assessment.get_instrument_display()} recorded: {_total(assessment)}"
        + (f" ({band})." if band else "."),
    )
    signs = urgent.danger_signs(instrument=assessment.instrument, items=assessment.items)
    if signs:
        reasons = "; ".join(urgent.reason_label(code) for code, _ in signs)
        messages.warning(request, f"The patient is now flagged urgent for a clinician: {reasons}.")
