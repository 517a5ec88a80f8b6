"""Every write to a patient's record. Views and APIs call these; nothing else writes."""

import uuid
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

import pghistory
import pghistory.models
from django.contrib.postgres.search import TrigramSimilarity
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import IntegrityError, connection, models, transaction
from django.db.models import Q
from django.db.models.functions import Concat
from django.utils import timezone
from django.utils.translation import gettext as _
from localflavor.us.us_states import STATES_NORMALIZED

from clinic.core.bounds import date_bound_errors
from clinic.core.db import concrete_field
from clinic.core.errors import Conflict, Forbidden, ValidationFailed
from clinic.core.phones import normalize_phone
from clinic.users.actor import Actor
from clinic.users.models import User

from . import urgent, vocabulary
from .instruments import Instrument, InstrumentError, score
from .models import (
    LAB_UNITS,
    Allergy,
    Assessment,
    BodyRegion,
    Classification,
    Condition,
    Decision,
    DrugClass,
    DuplicateCandidate,
    DuplicateStatus,
    EntrySource,
    ImplantedDevice,
    IntakeItem,
    IntakeItemKind,
    IntakeStatus,
    IntakeSubmission,
    LabKind,
    LabResult,
    Language,
    Medication,
    Patient,
    PatientMerge,
    PatientStatus,
)
from .payers import payer_match
from .questionnaire import RED_FLAGS, blood_thinner_to_check, clean_answers

MRN_SEQUENCE = "patients_mrn_seq"
PHONE_FIELDS = ("phone", "emergency_contact_phone", "referring_physician_phone")

# Fields staff may set on the record; the front desk may set all of them.
DEMOGRAPHIC_FIELDS = (
    "legal_first_name",
    "legal_last_name",
    "preferred_name",
    "date_of_birth",
    "sex",
    "phone",
    "email",
    "address_line1",
    "address_line2",
    "city",
    "state",
    "postal_code",
    "preferred_channel",
    "consent_sms",
    "consent_email",
    "language",
    "emergency_contact_name",
    "emergency_contact_relationship",
    "emergency_contact_phone",
    "insurance_payer",
    "payer",
    "insurance_member_id",
    "insurance_group",
    "referring_physician_name",
    "referring_physician_phone",
    "referring_physician_npi",
    "home_location",
    "status",
    "needs_verification",
)

# What a patient's intake may propose: not the clinic's own bookkeeping fields.
INTAKE_DEMOGRAPHIC_FIELDS = tuple(
    name
    for name in DEMOGRAPHIC_FIELDS
    if name not in ("home_location", "payer", "status", "needs_verification", "language")
)

# An entry of one of the chart's lists.
ChartEntry = Allergy | Medication | Condition | ImplantedDevice
CLINICAL_LIST_MODELS: dict[str, type[ChartEntry]] = {
    IntakeItemKind.ALLERGY: Allergy,
    IntakeItemKind.MEDICATION: Medication,
    IntakeItemKind.CONDITION: Condition,
    IntakeItemKind.DEVICE: ImplantedDevice,
}
NAME_SIMILARITY_THRESHOLD = 0.45


# --- Validation helpers -----------------------------------------------------------------


def full_clean_or_fail(instance: models.Model, *, exclude=None, errors=None) -> None:
    """Model validation as a ValidationFailed (400) carrying every field's messages."""
    errors = dict(errors or {})
    try:
        instance.full_clean(exclude=exclude, validate_unique=False)
    except ValidationError as exc:
        for field, messages in exc.message_dict.items():
            errors.setdefault(field, []).extend(messages)
    # A table constraint's message (under __all__) says again what a field error already
    # says; it is kept only when it is the one thing wrong.
    if len(errors) > 1:
        errors.pop(NON_FIELD_ERRORS, None)
    if errors:
        raise ValidationFailed(errors)


def _normalise_contact(fields: dict) -> dict:
    """Phones to E.164 and emails to lower case; returns the field errors found."""
    errors = {}
    for name in PHONE_FIELDS:
        if name in fields:
            try:
                fields[name] = normalize_phone(fields[name] or "")
            except ValidationError as exc:
                errors[name] = exc.messages
    if "email" in fields:
        fields["email"] = (fields["email"] or "").strip().lower()
    if isinstance(fields.get("state"), str):
        fields["state"] = us_state_code(fields["state"])
    if isinstance(fields.get("postal_code"), str):
        fields["postal_code"] = zip_code(fields["postal_code"])
    for name in ("legal_first_name", "legal_last_name", "preferred_name"):
        if isinstance(fields.get(name), str):
            fields[name] = fields[name].strip()
    return errors


def us_state_code(text: str) -> str:
    """A state or territory as its postal code: "Colorado", "colorado" or "co" is "CO".
    Anything else is kept as typed, for the field's validation to refuse whole (never cut
    to two letters)."""
    text = text.strip()
    return STATES_NORMALIZED.get(text.lower(), text)


def zip_code(text: str) -> str:
    """A ZIP code with its ZIP+4 dash: nine digits typed together are 80210-1234."""
    text = text.strip()
    return f"{text[:5]}-{text[5:]}" if len(text) == 9 and text.isdigit() else text


def _birth_date_errors(born) -> dict:
    if isinstance(born, date) and born > timezone.localdate():
        return {"date_of_birth": ["The date of birth cannot be in the future."]}
    return date_bound_errors({"date_of_birth": born})


