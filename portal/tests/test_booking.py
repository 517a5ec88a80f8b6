"""The patient's booking pages and the rules behind them (enforced in the services, so the
API obeys them too): self-bookable visits, authorized procedures, notice, horizon, the cap
on upcoming visits, the online change cutoff, lost races, and other patients' data."""

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.cache import cache
from django.utils import timezone

from clinic.users.actor import Actor
from notifications.models import Message, MessageKind
from patients.tests.factories import PatientFactory
from procedures.models import OrderStatus, ProcedureType
from procedures.services import order_authorize, order_create
from scheduling.models import Appointment, AppointmentStatus, BookingPolicy, WorkingHours
from scheduling.services import appointment_book
from scheduling.tests.factories import AppointmentTypeFactory, LocationFactory, ProviderFactory
from sites.models import Room, RoomKind

pytestmark = pytest.mark.django_db

DENVER = ZoneInfo("America/Denver")


@pytest.fixture
def site(db):
    """A Denver clinic open every day 08:00-17:00 with one provider, one consult room and a
    fluoroscopy suite; a self-bookable follow-up and a self-bookable procedure type."""
    location = LocationFactory(time_zone="America/Denver", phone="+13035550100")
    provider = ProviderFactory(locations=[location], first_name="Ada", last_name="Quill")
    for weekday in range(7):
        WorkingHours.objects.create(
            provider=provider,
            location=location,
            weekday=weekday,
            start_time="08:00",
            end_time="17:00",
        )
    follow_up = AppointmentTypeFactory(
        code="follow_up", patient_bookable=True, min_notice_hours=24, max_horizon_days=30
    )
    procedure = AppointmentTypeFactory(
        code="procedure",
        name="Procedure",
        kind="procedure",
        room_kind="",
        patient_bookable=True,
        min_notice_hours=24,
        max_horizon_days=30,
    )
    return {
        "location": location,
        "provider": provider,
        "room": Room.objects.create(location=location, name="Consult 1", kind=RoomKind.CONSULT),
        "suite": Room.objects.create(location=location, name="Suite", kind=RoomKind.FLUOROSCOPY),
        "follow_up": follow_up,
        "procedure": procedure,
    }


@pytest.fixture
def patient_client(client, patient_user):
    client.sign_in(patient_user)
    return client


def day_after_tomorrow():
    return (timezone.now().astimezone(DENVER) + timedelta(days=2)).date()


def times_url(site, what, day=None, **extra):
    params = {
        "what": what,
        "location": site["location"].pk,
        "day": (day or day_after_tomorrow()).isoformat(),
        **extra,
    }
    return "/portal/book/times/?" + "&".join(f"{k}={v}" for k, v in params.items())


def slot_values(html: str) -> list[str]:
    return re.findall(r'name="slot" id="slot-\d+" value="([^"]+)"', html)


def post_slot(client, site, what, value, key="k1", **extra):
    data = {
        "what": what,
        "location": site["location"].pk,
        "slot": value,
        "idempotency_key": key,
        **extra,
    }
    return client.post("/portal/book/times/", data)


def authorized_order(patient, clinician, code="tfesi_ls", levels=("L4-L5",)):
    kind = ProcedureType.objects.get(code=code)
    order = order_create(
        patient=patient,
        procedure_type=kind,
        side="left",
        levels=list(levels),
        indication_code="M54.16",
        indication_text="Radiculopathy",
        auth_status="not_needed",
        by=Actor.desk(clinician),
    )
    return order_authorize(order=order, by=Actor.desk(clinician))


