"""The procedure note: prefilled from the record, its order and its consent; reviewed, edited
and signed by a clinician; locked once signed (PostgreSQL refuses any change, see the model's
triggers), after which only addenda add to it. Printed as HTML and as a PDF (WeasyPrint).

Signing needs a consent taken before the procedure (procedures/consent.py) or a reason to sign
without one; the reason is kept on the note and in its write history (docs/decisions/0041).
"""

from decimal import Decimal

from django.conf import settings
from django.contrib.staticfiles import finders
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone
from weasyprint import CSS, HTML

from clinic.audit.writes import written_as_actor
from clinic.core.errors import Conflict, ValidationFailed
from clinic.core.times import format_local
from clinic.users.actor import Actor
from clinic.users.models import User
from patients.services import full_clean_or_fail
from sites.models import Provider

from .consent import consent_before, require_physician
from .models import (
    NOTE_SECTIONS,
    NoteAddendum,
    NoteStatus,
    ProcedureConsent,
    ProcedureNote,
    ProcedureRecord,
    Sedation,
)

SECTION_NAMES = tuple(name for name, _ in NOTE_SECTIONS)
PDF_STYLESHEET = "css/note_pdf.css"
NO_CONSENT = (
    "No consent was recorded before this procedure: record it on the order, or give the "
    "reason for signing without it."
)
TIME_OUT = (
    "Time-out held before the procedure (Universal Protocol): the patient's identity (two "
    "identifiers), the procedure, the side and the levels confirmed with the team; site "
    "marked; allergies and anticoagulants reviewed."
)
DISPOSITION = "Observed after the procedure and discharged home in stable condition."
SEDATION_WORDS = {
    Sedation.NONE.value: "Local anesthetic only.",
    Sedation.GENERAL.value: "Under monitored anesthesia care or general anesthesia.",
}
FOLLOW_UP_PARTS = {
    "next_day_check": "a call the next day",
    "pain_diary_hours": "a pain diary at {} hours",
    "outcome_survey_days": "an outcome survey at {} days",
    "wound_check_days": "a wound check at {} days",
}


# --- Prefill ----------------------------------------------------------------------------------


def _plain(value: Decimal) -> str:
    return format(value.normalize(), "f")


def _indication(record: ProcedureRecord) -> str:
    order = record.order
    if order is None:
        return ""
    return f"{order.indication_text} ({order.indication_code})"


def consent_summary(consent: ProcedureConsent | None, where: object = None) -> str:
    if consent is None:
        return "No consent recorded before the procedure."
    who = (
        "the patient"
        if consent.given_by == "patient"
        else f"{consent.representative_name}"
        + (
            f" ({consent.representative_relationship})"
            if consent.representative_relationship
            else ""
        )
    )
    taker = display_name(consent.obtained_by)
    when = format_local(consent.obtained_at, where, "short")
    lines = [
        f"Informed consent given by {who}, taken by {taker} on {when}.",
        "Risks discussed: " + "; ".join(consent.risks_discussed) + ".",
    ]
    if consent.other_risks:
        lines.append(f"Also discussed: {consent.other_risks}")
    if consent.alternatives_discussed:
        lines.append("Alternatives discussed.")
    if consent.questions_answered:
        lines.append("Questions answered.")
    return " ".join(lines)


def _technique(record: ProcedureRecord) -> str:
    kind = record.procedure_type
    sedation = SEDATION_WORDS.get(kind.sedation, "Sedation as documented.")
    lines = [
        f"{kind.name} under {record.get_guidance_display().lower()} guidance, "
        "sterile preparation and draping.",
        sedation,
    ]
    if record.notes:
        lines.append(record.notes)
    return " ".join(lines)


def _levels(record: ProcedureRecord) -> str:
    side = record.get_side_display() if record.side else "No side"
    levels = ", ".join(record.levels) if record.levels else "no spinal levels"
    return f"{side}; {levels}."


