""" "My patients": the patients with a visit with me in a window of days (today unless
asked, each location's own today), a switch to the clinic's whole list, who may open it,
and a fixed number of queries."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from clinic.users.context_processors import NAVIGATION
from clinic.users.roles import Role
from history.my_patients import my_patients, window_key
from history.tests.test_worklist import book
from patients.tests.factories import PatientFactory
from scheduling.models import AppointmentStatus
from scheduling.tests.factories import LocationFactory, ProviderFactory

pytestmark = pytest.mark.django_db

DENVER = ZoneInfo("America/Denver")
# 17:00 UTC on Monday 15 June 2026: 11:00 in Denver.
NOW = datetime(2026, 6, 15, 17, 0, tzinfo=UTC)
URL = "/history/my-patients/"


@pytest.fixture(autouse=True)
def frozen_clock(clock):
    clock.move_to(NOW, tick=False)


@pytest.fixture
def denver(db):
    return LocationFactory(name="Denver Spine", time_zone="America/Denver")


@pytest.fixture
def me(clinician_user, denver):
    return ProviderFactory(user=clinician_user, locations=[denver])


def visit(location, provider, local: datetime, **fields):
    appointment = book(location, local, order=False, **fields)
    appointment.provider = provider
    appointment.save(update_fields=["provider"])
    return appointment


def named_visit(provider, first_name: str, month: int, day: int, hour: int, minute: int = 0):
    """A visit in 2026 with `provider` in Denver (its first site) for a new patient."""
    local = datetime(2026, month, day, hour, minute, tzinfo=DENVER)
    patient = PatientFactory(legal_first_name=first_name)
    return visit(provider.locations.get(), provider, local, patient=patient)


def names(found) -> list[str]:
    return [row.patient.legal_first_name for row in found.rows]


class TestWindow:
    def test_today_by_default_mine_only(self, clinician_user, me, denver):
        other = ProviderFactory(locations=[denver])
        named_visit(me, "Ana", 6, 15, 14, 0)
        named_visit(me, "Bo", 6, 15, 9, 0)
        named_visit(other, "Cy", 6, 15, 10, 0)
        named_visit(me, "Di", 6, 16, 9, 0)
        named_visit(me, "Ed", 6, 14, 23, 30)
        found = my_patients(user=clinician_user)
        assert found.window == "today"
        assert names(found) == ["Bo", "Ana"]  # by their first visit, earliest first

    def test_windows_ahead_and_behind(self, clinician_user, me, denver):
        named_visit(me, "Week", 6, 22, 16, 0)
        named_visit(me, "Later", 6, 23, 9, 0)
        named_visit(me, "Past", 6, 1, 9, 0)
        assert names(my_patients(user=clinician_user, window="next_7")) == ["Week"]
        assert names(my_patients(user=clinician_user, window="last_7")) == []
        assert names(my_patients(user=clinician_user, window="last_30")) == ["Past"]

    def test_cancelled_and_no_shows_are_not_listed(self, clinician_user, me, denver):
        for status in (AppointmentStatus.CANCELLED, AppointmentStatus.NO_SHOW):
            visit(denver, me, datetime(2026, 6, 15, 9, 0, tzinfo=DENVER), status=status)
        assert my_patients(user=clinician_user).rows == []

    def test_a_patient_with_two_visits_is_one_row(self, clinician_user, me, denver):
        patient = PatientFactory()
        visit(denver, me, datetime(2026, 6, 15, 9, 0, tzinfo=DENVER), patient=patient)
        visit(denver, me, datetime(2026, 6, 15, 15, 0, tzinfo=DENVER), patient=patient)
        (row,) = my_patients(user=clinician_user).rows
        assert len(row.visits) == 2

    def test_an_unknown_window_is_today(self):
        assert window_key("forever") == window_key(None) == "today"

    def test_a_login_without_a_provider_has_no_visits(self, clinician_user, denver):
        found = my_patients(user=clinician_user)
        assert found.provider is None and found.rows == []


class TestPage:
    def test_lists_mine_with_the_window_switch_and_the_switch_to_all(
        self, client, clinician_user, me, denver
    ):
        visit(
            denver,
            me,
            datetime(2026, 6, 15, 9, 0, tzinfo=DENVER),
            patient=PatientFactory(legal_first_name="Rosa", legal_last_name="Quintero"),
        )
        client.sign_in(clinician_user)
        body = client.get(URL).content.decode()
        assert "Rosa Quintero" in body
        assert 'href="/patients/"' in body  # the switch to all the clinic's patients
        assert 'href="?window=next_7"' in body
        assert 'aria-current="true">Today<' in body
        later = client.get(URL, {"window": "next_7"}).content.decode()
        assert 'aria-current="true">Today and the next 7 days<' in later

    def test_without_a_provider_it_says_why(self, client, clinician_user, denver):
        client.sign_in(clinician_user)
        assert "not linked to a provider" in client.get(URL).content.decode()

    def test_the_navigation_names_it_my_patients(self):
        assert ("My patients", "history:my-patients") in NAVIGATION[Role.CLINICIAN]

    @pytest.mark.parametrize(
        ("role", "status"),
        [("front_desk_user", 403), ("manager_user", 403), ("patient_user", 403)],
    )
    def test_clinicians_only(self, client, request, role, status):
        client.sign_in(request.getfixturevalue(role))
        assert client.get(URL).status_code == status

    @pytest.mark.parametrize("rows", [1, 12])
    def test_fixed_number_of_queries(
        self, client, clinician_user, me, denver, django_assert_num_queries, rows
    ):
        for n in range(rows):
            visit(
                denver, me, datetime(2026, 6, 15, 8, 0, tzinfo=DENVER) + timedelta(minutes=30 * n)
            )
        client.sign_in(clinician_user)
        # session, user, device, groups; the provider, the locations, the visits; the audit row
        with django_assert_num_queries(8):
            response = client.get(URL)
        assert len(response.context["found"].rows) == rows