class TestChoosing:
    def test_the_patient_sees_self_bookable_visits_and_only_their_authorized_orders(
        self, site, patient_client, own_patient, other_patient, clinician_user
    ):
        AppointmentTypeFactory(
            code="new_consult", name="New-patient consult", patient_bookable=False
        )
        mine = authorized_order(own_patient, clinician_user)
        theirs = authorized_order(other_patient, clinician_user, code="mbb_ls")
        html = patient_client.get("/portal/book/").content.decode()
        assert "Follow-up" in html
        assert "New-patient consult" not in html, "not self-bookable"
        assert f"order:{mine.pk}" in html and mine.procedure_type.name in html
        assert f"order:{theirs.pk}" not in html

    def test_an_order_not_yet_authorized_is_not_offered(
        self, site, patient_client, own_patient, clinician_user
    ):
        order = order_create(
            patient=own_patient,
            procedure_type=ProcedureType.objects.get(code="tfesi_ls"),
            side="left",
            levels=["L4-L5"],
            indication_code="M54.16",
            indication_text="Radiculopathy",
            by=Actor.desk(clinician_user),
        )
        assert order.status == OrderStatus.ORDERED
        assert f"order:{order.pk}" not in patient_client.get("/portal/book/").content.decode()

    def test_choosing_leads_to_the_times_page(self, site, patient_client):
        response = patient_client.get(
            "/portal/book/",
            {"what": f"type:{site['follow_up'].pk}", "location": site["location"].pk},
        )
        assert response.status_code == 302
        assert response["Location"].startswith("/portal/book/times/?what=type")

    def test_a_missing_choice_is_a_400_with_the_error_next_to_the_field(self, site, patient_client):
        response = patient_client.get("/portal/book/", {"location": site["location"].pk})
        assert response.status_code == 400
        assert 'id="what-errors"' in response.content.decode()


class TestTimes:
    def test_free_times_are_shown_in_the_location_time_zone(self, site, patient_client):
        html = patient_client.get(times_url(site, f"type:{site['follow_up'].pk}")).content.decode()
        values = slot_values(html)
        assert values, "a full day of free times"
        first = datetime.fromisoformat(values[0].split("|")[0]).astimezone(DENVER)
        assert (first.hour, first.minute) == (8, 0)
        assert '<span class="time">8:00 AM</span><span class="who"> with Dr. Ada Quill' in html
        assert "times in Mountain Time" in html

    @pytest.mark.date_sensitive
    def test_a_week_asked_from_today_shows_today_empty_inside_the_notice(
        self, site, patient_client
    ):
        today = timezone.now().astimezone(DENVER).date()
        html = patient_client.get(
            times_url(site, f"type:{site['follow_up'].pk}", day=today)
        ).content.decode()
        first_day = html.split(f'id="day-{today.isoformat()}"')[1].split("</section>")[0]
        assert "No free times" in first_day
        assert slot_values(html), "the later days of the week have free times"

    def test_another_location_or_an_unknown_choice_is_404(self, site, patient_client):
        assert patient_client.get(times_url(site, "type:nonsense")).status_code == 404


class TestBooking:
    def test_booking_a_free_time_confirms_it_with_a_message_and_a_calendar_file(
        self, site, patient_client, own_patient
    ):
        what = f"type:{site['follow_up'].pk}"
        value = slot_values(patient_client.get(times_url(site, what)).content.decode())[3]
        response = post_slot(patient_client, site, what, value)
        appointment = Appointment.objects.get(patient=own_patient)
        assert response.status_code == 302
        assert response["Location"] == f"/portal/appointments/{appointment.pk}/booked/"
        assert appointment.start == datetime.fromisoformat(value.split("|")[0])
        page = patient_client.get(response["Location"]).content.decode()
        assert "Your visit is booked" in page
        assert "8:45 AM" in page  # local Denver time of the fourth slot
        assert Message.objects.filter(
            subject_id=appointment.pk, kind=MessageKind.APPOINTMENT_CONFIRMATION
        ).exists()
        ics = patient_client.get(f"/portal/appointments/{appointment.pk}/calendar.ics")
        assert ics["Content-Type"].startswith("text/calendar")
        assert b"BEGIN:VEVENT" in ics.content and b"Follow-up" not in ics.content

    def test_the_same_form_sent_twice_books_once(self, site, patient_client, own_patient):
        what = f"type:{site['follow_up'].pk}"
        value = slot_values(patient_client.get(times_url(site, what)).content.decode())[0]
        first = post_slot(patient_client, site, what, value, key="same")
        second = post_slot(patient_client, site, what, value, key="same")
        assert first["Location"] == second["Location"]
        assert Appointment.objects.filter(patient=own_patient).count() == 1

    def test_a_time_taken_meanwhile_shows_the_nearest_free_times_not_an_error_page(
        self, site, patient_client, own_patient, front_desk_user
    ):
        what = f"type:{site['follow_up'].pk}"
        value = slot_values(patient_client.get(times_url(site, what)).content.decode())[4]
        start = datetime.fromisoformat(value.split("|")[0])
        appointment_book(
            patient=PatientFactory(),
            appointment_type=site["follow_up"],
            provider=site["provider"],
            location=site["location"],
            room=site["room"],
            start=start,
            by=Actor.desk(front_desk_user),
        )
        response = post_slot(patient_client, site, what, value)
        html = response.content.decode()
        assert response.status_code in (400, 409)
        assert "These times are free nearby" in html
        alternatives = re.findall(r'id="alt-\d+" value="([^"]+)"', html)
        assert len(alternatives) == 3 and value not in alternatives
        # One of them books in one step from that page.
        response = post_slot(patient_client, site, what, alternatives[0], key="k2")
        assert response.status_code == 302
        assert Appointment.objects.filter(patient=own_patient).count() == 1

    def test_a_forged_slot_value_is_a_400(self, site, patient_client, own_patient):
        response = post_slot(patient_client, site, f"type:{site['follow_up'].pk}", "nonsense")
        assert response.status_code == 400
        assert "Choose one of the free times." in response.content.decode()
        assert not Appointment.objects.filter(patient=own_patient).exists()

    def test_an_authorized_procedure_is_booked_with_its_length_and_the_safety_check(
        self, site, patient_client, own_patient, clinician_user
    ):
        order = authorized_order(own_patient, clinician_user, levels=("L4-L5", "L5-S1"))
        site["provider"].procedure_types.add(order.procedure_type)
        what = f"order:{order.pk}"
        value = slot_values(patient_client.get(times_url(site, what)).content.decode())[0]
        assert post_slot(patient_client, site, what, value).status_code == 302
        appointment = Appointment.objects.get(patient=own_patient)
        minutes = order.procedure_type.minutes_for(2)
        assert appointment.end - appointment.start == timedelta(minutes=minutes)
        assert appointment.room == site["suite"]
        order.refresh_from_db()
        assert order.status == OrderStatus.SCHEDULED and order.checked_at is not None


