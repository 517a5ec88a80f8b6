"""A small clinic whose operations figures are worked out by hand in the tests.

Two locations (North and South, both in Chicago's zone), two providers, two rooms, two kinds
of visit, eight visits on Monday 2 and Tuesday 3 November 2026, three waitlist entries and
five messages. The rows are written directly: the tests are about the reports, and each
row's times (when it was booked, cancelled, checked in) must be exactly the ones planned."""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from notifications.models import Message
from patients.models import Patient
from patients.tests.factories import PatientFactory
from scheduling.models import (
    Appointment,
    AppointmentStatusChange,
    AppointmentType,
    ScheduleException,
    WaitlistEntry,
    WaitlistOffer,
    WorkingHours,
)
from scheduling.selectors import RESCHEDULED
from scheduling.tests.factories import AppointmentTypeFactory, LocationFactory, RoomFactory
from sites.models import Location, OpeningHours, Provider, ProviderKind, Room

ZONE = ZoneInfo("America/Chicago")
MONDAY, TUESDAY = date(2026, 11, 2), date(2026, 11, 3)
START, END = MONDAY, TUESDAY


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=ZONE)


@dataclass
class SmallClinic:
    north: Location
    south: Location
    able: Provider  # Dr. Ann Able, MD
    baker: Provider  # Ben Baker, PA-C
    north_room: Room
    south_room: Room
    follow_up: AppointmentType
    consult: AppointmentType
    patients: list[Patient]
    visits: dict[int, Appointment]


def _visit(clinic: SmallClinic, number: int, **fields) -> Appointment:
    kind: AppointmentType = fields.pop("kind")
    start: datetime = fields.pop("start")
    booked_ahead: timedelta = fields.pop("booked_ahead")
    end = start + timedelta(minutes=kind.duration_minutes)
    visit = Appointment.objects.create(
        patient=clinic.patients[number % len(clinic.patients)],
        appointment_type=kind,
        start=start,
        end=end,
        block_start=start,
        block_end=end + timedelta(minutes=kind.buffer_after_minutes),
        **fields,
    )
    Appointment.objects.filter(pk=visit.pk).update(created_at=start - booked_ahead)
    clinic.visits[number] = visit
    return visit


def _cancelled_at(visit: Appointment, when: datetime) -> None:
    AppointmentStatusChange.objects.create(
        appointment=visit, from_status="booked", to_status="cancelled", at=when, channel="desk"
    )


def build_small_clinic() -> SmallClinic:
    north = LocationFactory(name="North", time_zone="America/Chicago")
    south = LocationFactory(name="South", time_zone="America/Chicago")
    able = Provider.objects.create(first_name="Ann", last_name="Able", credentials="MD")
    baker = Provider.objects.create(
        first_name="Ben",
        last_name="Baker",
        credentials="PA-C",
        kind=ProviderKind.PHYSICIAN_ASSISTANT,
    )
    clinic = SmallClinic(
        north=north,
        south=south,
        able=able,
        baker=baker,
        north_room=RoomFactory(location=north, name="Exam 1"),
        south_room=RoomFactory(location=south, name="Exam 2"),
        follow_up=AppointmentTypeFactory(),  # 20 minutes and 10 after
        consult=AppointmentTypeFactory(
            code="new_consult",
            name="New-patient consult",
            kind="new_consult",
            duration_minutes=40,
            buffer_after_minutes=10,
        ),
        patients=[PatientFactory() for _ in range(3)],
        visits={},
    )
    _hours(clinic)
    _visits(clinic)
    _waitlist(clinic)
    _messages(clinic)
    return clinic


def _hours(c: SmallClinic) -> None:
    WorkingHours.objects.create(
        provider=c.able, location=c.north, weekday=0, start_time=time(8), end_time=time(12)
    )
    WorkingHours.objects.create(
        provider=c.baker, location=c.north, weekday=1, start_time=time(8), end_time=time(12)
    )
    WorkingHours.objects.create(
        provider=c.baker, location=c.south, weekday=1, start_time=time(9), end_time=time(11)
    )
    ScheduleException.objects.create(
        kind="time_off",
        provider=c.baker,
        location=c.north,
        date=TUESDAY,
        start_time=time(8),
        end_time=time(9),
    )
    for weekday in (0, 1):
        OpeningHours.objects.create(
            location=c.north, weekday=weekday, opens=time(8), closes=time(17)
        )
    OpeningHours.objects.create(location=c.south, weekday=1, opens=time(9), closes=time(17))


