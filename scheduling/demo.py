"""Demo appointment types, working hours, two weeks of visits either side of today, and the
visits of the procedure orders the procedures demo made ready (run after it)."""

import random
from datetime import datetime, time, timedelta
from uuid import UUID

from django.utils import timezone

from clinic.core.demo import DemoContext
from clinic.core.errors import Conflict, ValidationFailed
from clinic.users.actor import Actor
from patients.models import Patient
from procedures.demo import ORDERS_TO_BOOK
from procedures.models import OrderStatus, ProcedureOrder, ProcedureType
from sites.models import Provider, ProviderKind, RoomKind

from .availability import free_slots
from .models import (
    Appointment,
    AppointmentStatus,
    AppointmentType,
    BookingPolicy,
    ScheduleException,
    WorkingHours,
)
from .services import appointment_backfill, appointment_book, appointment_move
from .spanish import APPOINTMENT_TYPE_NAMES_ES

# code, name, kind, minutes, buffer after, room kind, patient-bookable, colour
APPOINTMENT_TYPES = [
    (
        "new_consult",
        "New-patient consult",
        "new_consult",
        40,
        10,
        RoomKind.CONSULT,
        True,
        "#0b5cad",
    ),
    ("follow_up", "Follow-up", "follow_up", 20, 10, RoomKind.CONSULT, True, "#2e7d32"),
    ("procedure", "Procedure", "procedure", 30, 0, "", True, "#b45309"),
    ("pump_refill", "Pump refill", "pump_refill", 20, 10, RoomKind.PROCEDURE, False, "#6d28d9"),
    ("telehealth", "Telehealth visit", "telehealth", 20, 0, "", True, "#0e7490"),
]
MORNING, AFTERNOON = (time(8), time(12)), (time(13), time(17))


def seed_hours(ctx: DemoContext) -> None:
    """Appointment types and weekday sessions: a provider of two sites splits the week."""
    for code, name, kind, minutes, after, room_kind, bookable, colour in APPOINTMENT_TYPES:
        AppointmentType.objects.update_or_create(
            code=code,
            defaults={
                "name": name,
                "name_es": APPOINTMENT_TYPE_NAMES_ES.get(code, ""),
                "kind": kind,
                "duration_minutes": minutes,
                "buffer_after_minutes": after,
                "room_kind": room_kind,
                "patient_bookable": bookable,
                "color": colour,
            },
        )
    # The demo patient already holds three upcoming visits; leave room to book online.
    BookingPolicy.objects.update_or_create(id=1, defaults={"max_future_bookings": 5})
    procedures = list(ProcedureType.objects.filter(is_active=True))
    sessions = 0
    for provider in Provider.objects.prefetch_related("locations"):
        if provider.kind == ProviderKind.PHYSICIAN:
            provider.procedure_types.set(procedures)
        sites = sorted(provider.locations.all(), key=lambda loc: loc.code)
        for weekday in range(5):
            site = sites[weekday % len(sites)]
            for start, end in (MORNING, AFTERNOON):
                WorkingHours.objects.get_or_create(
                    provider=provider,
                    location=site,
                    weekday=weekday,
                    start_time=start,
                    defaults={"end_time": end},
                )
                sessions += 1
    ctx.counts["weekly sessions"] = sessions


DEMO_WEEKS = 2  # of history and of bookings ahead
# Today's procedure list of the demo physician: this many visits within this time from now.
TODAY_LIST_SIZE = 3
TODAY_LIST_LENGTH = timedelta(hours=3)
# A list cannot run past this local time (the extra session's latest end).
LATEST_END = time(23, 45)
PAST_ENDINGS = [  # how past visits ended, with their weights
    (AppointmentStatus.COMPLETED, 16),
    (AppointmentStatus.NO_SHOW, 2),
    (AppointmentStatus.CANCELLED, 3),
]
# Today's next visits are under way: the first is in a room, the two after it checked in.
TODAY_STEPS = [AppointmentStatus.CHECKED_IN, AppointmentStatus.IN_ROOM]
STEPS_BY_ORDER = {0: 2, 1: 1, 2: 1}


CANCEL_REASONS = ["Patient called to cancel", "Sick", "Transport fell through", "Weather"]