def _medications(record: ProcedureRecord) -> str:
    lines = []
    if record.steroid_id and record.steroid_dose_mg is not None:
        lines.append(f"{record.steroid_id.capitalize()} {_plain(record.steroid_dose_mg)} mg.")
    else:
        lines.append("No steroid.")
    if record.local_anaesthetic:
        lines.append(f"Local anesthetic: {record.local_anaesthetic}.")
    if record.contrast:
        lines.append(f"Contrast: {record.contrast}.")
    if record.pump_reservoir_ml:
        lines.append(
            f"Pump filled with {_plain(record.pump_reservoir_ml)} mL at "
            f"{_plain(record.pump_concentration or Decimal(0))} {record.pump_concentration_unit}, "
            f"{_plain(record.pump_daily_dose or Decimal(0))} {record.pump_dose_unit}."
        )
    return " ".join(lines)


def _imaging(record: ProcedureRecord) -> str:
    seconds = record.fluoroscopy_seconds
    dose = record.fluoroscopy_dose_mgy
    volume = record.contrast_volume_ml
    return " ".join(
        [
            f"Fluoroscopy time {seconds} s."
            if seconds is not None
            else "Fluoroscopy time not recorded.",
            f"Reference air kerma {_plain(dose)} mGy."
            if dose is not None
            else "Dose not recorded.",
            f"Contrast volume {_plain(volume)} mL."
            if volume is not None
            else "No contrast volume recorded.",
        ]
    )


def _disposition(record: ProcedureRecord) -> str:
    return f"Pain NRS {record.pre_nrs} before and {record.post_nrs} after. {DISPOSITION}"


def _follow_up(record: ProcedureRecord) -> str:
    plan = record.procedure_type.follow_up_plan or {}
    parts = []
    for key, wording in FOLLOW_UP_PARTS.items():
        value = plan.get(key)
        if value:
            shown = ", ".join(str(v) for v in value) if isinstance(value, list) else ""
            parts.append(wording.format(shown))
    lines = ["Follow-up: " + "; ".join(parts) + "."] if parts else []
    if record.next_refill_due:
        lines.append(f"Next pump refill due {record.next_refill_due:%Y-%m-%d}.")
    return " ".join(lines)


def note_prefill(record: ProcedureRecord, consent: ProcedureConsent | None) -> dict[str, str]:
    """Each section's first text, from what the record, its order and the consent hold."""
    return {
        "indication": _indication(record),
        "consent_summary": consent_summary(consent, record.location),
        "time_out": TIME_OUT,
        "technique": _technique(record),
        "levels": _levels(record),
        "medications": _medications(record),
        "imaging": _imaging(record),
        "complications": record.complications or "None.",
        "disposition": _disposition(record),
        "follow_up_plan": _follow_up(record),
    }


# --- Writes -----------------------------------------------------------------------------------


def display_name(user: User) -> str:
    provider = Provider.objects.filter(user=user).first()
    if provider is not None:
        return provider.display_name
    return user.get_full_name() or user.get_username()


def _open_note(record: ProcedureRecord, by: Actor) -> ProcedureNote:
    """The record's note, locked for this transaction (made on the first save); the record's
    row is locked first so that two first saves do not both make one."""
    ProcedureRecord.objects.select_for_update().filter(pk=record.pk).values("pk").first()
    note = ProcedureNote.objects.select_for_update().filter(record=record).first()
    if note is None:
        return ProcedureNote(record=record, patient_id=record.patient_id, written_by=by.user)
    if note.is_signed:
        raise Conflict(
            "The note is signed and locked: add an addendum instead.", code="note_signed"
        )
    return note


def _apply(note: ProcedureNote, sections: dict[str, str]) -> None:
    unknown = set(sections) - set(SECTION_NAMES)
    if unknown:
        raise ValidationFailed({name: ["Not a section of the note."] for name in sorted(unknown)})
    for name, text in sections.items():
        setattr(note, name, (text or "").strip())


@written_as_actor
@transaction.atomic
def note_save_draft(*, record: ProcedureRecord, by: Actor, **sections: str) -> ProcedureNote:
    """Save the note as a draft (sections not given keep their text)."""
    require_physician(by, "write a procedure note")
    note = _open_note(record, by)
    _apply(note, sections)
    full_clean_or_fail(note, exclude=["record", "patient"])
    note.save()
    return note


