"""Staff pages for patients: search, create and edit, the chart, intake review, duplicates.

Views parse input, call services (writes) and selectors (reads), and turn domain errors into
pages: ValidationFailed -> 400 with field errors, Conflict -> 409 or a message, Forbidden ->
403. The few reads that selectors.py does not offer are the private helpers marked below.
"""

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.contrib import messages
from django.core.exceptions import FieldDoesNotExist, PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.views.decorators.http import require_http_methods, require_POST

from clinic.core.errors import Conflict, Forbidden, ValidationFailed
from clinic.core.forms import error_messages
from clinic.core.phones import format_phone
from clinic.users.access import staff_required
from clinic.users.actor import Actor
from clinic.users.roles import CLINICAL_ROLES

from . import selectors, services, urgent, vocabulary
from .forms import DecisionForm, MergeForm, PatientForm, add_service_errors
from .instruments import (
    NDI_BANDS,
    NRS_BANDS,
    ODI_BANDS,
    ORT_BANDS,
    PGIC_ANSWERS,
    PHQ2_BANDS,
    PHQ9_BANDS,
    Instrument,
)
from .models import (
    BLEEDING_RISK_CLASSES,
    BodyRegion,
    Decision,
    DuplicateCandidate,
    DuplicateStatus,
    IntakeItem,
    IntakeItemKind,
    Patient,
)
from .questionnaire import RED_FLAGS, blood_thinner_to_check

PAGE_SIZE = 25

URGENT_REASON_LABELS = {
    "phq9_item9_positive": (
        "PHQ-9 item 9 above 0 (thoughts of self-harm): needs same-day clinician attention"
    ),
}
ONSET_LABELS = {
    "sudden": "Sudden",
    "gradual": "Gradual",
    "after_injury": "After an injury",
    "after_surgery": "After surgery",
    "unknown": "Not known",
}
BAND_LABELS: dict[tuple[str, str], str] = {
    (instrument.value, code): label
    for instrument, bands in (
        (Instrument.NRS, NRS_BANDS),
        (Instrument.ODI, ODI_BANDS),
        (Instrument.NDI, NDI_BANDS),
        (Instrument.PHQ2, PHQ2_BANDS),
        (Instrument.PHQ9, PHQ9_BANDS),
        (Instrument.ORT, ORT_BANDS),
    )
    for code, label, _ in bands
} | {(Instrument.PGIC.value, code): label for code, label in PGIC_ANSWERS.values()}


# --- Display helpers --------------------------------------------------------------------


def _phone(value: str) -> str:
    try:
        return format_phone(value)
    except Exception:  # a stored value that is not E.164: show it as it is
        return value


def urgent_reason_label(code: str) -> str:
    if code.startswith("red_flag:"):
        key = code.removeprefix("red_flag:")
        return f"Red flag: {RED_FLAGS.get(key, key.replace('_', ' '))}"
    return URGENT_REASON_LABELS.get(code, code.replace("_", " "))


def band_label(instrument: str, band: str) -> str:
    return BAND_LABELS.get((instrument, band), band.replace("_", " "))


def _label(model_field) -> str:
    text = str(model_field.verbose_name)
    return text[:1].upper() + text[1:]


def _value(model_field, value) -> str:
    """A stored (JSON) value as people read it: choice labels, Yes/No, formatted phones."""
    if value is None or value == "":
        return "(empty)"
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if model_field is not None and model_field.choices:
        return str(dict(model_field.flatchoices).get(value, value))
    if model_field is not None and model_field.name in services.PHONE_FIELDS:
        return _phone(str(value))
    return str(value)


def _json_of(value):
    """The chart value in the form intake items store it (dates as ISO text, ids as text)."""
    if isinstance(value, date):
        return value.isoformat()
    if value is not None and not isinstance(value, str | bool | int | float):
        return str(value)
    return value


def _model_field(model, name: str):
    try:
        return model._meta.get_field(name)
    except FieldDoesNotExist:
        return None


# --- Search -----------------------------------------------------------------------------


@staff_required
@require_http_methods(["GET", "POST"])
def patient_list(request):
    """Find a patient by name, MRN, date of birth or phone. The terms (and the page of their
    results) come by POST so they never reach a URL or an access log; GET lists everyone."""
    data = request.POST if request.method == "POST" else {}
    query = data.get("q", "").strip()[:100]
    page = Paginator(selectors.patient_search(query=query), PAGE_SIZE).get_page(
        data.get("page") or request.GET.get("page")
    )
    page.object_list = list(page.object_list)
    context = {
        "page": page,
        "rows": [{"patient": p, "phone": _phone(p.phone)} for p in page.object_list],
        "query": query,
        "duplicates_open": selectors.duplicates_open().count(),
    }
    return render(request, "patients/patient_list.html", context)