def seed_appointments(ctx: DemoContext) -> None:
    """Two weeks of history (completed, no-shows, cancellations) and two weeks of bookings,
    today's partly checked in, in every site's own time zone. Only on a clinic with no
    appointments yet, so seeding twice adds nothing."""
    if Appointment.objects.exists():
        ctx.counts["appointments"] = 0
        return
    rng = random.Random(20261122)
    desk = ctx.made["frontdesk"]
    kinds = [AppointmentType.objects.get(code=code) for code in ("follow_up", "new_consult")]
    by_site: dict[UUID | None, list[Patient]] = {}
    for patient in ctx.made["patients"]:
        by_site.setdefault(patient.home_location_id, []).append(patient)
    made = 0
    for location in ctx.made["locations"]:
        today = timezone.now().astimezone(location.zone).date()
        _open_now(location)
        for offset in range(-7 * DEMO_WEEKS, 7 * DEMO_WEEKS + 1):
            day = today + timedelta(days=offset)
            made += _seed_day(
                rng, desk, kinds, location, day, today, by_site[location.pk], ctx.made["physician"]
            )
    ctx.counts["appointments"] = made


def _open_now(location) -> None:
    """An extra session around the present hour, so today's board always has visits done,
    under way and still to come, whatever the day and hour the demo is loaded."""
    now = timezone.now().astimezone(location.zone)
    start = max(now - timedelta(hours=2), now.replace(hour=0, minute=0))
    end = min(now + timedelta(hours=3), now.replace(hour=23, minute=45))
    provider = location.providers.order_by("last_name").first()
    ScheduleException.objects.get_or_create(
        kind="extra_session",
        provider=provider,
        location=location,
        date=now.date(),
        defaults={
            "start_time": start.replace(
                minute=start.minute // 15 * 15, second=0, microsecond=0
            ).time(),
            "end_time": end.replace(minute=end.minute // 15 * 15, second=0, microsecond=0).time(),
            "note": "Demo: the clinic is open now",
        },
    )


def _kept_for_procedures(slot, physician) -> bool:
    """The demo physician's next hours stay free of consults: today's procedure list
    (seed_todays_procedures) is booked there."""
    now = timezone.now()
    list_end = now + TODAY_LIST_LENGTH + timedelta(minutes=15)  # from the next quarter hour
    return slot.provider.user_id == physician.pk and slot.end > now and slot.start < list_end


def _seed_day(rng, desk, kinds, location, day, today, patients, physician) -> int:
    made = upcoming = 0
    # Today's visits are the short kind: late in the evening the session around the present
    # hour has room for several of them to be under way, not for one long consult.
    kind = kinds[0] if day == today else kinds[day.toordinal() % len(kinds)]
    past = day < today
    slots = free_slots(
        appointment_type=kind,
        location=location,
        start_date=day,
        end_date=day,
        for_staff=True,
        now=datetime.combine(day, time.min, tzinfo=location.zone) if past else None,
    )
    taken = set()
    # Today takes every slot of the session around the present hour: late in the evening
    # that session is short, and a stride could leave no visit to check in.
    stride = 1 if day == today else rng.choice([3, 4])
    for slot in slots[::stride]:
        if (slot.provider.pk, slot.start) in taken or _kept_for_procedures(slot, physician):
            continue
        patient = rng.choice(patients)
        fields = {
            "patient": patient,
            "appointment_type": kind,
            "provider": slot.provider,
            "location": location,
            "room": slot.room,
            "start": slot.start,
        }
        try:
            if past or slot.start <= timezone.now():
                status = rng.choices([s for s, _ in PAST_ENDINGS], [w for _, w in PAST_ENDINGS])[0]
                if day == today:
                    status = AppointmentStatus.COMPLETED
                reason = rng.choice(CANCEL_REASONS) if status == AppointmentStatus.CANCELLED else ""
                appointment_backfill(status=status, by=Actor.seeding(desk), reason=reason, **fields)
            else:
                appointment = appointment_book(by=Actor.seeding(desk), **fields)
                steps = STEPS_BY_ORDER.get(upcoming, 0) if day == today else 0
                for step in TODAY_STEPS[:steps]:
                    appointment = appointment_move(
                        appointment=appointment, to=step, by=Actor.seeding(desk)
                    )
                upcoming += 1
        except (Conflict, ValidationFailed):
            continue  # the patient is busy then, or a neighbour took the room: skip it
        taken.add((slot.provider.pk, slot.start))
        made += 1
    return made


# The planned day first, then the days around it, for a procedure visit with a free slot.
PROCEDURE_DAYS = (0, 1, -1, 2, -2)
SLOTS_TRIED = 12


def seed_procedure_visits(ctx: DemoContext) -> None:
    """Book a visit for each order procedures.demo made ready, on or near its planned day:
    booking schedules the order, so no order is "scheduled" without a visit behind it. An
    order with no free slot, or one the safety check now blocks, stays authorized."""
    order_ids = ctx.made.get(ORDERS_TO_BOOK, [])
    orders = ProcedureOrder.objects.filter(
        pk__in=order_ids, status=OrderStatus.AUTHORIZED
    ).select_related("procedure_type", "patient__home_location")
    kind = AppointmentType.objects.get(code="procedure")
    by = Actor.seeding(ctx.made["frontdesk"])
    portal_patient = ctx.made["patients"][0]
    waiting = list(orders.exclude(patient=portal_patient).order_by("planned_date", "ordered_at"))
    booked = seed_todays_procedures(ctx, waiting, kind, by)
    ctx.counts["procedure visits today"] = booked
    for order in orders.filter(status=OrderStatus.AUTHORIZED).order_by(
        "planned_date", "ordered_at"
    ):
        location = order.patient.home_location or ctx.made["locations"][0]
        booked += _book_procedure(order, kind, location, by)
    ctx.counts["procedure visits"] = booked


def _book_procedure(order: ProcedureOrder, kind: AppointmentType, location, by: Actor) -> int:
    planned = order.planned_date or timezone.localdate()
    for offset in PROCEDURE_DAYS:
        day = planned + timedelta(days=offset)
        slots = free_slots(
            appointment_type=kind,
            location=location,
            procedure_type=order.procedure_type,
            levels=len(order.levels),
            start_date=day,
            end_date=day,
            for_staff=True,
        )
        for slot in slots[:SLOTS_TRIED]:
            try:
                appointment_book(
                    patient=order.patient,
                    appointment_type=kind,
                    provider=slot.provider,
                    location=location,
                    room=slot.room,
                    start=slot.start,
                    by=by,
                    procedure_order=order,
                )
            except Conflict as refused:
                if refused.code == "safety_block":
                    return 0  # left for the clinician: the order stays authorized
                continue  # the patient is busy then: the next slot
            except ValidationFailed:
                continue
            return 1
    return 0


def seed_todays_procedures(ctx: DemoContext, orders: list, kind: AppointmentType, by: Actor) -> int:
    """Book up to TODAY_LIST_SIZE of `orders` today with the demo physician, so the
    physician's worklist has procedure patients whatever the day the demo is loaded. The
    clinic's weekly hours are weekdays only; on a weekend or after hours the demo opens an
    extra session (as _open_now does for the desk), because a demo is explored the day it is
    loaded. An order the safety check refuses for today stays for its planned day."""
    provider = Provider.objects.filter(user=ctx.made["physician"]).first()
    if provider is None:
        return 0
    location = _latest_site(provider)
    if location is None or not _open_list(provider, location):
        return 0
    today = timezone.now().astimezone(location.zone).date()
    # Only the orders procedures.demo planned for today (in its zone, a day either side of
    # this site's): a booking attempt re-runs an order's safety check for the day tried, so
    # trying today an order planned weeks ahead would leave it checked for the wrong day.
    todays = [o for o in orders if o.planned_date and abs((o.planned_date - today).days) <= 1]
    booked = 0
    for order in todays:
        if booked == TODAY_LIST_SIZE:
            break
        booked += _book_today(order, kind, provider, location, today, by)
    return booked


def _latest_site(provider: Provider):
    """The provider's site where the day has the most time left (the later time zone)."""
    now = timezone.now()

    def time_left(location) -> timedelta:
        local = now.astimezone(location.zone)
        return datetime.combine(local.date(), LATEST_END, tzinfo=location.zone) - local

    return max(provider.locations.all(), key=time_left, default=None)


def _open_list(provider: Provider, location) -> bool:
    """An extra session for the provider from the next quarter hour, TODAY_LIST_LENGTH long
    or to LATEST_END; False when too little of the day is left for one procedure."""
    now = timezone.now().astimezone(location.zone)
    start = (now + timedelta(minutes=15 - now.minute % 15)).replace(second=0, microsecond=0)
    if start.date() != now.date():
        return False
    latest = datetime.combine(now.date(), LATEST_END, tzinfo=location.zone)
    end = min(start + TODAY_LIST_LENGTH, latest)
    if end - start < timedelta(minutes=30):
        return False
    ScheduleException.objects.get_or_create(
        kind="extra_session",
        provider=provider,
        location=location,
        date=now.date(),
        start_time=start.time(),
        defaults={"end_time": end.time(), "note": "Demo: today's procedure list"},
    )
    return True


def _book_today(order: ProcedureOrder, kind: AppointmentType, provider, location, today, by) -> int:
    slots = free_slots(
        appointment_type=kind,
        location=location,
        provider=provider,
        procedure_type=order.procedure_type,
        levels=len(order.levels),
        start_date=today,
        end_date=today,
        for_staff=True,
    )
    for slot in slots[:SLOTS_TRIED]:
        try:
            appointment_book(
                patient=order.patient,
                appointment_type=kind,
                provider=provider,
                location=location,
                room=slot.room,
                start=slot.start,
                by=by,
                procedure_order=order,
            )
        except Conflict as refused:
            if refused.code == "safety_block":
                return 0
            continue
        except ValidationFailed:
            continue
        return 1
    return 0