def _visits(c: SmallClinic) -> None:
    day = timedelta(days=1)
    north_able = {"provider": c.able, "location": c.north, "room": c.north_room}
    _visit(
        c,
        1,
        kind=c.follow_up,
        start=at(MONDAY, 9),
        booked_ahead=10 * day,
        status="completed",
        checked_in_at=at(MONDAY, 8, 55),
        in_room_at=at(MONDAY, 9, 5),
        completed_at=at(MONDAY, 9, 25),
        confirmed_at=at(MONDAY, 7),
        **north_able,
    )
    _visit(
        c,
        2,
        kind=c.follow_up,
        start=at(MONDAY, 10),
        booked_ahead=3 * day,
        status="no_show",
        **north_able,
    )
    late = _visit(
        c,
        3,
        kind=c.consult,
        start=at(MONDAY, 11),
        booked_ahead=20 * day,
        status="cancelled",
        cancel_reason="Sick",
        **north_able,
    )
    _cancelled_at(late, at(MONDAY, 9))
    early = _visit(
        c,
        4,
        kind=c.follow_up,
        start=at(MONDAY, 13),
        booked_ahead=40 * day,
        status="cancelled",
        cancel_reason="Weather",
        **north_able,
    )
    _cancelled_at(early, at(MONDAY, 13) - 3 * day)
    _visit(
        c,
        5,
        kind=c.follow_up,
        start=at(TUESDAY, 9),
        booked_ahead=timedelta(hours=2),
        status="completed",
        checked_in_at=at(TUESDAY, 9),
        in_room_at=at(TUESDAY, 9, 20),
        completed_at=at(TUESDAY, 9, 50),
        provider=c.baker,
        location=c.north,
        room=c.north_room,
    )
    _visit(
        c,
        6,
        kind=c.consult,
        start=at(TUESDAY, 10),
        booked_ahead=5 * day,
        status="completed",
        checked_in_at=at(TUESDAY, 9, 50),
        in_room_at=at(TUESDAY, 9, 55),
        completed_at=at(TUESDAY, 10, 45),
        confirmed_at=at(TUESDAY, 8),
        provider=c.baker,
        location=c.south,
        room=c.south_room,
    )
    _visit(
        c,
        7,
        kind=c.follow_up,
        start=at(TUESDAY, 13),
        booked_ahead=day,
        status="cancelled",
        cancel_reason=RESCHEDULED,
        provider=c.baker,
        location=c.north,
        room=c.north_room,
    )
    _visit(
        c,
        8,
        kind=c.follow_up,
        start=at(TUESDAY, 14),
        booked_ahead=-day,
        status="no_show",
        provider=c.baker,
        location=c.south,
        room=c.south_room,
    )


def _waitlist(c: SmallClinic) -> None:
    filled = WaitlistEntry.objects.create(
        patient=c.patients[0],
        appointment_type=c.follow_up,
        earliest=MONDAY,
        latest=TUESDAY,
        status="booked",
    )
    withdrawn = WaitlistEntry.objects.create(
        patient=c.patients[1],
        appointment_type=c.follow_up,
        earliest=MONDAY,
        latest=TUESDAY,
        status="withdrawn",
    )
    waiting = WaitlistEntry.objects.create(
        patient=c.patients[2],
        appointment_type=c.consult,
        earliest=MONDAY,
        latest=TUESDAY,
    )
    for entry in (filled, withdrawn, waiting):
        WaitlistEntry.objects.filter(pk=entry.pk).update(created_at=at(MONDAY, 8))
    offer = {
        "provider": c.baker,
        "location": c.north,
        "start": at(TUESDAY, 9),
        "expires_at": at(MONDAY, 12),
    }
    WaitlistOffer.objects.create(entry=filled, status="accepted", appointment=c.visits[5], **offer)
    WaitlistOffer.objects.create(entry=withdrawn, status="expired", **offer)


def _messages(c: SmallClinic) -> None:
    plan = [  # visit, channel, kind, state
        (1, "sms", "appointment_reminder", "sent"),
        (2, "email", "appointment_reminder", "failed"),
        (5, "email", "appointment_confirmation", "sent"),
        (3, "sms", "appointment_reminder", "cancelled"),
        (6, "sms", "appointment_reminder", "pending"),
    ]
    for number, channel, kind, state in plan:
        visit = c.visits[number]
        due = visit.start - timedelta(hours=3)
        Message.objects.create(
            patient=visit.patient,
            location=visit.location,
            channel=channel,
            kind=kind,
            subject_type="appointment",
            subject_id=visit.pk,
            due_at=due,
            send_after=due,
            state=state,
            sent_at=due if state == "sent" else None,
        )