# --- Create and edit --------------------------------------------------------------------


@staff_required
@require_http_methods(["GET", "POST"])
def patient_create(request):
    form = PatientForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            patient = services.patient_create(by=Actor.desk(request.user), **form.cleaned_data)
        except ValidationFailed as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"Patient {patient.full_name} created, MRN {patient.mrn}.")
            found = selectors.duplicates_open_for(patient)
            if found:
                messages.warning(
                    request,
                    format_html(
                        "This record may be the same person as {} other record{}. "
                        '<a href="{}">Review possible duplicates</a>.',
                        found,
                        "" if found == 1 else "s",
                        reverse("patients:duplicates"),
                    ),
                )
            return redirect("patients:chart", patient_id=patient.pk)
    status = 400 if form.is_bound else 200
    return render(
        request, "patients/patient_form.html", {"form": form, "patient": None}, status=status
    )


@staff_required
@require_http_methods(["GET", "POST"])
def patient_edit(request, patient_id):
    patient = selectors.patient_for(request.user, patient_id)
    form = PatientForm(request.POST if request.method == "POST" else None, patient=patient)
    if request.method == "POST" and form.is_valid():
        changes = form.changes()
        if not changes:
            messages.info(request, "Nothing was changed.")
            return redirect("patients:chart", patient_id=patient.pk)
        try:
            services.patient_update(patient=patient, **changes)
        except ValidationFailed as exc:
            add_service_errors(form, exc)
            patient = selectors.patient_for(request.user, patient_id)  # as saved, not as tried
        else:
            messages.success(request, "Saved.")
            return redirect("patients:chart", patient_id=patient.pk)
    status = 400 if form.is_bound else 200
    return render(
        request, "patients/patient_form.html", {"form": form, "patient": patient}, status=status
    )


# --- Chart ------------------------------------------------------------------------------


@staff_required
def patient_chart(request, patient_id):
    """Who the patient is; for clinicians and managers also what matters before a procedure."""
    patient = selectors.patient_for(request.user, patient_id)
    clinical = selectors.may_see_clinical(request.user, patient)
    context = {
        "patient": patient,
        "age": patient.age_on(timezone.localdate()),
        "phones": {
            "phone": _phone(patient.phone),
            "emergency": _phone(patient.emergency_contact_phone),
            "referring": _phone(patient.referring_physician_phone),
        },
        "clinical": clinical,
        "urgent": urgent.banner(user=request.user, patient=patient),
    }
    if clinical:
        summary = selectors.chart_summary(patient=patient)
        context |= {
            "summary": summary,
            "scores": [
                {"assessment": a, "band": band_label(a.instrument, a.band)}
                for a in summary["latest_scores"]
            ],
            "intakes": selectors.intakes_of(patient),
        }
    return render(request, "patients/patient_chart.html", context)


# --- Intake review ----------------------------------------------------------------------


@staff_required
def intake_queue(request):
    """Intakes waiting for review: urgent first, then the oldest."""
    clinical = request.user.has_role(*CLINICAL_ROLES)
    rows = [
        {
            "intake": intake,
            # Why it is urgent is clinical; the front desk sees that it is, not why.
            "reasons": [urgent_reason_label(r) for r in intake.urgent_reasons] if clinical else [],
            "blood_thinner": blood_thinner_said(intake.answers or {})
            if clinical and blood_thinner_to_check(intake.answers or {})
            else "",
        }
        # Each intake's time is shown in its patient's home location's zone.
        for intake in selectors.intake_queue(user=request.user).select_related(
            "patient__home_location"
        )
    ]
    return render(request, "patients/intake_queue.html", {"rows": rows, "clinical": clinical})


@dataclass
class ItemView:
    """One intake item as the review page shows it."""

    item: IntakeItem
    title: str
    rows: list[tuple[str, str]] = field(default_factory=list)
    # Demographic items
    before: str = ""
    proposed: str = ""
    now: str = ""
    chart_changed: bool = False
    # List items
    badges: list[str] = field(default_factory=list)
    # After a failed decision: its errors, the note typed, the chart_changed conflict
    errors: list[str] = field(default_factory=list)
    note: str = ""
    conflict: dict | None = None

    @property
    def pending(self) -> bool:
        return self.item.decision == Decision.PENDING


def _medication_badges(proposed: dict) -> list[str]:
    """What the drug vocabulary makes of a proposed medication, as accepting it will."""
    found = vocabulary.resolve(str(proposed.get("name", "")))
    classes = set(found.drug_classes) if found.recognised else {proposed.get("drug_class")}
    badges = []
    if found.recognised:
        badges.append(f"recognised: {' + '.join(found.generics)}")
    else:
        badges.append("unrecognised — clinician to classify")
    if classes & BLEEDING_RISK_CLASSES:
        badges.append("affects bleeding — check holds")
    return badges