def patient_field_errors(fields: dict[str, Any]) -> dict[str, list[str]]:
    """The rules patient_create and patient_update add to the model's own validation, for
    a form to show before it calls them (the fields themselves are left as they are)."""
    return _normalise_contact(dict(fields)) | _birth_date_errors(fields.get("date_of_birth"))


# --- Patients ---------------------------------------------------------------------------


def next_mrn() -> str:
    """Medical record numbers come from a PostgreSQL sequence: unique, never reused."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT nextval(%s)", [MRN_SEQUENCE])
        (value,) = cursor.fetchone()
    return f"{value:08d}"


@transaction.atomic
def patient_create(*, by: Actor, user: User | None = None, **fields: Any) -> Patient:
    """Create a patient record (`user`: the portal login it belongs to, if any) and list
    any likely duplicates of it for staff."""
    unknown = set(fields) - set(DEMOGRAPHIC_FIELDS)
    if unknown:
        raise ValidationFailed({name: ["Unknown field."] for name in sorted(unknown)})
    errors = _normalise_contact(fields) | _birth_date_errors(fields.get("date_of_birth"))
    if not fields.get("payer") and fields.get("insurance_payer"):
        fields["payer"] = payer_match(fields["insurance_payer"])  # the card's name, matched
    patient = Patient(mrn=next_mrn(), user=user, **fields)
    full_clean_or_fail(patient, errors=errors)
    patient.save()
    duplicates_detect(patient=patient)
    return patient


@transaction.atomic
def patient_update(*, patient: Patient, **changes) -> Patient:
    unknown = set(changes) - set(DEMOGRAPHIC_FIELDS)
    if unknown:
        raise ValidationFailed({name: ["This field cannot be changed here."] for name in unknown})
    errors = _normalise_contact(changes) | _birth_date_errors(changes.get("date_of_birth"))
    for name, value in changes.items():
        setattr(patient, name, value)
    if "insurance_payer" in changes and "payer" not in changes and patient.payer_id is None:
        patient.payer = payer_match(patient.insurance_payer)  # the card's name, matched
    try:
        full_clean_or_fail(patient, errors=errors)
    except ValidationFailed:
        patient.refresh_from_db()  # the caller keeps a record as stored, not the bad values
        raise
    patient.save()
    return patient


@transaction.atomic
def patient_set_language(*, by: Actor, patient: Patient, language: str) -> Patient:
    """The language of the patient's pages and messages, as they chose it in the portal."""
    if language not in Language.values:
        raise ValidationFailed({"language": [_("Choose English or Spanish.")]})
    if patient.language != language:
        patient.language = language
        patient.save(update_fields=["language", "updated_at"])
    return patient


# --- Clinical lists ---------------------------------------------------------------------


# Medication fields the drug vocabulary (or a clinician's classification) sets, never input.
MEDICATION_COMPUTED = (
    "generics",
    "drug_classes",
    "classification",
    "classified_by",
    "classified_at",
)


def medication_resolve(entry: Medication) -> None:
    """The generic(s) and class(es) of the name as typed, from the drug vocabulary; a name
    it does not know keeps the class given (if any) and waits for a clinician."""
    found = vocabulary.resolve(entry.name)
    if found.recognised:
        entry.generics, entry.drug_classes = found.generics, found.drug_classes
        entry.drug_class = found.drug_classes[0]
        entry.classification = Classification.VOCABULARY
    else:
        entry.generics = []
        entry.drug_classes = [entry.drug_class] if entry.drug_class else []
        entry.classification = Classification.UNRECOGNISED
    entry.classified_by, entry.classified_at = None, None


@transaction.atomic
def medication_classify(
    *, medication: Medication, by: Actor, drug_class: str, generics: list[str] | None = None
) -> Medication:
    """A clinician says what an unrecognised medication is; the safety check then uses it."""
    if not by.is_clinician:
        raise Forbidden("A clinician classifies a medication.")
    if not drug_class or drug_class not in DrugClass.values:
        raise ValidationFailed({"drug_class": ["Choose the medication's class."]})
    medication = Medication.objects.select_for_update().get(pk=medication.pk)
    medication.drug_class = drug_class
    medication.drug_classes = [drug_class]
    medication.generics = [g.strip().lower() for g in generics or [] if g.strip()]
    medication.classification = Classification.CLINICIAN
    medication.classified_by = by.user
    medication.classified_at = timezone.now()
    full_clean_or_fail(medication)
    medication.save()
    return medication


def _build_entry(chart_list: str, *, patient: Patient, **fields: Any) -> ChartEntry:
    model = CLINICAL_LIST_MODELS[chart_list]
    allowed = {f.name for f in model._meta.concrete_fields} - {
        "id",
        "patient",
        "recorded_by",
        "recorded_at",
        "updated_at",
        "source",
        *MEDICATION_COMPUTED,
    }
    unknown = set(fields) - allowed
    if unknown:
        raise ValidationFailed({name: ["Unknown field."] for name in sorted(unknown)})
    return model(patient=patient, **fields)


def _refuse_dates_out_of_bounds(fields: dict[str, Any]) -> None:
    if errors := date_bound_errors(fields):
        raise ValidationFailed(errors)


@transaction.atomic
def clinical_entry_add(
    *,
    patient: Patient,
    chart_list: str,
    by: Actor,
    source: str = EntrySource.STAFF,
    **fields: Any,
) -> ChartEntry:
    """Add an entry to one of the chart's lists: chart_list is "allergy", "medication",
    "condition" or "device" (named so, since conditions and devices have a `kind` field)."""
    _refuse_dates_out_of_bounds(fields)
    entry = _build_entry(chart_list, patient=patient, **fields)
    entry.recorded_by = by.user
    entry.source = source
    if isinstance(entry, Medication):
        medication_resolve(entry)
    full_clean_or_fail(entry)
    entry.save()
    return entry


