"""Replies to our text messages: C confirms the patient's next booked visit, R asks the
clinic to call about it. The sender is matched by phone number; an unknown number or word is
answered once with the clinic's number. Twilio answers its own keywords (STOP, HELP...)."""

import re
from dataclasses import dataclass
from datetime import timedelta
from uuid import UUID

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _

from clinic.audit.writes import written_as_actor
from clinic.core.errors import Conflict
from clinic.core.phones import normalize_phone
from clinic.core.spoken_dates import visit_when
from clinic.core.templatetags.phones import phone as phone_display
from clinic.users.actor import Actor
from notifications.models import InboundText, ReplyOutcome
from patients.models import Patient
from scheduling.models import Appointment, AppointmentStatus
from scheduling.services import appointment_confirm

CONFIRM_WORDS = frozenset({"C", "CONFIRM"})
CALL_WORDS = frozenset({"R", "CALL"})
# Twilio's opt-out, opt-in and help keywords: Twilio itself answers them and keeps the opt-out.
PROVIDER_KEYWORDS = frozenset(
    {
        "STOP",
        "STOPALL",
        "UNSUBSCRIBE",
        "CANCEL",
        "END",
        "QUIT",
        "REVOKE",
        "OPTOUT",
        "START",
        "YES",
        "UNSTOP",
        "HELP",
        "INFO",
    }
)
SILENT_AFTER_ANSWER = timedelta(hours=24)  # an unknown number or word is answered once a day


@dataclass(frozen=True)
class Sender:
    digest: str
    patients: list[Patient]
    visit: Appointment | None


def reply_word(body: str) -> str:
    """The reply as one word: "c.", " C " and "Confirm!" all read CONFIRM's way."""
    words = re.findall(r"[A-Za-z]+", body)
    return words[0].upper() if len(words) == 1 else ""


def _sender_digest(number: str) -> str:
    return salted_hmac("links.replies.sender", number).hexdigest()


def _sender(raw_number: str) -> Sender:
    try:
        number = normalize_phone(raw_number)
    except ValidationError:
        number = ""
    if not number:
        return Sender(_sender_digest(raw_number.strip()), [], None)
    patients = list(Patient.objects.filter(phone=number, merged_into__isnull=True))
    visit = (
        Appointment.objects.select_related("location")
        .filter(patient__in=patients, status=AppointmentStatus.BOOKED, start__gt=timezone.now())
        .order_by("start")
        .first()
        if patients
        else None
    )
    return Sender(_sender_digest(number), patients, visit)


def _clinic_phone(visit: Appointment | None) -> str:
    number = visit.location.phone if visit is not None and visit.location.phone else ""
    return phone_display(number or settings.CLINIC_PHONE)


def _answered_lately(digest: str) -> bool:
    return (
        InboundText.objects.filter(
            sender_digest=digest,
            outcome__in=[ReplyOutcome.UNKNOWN_SENDER, ReplyOutcome.NOT_UNDERSTOOD],
            received_at__gt=timezone.now() - SILENT_AFTER_ANSWER,
        )
        .exclude(reply="")
        .exists()
    )


def _act(word: str, sender: Sender, by: Actor) -> tuple[str, str]:
    """(outcome, reply) for a sender we know."""
    visit = sender.visit
    if visit is None:
        call = _clinic_phone(None)
        return ReplyOutcome.NO_VISIT, _("We found no visit booked ahead. Call us at %(phone)s.") % {
            "phone": call
        }
    when = visit_when(visit.start, visit.location.zone)
    if word in CONFIRM_WORDS:
        try:
            appointment_confirm(appointment=visit, by=by)
        except Conflict:  # cancelled a moment ago
            return ReplyOutcome.NO_VISIT, _(
                "This visit is no longer booked. Call us at %(phone)s."
            ) % {"phone": _clinic_phone(visit)}
        return ReplyOutcome.CONFIRMED, _("Thank you, your visit on %(when)s is confirmed.") % {
            "when": when
        }
    return ReplyOutcome.CALL_REQUESTED, _(
        "Thank you, the clinic will call you about your visit on %(when)s."
    ) % {"when": when}


def _not_understood(sender: Sender, outcome: str) -> str:
    if _answered_lately(sender.digest):
        return ""
    phone = _clinic_phone(sender.visit)
    if outcome == ReplyOutcome.UNKNOWN_SENDER:
        return _("Sorry, we cannot read replies to this number. Please call us at %(phone)s.") % {
            "phone": phone
        }
    return _(
        "Sorry, we did not understand. Reply C to confirm your visit or R for a call, or call "
        "us at %(phone)s."
    ) % {"phone": phone}


@written_as_actor
def text_reply_receive(*, message_sid: str, sender_number: str, body: str, by: Actor) -> str:
    """Record one inbound text and do what it asks, once per provider message id; returns
    the answer to send back ("" for none). A provider's retry gets the first answer again."""
    word = reply_word(body)
    if word in PROVIDER_KEYWORDS:
        return ""
    try:
        with transaction.atomic():
            text = _receive(message_sid, _sender(sender_number), word, by)
    except IntegrityError:
        again = InboundText.objects.filter(provider_message_id=message_sid).first()
        if again is None:
            raise
        return again.reply
    return text.reply


def _reply_language(sender: Sender, patient_id: UUID | None) -> str:
    """The answer is in the language on the sender's record; an unknown sender's in English."""
    patient = next((patient for patient in sender.patients if patient.pk == patient_id), None)
    return patient.language if patient is not None else settings.LANGUAGE_CODE


def _answer(sender: Sender, patient_id: UUID | None, word: str, by: Actor) -> tuple[str, str]:
    """(outcome, reply) for one inbound text."""
    if patient_id is None:
        outcome = ReplyOutcome.UNKNOWN_SENDER
        return outcome, _not_understood(sender, outcome)
    if word in CONFIRM_WORDS | CALL_WORDS:
        return _act(word, sender, by)
    outcome = ReplyOutcome.NOT_UNDERSTOOD
    return outcome, _not_understood(sender, outcome)


def _receive(message_sid: str, sender: Sender, word: str, by: Actor) -> InboundText:
    already = InboundText.objects.filter(provider_message_id=message_sid).first()
    if already is not None:
        return already
    patients = {patient.pk for patient in sender.patients}
    patient_id: UUID | None = None
    if sender.visit is not None:
        patient_id = sender.visit.patient_id
    elif len(patients) == 1:
        patient_id = next(iter(patients))
    with translation.override(_reply_language(sender, patient_id)):
        outcome, reply = _answer(sender, patient_id, word, by)
    visit_id = sender.visit.pk if sender.visit is not None and patient_id is not None else None
    return InboundText.objects.create(
        provider_message_id=message_sid[:64],
        patient_id=patient_id,
        subject_id=visit_id,
        outcome=outcome,
        sender_digest=sender.digest,
        reply=reply[:320],
    )