class TestRulesHoldThroughTheApi:
    """The booking rules are the services', so calling the API directly changes nothing."""

    def book_by_api(self, client, site, start, kind=None):
        return client.post(
            "/api/v1/appointments/",
            {
                "appointment_type": (kind or site["follow_up"]).code,
                "provider": str(site["provider"].pk),
                "location": str(site["location"].pk),
                "room": str(site["room"].pk),
                "start": start.isoformat(),
            },
            content_type="application/json",
        )

    def local(self, days, hour):
        day = timezone.now().astimezone(DENVER).date() + timedelta(days=days)
        return datetime(day.year, day.month, day.day, hour, tzinfo=DENVER)

    def test_inside_the_notice_is_refused(self, site, patient_client):
        soon = timezone.now() + timedelta(hours=2)
        soon = soon.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
        response = self.book_by_api(patient_client, site, soon)
        assert response.status_code == 400
        assert "start" in response.json()["fields"]

    @pytest.mark.date_sensitive
    def test_beyond_the_horizon_is_refused(self, site, patient_client):
        response = self.book_by_api(patient_client, site, self.local(45, 9))
        assert response.status_code == 400
        assert "start" in response.json()["fields"]

    def test_a_type_the_clinic_books_is_refused(self, site, patient_client):
        consult = AppointmentTypeFactory(code="new_consult", patient_bookable=False)
        response = self.book_by_api(patient_client, site, self.local(3, 9), kind=consult)
        assert response.status_code == 400
        assert "appointment_type" in response.json()["fields"]

    def test_the_cap_on_upcoming_visits_is_a_409(self, site, patient_client, own_patient):
        BookingPolicy.objects.update_or_create(id=1, defaults={"max_future_bookings": 2})
        assert self.book_by_api(patient_client, site, self.local(3, 9)).status_code == 201
        assert self.book_by_api(patient_client, site, self.local(4, 9)).status_code == 201
        response = self.book_by_api(patient_client, site, self.local(5, 9))
        assert response.status_code == 409
        assert response.json()["code"] == "booking_cap"
        assert Appointment.objects.filter(patient=own_patient).count() == 2

    def test_staff_are_not_bound_by_the_cap(self, site, front_desk_user, own_patient):
        BookingPolicy.objects.update_or_create(id=1, defaults={"max_future_bookings": 1})
        for days in (3, 4):
            appointment_book(
                patient=own_patient,
                appointment_type=site["follow_up"],
                provider=site["provider"],
                location=site["location"],
                room=site["room"],
                start=self.local(days, 9),
                by=Actor.desk(front_desk_user),
            )
        assert Appointment.objects.filter(patient=own_patient).count() == 2

    def test_a_patient_cannot_book_for_someone_else(
        self, site, patient_client, own_patient, other_patient
    ):
        data = {
            "appointment_type": site["follow_up"].code,
            "provider": str(site["provider"].pk),
            "location": str(site["location"].pk),
            "room": str(site["room"].pk),
            "start": self.local(3, 10).isoformat(),
            "patient": str(other_patient.pk),
        }
        response = patient_client.post(
            "/api/v1/appointments/", data, content_type="application/json"
        )
        assert response.status_code == 201
        assert Appointment.objects.get(pk=response.json()["id"]).patient == own_patient
        assert not Appointment.objects.filter(patient=other_patient).exists()