@transaction.atomic
def clinical_entry_update(*, entry, **changes):
    """Correct an entry or end it (set end_date); the entry itself is never deleted."""
    blocked = set(changes) & {"id", "patient", "recorded_by", "recorded_at", "source"}
    if isinstance(entry, Medication):
        blocked |= set(changes) & set(MEDICATION_COMPUTED)
    if blocked:
        raise ValidationFailed({name: ["This field cannot be changed."] for name in blocked})
    _refuse_dates_out_of_bounds(changes)
    renamed = isinstance(entry, Medication) and changes.get("name", entry.name) != entry.name
    for name, value in changes.items():
        setattr(entry, name, value)
    if isinstance(entry, Medication) and (renamed or entry.unrecognised):
        medication_resolve(entry)
    full_clean_or_fail(entry)
    entry.save()
    return entry


# --- Labs -------------------------------------------------------------------------------

# Plausible values, to catch a slipped decimal point; units as LAB_UNITS.
LAB_RANGES: dict[str, tuple[Decimal, Decimal]] = {
    LabKind.INR: (Decimal("0.5"), Decimal("20")),
    LabKind.PLATELETS: (Decimal("0"), Decimal("2000")),
    LabKind.CREATININE: (Decimal("0.1"), Decimal("30")),
    LabKind.EGFR: (Decimal("0"), Decimal("250")),
    LabKind.CRCL: (Decimal("0"), Decimal("250")),
}
# Units written differently for the same number (10^3/uL platelets = 10^9/L).
LAB_UNIT_ALIASES = {"10^3/ul": "10^9/L", "x10^9/l": "10^9/L", "k/ul": "10^9/L", "": ""}


def _patient_today(patient: Patient) -> date:
    location = patient.home_location
    return timezone.localdate(timezone=location.zone) if location else timezone.localdate()


@transaction.atomic
def lab_record(
    *,
    patient: Patient,
    by: Actor,
    kind: str,
    value: Decimal,
    taken_on: date,
    unit: str = "",
    notes: str = "",
) -> LabResult:
    """Record a lab value (INR, platelets, creatinine, eGFR, CrCl) in the lab's unit."""
    if kind not in LabKind.values:
        raise ValidationFailed({"kind": [f"Unknown lab {kind!r}."]})
    expected = LAB_UNITS[kind]
    given = LAB_UNIT_ALIASES.get(unit.strip().lower(), unit.strip())
    errors: dict[str, list[str]] = {}
    if given and given.lower() != expected.lower():
        errors["unit"] = [f"Record this lab in {expected}."]
    low, high = LAB_RANGES[kind]
    if not low <= Decimal(value) <= high:
        errors["value"] = [f"Enter a value between {low} and {high} {expected}."]
    if taken_on > _patient_today(patient):
        errors["taken_on"] = ["A lab cannot be taken in the future."]
    errors |= date_bound_errors({"taken_on": taken_on})
    if errors:
        raise ValidationFailed(errors)
    lab = LabResult(
        patient=patient,
        kind=kind,
        value=value,
        unit=expected,
        taken_on=taken_on,
        notes=notes,
        recorded_by=by.user,
    )
    full_clean_or_fail(lab)
    lab.save()
    return lab


# --- Assessments ------------------------------------------------------------------------


def assessment_score(*, patient: Patient, instrument: str, items, body_region: str = "", on=None):
    """Validate and score without saving; raises ValidationFailed with per-item errors."""
    errors: dict[str, Any] = {}
    if instrument not in Instrument.values:
        raise ValidationFailed({"instrument": [f"Unknown instrument {instrument!r}."]})
    if instrument == Instrument.NRS and not body_region:
        errors["body_region"] = ["An NRS score needs the body region it is about."]
    if body_region and body_region not in BodyRegion.values:
        errors["body_region"] = [f"Unknown body region {body_region!r}."]
    if not isinstance(items, dict):
        raise ValidationFailed(errors | {"items": ["Give the item scores as an object."]})
    try:
        result = score(
            instrument, items, sex=patient.sex, age=patient.age_on(on or timezone.localdate())
        )
    except InstrumentError as exc:
        errors["items"] = exc.fields
        result = None
    if errors:
        raise ValidationFailed(errors)
    return result


@transaction.atomic
def assessment_record(
    *,
    patient: Patient,
    instrument: str,
    items: dict,
    by: Actor,
    body_region: str = "",
    taken_at: datetime | None = None,
    source: str = EntrySource.STAFF,
) -> Assessment:
    taken_at = taken_at or timezone.now()
    body_region = body_region or ""
    if timezone.is_naive(taken_at):
        raise ValidationFailed({"taken_at": ["Give the time with its time zone."]})
    _refuse_dates_out_of_bounds({"taken_at": taken_at})
    if taken_at > timezone.now() + timedelta(minutes=5):
        raise ValidationFailed({"taken_at": ["An assessment cannot be taken in the future."]})
    result = assessment_score(
        patient=patient,
        instrument=instrument,
        items=items,
        body_region=body_region,
        on=timezone.localdate(taken_at),
    )
    assessment = Assessment.objects.create(
        patient=patient,
        instrument=instrument,
        body_region=body_region,
        items=items,
        total=result.total,
        band=result.band,
        flags=list(result.flags),
        taken_at=taken_at,
        source=source,
        recorded_by=by.user,
    )
    # Danger signs reach a clinician whichever path they came by; an intake's own were
    # flagged when it was submitted (intake_submit), so accepting its items adds none.
    if source != EntrySource.INTAKE:
        signs = urgent.danger_signs(instrument=instrument, items=items)
        urgent.urgent_raise(patient=patient, signs=signs, by=by, assessment=assessment)
    return assessment


