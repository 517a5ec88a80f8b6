"""Danger signs that must reach a physician the same day, whichever path they came in by.

One rule (`danger_signs`) says what is a danger sign: a PHQ-9 with item 9 above 0
(instruments.md: "item 9 > 0 needs same-day clinician attention", Arroll 2010) or a
positive red-flag answer (intake.md, AHCPR Guideline 14). Every path that takes such an
answer calls `urgent_raise`: the portal's and the staff's intake (`intake_submit`) and every
assessment (`assessment_record`: staff pages, the API, the patient's own). The patient stays
urgent — a banner on the chart and the history, a row on the clinician worklist — until a
clinician acknowledges the flags with a note (`urgent_acknowledge`); nobody else can.
"""

from collections.abc import Iterable
from datetime import datetime
from uuid import UUID

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from clinic.core.errors import Conflict, Forbidden, ValidationFailed
from clinic.users.actor import Actor
from clinic.users.roles import Role

from .instruments import Instrument
from .models import Assessment, IntakeSubmission, Patient, UrgentFlag, UrgentSource
from .questionnaire import RED_FLAGS

PHQ9_ITEM9 = "phq9_item9_positive"
PHQ9_ITEM9_KEY = "q9"
RED_FLAG_PREFIX = "red_flag:"
NOTE_LIMIT = 1000

REASON_LABELS = {
    PHQ9_ITEM9: "PHQ-9 item 9 above 0 (thoughts of self-harm): needs same-day clinician attention",
}


def reason_label(code: str) -> str:
    """What a reason code means, in words."""
    if code.startswith(RED_FLAG_PREFIX):
        key = code.removeprefix(RED_FLAG_PREFIX)
        return f"Red flag: {RED_FLAGS.get(key, key.replace('_', ' '))}"
    return REASON_LABELS.get(code, code.replace("_", " "))


def phq9_item9(items: object) -> int | None:
    """The answer to PHQ-9 item 9 (0-3) as stored, or None when it is not a whole number."""
    value = items.get(PHQ9_ITEM9_KEY) if isinstance(items, dict) else None
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return int(value) if value == int(value) else None


def danger_signs(
    *, red_flags: dict | None = None, instrument: str = "", items: object = None
) -> list[tuple[str, str]]:
    """The one rule: (reason code, detail) for every danger sign in a set of answers."""
    signs = [
        (f"{RED_FLAG_PREFIX}{key}", "answered yes")
        for key, positive in (red_flags or {}).items()
        if positive is True
    ]
    if instrument == Instrument.PHQ9:
        answer = phq9_item9(items)
        if answer is not None and answer > 0:
            signs.append((PHQ9_ITEM9, f"item 9 answered {answer} of 3"))
    return signs


def intake_signs(answers: dict, assessments: Iterable[dict]) -> list[tuple[str, str]]:
    """Danger signs in an intake: its red flags and each PHQ-9 it carries."""
    signs = danger_signs(red_flags=answers.get("red_flags") or {})
    for entry in assessments:
        for sign in danger_signs(instrument=entry.get("instrument", ""), items=entry.get("items")):
            if sign not in signs:
                signs.append(sign)
    return signs


def urgent_raise(
    *,
    patient: Patient,
    signs: list[tuple[str, str]],
    by: Actor,
    at: datetime | None = None,
    assessment: Assessment | None = None,
    intake: IntakeSubmission | None = None,
) -> list[UrgentFlag]:
    """Open one flag per danger sign (runs inside the caller's transaction)."""
    if not signs:
        return []
    source = UrgentSource.ASSESSMENT if assessment is not None else UrgentSource.INTAKE
    return UrgentFlag.objects.bulk_create(
        UrgentFlag(
            patient=patient,
            reason=reason,
            detail=detail[:200],
            source=source,
            assessment=assessment,
            intake=intake,
            raised_at=at or timezone.now(),
            raised_by=by.user,
            raised_via=by.channel,
        )
        for reason, detail in signs
    )


def open_flags(patient: Patient) -> QuerySet[UrgentFlag]:
    return UrgentFlag.objects.filter(patient=patient, acknowledged_at__isnull=True).order_by(
        "raised_at", "reason"
    )


@transaction.atomic
def urgent_acknowledge(
    *, patient: Patient, by: Actor, note: str, flag_ids: Iterable[UUID] | None = None
) -> list[UrgentFlag]:
    """A clinician has seen the patient's danger signs and acted: the open flags (or the
    given ones) close with who, when and the note. Only a clinician: not the front desk,
    not a manager, not the patient."""
    if not by.has_role(Role.CLINICIAN):
        raise Forbidden("Only a clinician can acknowledge a patient's danger signs.")
    note = (note or "").strip() if isinstance(note, str) else ""
    if not note:
        raise ValidationFailed({"note": ["Say what was done (for example: called, safety plan)."]})
    if len(note) > NOTE_LIMIT:
        raise ValidationFailed({"note": [f"At most {NOTE_LIMIT} characters."]})
    flags = open_flags(patient).select_for_update()
    if flag_ids is not None:
        wanted = set(flag_ids)
        flags = flags.filter(pk__in=wanted)
    locked = list(flags)
    if flag_ids is not None and {f.pk for f in locked} != wanted:
        raise Conflict(
            "Some of these flags are not open any more; reload the page.",
            code="flag_not_open",
        )
    if not locked:
        raise Conflict("There is no open danger sign to acknowledge.", code="nothing_open")
    now = timezone.now()
    for flag in locked:
        flag.acknowledged_at, flag.acknowledged_by, flag.acknowledgement_note = now, by.user, note
    UrgentFlag.objects.bulk_update(
        locked, ["acknowledged_at", "acknowledged_by", "acknowledgement_note"]
    )
    return locked


def banner(*, user, patient: Patient) -> dict:
    """What the urgent banner shows this user (one query): whether the patient is urgent;
    the reasons for clinicians and managers (the front desk sees that, not why, as with
    urgent intakes); the acknowledgement form for clinicians only."""
    flags = list(open_flags(patient).select_related("intake"))
    clinical = user.has_role(Role.CLINICIAN, Role.MANAGER)
    for flag in flags:
        flag.label = reason_label(flag.reason)  # type: ignore[attr-defined]  # for the template
    return {
        "open": bool(flags),
        "flags": flags if clinical else [],
        "since": flags[0].raised_at if flags else None,
        "can_acknowledge": user.has_role(Role.CLINICIAN),
    }
