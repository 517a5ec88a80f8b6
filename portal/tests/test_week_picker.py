"""The portal's week of free times: where it opens, how it groups and filters, each
provider's next free time, the zone named for people, the confirmation a second visit on one
day asks for, and a number of queries that does not grow with providers or free times."""

import re
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from clinic.users.actor import Actor
from scheduling.models import Appointment, AppointmentStatus, WorkingHours
from scheduling.services import appointment_book
from scheduling.tests.factories import AppointmentTypeFactory, LocationFactory, ProviderFactory
from sites.models import Room, RoomKind

pytestmark = pytest.mark.django_db

DENVER = ZoneInfo("America/Denver")
# The times page: the user and their groups, the patient, the bookable kinds (2), the
# location, the look ahead for every provider (7), the location's providers, the week (7),
# the clinics for the filter, the audit row; and the session.
WEEK_QUERIES = 24


def local_today():
    return timezone.now().astimezone(DENVER).date()


def working(provider, location, *, from_day=None, hours=(time(8), time(17))):
    for weekday in range(7):
        WorkingHours.objects.create(
            provider=provider,
            location=location,
            weekday=weekday,
            start_time=hours[0],
            end_time=hours[1],
            valid_from=from_day,
        )


@pytest.fixture
def clinic(db):
    """A Denver clinic whose one provider starts seeing patients ten days from now, a second
    clinic elsewhere, and a self-bookable follow-up (24 h notice, 30 days ahead)."""
    location = LocationFactory(time_zone="America/Denver", name="Foothills", phone="+13035550100")
    other = LocationFactory(time_zone="America/Denver", name="Lakeside")
    quill = ProviderFactory(locations=[location], first_name="Ada", last_name="Quill")
    working(quill, location, from_day=local_today() + timedelta(days=10))
    Room.objects.create(location=location, name="Consult 1", kind=RoomKind.CONSULT)
    Room.objects.create(location=location, name="Consult 2", kind=RoomKind.CONSULT)
    follow_up = AppointmentTypeFactory(
        code="follow_up",
        name="Follow-up",
        patient_bookable=True,
        min_notice_hours=24,
        max_horizon_days=30,
    )
    return {"location": location, "other": other, "quill": quill, "follow_up": follow_up}


@pytest.fixture
def patient_client(client, patient_user):
    client.sign_in(patient_user)
    return client


def times(client, clinic, **extra):
    params = {"what": f"type:{clinic['follow_up'].pk}", "location": clinic["location"].pk}
    return client.get("/portal/book/times/", params | extra)


def slot_values(html: str) -> list[str]:
    return re.findall(r'name="slot" id="slot-\d+" value="([^"]+)"', html)


def day_section(html: str, day) -> str:
    return html.split(f'id="day-{day.isoformat()}"')[1].split("</section>")[0]


def slot_on(html: str, day, hour: int) -> str:
    for value in slot_values(html):
        start = datetime.fromisoformat(value.split("|")[0]).astimezone(DENVER)
        if start.date() == day and start.hour == hour and start.minute == 0:
            return value
    raise AssertionError(f"no free time on {day} at {hour}:00")


