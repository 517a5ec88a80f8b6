"""What a link in a message does when the patient opens it. Each action locks its token, so
a link used twice at once acts once."""

from collections.abc import Callable
from datetime import date
from typing import Any

from django.db import models, transaction
from django.http import QueryDict
from django.utils import timezone
from django.utils.translation import gettext as _

from clinic.core.errors import Conflict, ValidationFailed
from clinic.users.actor import Actor
from notifications.kinds import token_digest
from notifications.models import VISIT_PURPOSES, LinkPurpose, LinkToken
from procedures.models import ProcedureOutcome, ProcedureRecord
from procedures.services import outcome_record
from scheduling.models import Appointment, AppointmentStatus, WaitlistOffer
from scheduling.services import (
    appointment_confirm,
    appointment_move,
    appointment_reschedule,
    offer_accept,
    patient_change_refusal,
)

from .visits import MAX_BIRTH_DATE_TRIES, offered_time


class LinkUnusable(Exception):
    """Unknown, expired or already used; `reason` is safe to show."""

    def __init__(self, reason: str, status: int):
        super().__init__(reason)
        self.reason, self.status = reason, status


def link_find(token: str, *, lock: bool = False) -> LinkToken:
    links = LinkToken.objects.select_related("patient")
    if lock:
        links = links.select_for_update(of=("self",))
    link = links.filter(digest=token_digest(token)).first()
    if link is None:
        raise LinkUnusable(_("This link is not valid. Please check you copied all of it."), 404)
    if link.used_at is not None:
        raise LinkUnusable(_("This link was already used. Thank you."), 410)
    if link.expires_at <= timezone.now():
        raise LinkUnusable(_("This link has expired."), 410)
    if link.purpose in VISIT_PURPOSES and link.failed_checks >= MAX_BIRTH_DATE_TRIES:
        raise LinkUnusable(
            _(
                "This link is locked: the date of birth was wrong too many times. Please call "
                "the clinic to change your visit."
            ),
            403,
        )
    return link


@transaction.atomic
def link_birth_date_check(*, token: str, born: date) -> bool:
    """Whether `born` is the patient's date of birth. A wrong one is counted (and kept, with
    the request's address, in the link's history) and the link locks at the limit; the row
    lock makes guesses sent at once count one after the other."""
    link = link_find(token, lock=True)
    if link.patient.date_of_birth == born:
        return True
    link.failed_checks += 1
    link.save(update_fields=["failed_checks"])
    return False


def link_subject(link: LinkToken):
    if link.purpose in VISIT_PURPOSES:
        return Appointment.objects.select_related("location", "appointment_type").get(
            pk=link.subject_id
        )
    if link.purpose == LinkPurpose.WAITLIST_OFFER:
        return WaitlistOffer.objects.select_related("location", "provider").get(pk=link.subject_id)
    return ProcedureRecord.objects.get(pk=link.subject_id)


def _nrs(value, field: str = "nrs") -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ValidationFailed({field: [_("Choose a number from 0 to 10.")]}) from None
    if not 0 <= number <= 10:
        raise ValidationFailed({field: [_("Choose a number from 0 to 10.")]})
    return number


def _pgic(value) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ValidationFailed({"pgic": [_("Choose the answer that fits best.")]}) from None
    if not 1 <= number <= 7:
        raise ValidationFailed({"pgic": [_("Choose the answer that fits best.")]})
    return number


@transaction.atomic
def link_act(*, token: str, purpose: str, data: QueryDict) -> models.Model:
    """Do what the link is for, once. Returns the affected object."""
    link = link_find(token, lock=True)
    if link.purpose != purpose:
        raise LinkUnusable(_("This link is not valid. Please check you copied all of it."), 404)
    result = ACTIONS[purpose](link, data)
    link.used_at = timezone.now()
    link.save(update_fields=["used_at"])
    return result


def _confirm(link: LinkToken, data: QueryDict) -> Appointment:
    appointment = Appointment.objects.get(pk=link.subject_id)
    return appointment_confirm(appointment=appointment, by=Actor.message_link())


def _cancel(link: LinkToken, data: QueryDict) -> Appointment:
    """The scheduling service applies the patient's rules (booked, far enough ahead)."""
    return appointment_move(
        appointment=Appointment.objects.get(pk=link.subject_id),
        to=AppointmentStatus.CANCELLED,
        by=Actor.message_link(),
        reason="Cancelled by the patient from a link in a message.",
    )


def _reschedule(link: LinkToken, data: QueryDict) -> Appointment:
    """To one of the times the page offered (offered again now: a time taken meanwhile is a
    field error, and the booking's own rules apply to the patient as in the portal)."""
    appointment = Appointment.objects.select_related(
        "location", "appointment_type", "provider", "procedure_order"
    ).get(pk=link.subject_id)
    refusal = patient_change_refusal(appointment)
    if refusal:  # as the service would, before asking which time
        raise Conflict(refusal, code="too_late_to_change")
    slot = offered_time(appointment, str(data.get("start", "")))
    if slot is None:
        raise ValidationFailed({"start": [_("This time is no longer free: choose another one.")]})
    return appointment_reschedule(
        appointment=appointment, start=slot.start, room=slot.room, by=Actor.message_link()
    )


VISIT_ACTIONS: dict[str, Callable[[LinkToken, QueryDict], Appointment]] = {
    "confirm": _confirm,
    "reschedule": _reschedule,
    "cancel": _cancel,
}


def _manage(link: LinkToken, data: QueryDict) -> Appointment:
    """The one link of a text message: whichever of confirm, move or cancel is chosen."""
    action = VISIT_ACTIONS.get(str(data.get("action", "")))
    if action is None:
        raise ValidationFailed({"action": [_("Choose to confirm, move or cancel the visit.")]})
    return action(link, data)


def _survey(link: LinkToken, data: QueryDict) -> ProcedureOutcome:
    errors: dict[str, Any] = {}
    values: dict[str, int] = {}
    for field, parse in (("nrs", _nrs), ("pgic", _pgic)):
        try:
            values[field] = parse(data.get(field))
        except ValidationFailed as error:
            errors.update(error.fields)
    if errors:
        raise ValidationFailed(errors)
    record = ProcedureRecord.objects.get(pk=link.subject_id)
    return outcome_record(
        record=record,
        nrs=values["nrs"],
        pgic=values["pgic"],
        source="survey",
        by=Actor.message_link(),
    )


def _diary(link: LinkToken, data: QueryDict) -> ProcedureOutcome:
    record = ProcedureRecord.objects.get(pk=link.subject_id)
    nrs = _nrs(data.get("nrs"))
    return outcome_record(record=record, nrs=nrs, source="diary", by=Actor.message_link())


def _accept_offer(link: LinkToken, data: QueryDict) -> Appointment:
    offer = WaitlistOffer.objects.get(pk=link.subject_id)
    return offer_accept(offer=offer, by=Actor.message_link())


ACTIONS: dict[str, Callable[[LinkToken, QueryDict], models.Model]] = {
    LinkPurpose.CONFIRM: _confirm,
    LinkPurpose.CANCEL: _cancel,
    LinkPurpose.SURVEY: _survey,
    LinkPurpose.DIARY: _diary,
    LinkPurpose.WAITLIST_OFFER: _accept_offer,
    LinkPurpose.RESCHEDULE: _reschedule,
    LinkPurpose.MANAGE: _manage,
}
