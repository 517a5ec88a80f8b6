"""What a visit's link page reads: the free times it offers to move the visit to (the same
provider, place and kind of visit, within the patient's notice and horizon, as the portal
offers them)."""

from datetime import date, datetime, timedelta

from django.utils import timezone

from scheduling.availability import MAX_WINDOW_DAYS, Slot, free_slots
from scheduling.models import Appointment

MAX_BIRTH_DATE_TRIES = 5  # then the link is locked: the patient calls the clinic
TIMES_SHOWN = 12
SEARCH_WINDOWS = 3  # of MAX_WINDOW_DAYS each: about three months ahead


def _free(appointment: Appointment, start_date: date, end_date: date, limit: int) -> list[Slot]:
    order = appointment.procedure_order
    return free_slots(
        appointment_type=appointment.appointment_type,
        location=appointment.location,
        provider=appointment.provider,
        procedure_type=order.procedure_type if order is not None else None,
        levels=len(order.levels) if order is not None else 1,
        start_date=start_date,
        end_date=end_date,
        limit=limit,
    )


def offered_times(appointment: Appointment) -> list[Slot]:
    """The next free times of the visit's provider at its location, earliest first."""
    first_day = timezone.now().astimezone(appointment.location.zone).date()
    found: list[Slot] = []
    for window in range(SEARCH_WINDOWS):
        start_date = first_day + timedelta(days=window * MAX_WINDOW_DAYS)
        end_date = start_date + timedelta(days=MAX_WINDOW_DAYS - 1)
        found += _free(appointment, start_date, end_date, TIMES_SHOWN - len(found))
        if len(found) >= TIMES_SHOWN:
            break
    return found


def slot_value(slot: Slot) -> str:
    return slot.start.isoformat()


def offered_time(appointment: Appointment, value: str) -> Slot | None:
    """The chosen time if it is still offered (read on its own day: the list the page
    showed may have moved since)."""
    try:
        start = datetime.fromisoformat(value)
    except ValueError:
        return None
    if start.tzinfo is None:
        return None
    day = start.astimezone(appointment.location.zone).date()
    return next((slot for slot in _free(appointment, day, day, 200) if slot.start == start), None)