class TestWhereTheWeekOpens:
    def test_it_opens_on_the_first_day_with_free_times_not_on_an_empty_today(
        self, clinic, patient_client
    ):
        first_free = local_today() + timedelta(days=10)
        response = times(patient_client, clinic)
        html = response.content.decode()
        assert response.status_code == 200
        assert response.context["week"].start == first_free
        opening = html.split('class="week-day opening"')[0].rsplit("<section", 1)[1]
        assert f'id="day-{first_free.isoformat()}"' in opening
        assert "8:00 AM" in day_section(html, first_free)
        assert f'id="day-{local_today().isoformat()}"' not in html

    def test_later_weeks_follow_by_seven_days_and_earlier_never_before_today(
        self, clinic, patient_client
    ):
        start = local_today() + timedelta(days=10)
        later = times(patient_client, clinic, day=(start + timedelta(days=7)).isoformat())
        assert later.context["week"].start == start + timedelta(days=7)
        assert f"day={start.isoformat()}" in later.context["previous_query"]
        asked_yesterday = times(
            patient_client, clinic, day=(local_today() - timedelta(days=1)).isoformat()
        )
        assert asked_yesterday.context["week"].start == local_today()
        assert asked_yesterday.context["previous_query"] is None

    def test_times_are_grouped_into_morning_and_afternoon_in_local_time(
        self, clinic, patient_client
    ):
        day = local_today() + timedelta(days=10)
        section = day_section(times(patient_client, clinic).content.decode(), day)
        morning, afternoon = section.split("Afternoon<")
        assert "Morning<" in morning and "11:45 AM" in morning and "12:00 PM" not in morning
        assert "12:00 PM" in afternoon and "4:00 PM" in afternoon and "AM<" not in afternoon

    def test_the_zone_is_named_for_people(self, clinic, patient_client):
        html = times(patient_client, clinic).content.decode()
        assert "times in Mountain Time" in html
        assert "America/Denver" not in html

    def test_the_week_posts_to_the_times_page_without_the_day_in_view(self, clinic, patient_client):
        # With no action, a phone's #day-... (the day chosen in the strip) would go with the
        # POST and stay on the URL of the page it is sent on to.
        html = times(patient_client, clinic).content.decode()
        assert re.search(
            r'<form method="post" action="/portal/book/times/" class="card week"', html
        )


class TestFilters:
    def test_the_start_page_preselects_the_patients_home_clinic(
        self, clinic, patient_client, own_patient
    ):
        own_patient.home_location = clinic["other"]
        own_patient.save(update_fields=["home_location"])
        html = patient_client.get("/portal/book/").content.decode()
        assert re.search(rf'<option value="{clinic["other"].pk}" selected>Lakeside</option>', html)
        assert not re.search(rf'<option value="{clinic["location"].pk}" selected>', html)

    def test_without_a_home_clinic_nothing_is_preselected(self, clinic, patient_client):
        html = patient_client.get("/portal/book/").content.decode()
        for location in (clinic["location"], clinic["other"]):
            assert f'<option value="{location.pk}" selected>' not in html

    def test_a_provider_filter_shows_only_their_times_and_a_stale_one_is_dropped(
        self, clinic, patient_client
    ):
        reyes = ProviderFactory(locations=[clinic["location"]], first_name="Luz", last_name="Reyes")
        working(reyes, clinic["location"], hours=(time(13), time(15)))
        both = times(patient_client, clinic, day=(local_today() + timedelta(days=10)).isoformat())
        providers = {v.split("|")[1] for v in slot_values(both.content.decode())}
        assert providers == {str(clinic["quill"].pk), str(reyes.pk)}
        only = times(patient_client, clinic, provider=reyes.pk)
        assert {v.split("|")[1] for v in slot_values(only.content.decode())} == {str(reyes.pk)}
        her_week = only.context["week"]
        assert her_week.start < local_today() + timedelta(days=10)  # her first, not Quill's
        assert her_week.days[0].count > 0
        elsewhere = ProviderFactory(locations=[clinic["other"]], last_name="Far")
        stale = times(patient_client, clinic, provider=elsewhere.pk)
        assert stale.status_code == 200 and stale.context["search"].provider is None
        assert times(patient_client, clinic, provider="nonsense").status_code == 200

    def test_each_provider_shows_their_next_available_time(self, clinic, patient_client, clock):
        # Morning in Denver: from 13:00 there, the 24 hours' notice moves Reyes past 13:00.
        clock.move_to(datetime.combine(local_today(), time(9), tzinfo=DENVER))
        reyes = ProviderFactory(locations=[clinic["location"]], first_name="Luz", last_name="Reyes")
        working(reyes, clinic["location"], hours=(time(13), time(15)))
        idle = ProviderFactory(locations=[clinic["location"]], first_name="No", last_name="Zed")
        response = times(patient_client, clinic)
        found = {e["provider"].pk: e["slot"] for e in response.context["next_available"]}
        quill_first = found[clinic["quill"].pk].start.astimezone(DENVER)
        reyes_first = found[reyes.pk].start.astimezone(DENVER)
        assert quill_first.date() == local_today() + timedelta(days=10)
        assert (quill_first.hour, quill_first.minute) == (8, 0)
        assert (reyes_first.hour, reyes_first.minute) == (13, 0)
        assert found[idle.pk] is None
        html = response.content.decode()
        assert "No free times in the next four weeks" in html
        assert f"provider={reyes.pk}" in html


