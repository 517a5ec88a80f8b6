"""The calendar's JSON: the window endpoint (visits, flags, hours, closed time, exceptions,
fixed query count) and the move endpoint behind drag and drop."""

import json
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from clinic.users.actor import Actor
from patients.models import IntakeStatus, IntakeSubmission
from patients.tests.factories import PatientFactory
from patients.urgent import PHQ9_ITEM9, urgent_raise
from scheduling import services
from scheduling.calendar_selectors import Window, calendar_window
from scheduling.models import (
    Appointment,
    AppointmentStatus,
    ExceptionKind,
    ScheduleException,
    WorkingHours,
)
from scheduling.tests.factories import (
    AppointmentTypeFactory,
    LocationFactory,
    ProviderFactory,
    RoomFactory,
)
from sites.models import OpeningHours

pytestmark = pytest.mark.django_db
DENVER = ZoneInfo("America/Denver")
EVENTS = "/desk/calendar/events/"
MOVE = "/desk/calendar/move/"


def next_weekday(weekday: int) -> date:
    today = datetime.now(DENVER).date()
    return today + timedelta(days=(weekday - today.weekday()) % 7 + 7)


def make_site(providers: int = 2, rooms: int = 2):
    location = LocationFactory(time_zone="America/Denver", name="Denver Spine")
    doctors = [
        ProviderFactory(locations=[location], first_name=f"Doc{n}", last_name=f"Last{n:02d}")
        for n in range(providers)
    ]
    room_list = [RoomFactory(location=location, name=f"Exam {n:02d}") for n in range(rooms)]
    for doctor in doctors:
        WorkingHours.objects.bulk_create(
            WorkingHours(
                provider=doctor,
                location=location,
                weekday=weekday,
                start_time=time(7),
                end_time=time(19),
            )
            for weekday in range(7)
        )
    for weekday in range(7):
        OpeningHours.objects.create(
            location=location, weekday=weekday, opens=time(7), closes=time(19)
        )
    kind = AppointmentTypeFactory(color="#aa3377", buffer_after_minutes=0)
    return {"location": location, "doctors": doctors, "rooms": room_list, "type": kind}


@pytest.fixture
def site(db):
    return make_site()


def book(site, *, day, hour, minute=0, doctor=0, room=0, patient=None):
    return services.appointment_book(
        patient=patient or PatientFactory(),
        appointment_type=site["type"],
        provider=site["doctors"][doctor],
        location=site["location"],
        room=site["rooms"][room] if room is not None else None,
        start=datetime.combine(day, time(hour, minute)).replace(tzinfo=DENVER),
        by=Actor.system(),
    )


def window(client, site, day, days=1, **params):
    query = {
        "location": str(site["location"].pk),
        "start": str(day),
        "end": str(day + timedelta(days=days)),
        **params,
    }
    return client.get(EVENTS, query)


def visits(body) -> list[dict]:
    return [e for e in body["events"] if e.get("extendedProps", {}).get("kind") == "visit"]


# --- The window -----------------------------------------------------------------------------


def test_the_day_by_provider_has_each_visit_in_its_column_on_the_local_clock(
    client, front_desk_user, site
):
    day = next_weekday(1)
    first = book(site, day=day, hour=9, doctor=0, room=0)
    second = book(site, day=day, hour=10, minute=30, doctor=1, room=1)
    book(site, day=day + timedelta(days=1), hour=9)  # the next day: not in the window
    client.sign_in(front_desk_user)
    response = window(client, site, day)
    assert response.status_code == 200
    body = response.json()
    assert [r["title"] for r in body["resources"]] == [d.display_name for d in site["doctors"]], (
        "one column per provider, by last name"
    )
    shown = {e["id"]: e for e in visits(body)}
    assert set(shown) == {str(first.pk), str(second.pk)}
    one = shown[str(first.pk)]
    assert one["start"] == f"{day}T09:00:00" and one["end"] == f"{day}T09:20:00"
    assert one["resourceIds"] == [str(site["doctors"][0].pk)]
    assert one["title"] == first.patient.full_name
    props = one["extendedProps"]
    assert props["chart_url"] == f"/patients/{first.patient_id}/"
    assert props["color"] == "#aa3377" and props["status"] == "booked"
    assert props["visit_type"] == site["type"].name
    assert [m["to"] for m in props["moves"]] == ["checked_in", "no_show", "cancelled"]
    assert one["editable"] is True
    assert body["zone"] == "America/Denver"
    hours = [e for e in body["events"] if e.get("classNames") == ["hours"]]
    assert len(hours) == 2, "each provider's working hours as a background"
    assert hours[0]["display"] == "background" and hours[0]["start"] == f"{day}T07:00:00"
    closed = [e for e in body["events"] if e.get("classNames") == ["closed"]]
    assert {(e["start"], e["end"]) for e in closed} == {
        (f"{day}T00:00:00", f"{day}T07:00:00"),
        (f"{day}T19:00:00", f"{day + timedelta(days=1)}T00:00:00"),
    }, "the time outside the opening hours is closed"