def _item_view(item: IntakeItem, patient: Patient) -> ItemView:
    kind_label = IntakeItemKind(item.kind).label if item.kind in IntakeItemKind.values else ""
    if item.kind == IntakeItemKind.DEMOGRAPHIC:
        model_field = _model_field(Patient, item.field)
        if model_field is None:
            return ItemView(item, item.field, proposed=str(item.proposed))
        now = _json_of(getattr(patient, model_field.attname))
        return ItemView(
            item,
            _label(model_field),
            before=_value(model_field, item.chart_value_at_submission),
            proposed=_value(model_field, item.proposed),
            now=_value(model_field, now),
            chart_changed=now != item.chart_value_at_submission,
        )
    proposed: dict[str, Any] = item.proposed if isinstance(item.proposed, dict) else {}
    if item.kind == IntakeItemKind.ASSESSMENT:
        instrument = proposed.get("instrument", "")
        rows: list[tuple[str, str]] = []
        if proposed.get("body_region"):
            region = proposed["body_region"]
            rows.append(("Body region", dict(BodyRegion.choices).get(region, region)))
        items = proposed.get("items")
        answers = items if isinstance(items, dict) else {}
        rows += [(f"Item {key}", _value(None, value)) for key, value in answers.items()]
        title = dict(Instrument.choices).get(instrument, instrument or "Assessment")
        return ItemView(item, f"{kind_label}: {title}", rows=rows)
    model = services.CLINICAL_LIST_MODELS.get(item.kind)
    rows = []
    for key, value in proposed.items():
        model_field = _model_field(model, key) if model else None
        rows.append((_label(model_field) if model_field else key, _value(model_field, value)))
    badges = []
    if item.kind == IntakeItemKind.MEDICATION:
        badges += _medication_badges(proposed)
    if item.kind == IntakeItemKind.ALLERGY and proposed.get("procedure_class"):
        badges.append("procedure-relevant")
    return ItemView(item, kind_label, rows=rows, badges=badges)


BLOOD_THINNER_SAID = {"no": "No", "not_sure": "Not sure: ask the patient", "": "Not asked"}


def blood_thinner_said(answers: dict) -> str:
    """The answer to "Do you take a blood thinner?" as the reviewer reads it."""
    answer = answers.get("blood_thinner") or ""
    if answer == "yes":
        return f"Yes: {answers.get('blood_thinner_name') or 'the patient does not know the name'}"
    return BLOOD_THINNER_SAID.get(answer, answer)


def _answers_view(answers: dict) -> dict:
    regions = dict(BodyRegion.choices)
    onset = answers.get("onset") or ""
    return {
        "chief_complaint": answers.get("chief_complaint", ""),
        "pain_locations": [regions.get(r, r) for r in answers.get("pain_locations", [])],
        "onset": ONSET_LABELS.get(onset, onset),
        "pain_duration": answers.get("pain_duration", ""),
        "treatments_tried": answers.get("treatments_tried", []),
        "red_flags_positive": [
            RED_FLAGS.get(key, key) for key, yes in answers.get("red_flags", {}).items() if yes
        ],
        "blood_thinner": blood_thinner_said(answers),
        "blood_thinner_to_check": blood_thinner_to_check(answers),
    }


def _intake_page(request, intake, *, status=200, conflict=None, item_errors=None, notes=None):
    clinical = selectors.may_see_clinical(request.user, intake.patient)
    items = [_item_view(item, intake.patient) for item in intake.items.all()]
    for view in items:
        view.errors = (item_errors or {}).get(view.item.pk, [])
        view.note = (notes or {}).get(view.item.pk, "")
        if conflict and conflict["item_id"] == view.item.pk:
            view.conflict = conflict
    context = {
        "intake": intake,
        "patient": intake.patient,
        "clinical": clinical,
        "answers": _answers_view(intake.answers or {}) if clinical else None,
        "reasons": [urgent_reason_label(r) for r in intake.urgent_reasons] if clinical else [],
        "items": items,
        "pending_count": sum(1 for view in items if view.pending),
        "conflict": conflict,
    }
    return render(request, "patients/intake_review.html", context, status=status)


@staff_required
def intake_review(request, intake_id):
    intake = selectors.intake_for(request.user, intake_id)
    return _intake_page(request, intake)


@staff_required
@require_POST
def intake_reviewed(request, intake_id):
    intake = selectors.intake_for(request.user, intake_id)
    try:
        services.intake_mark_reviewed(submission=intake, by=Actor.desk(request.user))
    except Forbidden as exc:
        raise PermissionDenied(exc.detail) from None
    except Conflict as exc:
        messages.info(request, exc.detail)
        return redirect("patients:intake", intake_id=intake.pk)
    messages.success(request, "Intake marked reviewed.")
    return redirect("patients:intake-queue")