# --- Intake -----------------------------------------------------------------------------


def _json_value(value):
    """A model value as it is stored in a JSON column (dates as ISO text, ids as text)."""
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, models.Model):
        return str(value.pk)
    if isinstance(value, uuid.UUID | Decimal):
        return str(value)
    return value


def _demographic_items(patient: Patient, proposed: dict) -> list[IntakeItem]:
    """One item per field whose proposed value differs from the chart (validated first)."""
    unknown = set(proposed) - set(INTAKE_DEMOGRAPHIC_FIELDS)
    errors = {name: ["An intake cannot change this field."] for name in unknown}
    candidate = Patient(
        **{f.attname: getattr(patient, f.attname) for f in Patient._meta.concrete_fields}
    )
    values = dict(proposed)
    errors |= _normalise_contact(values)
    for name in set(values) - unknown:
        field = concrete_field(Patient, name)
        try:
            setattr(candidate, field.attname, field.to_python(values[name]))
        except ValidationError as exc:
            errors[name] = exc.messages
    errors |= _birth_date_errors(candidate.date_of_birth)
    if errors:
        raise ValidationFailed({"demographics": errors})
    try:
        candidate.full_clean(
            exclude=["mrn", "user", "home_location", "merged_into"], validate_unique=False
        )
    except ValidationError as exc:
        bad = {k: v for k, v in exc.message_dict.items() if k in values}
        if bad:
            raise ValidationFailed({"demographics": bad}) from None
    items = []
    for name in sorted(set(values) - unknown):
        field = concrete_field(Patient, name)
        new, old = getattr(candidate, field.attname), getattr(patient, field.attname)
        if new != old:
            items.append(
                IntakeItem(
                    kind=IntakeItemKind.DEMOGRAPHIC,
                    field=name,
                    proposed=_json_value(new),
                    chart_value_at_submission=_json_value(old),
                )
            )
    return items


def _list_items(patient: Patient, kind: str, entries) -> list[IntakeItem]:
    errors: dict[str, Any] = {}
    items: list[IntakeItem] = []
    for index, entry in enumerate(entries or []):
        if not isinstance(entry, dict):
            errors[str(index)] = ["Each entry must be an object."]
            continue
        try:
            instance = _build_entry(kind, patient=patient, **entry)
            full_clean_or_fail(instance, exclude=["recorded_by"])
        except ValidationFailed as exc:
            errors[str(index)] = exc.fields
            continue
        except TypeError:
            errors[str(index)] = ["This entry has fields that are not allowed."]
            continue
        items.append(IntakeItem(kind=kind, proposed={k: _json_value(v) for k, v in entry.items()}))
    if errors:
        raise ValidationFailed({f"{kind}s" if kind != "allergy" else "allergies": errors})
    return items


def _assessment_items(patient: Patient, entries) -> tuple[list[IntakeItem], list[str]]:
    errors, items, flags = {}, [], []
    for index, entry in enumerate(entries or []):
        entry = entry if isinstance(entry, dict) else {}
        try:
            result = assessment_score(
                patient=patient,
                instrument=entry.get("instrument", ""),
                items=entry.get("items"),
                body_region=entry.get("body_region", ""),
            )
        except ValidationFailed as exc:
            errors[str(index)] = exc.fields
            continue
        flags += result.flags
        proposed = {
            "instrument": entry["instrument"],
            "items": entry["items"],
            "body_region": entry.get("body_region") or "",
        }
        items.append(IntakeItem(kind=IntakeItemKind.ASSESSMENT, proposed=proposed))
    if errors:
        raise ValidationFailed({"assessments": errors})
    return items, flags


BLOOD_THINNER_NOTE = "Named by the patient in answer to “Do you take a blood thinner?”"


def _blood_thinner_items(answers: dict, items: list[IntakeItem]) -> list[IntakeItem]:
    """The blood thinner the patient named, as a medication for the clinician to accept onto
    the chart (where the safety check reads it), unless it is among the medicines listed."""
    name = answers.get("blood_thinner_name", "")
    if answers.get("blood_thinner") != "yes" or not name:
        return []
    listed = [str(i.proposed.get("name", "")) for i in items if i.kind == IntakeItemKind.MEDICATION]
    if vocabulary.names_the_same_drug(name, listed):
        return []
    entry = {"name": name, "notes": BLOOD_THINNER_NOTE}
    return [IntakeItem(kind=IntakeItemKind.MEDICATION, proposed=entry)]


