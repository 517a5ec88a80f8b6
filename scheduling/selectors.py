from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils import timezone

from clinic.core.errors import Conflict
from clinic.core.ids import NOT_AN_ID
from clinic.core.times import format_local
from patients.models import Patient
from patients.selectors import patients_visible_to
from procedures.hold_words import patient_hold_text
from sites.models import Location

from .models import (
    Appointment,
    AppointmentStatus,
    AppointmentStatusChange,
    AppointmentType,
    WaitlistEntry,
    WaitlistOffer,
    WaitlistStatus,
)

# A visit that still holds its time and its procedure order: it has not ended yet.
UPCOMING_STATUSES = [
    AppointmentStatus.BOOKED,
    AppointmentStatus.CHECKED_IN,
    AppointmentStatus.IN_ROOM,
]
# The moves that free a visit's time, which staff may undo the same day.
RELEASES = (AppointmentStatus.CANCELLED, AppointmentStatus.NO_SHOW)
# The reason a reschedule gives the visit it cancels; such a cancellation is not undone.
RESCHEDULED = "Rescheduled"


def local_now(location: Location):
    return timezone.now().astimezone(location.zone)


def appointments_visible_to(user) -> QuerySet[Appointment]:
    """Staff see every appointment; a patient only their own."""
    appointments = Appointment.objects.select_related(
        "appointment_type", "provider", "location", "room"
    )
    if user.is_clinic_staff:
        return appointments.select_related("patient")
    return appointments.filter(patient__in=patients_visible_to(user))


def appointment_types_offered_to(user) -> QuerySet[AppointmentType]:
    """Active kinds of visit: staff see them all, a patient those they may book themselves."""
    types = AppointmentType.objects.filter(is_active=True)
    if user.is_clinic_staff:
        return types
    return types.filter(patient_bookable=True)


def waitlist_entries_visible_to(user) -> QuerySet[WaitlistEntry]:
    """Staff see the whole waitlist; a patient only their own entries; each entry with its
    kind of visit and its offers loaded alongside, not one query per entry."""
    entries = WaitlistEntry.objects.select_related("appointment_type").prefetch_related("offers")
    if user.is_clinic_staff:
        return entries
    return entries.filter(patient__in=patients_visible_to(user))


def appointment_for(user, appointment_id) -> Appointment:
    try:
        return appointments_visible_to(user).get(pk=appointment_id)
    except (Appointment.DoesNotExist, *NOT_AN_ID):
        raise Http404 from None


def upcoming_visits(patient: Patient, now: datetime | None = None) -> QuerySet[Appointment]:
    """A patient's visits still ahead (booked, checked in or in the room), soonest first,
    with what the portal's pages show. The portal home and My appointments both read this."""
    return (
        Appointment.objects.filter(
            patient=patient, status__in=UPCOMING_STATUSES, start__gt=now or timezone.now()
        )
        .select_related(
            "appointment_type", "provider", "location", "room", "procedure_order__procedure_type"
        )
        .order_by("start")
    )


# --- How to prepare for a visit: what the portal and the messages both say -----------------


@dataclass(frozen=True)
class Hold:
    """A medicine to stop before a procedure: the safety check's words for the patient, the
    day the hold starts, and the finding's code (a hold message's variant)."""

    text: str
    starts: date
    code: str


@dataclass(frozen=True)
class Preparation:
    """What a procedure visit asks of the patient beforehand."""

    needs_driver: bool = False
    fasting_hours: int = 0
    text: str = ""
    holds: list[Hold] = field(default_factory=list)


def visit_findings(appointment: Appointment) -> list[dict[str, Any]]:
    """The safety check's findings for the visit: its order's when it has one."""
    order = appointment.procedure_order
    return list(order.findings if order is not None else appointment.findings)


def _hold_text(finding: dict[str, Any]) -> str:
    """The patient's words in the active language; a finding kept before the safety check
    stored their parts shows the sentence it stored (English)."""
    details = finding["details"]
    return patient_hold_text(details) or details.get("patient_text") or finding["reason"]


def visit_holds(appointment: Appointment) -> list[Hold]:
    """The medicine holds the visit's safety check asks for, in plain words (in the active
    language) with their start day (procedures/holds.py keeps both)."""
    return [
        Hold(
            text=_hold_text(finding),
            starts=date.fromisoformat(finding["details"]["hold_start"]),
            code=finding.get("code", ""),
        )
        for finding in visit_findings(appointment)
        if (finding.get("details") or {}).get("hold_start")
    ]


def visit_preparation(appointment: Appointment) -> Preparation | None:
    """How to prepare for a procedure visit (None for any other visit)."""
    order = appointment.procedure_order
    if order is None:
        return None
    kind = order.procedure_type
    return Preparation(
        needs_driver=kind.needs_driver,
        fasting_hours=kind.fasting_hours or 0,
        text=kind.localized_preparation,
        holds=visit_holds(appointment),
    )


# --- Undo and waits: what the desk's calendar shows on a card -------------------------------


def local_label(moment: datetime, location: Location) -> str:
    """Tue Dec 8, 9:00 AM MT: the location's wall clock with its zone, no leading zeros."""
    return format_local(moment, location)