def book(patient, clinic, day, hour, provider=None):
    return appointment_book(
        patient=patient,
        appointment_type=clinic["follow_up"],
        provider=provider or clinic["quill"],
        location=clinic["location"],
        room=Room.objects.filter(location=clinic["location"]).first(),
        start=datetime(day.year, day.month, day.day, hour, tzinfo=DENVER),
        by=Actor.system(),
    )


class TestSameDay:
    def post(self, client, clinic, value, **extra):
        data = {
            "what": f"type:{clinic['follow_up'].pk}",
            "location": clinic["location"].pk,
            "slot": value,
            "idempotency_key": "same-day",
        }
        return client.post("/portal/book/times/", data | extra)

    def test_a_second_visit_that_day_asks_first_then_books_on_yes(
        self, clinic, patient_client, own_patient
    ):
        day = local_today() + timedelta(days=10)
        reyes = ProviderFactory(locations=[clinic["location"]], last_name="Reyes")
        working(reyes, clinic["location"])
        book(own_patient, clinic, day, 9, provider=reyes)  # another provider, same day
        html = times(patient_client, clinic, day=day.isoformat()).content.decode()
        value = slot_on(html, day, 14)
        asked = self.post(patient_client, clinic, value)
        page = asked.content.decode()
        assert asked.status_code == 200
        assert "Book a second visit that day?" in page
        assert "9:00 AM" in page and 'name="same_day_ok" value="1"' in page
        assert Appointment.objects.filter(patient=own_patient).count() == 1
        confirmed = self.post(patient_client, clinic, value, same_day_ok="1")
        assert confirmed.status_code == 302
        assert (
            Appointment.objects.filter(patient=own_patient, status=AppointmentStatus.BOOKED).count()
            == 2
        )

    def test_another_day_books_without_asking(self, clinic, patient_client, own_patient):
        day = local_today() + timedelta(days=10)
        book(own_patient, clinic, day, 9)
        html = times(patient_client, clinic, day=(day + timedelta(days=1)).isoformat())
        value = slot_on(html.content.decode(), day + timedelta(days=1), 9)
        assert self.post(patient_client, clinic, value).status_code == 302

    def test_a_cancelled_visit_that_day_does_not_ask(self, clinic, patient_client, own_patient):
        from scheduling.services import appointment_move

        day = local_today() + timedelta(days=10)
        visit = book(own_patient, clinic, day, 9)
        appointment_move(
            appointment=visit, to=AppointmentStatus.CANCELLED, by=Actor.system(), reason="x"
        )
        value = slot_on(times(patient_client, clinic).content.decode(), day, 14)
        assert self.post(patient_client, clinic, value).status_code == 302

    def test_moving_a_visit_within_its_own_day_does_not_ask(
        self, clinic, patient_client, own_patient
    ):
        day = local_today() + timedelta(days=10)
        visit = book(own_patient, clinic, day, 9)
        html = patient_client.get(f"/portal/book/times/?reschedule={visit.pk}").content.decode()
        value = slot_on(html, day, 14)
        response = patient_client.post(
            "/portal/book/times/", {"reschedule": visit.pk, "slot": value, "idempotency_key": "m"}
        )
        assert response.status_code == 302


class TestQueries:
    def count(self, client, clinic) -> int:
        with CaptureQueriesContext(connection) as queries:
            assert times(client, clinic).status_code == 200
        return len(queries.captured_queries)

    def test_the_week_view_reads_a_fixed_number_of_queries(
        self, clinic, patient_client, django_assert_num_queries
    ):
        self.count(patient_client, clinic)  # the session and caches settle
        with django_assert_num_queries(WEEK_QUERIES):
            times(patient_client, clinic)
        for n in range(3):
            more = ProviderFactory(locations=[clinic["location"]], last_name=f"Extra{n}")
            working(more, clinic["location"])
        assert self.count(patient_client, clinic) == WEEK_QUERIES