@transaction.atomic
def intake_submit(
    *,
    patient: Patient,
    by: Actor,
    answers: dict | None = None,
    demographics: dict | None = None,
    allergies: list | None = None,
    medications: list | None = None,
    conditions: list | None = None,
    devices: list | None = None,
    assessments: list | None = None,
    submitted_at: datetime | None = None,
) -> IntakeSubmission:
    """Store a questionnaire and the chart changes it proposes; the chart is not touched.

    It waits for review while it proposes changes or is urgent (a clinician must see it)."""
    errors: dict[str, Any] = {}
    collected: list[IntakeItem] = []
    cleaned_answers: dict[str, Any] = {}
    steps = [
        lambda: clean_answers(answers or {}),
        lambda: _demographic_items(patient, demographics or {}),
        lambda: _list_items(patient, IntakeItemKind.ALLERGY, allergies),
        lambda: _list_items(patient, IntakeItemKind.MEDICATION, medications),
        lambda: _list_items(patient, IntakeItemKind.CONDITION, conditions),
        lambda: _list_items(patient, IntakeItemKind.DEVICE, devices),
        lambda: _assessment_items(patient, assessments),
    ]
    results: list[Any] = []  # each step's own shape, unpacked below
    for step in steps:
        try:
            results.append(step())
        except ValidationFailed as exc:
            errors |= exc.fields
            results.append(None)
    if errors:
        raise ValidationFailed(errors)
    cleaned_answers, *item_lists, (assessment_items, _flags) = results
    for item_list in item_lists:
        collected += item_list
    collected += _blood_thinner_items(cleaned_answers, collected)
    collected += assessment_items
    # The one rule for danger signs (patients.urgent), as for any assessment.
    signs = urgent.intake_signs(cleaned_answers, [i.proposed for i in assessment_items])
    reasons = [code for code, _ in signs]
    submission = IntakeSubmission.objects.create(
        patient=patient,
        answers=cleaned_answers,
        urgent=bool(reasons),
        urgent_reasons=reasons,
        submitted_by=by.user,
        entered_by_staff=by.is_clinic_staff,
        submitted_at=submitted_at or timezone.now(),
        status=IntakeStatus.SUBMITTED
        if collected or reasons or blood_thinner_to_check(cleaned_answers)
        else IntakeStatus.REVIEWED,
    )
    for item in collected:
        item.submission = submission
    IntakeItem.objects.bulk_create(collected)
    urgent.urgent_raise(
        patient=patient, signs=signs, by=by, at=submission.submitted_at, intake=submission
    )
    return submission


def _apply_demographic(item: IntakeItem, overwrite: bool) -> None:
    patient = Patient.objects.select_for_update().get(pk=item.submission.patient_id)
    field = concrete_field(Patient, item.field)
    current = _json_value(getattr(patient, field.attname))
    if current != item.chart_value_at_submission and not overwrite:
        raise Conflict(
            "The chart changed after this intake was submitted; look at the current value "
            "and accept again with overwrite to replace it.",
            code="chart_changed",
            field=item.field,
            current=current,
            proposed=item.proposed,
        )
    item.replaced_value = current
    patient_update(patient=patient, **{item.field: field.to_python(item.proposed)})


def _apply(item: IntakeItem, by: Actor, overwrite: bool) -> None:
    patient = item.submission.patient
    if item.kind == IntakeItemKind.DEMOGRAPHIC:
        _apply_demographic(item, overwrite)
    elif item.kind == IntakeItemKind.ASSESSMENT:
        assessment = assessment_record(
            patient=patient,
            by=by,
            taken_at=item.submission.submitted_at,
            source=EntrySource.INTAKE,
            **item.proposed,
        )
        item.created_record_id = assessment.id
    else:
        entry = clinical_entry_add(
            patient=patient,
            chart_list=item.kind,
            by=by,
            source=EntrySource.INTAKE,
            **item.proposed,
        )
        item.created_record_id = entry.id


@transaction.atomic
def intake_item_decide(
    *, item: IntakeItem, by: Actor, accept: bool, note: str = "", overwrite: bool = False
) -> IntakeItem:
    """Accept (apply to the chart) or reject one proposed change; either is recorded."""
    item = (
        IntakeItem.objects.select_for_update().select_related("submission__patient").get(pk=item.pk)
    )
    if item.kind != IntakeItemKind.DEMOGRAPHIC and not by.is_clinician:
        raise Forbidden("Clinical items of an intake are reviewed by a clinician.")
    if item.decision != Decision.PENDING:
        raise Conflict(
            f"This item was already {item.decision}.",
            code="already_decided",
            decision=item.decision,
        )
    if accept:
        _apply(item, by, overwrite)
    item.decision = Decision.ACCEPTED if accept else Decision.REJECTED
    item.decided_by = by.user
    item.decided_at = timezone.now()
    item.decision_note = note[:300]
    item.save()
    _close_if_reviewed(item.submission, by)
    return item


@transaction.atomic
def intake_mark_reviewed(*, submission: IntakeSubmission, by: Actor) -> IntakeSubmission:
    """A clinician has read an intake whose items are all decided (or that had none)."""
    submission = IntakeSubmission.objects.select_for_update().get(pk=submission.pk)
    if not by.is_clinician:
        raise Forbidden("An intake is marked reviewed by a clinician.")
    if submission.status == IntakeStatus.REVIEWED:
        raise Conflict("This intake was already reviewed.", code="already_reviewed")
    if submission.status == IntakeStatus.DRAFT:
        raise Conflict("The patient has not sent this intake yet.", code="not_submitted")
    if submission.items.filter(decision=Decision.PENDING).exists():
        raise Conflict("Decide every proposed change first.", code="items_pending")
    submission.status = IntakeStatus.REVIEWED
    submission.reviewed_at = timezone.now()
    submission.save(update_fields=["status", "reviewed_at"])
    return submission