def test_by_room_puts_visits_in_room_columns(client, front_desk_user, site):
    day = next_weekday(2)
    first = book(site, day=day, hour=9, doctor=0, room=1)
    client.sign_in(front_desk_user)
    body = window(client, site, day, by="room").json()
    assert [r["title"] for r in body["resources"]] == ["Exam 00", "Exam 01"]
    (shown,) = visits(body)
    assert shown["id"] == str(first.pk)
    assert shown["resourceIds"] == [str(site["rooms"][1].pk)]
    assert not [e for e in body["events"] if e.get("classNames") == ["hours"]]


def test_the_week_of_one_provider_and_the_month_of_loads(client, front_desk_user, site):
    day = next_weekday(0)
    book(site, day=day, hour=9, doctor=0)
    book(site, day=day, hour=10, doctor=0)
    book(site, day=day + timedelta(days=2), hour=9, doctor=1)
    client.sign_in(front_desk_user)
    week = window(client, site, day, days=7, provider=str(site["doctors"][0].pk)).json()
    assert len(visits(week)) == 2, "only the chosen provider's visits"
    assert [r["title"] for r in week["resources"]] == [site["doctors"][0].display_name]
    month = window(client, site, day - timedelta(days=7), days=35, by="day").json()
    loads = {e["start"]: e["title"] for e in month["events"] if "day-load" in e["classNames"]}
    assert loads == {str(day): "2 visits", str(day + timedelta(days=2)): "1 visit"}


def test_exceptions_show_as_time_off_and_closed_days(client, front_desk_user, site):
    day = next_weekday(3)
    ScheduleException.objects.create(
        kind=ExceptionKind.TIME_OFF,
        provider=site["doctors"][1],
        date=day,
        start_time=time(12),
        end_time=time(14),
        note="Dentist",
    )
    ScheduleException.objects.create(
        kind=ExceptionKind.HOLIDAY, location=site["location"], date=day + timedelta(days=1)
    )
    client.sign_in(front_desk_user)
    body = window(client, site, day, days=2).json()
    off = [e for e in body["events"] if e.get("classNames") == ["time-off"]]
    assert [(e["title"], e["start"], e["end"], e["resourceIds"]) for e in off] == [
        ("Dentist", f"{day}T12:00:00", f"{day}T14:00:00", [str(site["doctors"][1].pk)])
    ]
    holiday = [
        e
        for e in body["events"]
        if e.get("classNames") == ["closed"] and e["title"] == "Location closed"
    ]
    assert len(holiday) == 1 and holiday[0]["start"] == f"{day + timedelta(days=1)}T00:00:00"
    doctor_two_hours = [
        (e["start"], e["end"])
        for e in body["events"]
        if e.get("classNames") == ["hours"] and e["resourceIds"] == [str(site["doctors"][1].pk)]
    ]
    assert doctor_two_hours == [
        (f"{day}T07:00:00", f"{day}T12:00:00"),
        (f"{day}T14:00:00", f"{day}T19:00:00"),
    ], "the hours around the time off; none on the closed day"