def booked_for(patient, site, by, days=5, hour=9):
    day = timezone.now().astimezone(DENVER).date() + timedelta(days=days)
    return appointment_book(
        patient=patient,
        appointment_type=site["follow_up"],
        provider=site["provider"],
        location=site["location"],
        room=site["room"],
        start=datetime(day.year, day.month, day.day, hour, tzinfo=DENVER),
        by=Actor.portal(by) if by is not None else Actor.system(),
    )


class TestMyAppointments:
    def test_upcoming_and_past_are_listed_with_what_can_be_done(
        self, site, patient_client, own_patient, front_desk_user
    ):
        upcoming = booked_for(own_patient, site, front_desk_user)
        html = patient_client.get("/portal/appointments/").content.decode()
        assert f"?reschedule={upcoming.pk}" in html
        assert f"/portal/appointments/{upcoming.pk}/cancel/" in html
        assert "9:00 AM" in html  # Denver time

    def test_inside_the_cutoff_the_page_says_to_call_and_offers_no_buttons(
        self, site, patient_client, own_patient, front_desk_user
    ):
        BookingPolicy.objects.update_or_create(id=1, defaults={"change_cutoff_hours": 24 * 10})
        visit = booked_for(own_patient, site, front_desk_user)
        html = patient_client.get("/portal/appointments/").content.decode()
        assert "please call the clinic at (303) 555-0100" in html
        assert f"?reschedule={visit.pk}" not in html

    def test_cancelling_online(self, site, patient_client, own_patient, front_desk_user):
        visit = booked_for(own_patient, site, front_desk_user)
        response = patient_client.post(
            f"/portal/appointments/{visit.pk}/cancel/", {"reason": "Better"}
        )
        assert response.status_code == 302
        visit.refresh_from_db()
        assert visit.status == AppointmentStatus.CANCELLED
        assert visit.cancel_reason == "Cancelled by the patient online. Better"

    def test_cancelling_inside_the_cutoff_is_refused_by_the_service(
        self, site, patient_client, own_patient, front_desk_user
    ):
        BookingPolicy.objects.update_or_create(id=1, defaults={"change_cutoff_hours": 24 * 10})
        visit = booked_for(own_patient, site, front_desk_user)
        response = patient_client.post(f"/portal/appointments/{visit.pk}/cancel/", follow=True)
        assert "please call the clinic" in response.content.decode()
        visit.refresh_from_db()
        assert visit.status == AppointmentStatus.BOOKED
        api = patient_client.post(
            f"/api/v1/appointments/{visit.pk}/cancel/",
            {"reason": "x"},
            content_type="application/json",
        )
        assert api.status_code == 409 and api.json()["code"] == "too_late_to_change"

    def test_rescheduling_moves_the_visit_and_its_reminders(
        self, site, patient_client, own_patient, front_desk_user
    ):
        visit = booked_for(own_patient, site, front_desk_user)
        page = patient_client.get(
            f"/portal/book/times/?reschedule={visit.pk}&day={day_after_tomorrow()}"
        )
        value = slot_values(page.content.decode())[2]
        response = patient_client.post(
            "/portal/book/times/", {"reschedule": visit.pk, "slot": value, "idempotency_key": "r1"}
        )
        assert response.status_code == 302
        visit.refresh_from_db()
        moved = Appointment.objects.get(patient=own_patient, status=AppointmentStatus.BOOKED)
        assert visit.status == AppointmentStatus.CANCELLED
        assert moved.start == datetime.fromisoformat(value.split("|")[0])
        reminder = Message.objects.get(subject_id=moved.pk, variant="24h")
        assert reminder.due_at == moved.start - timedelta(days=1)

    def test_the_page_keeps_a_fixed_number_of_queries(
        self, site, patient_client, own_patient, front_desk_user, django_assert_max_num_queries
    ):
        booked_for(own_patient, site, front_desk_user)
        with django_assert_max_num_queries(20) as few:
            patient_client.get("/portal/appointments/")
        for days in range(6, 12):
            booked_for(own_patient, site, front_desk_user, days=days)
        with django_assert_max_num_queries(len(few.captured_queries)):
            patient_client.get("/portal/appointments/")