def last_release(appointment: Appointment) -> AppointmentStatusChange | None:
    """The logged move that made the visit what it is now, if it was a no-show or a
    cancellation (not an undo). Reads prefetched `status_changes` when the caller has them."""
    changes = list(appointment.status_changes.all())
    # Two moves in the same instant: the last is the one that led to the present status.
    last = max(
        changes,
        key=lambda change: (change.at, change.to_status == appointment.status),
        default=None,
    )
    if last is None or last.undo or last.to_status != appointment.status:
        return None
    return last if last.to_status in RELEASES else None


def undoable_release(appointment: Appointment, now: datetime) -> AppointmentStatusChange:
    """The no-show or cancellation to undo, or the 409 that says why it cannot be: staff undo
    it on the local day it happened, unless a reschedule made it. Whether the slot is still
    free is the database's answer when the undo is tried."""
    if appointment.status not in RELEASES:
        raise Conflict(
            f"A visit that is {appointment.get_status_display().lower()} has nothing to undo.",
            code="illegal_transition",
            status=appointment.status,
        )
    last = last_release(appointment)
    if last is None or RESCHEDULED in (appointment.cancel_reason, last.reason):
        raise Conflict(
            "This visit was moved to another time, or no move of it is recorded to undo.",
            code="not_undoable",
        )
    zone = appointment.location.zone
    if last.at.astimezone(zone).date() != now.astimezone(zone).date():
        raise Conflict(
            f"It was {last.get_to_status_display().lower()} on "
            f"{local_label(last.at, appointment.location)}: it can be undone on that day only.",
            code="undo_expired",
        )
    return last


def undo_possible(appointment: Appointment, now: datetime | None = None) -> bool:
    """Whether the desk may offer Undo on this no-show or cancellation now (the slot being
    free again is checked when it is tried). Prefetch `status_changes` for a list of them."""
    try:
        undoable_release(appointment, now or timezone.now())
    except Conflict:
        return False
    return True


def _minutes(start: datetime | None, end: datetime | None) -> int | None:
    if start is None or end is None:
        return None
    return max(int((end - start).total_seconds() // 60), 0)


@dataclass(frozen=True)
class VisitWaits:
    """Minutes from arrival to the room, in the room to done, and arrival to done; a wait
    still going is counted to `now`, one not begun is None."""

    waiting: int | None
    in_room: int | None
    total: int | None


def visit_waits(appointment: Appointment, now: datetime | None = None) -> VisitWaits:
    """The waits of a visit from its stamps (no query): arrived -> in room -> done."""
    now = now or timezone.now()
    arrived, roomed, done = (
        appointment.checked_in_at,
        appointment.in_room_at,
        appointment.completed_at,
    )
    open_end = None if appointment.status in RELEASES else now
    return VisitWaits(
        waiting=_minutes(arrived, roomed or (open_end if arrived else None)),
        in_room=_minutes(roomed, done or (open_end if roomed else None)),
        total=_minutes(arrived, done or (open_end if arrived else None)),
    )


def waitlist_for_desk(
    user,
    *,
    appointment_type=None,
    provider=None,
    location=None,
    open_only: bool = True,
) -> QuerySet[WaitlistEntry]:
    """The desk's waitlist, oldest first, filtered by kind, provider and location (an entry
    with no provider or location wanted matches any). Patient, places and offers come in a
    fixed number of queries."""
    entries = waitlist_entries_visible_to(user).select_related("patient", "provider", "location")
    if open_only:
        entries = entries.filter(status__in=(WaitlistStatus.WAITING, WaitlistStatus.OFFERED))
    if appointment_type is not None:
        entries = entries.filter(appointment_type=appointment_type)
    if provider is not None:
        entries = entries.filter(Q(provider__isnull=True) | Q(provider=provider))
    if location is not None:
        entries = entries.filter(Q(location__isnull=True) | Q(location=location))
    return entries.order_by("created_at")


def waitlist_offers_for_desk(
    user, *, appointment_type=None, provider=None, location=None
) -> QuerySet[WaitlistOffer]:
    """Offers made from the waitlist, newest first, with their patient and places."""
    if not user.is_clinic_staff:
        return WaitlistOffer.objects.none()
    offers = WaitlistOffer.objects.select_related(
        "entry__patient", "entry__appointment_type", "provider", "location", "room"
    )
    if appointment_type is not None:
        offers = offers.filter(entry__appointment_type=appointment_type)
    if provider is not None:
        offers = offers.filter(provider=provider)
    if location is not None:
        offers = offers.filter(location=location)
    return offers.order_by("-created_at")


def waitlist_entry_for(user, entry_id) -> WaitlistEntry:
    try:
        return (
            waitlist_entries_visible_to(user)
            .select_related("patient", "provider", "location")
            .get(pk=entry_id)
        )
    except (WaitlistEntry.DoesNotExist, *NOT_AN_ID):
        raise Http404 from None


def past_visits(patient: Patient, now: datetime | None = None) -> QuerySet[Appointment]:
    """A patient's visits that are over or closed (started already, or cancelled / no-show),
    latest first."""
    now = now or timezone.now()
    upcoming = Q(status__in=UPCOMING_STATUSES, start__gt=now)
    return (
        Appointment.objects.filter(patient=patient)
        .exclude(upcoming)
        .select_related("appointment_type", "provider", "location", "room")
        .order_by("-start")
    )