def test_cards_carry_the_flags(client, front_desk_user, site):
    day = next_weekday(4)
    returning = PatientFactory()
    Appointment.objects.create(  # a completed visit last year: not a first visit
        patient=returning,
        appointment_type=site["type"],
        provider=site["doctors"][0],
        location=site["location"],
        start=datetime(2025, 1, 6, 9, tzinfo=DENVER),
        end=datetime(2025, 1, 6, 9, 20, tzinfo=DENVER),
        block_start=datetime(2025, 1, 6, 9, tzinfo=DENVER),
        block_end=datetime(2025, 1, 6, 9, 20, tzinfo=DENVER),
        status=AppointmentStatus.COMPLETED,
    )
    urgent = PatientFactory()
    intake = IntakeSubmission.objects.create(
        patient=urgent, status=IntakeStatus.SUBMITTED, urgent=True, urgent_reasons=["x"]
    )
    urgent_raise(
        patient=urgent, signs=[(PHQ9_ITEM9, "item 9: 1")], by=Actor.system(), intake=intake
    )
    seen = book(site, day=day, hour=9, patient=returning)
    flagged = book(site, day=day, hour=10, patient=urgent)
    Appointment.objects.filter(pk=flagged.pk).update(
        overbooked=True, overbook_reason="Squeezed in after a call"
    )
    client.sign_in(front_desk_user)
    shown = {e["id"]: e for e in visits(window(client, site, day).json())}
    assert shown[str(seen.pk)]["extendedProps"]["flags"] == []
    codes = [f["code"] for f in shown[str(flagged.pk)]["extendedProps"]["flags"]]
    assert codes == ["urgent", "first", "overbooked"]
    assert "flag-urgent" in shown[str(flagged.pk)]["classNames"]
    assert shown[str(flagged.pk)]["extendedProps"]["overbook_reason"] == "Squeezed in after a call"


def test_waits_show_from_the_stamps(client, front_desk_user, site):
    day = next_weekday(5)
    visit = book(site, day=day, hour=9)
    arrived = datetime.combine(day, time(8, 50)).replace(tzinfo=DENVER)
    Appointment.objects.filter(pk=visit.pk).update(
        status=AppointmentStatus.COMPLETED,
        checked_in_at=arrived,
        in_room_at=arrived + timedelta(minutes=25),
        completed_at=arrived + timedelta(minutes=45),
    )
    client.sign_in(front_desk_user)
    (shown,) = visits(window(client, site, day).json())
    waits = shown["extendedProps"]["waits"]
    assert waits == {
        "arrived": "08:50",
        "in_room": "09:15",
        "done": "09:35",
        "waited": 25,
        "in_room_minutes": 20,
    }
    assert shown["editable"] is False and shown["extendedProps"]["moves"] == []


def test_a_rescheduled_visit_shows_once(client, front_desk_user, site):
    day = next_weekday(1)
    visit = book(site, day=day, hour=9)
    services.appointment_reschedule(
        appointment=visit,
        start=datetime.combine(day, time(11)).replace(tzinfo=DENVER),
        by=Actor.system(),
    )
    client.sign_in(front_desk_user)
    shown = visits(window(client, site, day).json())
    assert [e["start"] for e in shown] == [f"{day}T11:00:00"]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"location": "nope"}, "location"),
        ({"start": "tomorrow"}, "start"),
        ({"end": ""}, "end"),
        ({"by": "desk"}, "by"),
        ({"provider": "not-a-uuid"}, "provider"),
    ],
)
def test_bad_input_is_a_400_naming_the_field(client, front_desk_user, site, params, field):
    client.sign_in(front_desk_user)
    day = next_weekday(1)
    query = {
        "location": str(site["location"].pk),
        "start": str(day),
        "end": str(day + timedelta(days=1)),
        **params,
    }
    response = client.get(EVENTS, query)
    assert response.status_code == 400
    assert list(response.json()["fields"]) == [field]


def test_a_window_too_long_or_backwards_is_a_400(client, front_desk_user, site):
    client.sign_in(front_desk_user)
    day = next_weekday(1)
    assert window(client, site, day, days=60).json()["fields"] == {
        "end": ["Ask for at most 42 days at once."]
    }
    assert window(client, site, day, days=0).status_code == 400


def test_the_endpoints_are_for_staff(client, patient_user, site):
    day = next_weekday(1)
    assert window(client, site, day).status_code == 401
    assert client.post(MOVE, "{}", content_type="application/json").status_code == 401
    client.sign_in(patient_user)
    assert window(client, site, day).status_code == 403
    assert client.post(MOVE, "{}", content_type="application/json").status_code == 403


# --- A fixed number of queries --------------------------------------------------------------