@staff_required
@require_POST
def intake_item_decide(request, intake_id, item_id):
    intake = selectors.intake_for(request.user, intake_id)
    item = selectors.intake_item_for(intake, item_id)
    form = DecisionForm(request.POST)
    if not form.is_valid():
        errors = error_messages(form)
        return _intake_page(request, intake, status=400, item_errors={item.pk: errors})
    accept = form.cleaned_data["decision"] == "accept"
    note = form.cleaned_data["note"]
    try:
        decided = services.intake_item_decide(
            item=item,
            by=Actor.desk(request.user),
            accept=accept,
            note=note,
            overwrite=form.cleaned_data["overwrite"],
        )
    except Forbidden as exc:
        raise PermissionDenied(exc.detail) from None
    except Conflict as exc:
        if exc.code != "chart_changed":
            messages.info(request, exc.detail)
            return redirect("patients:intake", intake_id=intake.pk)
        model_field = _model_field(Patient, exc.extra.get("field", item.field))
        conflict = {
            "item_id": item.pk,
            "field": _label(model_field) if model_field else item.field,
            "current": _value(model_field, exc.extra.get("current")),
            "proposed": _value(model_field, exc.extra.get("proposed")),
            "detail": exc.detail,
        }
        return _intake_page(request, intake, status=409, conflict=conflict, notes={item.pk: note})
    except ValidationFailed as exc:
        errors = [f"{exc.detail}"] + [
            f"{name}: {message}"
            for name, value in exc.fields.items()
            for message in (value if isinstance(value, list) else [value])
        ]
        return _intake_page(
            request, intake, status=400, item_errors={item.pk: errors}, notes={item.pk: note}
        )
    except ValidationError as exc:  # a stored proposal the model no longer accepts
        return _intake_page(
            request, intake, status=400, item_errors={item.pk: exc.messages}, notes={item.pk: note}
        )
    verb = "Accepted" if decided.decision == Decision.ACCEPTED else "Rejected"
    messages.success(request, f"{verb}: {_item_view(decided, intake.patient).title}.")
    return redirect("patients:intake", intake_id=intake.pk)


# --- Duplicates -------------------------------------------------------------------------


def _duplicates_page(request, *, status=200, bound: MergeForm | None = None, errors=None):
    pairs = []
    for candidate in selectors.duplicates_open():
        form = bound if bound is not None and bound.candidate.pk == candidate.pk else None
        pairs.append(
            {
                "candidate": candidate,
                "records": [
                    {"patient": p, "phone": _phone(p.phone)}
                    for p in (candidate.patient, candidate.match)
                ],
                "form": form or MergeForm(candidate=candidate),
                "errors": (errors or {}).get(candidate.pk, []),
            }
        )
    return render(request, "patients/duplicates.html", {"pairs": pairs}, status=status)


@staff_required
def duplicates(request):
    """Pairs of records that may be the same person, to merge or to dismiss."""
    return _duplicates_page(request)


def _still_open(request, candidate: DuplicateCandidate):
    if candidate.status == DuplicateStatus.OPEN:
        return None
    status = candidate.get_status_display().lower()
    messages.info(request, f"This pair was already resolved ({status}).")
    return redirect("patients:duplicates")


@staff_required
@require_POST
def duplicate_merge(request, candidate_id):
    candidate = selectors.duplicate_for(candidate_id)
    if (stale := _still_open(request, candidate)) is not None:
        return stale
    form = MergeForm(request.POST, candidate=candidate)
    if not form.is_valid():
        return _duplicates_page(request, status=400, bound=form)
    survivor, merged = form.survivor_and_merged()
    try:
        services.duplicate_merge(
            candidate=candidate, survivor_id=survivor.pk, by=Actor.desk(request.user)
        )
    except Conflict as exc:
        return _duplicates_page(
            request, status=409, bound=form, errors={candidate.pk: [exc.detail]}
        )
    except ValidationFailed as exc:
        add_service_errors(form, exc)
        return _duplicates_page(request, status=400, bound=form)
    messages.success(
        request,
        f"Merged MRN {merged.mrn} into MRN {survivor.mrn}; MRN {merged.mrn} is now inactive.",
    )
    return redirect("patients:duplicates")


@staff_required
@require_POST
def duplicate_dismiss(request, candidate_id):
    candidate = selectors.duplicate_for(candidate_id)
    try:
        services.duplicate_dismiss(candidate=candidate, by=Actor.desk(request.user))
    except Conflict as exc:
        messages.info(request, exc.detail)
        return redirect("patients:duplicates")
    first, second = candidate.patient.mrn, candidate.match.mrn
    messages.success(request, f"MRN {first} and MRN {second} are marked as different people.")
    return redirect("patients:duplicates")