def _close_if_reviewed(submission: IntakeSubmission, by: Actor) -> None:
    # An urgent intake leaves the queue only through a clinician.
    if submission.urgent and not by.is_clinician:
        return
    if not submission.items.filter(decision=Decision.PENDING).exists():
        submission.status = IntakeStatus.REVIEWED
        submission.reviewed_at = timezone.now()
        submission.save(update_fields=["status", "reviewed_at"])


# --- Intake drafts (the portal's step-by-step intake) ------------------------------------

# The portal's steps in order; each but the last saves one section of the draft.
INTAKE_DRAFT_STEPS = (
    "about",
    "pain",
    "medications",
    "allergies",
    "conditions",
    "questionnaires",
    "safety",
    "review",
)
INTAKE_DRAFT_SECTIONS = INTAKE_DRAFT_STEPS[:-1]
# The questionnaire answers asked on the pain step; the safety step asks the red flags
# and about blood thinners.
PAIN_ANSWER_KEYS = (
    "chief_complaint",
    "pain_locations",
    "onset",
    "pain_duration",
    "treatments_tried",
)
SAFETY_ANSWER_KEYS = ("red_flags", "blood_thinner", "blood_thinner_name")
# Where each of intake_submit's error keys is answered.
_STEP_OF_ERROR = {
    "demographics": "about",
    "medications": "medications",
    "allergies": "allergies",
    "conditions": "conditions",
    "devices": "conditions",
    "assessments": "questionnaires",
}


def _answers_part(part, keys: tuple[str, ...]) -> dict:
    """Validate some of the questionnaire answers with clean_answers, the rest filled with
    valid placeholders; errors keep intake_submit's shape ({"answers": {...}})."""
    if not isinstance(part, dict):
        raise ValidationFailed({"answers": ["Give the answers as an object."]})
    placeholders = {"chief_complaint": "-", "red_flags": dict.fromkeys(RED_FLAGS, False)}
    unknown = {key: ["Unknown question."] for key in part if key not in keys}
    try:
        cleaned = clean_answers(placeholders | {k: v for k, v in part.items() if k in keys})
    except ValidationFailed as exc:
        unknown |= {k: v for k, v in exc.fields["answers"].items() if k in keys}
        cleaned = {}
    if unknown:
        raise ValidationFailed({"answers": unknown})
    return {key: cleaned[key] for key in keys}


def _clean_about(patient: Patient, data) -> dict:
    if not isinstance(data, dict):
        raise ValidationFailed({"demographics": ["Give the fields as an object."]})
    _demographic_items(patient, data)
    return {name: _json_value(value) for name, value in data.items()}


def _clean_list(kind: str):
    def clean(patient: Patient, rows) -> list:
        if not isinstance(rows, list):
            key = f"{kind}s" if kind != IntakeItemKind.ALLERGY else "allergies"
            raise ValidationFailed({key: ["Give a list of entries."]})
        return [item.proposed for item in _list_items(patient, kind, rows)]

    return clean


def _clean_conditions(patient: Patient, data) -> dict:
    if not isinstance(data, dict) or set(data) - {"conditions", "devices"}:
        raise ValidationFailed({"conditions": ["Give conditions and devices as two lists."]})
    errors: dict[str, Any] = {}
    cleaned: dict[str, list[dict[str, Any]]] = {}
    for key, kind in (("conditions", IntakeItemKind.CONDITION), ("devices", IntakeItemKind.DEVICE)):
        try:
            cleaned[key] = _clean_list(kind)(patient, data.get(key) or [])
        except ValidationFailed as exc:
            errors |= exc.fields
    if errors:
        raise ValidationFailed(errors)
    return cleaned


def _clean_assessments(patient: Patient, entries) -> list:
    if not isinstance(entries, list):
        raise ValidationFailed({"assessments": ["Give a list of questionnaires."]})
    items, _ = _assessment_items(patient, entries)
    return [item.proposed for item in items]


_DRAFT_CLEANERS = {
    "about": _clean_about,
    "pain": lambda patient, data: _answers_part(data, PAIN_ANSWER_KEYS),
    "medications": _clean_list(IntakeItemKind.MEDICATION),
    "allergies": _clean_list(IntakeItemKind.ALLERGY),
    "conditions": _clean_conditions,
    "questionnaires": _clean_assessments,
    "safety": lambda patient, data: _answers_part(data, SAFETY_ANSWER_KEYS),
}


def intake_draft_submit_arguments(draft: dict) -> dict:
    """The intake_submit keyword arguments a draft's sections stand for."""
    conditions = draft.get("conditions") or {}
    return {
        "answers": (draft.get("pain") or {}) | (draft.get("safety") or {}),
        "demographics": draft.get("about") or {},
        "medications": draft.get("medications") or [],
        "allergies": draft.get("allergies") or [],
        "conditions": conditions.get("conditions") or [],
        "devices": conditions.get("devices") or [],
        "assessments": draft.get("questionnaires") or [],
    }


def intake_draft_failing_step(fields: dict) -> str:
    """The first step (in the portal's order) whose answers an intake_submit error is about."""
    steps = set()
    for key, inner in fields.items():
        if key == "answers":
            inner_keys = set(inner.keys() if isinstance(inner, dict) else ())
            steps.add("safety" if inner_keys and inner_keys <= set(SAFETY_ANSWER_KEYS) else "pain")
            if inner_keys & set(SAFETY_ANSWER_KEYS):
                steps.add("safety")
        else:
            steps.add(_STEP_OF_ERROR.get(key, "review"))
    return min(steps, key=INTAKE_DRAFT_STEPS.index, default="review")