def fill_day(site, day, count: int, skip: int = 0) -> None:
    """`count` visits over the site's providers, 20 minutes each from 7:00 (after `skip`)."""
    doctors = len(site["doctors"])
    for index in range(skip, skip + count):
        slot = index // doctors
        book(
            site,
            day=day,
            hour=7 + slot // 3,
            minute=20 * (slot % 3),
            doctor=index % doctors,
            room=None,
        )


def count_queries(call) -> int:
    with CaptureQueriesContext(connection) as queries:
        call()
    return len(queries)


def test_the_window_takes_a_fixed_number_of_queries_at_1_and_150_visits(client, front_desk_user):
    site = make_site(providers=12, rooms=6)
    site["type"].room_kind = ""
    site["type"].save()
    day = next_weekday(2)
    selector = Window(location=site["location"], start=day, end=day + timedelta(days=1))
    client.sign_in(front_desk_user)
    counts = {}
    for total in (1, 150):
        existing = Appointment.objects.count()
        fill_day(site, day, total - existing, skip=existing)
        last = Appointment.objects.order_by("start").last()
        # A cancelled visit in each: the logged moves of the released ones are one query.
        services.appointment_move(appointment=last, to="cancelled", by=Actor.system(), reason="x")
        response = window(client, site, day)
        assert len(visits(response.json())) == total
        counts[total] = (
            count_queries(lambda: window(client, site, day)),
            count_queries(lambda: calendar_window(selector)),
        )
    # The selector: providers; visits; the released ones' logged moves; the availability
    # Calendar's
    # opening hours, hours, exceptions and busy times; urgent intakes, first completed
    # visits, procedures with holds. The request adds the session (and its renewal), the
    # user, its role groups and the location.
    assert counts[1][1] == counts[150][1] == 10
    assert counts[1][0] == counts[150][0]


# --- Moving by drag and drop ------------------------------------------------------------------


def post(client, data):
    return client.post(MOVE, json.dumps(data), content_type="application/json")


def test_a_drop_moves_the_visit_to_another_time_and_provider(client, front_desk_user, site):
    day = next_weekday(1)
    visit = book(site, day=day, hour=9, doctor=0, room=0)
    client.sign_in(front_desk_user)
    response = post(
        client,
        {
            "appointment": str(visit.pk),
            "start": f"{day}T13:15:00",
            "provider": str(site["doctors"][1].pk),
        },
    )
    assert response.status_code == 200, response.content
    body = response.json()
    moved = Appointment.objects.get(pk=body["after"]["appointment"])
    assert moved.start == datetime.combine(day, time(13, 15)).replace(tzinfo=DENVER)
    assert moved.provider == site["doctors"][1] and moved.room == site["rooms"][0]
    assert moved.booked_by == front_desk_user
    assert body["before"] == {
        "appointment": str(visit.pk),
        "start": f"{day}T09:00:00",
        "provider": str(site["doctors"][0].pk),
        "room": str(site["rooms"][0].pk),
    }
    visit.refresh_from_db()
    assert visit.status == AppointmentStatus.CANCELLED
    # Undo: the same service moves it back.
    back = post(
        client,
        {
            "appointment": body["after"]["appointment"],
            "start": body["before"]["start"],
            "provider": body["before"]["provider"],
            "room": body["before"]["room"],
        },
    )
    assert back.status_code == 200
    restored = Appointment.objects.get(pk=back.json()["after"]["appointment"])
    assert restored.start == visit.start and restored.provider == site["doctors"][0]


def test_a_drop_on_a_room_column_changes_the_room(client, front_desk_user, site):
    day = next_weekday(1)
    visit = book(site, day=day, hour=9, doctor=0, room=0)
    client.sign_in(front_desk_user)
    response = post(
        client,
        {"appointment": str(visit.pk), "start": f"{day}T09:00", "room": str(site["rooms"][1].pk)},
    )
    assert response.status_code == 200, response.content
    moved = Appointment.objects.get(pk=response.json()["after"]["appointment"])
    assert moved.room == site["rooms"][1] and moved.provider == site["doctors"][0]