def _sign_errors(note: ProcedureNote, consent: ProcedureConsent | None, reason: str) -> dict:
    errors = {
        name: [f"Write the {heading.lower()} before signing."]
        for name, heading in NOTE_SECTIONS
        if not getattr(note, name)
    }
    if consent is None and not reason:
        errors["consent_override_reason"] = [NO_CONSENT]
    return errors


@written_as_actor
@transaction.atomic
def note_sign(
    *,
    record: ProcedureRecord,
    by: Actor,
    consent_override_reason: str = "",
    **sections: str,
) -> ProcedureNote:
    """Save the reviewed sections and sign: the note is locked from then on. Without a consent
    taken before the procedure, only with a reason (kept on the note)."""
    require_physician(by, "sign a procedure note")
    note = _open_note(record, by)
    _apply(note, sections)
    consent = consent_before(record)
    reason = consent_override_reason.strip()
    full_clean_or_fail(
        note, exclude=["record", "patient"], errors=_sign_errors(note, consent, reason)
    )
    note.consent = consent
    note.consent_override_reason = "" if consent else reason
    note.status = NoteStatus.SIGNED
    note.signed_by = by.user
    note.signer_name = display_name(by.user) if by.user else ""
    note.signed_at = timezone.now()
    note.save()
    return note


@written_as_actor
@transaction.atomic
def note_add_addendum(*, note: ProcedureNote, by: Actor, text: str, reason: str) -> NoteAddendum:
    """Add to a signed note: what, and why."""
    require_physician(by, "add to a procedure note")
    note = ProcedureNote.objects.select_for_update().get(pk=note.pk)
    if not note.is_signed:
        raise Conflict("A draft is edited, not amended: sign it first.", code="note_not_signed")
    addendum = NoteAddendum(
        note=note,
        patient_id=note.patient_id,
        text=text.strip(),
        reason=reason.strip(),
        written_by=by.user,
        writer_name=display_name(by.user) if by.user else "",
    )
    errors = {}
    if not addendum.text:
        errors["text"] = ["Write the addendum."]
    if not addendum.reason:
        errors["reason"] = ["Say why the note is amended."]
    full_clean_or_fail(addendum, exclude=["note", "patient", "written_by"], errors=errors)
    addendum.save()
    return addendum


# --- Reads and the PDF ------------------------------------------------------------------------


def note_of(record: ProcedureRecord) -> ProcedureNote | None:
    return (
        ProcedureNote.objects.filter(record=record)
        .select_related("consent__obtained_by")
        .prefetch_related("addenda")
        .first()
    )


def note_or_prefilled(record: ProcedureRecord) -> ProcedureNote:
    """The record's note, or (none written yet) an unsaved draft of its prefill, to print."""
    note = note_of(record)
    if note is not None:
        return note
    prefill = note_prefill(record, consent_before(record))
    return ProcedureNote(record=record, patient_id=record.patient_id, **prefill)


def note_document_context(record: ProcedureRecord, note: ProcedureNote) -> dict:
    """What the printed note shows: the patient, the procedure, the sections, the signature
    and the addenda."""
    return {
        "record": record,
        "note": note,
        "patient": record.patient,
        "sections": note.sections(),
        "addenda": [] if note._state.adding else list(note.addenda.all()),
        "clinic_name": settings.CLINIC_NAME,
    }


def note_pdf(record: ProcedureRecord, note: ProcedureNote) -> bytes:
    """The note as a PDF: the same document as the printable page, laid out by WeasyPrint."""
    html = render_to_string("procedures/note_document.html", note_document_context(record, note))
    stylesheet = finders.find(PDF_STYLESHEET)
    pdf = HTML(string=html).write_pdf(stylesheets=[CSS(filename=stylesheet)])
    if pdf is None:  # only when writing to a target; never for bytes
        raise RuntimeError("WeasyPrint returned no PDF.")
    return pdf