def _locked_draft(patient: Patient) -> IntakeSubmission | None:
    return (
        IntakeSubmission.objects.select_for_update()
        .filter(patient=patient, status=IntakeStatus.DRAFT)
        .first()
    )


def _draft_for_update(patient: Patient, by: Actor) -> IntakeSubmission:
    """The patient's one draft, locked; started if there is none (the partial unique
    constraint intake_one_draft_per_patient keeps it one, even from two tabs at once)."""
    draft = _locked_draft(patient)
    if draft is not None:
        return draft
    waiting = IntakeSubmission.objects.filter(patient=patient, status=IntakeStatus.SUBMITTED)
    if waiting.exists():
        raise Conflict(
            "Your intake is waiting for review; a new one can be started after the clinic has "
            "reviewed it.",
            code="intake_waiting",
        )
    try:
        with transaction.atomic():
            return IntakeSubmission.objects.create(
                patient=patient, status=IntakeStatus.DRAFT, submitted_by=by.user
            )
    except IntegrityError:  # started at the same moment elsewhere: use that one
        draft = _locked_draft(patient)
        if draft is None:  # pragma: no cover - the other one was submitted meanwhile
            raise Conflict(
                "Your intake changed meanwhile; try again.", code="draft_changed"
            ) from None
        return draft


@transaction.atomic
def intake_draft_save(
    *, patient: Patient, step: str, data: dict | list, by: Actor, resume_at: str | None = None
) -> IntakeSubmission:
    """Validate one step's answers with intake_submit's own rules and keep them in the
    patient's draft (started on the first save). The other steps' answers are untouched;
    invalid answers raise ValidationFailed (shaped as intake_submit's) and save nothing.
    `resume_at` is the step the patient comes back to (by default this one)."""
    if step not in INTAKE_DRAFT_SECTIONS:
        raise ValidationFailed({"step": [f"Unknown step {step!r}."]})
    resume_at = resume_at or step
    if resume_at not in INTAKE_DRAFT_STEPS:
        raise ValidationFailed({"resume_at": [f"Unknown step {resume_at!r}."]})
    cleaned = _DRAFT_CLEANERS[step](patient, data)
    draft = _draft_for_update(patient, by)
    draft.draft = {**draft.draft, step: cleaned}
    draft.draft_step = resume_at
    draft.submitted_by = by.user
    draft.save(update_fields=["draft", "draft_step", "submitted_by"])
    return draft


@transaction.atomic
def intake_draft_submit(*, patient: Patient, by: Actor) -> IntakeSubmission:
    """Send the patient's draft for review through intake_submit (the same items, red-flag
    and PHQ-9 urgency and staff queue as the API's intakes) and remove the draft, in one
    transaction. The draft row is locked first, so a double submit makes one submission:
    the second finds no draft (Conflict "no_draft"). A ValidationFailed leaves the draft
    as it was; intake_draft_failing_step says which step to show again."""
    draft = _locked_draft(patient)
    if draft is None:
        raise Conflict(
            "There is no intake draft to send; it may have been sent already.", code="no_draft"
        )
    submission = intake_submit(patient=patient, by=by, **intake_draft_submit_arguments(draft.draft))
    draft.delete()
    return submission


# --- Duplicates and merges --------------------------------------------------------------


def _full_name_expression():
    return Concat("legal_first_name", models.Value(" "), "legal_last_name")


def duplicate_matches(*, patient: Patient) -> list[tuple[Any, list[str]]]:
    """The active records that are likely the same person as `patient` (saved or not), each
    with its reasons: same birth date and a similar name (pg_trgm similarity), or the same
    phone, or the same email. Each match carries its name `similarity`."""
    same_contact = Q(date_of_birth=patient.date_of_birth)
    if patient.phone:
        same_contact |= Q(phone=patient.phone)
    if patient.email:
        same_contact |= Q(email__iexact=patient.email)
    full_name = f"{patient.legal_first_name} {patient.legal_last_name}"
    matches = (
        Patient.objects.filter(same_contact, merged_into__isnull=True)
        .exclude(pk=patient.pk)
        .annotate(similarity=TrigramSimilarity(_full_name_expression(), full_name))
    )
    found = []
    for match in matches:
        reasons = []
        if (
            match.date_of_birth == patient.date_of_birth
            and match.similarity >= NAME_SIMILARITY_THRESHOLD
        ):
            reasons.append("same date of birth and a similar name")
        if patient.phone and match.phone == patient.phone:
            reasons.append("same phone")
        if patient.email and match.email.lower() == patient.email.lower():
            reasons.append("same email")
        if reasons:
            found.append((match, reasons))
    return found


def patient_matches(**fields: Any) -> list[tuple[Any, list[str]]]:
    """The existing records a patient with these fields (as patient_create takes them) would
    be listed as a duplicate of; nothing is written."""
    fields = dict(fields)
    _normalise_contact(fields)
    return duplicate_matches(patient=Patient(**fields))


def duplicates_detect(*, patient: Patient) -> list[DuplicateCandidate]:
    """List, for staff, the records that are likely the same person (duplicate_matches)."""
    return [
        DuplicateCandidate.objects.create(
            patient=patient, match=match, reasons=reasons, name_similarity=match.similarity
        )
        for match, reasons in duplicate_matches(patient=patient)
        if not _pair_known(patient, match)
    ]


def _pair_known(a: Patient, b: Patient) -> bool:
    return DuplicateCandidate.objects.filter(Q(patient=a, match=b) | Q(patient=b, match=a)).exists()