def test_a_drop_on_a_taken_time_is_a_409_with_alternatives(client, front_desk_user, site):
    day = next_weekday(1)
    visit = book(site, day=day, hour=9, doctor=0, room=0)
    book(site, day=day, hour=11, doctor=0, room=1)
    client.sign_in(front_desk_user)
    response = post(client, {"appointment": str(visit.pk), "start": f"{day}T11:00"})
    assert response.status_code == 409
    body = response.json()
    assert body["alternatives"], body
    alternative = body["alternatives"][0]
    assert set(alternative) == {"start", "provider", "room", "label", "provider_name", "room_name"}
    assert alternative["start"].startswith(str(day))
    visit.refresh_from_db()
    assert visit.status == AppointmentStatus.BOOKED, "the visit stays where it was"
    taken = post(
        client,
        {
            "appointment": str(visit.pk),
            "start": alternative["start"],
            "provider": alternative["provider"],
            "room": alternative["room"],
        },
    )
    assert taken.status_code == 200


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"start": "noon"}, "start"),
        ({"provider": "not-a-uuid"}, "provider"),
        ({"room": "not-a-uuid"}, "room"),
    ],
)
def test_a_bad_drop_is_a_400_naming_the_field(client, front_desk_user, site, change, field):
    day = next_weekday(1)
    visit = book(site, day=day, hour=9)
    client.sign_in(front_desk_user)
    response = post(client, {"appointment": str(visit.pk), "start": f"{day}T10:00"} | change)
    assert response.status_code == 400
    assert field in response.json()["fields"]
    visit.refresh_from_db()
    assert visit.status == AppointmentStatus.BOOKED


def test_a_drop_into_the_spring_forward_gap_is_a_400(client, front_desk_user, site):
    visit = book(site, day=next_weekday(1), hour=9)
    client.sign_in(front_desk_user)
    response = post(client, {"appointment": str(visit.pk), "start": "2027-03-14T02:30"})
    assert response.status_code == 400
    assert "does not exist" in response.json()["fields"]["start"][0]


def test_a_drop_of_an_unknown_visit_is_a_404(client, front_desk_user, site):
    client.sign_in(front_desk_user)
    response = post(client, {"appointment": "00000000-0000-0000-0000-000000000000", "start": "x"})
    assert response.status_code == 404
    assert post(client, {"appointment": "garbage"}).status_code == 404
    assert client.post(MOVE, "[1]", content_type="application/json").status_code == 400


def test_a_procedure_with_a_hold_flags_the_visits_before_it_and_a_pending_authorization(
    client, front_desk_user, site
):
    from procedures.models import ProcedureOrder, ProcedureType

    day = next_weekday(1)
    patient = PatientFactory()
    consult = book(site, day=day, hour=9, patient=patient)
    procedure_kind = AppointmentTypeFactory(
        code="procedure", name="Procedure", kind="procedure", color="#7b1fa2"
    )
    order = ProcedureOrder.objects.create(
        patient=patient,
        procedure_type=ProcedureType.objects.first(),
        indication_code="M54.16",
        indication_text="Radiculopathy",
        status="scheduled",
        auth_status="pending",
    )
    start = datetime.combine(day + timedelta(days=5), time(10)).replace(tzinfo=DENVER)
    procedure = Appointment.objects.create(
        patient=patient,
        appointment_type=procedure_kind,
        provider=site["doctors"][1],
        location=site["location"],
        procedure_order=order,
        start=start,
        end=start + timedelta(minutes=30),
        block_start=start,
        block_end=start + timedelta(minutes=30),
        findings=[
            {
                "code": "hold:apixaban",
                "severity": "warn",
                "reason": "Stop apixaban on ...",
                "source": "ASRA",
                "details": {"hold_start": str(day + timedelta(days=2)), "hold_hours": 72},
            }
        ],
    )
    client.sign_in(front_desk_user)
    shown = {e["id"]: e for e in visits(window(client, site, day, days=7).json())}
    consult_flags = {
        f["code"]: f["label"] for f in shown[str(consult.pk)]["extendedProps"]["flags"]
    }
    hold_day = day + timedelta(days=2)
    assert consult_flags["hold"] == f"Medication hold from {hold_day:%b} {hold_day.day}"
    procedure_flags = [f["code"] for f in shown[str(procedure.pk)]["extendedProps"]["flags"]]
    assert "hold" in procedure_flags and "auth" in procedure_flags
    assert "auth" not in consult_flags, "the authorization is the procedure's"
    assert "apixaban" not in json.dumps(shown), "the desk sees that a hold starts, not the drug"