class TestOtherPatients:
    def test_another_patients_appointment_is_404_on_every_page_and_the_api(
        self, site, patient_client, other_patient, front_desk_user
    ):
        theirs = booked_for(other_patient, site, front_desk_user)
        for url in (
            f"/portal/appointments/{theirs.pk}/booked/",
            f"/portal/appointments/{theirs.pk}/calendar.ics",
            f"/portal/book/times/?reschedule={theirs.pk}",
            f"/api/v1/appointments/{theirs.pk}/",
            f"/api/v1/appointments/{theirs.pk}/calendar.ics",
        ):
            response = patient_client.get(url)
            assert response.status_code == 404, url
            assert other_patient.legal_last_name.encode() not in response.content
        for url in (
            f"/portal/appointments/{theirs.pk}/cancel/",
            f"/api/v1/appointments/{theirs.pk}/cancel/",
        ):
            assert patient_client.post(url, {"reason": "x"}).status_code == 404, url
        theirs.refresh_from_db()
        assert theirs.status == AppointmentStatus.BOOKED
        assert theirs.pk.hex not in patient_client.get("/portal/appointments/").content.decode()

    def test_staff_do_not_use_the_portal(self, client, front_desk_user):
        client.sign_in(front_desk_user)
        assert client.get("/portal/book/").status_code == 403


class TestWaitlist:
    @pytest.mark.date_sensitive
    def test_joining_the_waiting_list(self, site, patient_client, own_patient):
        today = timezone.localdate()
        response = patient_client.post(
            "/portal/waitlist/",
            {
                "appointment_type": site["follow_up"].pk,
                "earliest": today.isoformat(),
                "latest": (today + timedelta(days=10)).isoformat(),
            },
        )
        assert response.status_code == 302
        assert own_patient.waitlist_entries.count() == 1
        assert "You are waiting for" in patient_client.get("/portal/waitlist/").content.decode()

    def test_a_window_ending_before_it_starts_is_a_400(self, site, patient_client, own_patient):
        today = timezone.localdate()
        response = patient_client.post(
            "/portal/waitlist/",
            {
                "appointment_type": site["follow_up"].pk,
                "earliest": (today + timedelta(days=5)).isoformat(),
                "latest": today.isoformat(),
            },
        )
        assert response.status_code == 400
        assert "The last day is before the first." in response.content.decode()
        assert own_patient.waitlist_entries.count() == 0


@pytest.fixture
def booking_counters(patient_user, front_desk_user):
    """The booking counters of this test's client and users cleared before and after:
    only these keys, never the whole shared cache."""
    from clinic.core.ratelimit import _key

    keys = [_key("booking", "ip", "127.0.0.1")] + [
        _key("booking", "account", str(user.pk)) for user in (patient_user, front_desk_user)
    ]
    cache.delete_many(keys)
    yield
    cache.delete_many(keys)


def test_booking_posts_are_rate_limited_per_account(
    site, patient_client, own_patient, settings, booking_counters
):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "booking": "3/min"}
    what = f"type:{site['follow_up'].pk}"
    codes = [
        post_slot(patient_client, site, what, "nonsense", key=f"k{i}").status_code for i in range(5)
    ]
    assert codes[:3] == [400, 400, 400]
    assert codes[3:] == [429, 429]


def test_booking_through_the_api_is_rate_limited_for_patients_not_staff(
    site, patient_client, client, front_desk_user, settings, booking_counters
):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "booking": "2/min"}
    codes = [
        patient_client.post(
            "/api/v1/appointments/", {}, content_type="application/json"
        ).status_code
        for _ in range(3)
    ]
    assert codes == [400, 400, 429]
    client.sign_in(front_desk_user)
    staff = [
        client.post("/api/v1/appointments/", {}, content_type="application/json").status_code
        for _ in range(3)
    ]
    assert staff == [400, 400, 400]