@transaction.atomic
def duplicate_merge(*, candidate: DuplicateCandidate, survivor_id: UUID, by: Actor) -> PatientMerge:
    """Merge an open pair, keeping the record `survivor_id` (one of the two)."""
    candidate = (
        DuplicateCandidate.objects.select_for_update()
        .select_related("patient", "match")
        .get(pk=candidate.pk)
    )
    if candidate.status != DuplicateStatus.OPEN:
        raise Conflict(f"This pair was already {candidate.status}.", code="already_resolved")
    pair = {candidate.patient_id: candidate.patient, candidate.match_id: candidate.match}
    if survivor_id not in pair:
        raise ValidationFailed({"survivor": ["Choose one of the two records."]})
    merged = next(patient for pk, patient in pair.items() if pk != survivor_id)
    return patient_merge(survivor=pair[survivor_id], merged=merged, by=by)


@transaction.atomic
def duplicate_dismiss(*, candidate: DuplicateCandidate, by: Actor) -> DuplicateCandidate:
    candidate = DuplicateCandidate.objects.select_for_update().get(pk=candidate.pk)
    if candidate.status != DuplicateStatus.OPEN:
        raise Conflict(f"This pair was already {candidate.status}.", code="already_resolved")
    candidate.status = DuplicateStatus.DISMISSED
    candidate.resolved_by = by.user
    candidate.resolved_at = timezone.now()
    candidate.save()
    return candidate


def _snapshot(patient: Patient) -> dict:
    return {
        f.attname: _json_value(getattr(patient, f.attname)) for f in Patient._meta.concrete_fields
    }


def _move_related_rows(merged: Patient, survivor: Patient) -> dict:
    """Point every row that refers to the merged record at the survivor, in every app."""
    skip = {PatientMerge, DuplicateCandidate}
    moved = {}
    for relation in Patient._meta.related_objects:
        if not relation.one_to_many or relation.related_model in skip:
            continue
        if relation.related_model is Patient:  # merged_into, handled by the caller
            continue
        if issubclass(relation.related_model, pghistory.models.Event):
            continue  # the write history stays as it was written (append-only)
        field = relation.field.name
        count = relation.related_model._base_manager.filter(**{field: merged}).update(
            **{field: survivor}
        )
        if count:
            moved[relation.related_model._meta.label_lower] = count
    return moved


def _fill_blanks(merged: Patient, survivor: Patient) -> list[str]:
    """The survivor's empty text fields and unset links (the payer) take the merged
    record's values; what the survivor has wins."""
    filled = []
    for name in DEMOGRAPHIC_FIELDS:
        field = Patient._meta.get_field(name)
        fillable = field.is_relation or field.get_internal_type() in ("CharField", "EmailField")
        attname = getattr(field, "attname", name)
        if fillable and not getattr(survivor, attname):
            value = getattr(merged, attname)
            if value:
                setattr(survivor, attname, value)
                filled.append(name)
    return filled


def _repoint_candidates(merged: Patient, survivor: Patient, by: Actor) -> None:
    now = timezone.now()
    open_pairs = DuplicateCandidate.objects.filter(
        Q(patient=merged) | Q(match=merged), status=DuplicateStatus.OPEN
    )
    for candidate in open_pairs.select_for_update():
        other_id = candidate.match_id if candidate.patient_id == merged.pk else candidate.patient_id
        other = Patient(pk=other_id)
        if other_id == survivor.pk or _pair_known(survivor, other):
            candidate.status = DuplicateStatus.MERGED
            candidate.resolved_by, candidate.resolved_at = by.user, now
        elif candidate.patient_id == merged.pk:
            candidate.patient = survivor
        else:
            candidate.match = survivor
        candidate.save()


@transaction.atomic
def patient_merge(*, survivor: Patient, merged: Patient, by: Actor) -> PatientMerge:
    """Merge `merged` into `survivor`: every related row moves, blanks are filled from the
    merged record, which stays (inactive, pointing at the survivor) with a snapshot."""
    if survivor.pk == merged.pk:
        raise ValidationFailed({"survivor": ["A record cannot be merged into itself."]})
    locked = {
        p.pk: p
        for p in Patient.objects.select_for_update()
        .filter(pk__in=[survivor.pk, merged.pk])
        .order_by("pk")
    }
    survivor, merged = locked[survivor.pk], locked[merged.pk]
    if merged.merged_into_id or survivor.merged_into_id:
        raise Conflict("One of these records was already merged.", code="already_merged")
    if merged.user_id and survivor.user_id:
        raise Conflict(
            "Both records have a portal login; remove one login before merging.",
            code="both_have_logins",
        )
    snapshot = _snapshot(merged)
    try:
        with transaction.atomic():
            moved = _move_related_rows(merged, survivor)
    except IntegrityError:
        raise Conflict(
            "The two records have rows that clash (for example overlapping appointments); "
            "resolve them first.",
            code="merge_clash",
        ) from None
    filled = _fill_blanks(merged, survivor)
    if merged.user_id:
        survivor.user_id, merged.user_id = merged.user_id, None
        moved["portal login"] = 1
    merged.status = PatientStatus.INACTIVE
    merged.merged_into = survivor
    merged.save()
    survivor.save()
    _repoint_candidates(merged, survivor, by)
    return PatientMerge.objects.create(
        survivor=survivor,
        merged=merged,
        merged_by=by.user,
        moved=moved | {"filled_fields": filled},
        merged_snapshot=snapshot,
    )
