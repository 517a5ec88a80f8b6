"""The clinician's worklist: today's procedure patients (each location's own today), urgent
intakes, follow-up surveys with poor relief; who may see it; empty states; fixed queries."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse

from history.worklist import (
    POOR_RELIEF_PERCENT,
    findings_alert,
    local_day_bounds,
    poor_relief_surveys,
    todays_procedures,
)
from patients.models import IntakeStatus, IntakeSubmission
from patients.tests.factories import PatientFactory
from procedures.tests.factories import (
    ProcedureOrderFactory,
    ProcedureOutcomeFactory,
    ProcedureRecordFactory,
)
from scheduling.models import Appointment, AppointmentStatus
from scheduling.tests.factories import AppointmentTypeFactory, LocationFactory, ProviderFactory

pytestmark = pytest.mark.django_db

DENVER = ZoneInfo("America/Denver")
NEW_YORK = ZoneInfo("America/New_York")
# 05:00 UTC on 15 June: 01:00 on the 15th in New York, but 23:00 on the 14th in Denver.
NOW = datetime(2026, 6, 15, 5, 0, tzinfo=UTC)
URL = "/history/worklist/"


@pytest.fixture(autouse=True)
def frozen_clock(clock):
    clock.move_to(NOW, tick=False)


@pytest.fixture
def sites(db):
    return {
        "denver": LocationFactory(name="Denver Spine", time_zone="America/Denver"),
        "new_york": LocationFactory(name="Manhattan Pain", time_zone="America/New_York"),
    }


def book(location, start, *, patient=None, order=True, status=AppointmentStatus.BOOKED, **kw):
    """An appointment written directly (the booking service's checks are not under test)."""
    patient = patient or PatientFactory()
    procedure_order = (
        ProcedureOrderFactory(patient=patient, side="left", levels=["L4-L5", "L5-S1"])
        if order
        else None
    )
    end = start + timedelta(minutes=30)
    return Appointment.objects.create(
        patient=patient,
        appointment_type=AppointmentTypeFactory(),
        provider=ProviderFactory(locations=[location]),
        location=location,
        start=start,
        end=end,
        block_start=start,
        block_end=end,
        status=status,
        procedure_order=procedure_order,
        **kw,
    )


def urgent_intake(patient=None, **fields):
    values = {
        "status": IntakeStatus.SUBMITTED,
        "urgent": True,
        "urgent_reasons": ["red_flag:progressive_leg_weakness"],
        "submitted_at": NOW - timedelta(hours=3),
    } | fields
    return IntakeSubmission.objects.create(patient=patient or PatientFactory(), **values)


def survey(relief, *, pgic=None, days_ago=2, source="survey", patient=None):
    made = ProcedureRecordFactory(
        patient=patient or PatientFactory(),
        performed_at=NOW - timedelta(days=days_ago + 14),
        side="right",
        levels=["L5-S1"],
    )
    return ProcedureOutcomeFactory(
        record=made,
        measured_at=NOW - timedelta(days=days_ago),
        nrs=6,
        pgic=pgic,
        percent_relief=None if relief is None else Decimal(str(relief)),
        source=source,
    )


def signed_in(client, user):
    client.sign_in(user)
    return client


# --- Today's procedure patients ---------------------------------------------------------------


class TestToday:
    def test_each_location_has_its_own_today(self, sites):
        denver, new_york = sites["denver"], sites["new_york"]
        # Denver's today is 14 June; New York's is already 15 June.
        shown = [
            book(denver, datetime(2026, 6, 14, 10, 0, tzinfo=DENVER)),  # 16:00 UTC on the 14th
            book(denver, datetime(2026, 6, 14, 23, 30, tzinfo=DENVER)),  # 05:30 UTC on the 15th
            book(new_york, datetime(2026, 6, 15, 9, 0, tzinfo=NEW_YORK)),
        ]
        hidden = [
            book(denver, datetime(2026, 6, 15, 10, 0, tzinfo=DENVER)),  # the UTC date, not Denver's
            book(denver, datetime(2026, 6, 13, 23, 0, tzinfo=DENVER)),
            book(new_york, datetime(2026, 6, 14, 15, 0, tzinfo=NEW_YORK)),  # yesterday there
            book(new_york, datetime(2026, 6, 16, 0, 0, tzinfo=NEW_YORK)),  # next midnight
        ]
        rows = todays_procedures().rows
        assert {a.pk for a in rows} == {a.pk for a in shown}
        assert not {a.pk for a in rows} & {a.pk for a in hidden}

    def test_only_procedures_still_on_the_day(self, sites):
        denver = sites["denver"]
        day = datetime(2026, 6, 14, 8, 0, tzinfo=DENVER)
        kept = {
            status: book(denver, day + timedelta(hours=i), status=status)
            for i, status in enumerate(
                ["booked", "checked_in", "in_room", "completed", "cancelled", "no_show"]
            )
        }
        consult = book(denver, day + timedelta(hours=7), order=False)
        rows = {a.pk for a in todays_procedures().rows}
        assert rows == {kept[s].pk for s in ("booked", "checked_in", "in_room", "completed")}
        assert consult.pk not in rows

    def test_time_in_the_locations_zone_with_procedure_and_link(self, client, sites, make_user):
        from clinic.users.roles import Role

        clinician = make_user("drwl", Role.CLINICIAN)
        patient = PatientFactory(legal_first_name="Rosa", legal_last_name="Quintero")
        appointment = book(
            sites["denver"], datetime(2026, 6, 14, 10, 5, tzinfo=DENVER), patient=patient
        )
        body = signed_in(client, clinician).get(URL).content.decode()
        assert "10:05 AM MT" in body  # the short US zone name, not MDT
        assert "16:05" not in body  # not UTC
        assert "Rosa Quintero" in body and f"MRN {patient.mrn}" in body
        assert f'href="/patients/{patient.pk}/history/"' in body
        name = appointment.procedure_order.procedure_type.name
        assert f"{name}, Left, L4-L5, L5-S1" in body
        assert "Denver Spine" in body

    @pytest.mark.parametrize(
        ("findings", "badge"),
        [
            ([{"severity": "info"}, {"severity": "block"}, {"severity": "warn"}], "Safety block"),
            ([{"severity": "warn"}, {"severity": "info"}], "Safety warning"),
            ([{"severity": "info"}], None),
            ([], None),
        ],
    )
    def test_a_badge_for_block_or_warn_findings(
        self, client, sites, clinician_user, findings, badge
    ):
        book(sites["denver"], datetime(2026, 6, 14, 9, 0, tzinfo=DENVER), findings=findings)
        body = signed_in(client, clinician_user).get(URL).content.decode()
        for label in ("Safety block", "Safety warning"):
            assert (label in body) == (label == badge)

    def test_findings_alert(self):
        assert findings_alert([{"severity": "warn"}, {"severity": "block"}]) == "block"
        assert findings_alert([{"severity": "warn"}]) == "warn"
        assert findings_alert([{"severity": "info"}, "not a dict"]) == ""
        assert findings_alert(None) == ""

    def test_day_bounds_on_the_day_clocks_go_back(self):
        start, end = local_day_bounds(datetime(2026, 11, 1, 12, 0, tzinfo=UTC), DENVER)
        assert (start.isoformat(), end.isoformat()) == (
            "2026-11-01T00:00:00-06:00",
            "2026-11-02T00:00:00-07:00",
        )
        assert end.astimezone(UTC) - start.astimezone(UTC) == timedelta(hours=25)


# --- Urgent intakes ---------------------------------------------------------------------------


class TestUrgentIntakes:
    def test_only_urgent_intakes_waiting_for_review(self, client, clinician_user):
        waiting = urgent_intake(patient=PatientFactory(legal_first_name="Ines"))
        urgent_intake(patient=PatientFactory(legal_first_name="Routine"), urgent=False)
        urgent_intake(
            patient=PatientFactory(legal_first_name="Reviewed"), status=IntakeStatus.REVIEWED
        )
        response = signed_in(client, clinician_user).get(URL)
        rows = response.context["intakes"].rows
        assert [i.pk for i in rows] == [waiting.pk]
        body = response.content.decode()
        assert reverse("patients:intake", args=[waiting.pk]) in body
        assert "Red flag: " in body  # the reason, as the intake queue words it
        assert "Routine" not in body and "Reviewed" not in body

    def test_oldest_first(self, client, clinician_user):
        newer = urgent_intake(submitted_at=NOW - timedelta(hours=1))
        older = urgent_intake(submitted_at=NOW - timedelta(days=1))
        rows = signed_in(client, clinician_user).get(URL).context["intakes"].rows
        assert [i.pk for i in rows] == [older.pk, newer.pk]


# --- Poor relief ------------------------------------------------------------------------------


class TestPoorRelief:
    def test_the_line_is_thirty_percent_and_a_manager_can_move_it(self):
        from history.worklist import poor_relief_line
        from procedures.models import SafetyThreshold

        assert POOR_RELIEF_PERCENT == 30 == poor_relief_line()
        SafetyThreshold.objects.filter(key="worklist_poor_relief").update(value=50)
        assert poor_relief_line() == 50
        under = survey(45)
        survey(55)
        assert [o.pk for o in poor_relief_surveys().rows] == [under.pk]

    def test_which_surveys_are_listed(self):
        listed = [
            survey("29.9"),
            survey(0),
            survey(80, pgic=5),  # says minimally worse despite the relief
            survey(None, pgic=7),
            survey(10, days_ago=29),
        ]
        survey(30)  # at the threshold: not poor
        survey(60, pgic=4)  # no change, enough relief
        survey(None)  # nothing to judge by
        survey(10, source="clinic")  # measured at the clinic, not a survey
        survey(10, days_ago=31)  # too old
        rows = poor_relief_surveys().rows
        assert {o.pk for o in rows} == {o.pk for o in listed}

    def test_newest_first_with_procedure_and_patient(self, client, clinician_user):
        older = survey(5, days_ago=10, patient=PatientFactory(legal_first_name="Olga"))
        newer = survey(20, days_ago=1, patient=PatientFactory(legal_first_name="Nina"))
        response = signed_in(client, clinician_user).get(URL)
        assert [o.pk for o in response.context["poor_relief"].rows] == [newer.pk, older.pk]
        body = response.content.decode()
        name = newer.record.procedure_type.name
        assert f"{name}, Right, L5-S1" in body
        assert f'href="/patients/{newer.record.patient_id}/history/"' in body
        assert "20%" in body and "5%" in body

    def test_feels_worse_badge(self, client, clinician_user):
        survey(70, pgic=6)
        body = signed_in(client, clinician_user).get(URL).content.decode()
        assert "Feels worse" in body


# --- The page ---------------------------------------------------------------------------------


class TestPage:
    def test_empty_states(self, client, clinician_user, sites):
        body = signed_in(client, clinician_user).get(URL).content.decode()
        assert "No procedures booked for today." in body
        assert "No urgent intakes are waiting for review." in body
        assert "No follow-up survey reported poor relief in the last 30 days." in body

    def test_empty_without_any_location(self, client, clinician_user):
        response = signed_in(client, clinician_user).get(URL)
        assert response.status_code == 200
        assert response.context["procedures"].rows == []

    def test_url_name(self):
        assert reverse("history:worklist") == URL

    @pytest.mark.parametrize(
        ("role", "status"),
        [("clinician_user", 200), ("manager_user", 200), ("front_desk_user", 403)],
    )
    def test_access_by_role(self, client, request, role, status):
        response = signed_in(client, request.getfixturevalue(role)).get(URL)
        assert response.status_code == status

    def test_a_patient_gets_403(self, client, patient_user):
        assert signed_in(client, patient_user).get(URL).status_code == 403

    def test_anonymous_goes_to_the_login_page(self, client):
        response = client.get(URL)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))
        assert "next=/history/worklist/" in response["Location"]

    def test_managers_see_names_without_a_link_to_the_clinicians_history_page(
        self, client, manager_user, sites
    ):
        patient = PatientFactory(legal_first_name="Rosa", legal_last_name="Quintero")
        book(sites["denver"], datetime(2026, 6, 14, 9, 0, tzinfo=DENVER), patient=patient)
        body = signed_in(client, manager_user).get(URL).content.decode()
        assert "Rosa Quintero" in body
        assert f"/patients/{patient.pk}/history/" not in body

    @pytest.mark.parametrize("rows", [1, 15])
    def test_fixed_number_of_queries(
        self, client, clinician_user, sites, django_assert_num_queries, rows
    ):
        start = datetime(2026, 6, 14, 7, 0, tzinfo=DENVER)
        for n in range(rows):
            book(
                sites["denver" if n % 2 else "new_york"],
                start + timedelta(minutes=20 * n) if n % 2 else NOW + timedelta(minutes=20 * n),
                findings=[{"severity": "warn"}],
            )
            urgent_intake(submitted_at=NOW - timedelta(minutes=n + 1))
            survey(10, pgic=6, days_ago=n % 20 + 1)
        client = signed_in(client, clinician_user)
        # session, user, the second factor's device, the user's role groups; the open urgent
        # flags, the locations, today's appointments, the urgent intakes, the poor-relief
        # surveys.
        with django_assert_num_queries(
            11
        ):  # session, user, device, groups, 6 for the sections, the audit row
            response = client.get(URL)
        assert response.status_code == 200
        assert len(response.context["procedures"].rows) == rows
        assert len(response.context["intakes"].rows) == rows
        assert len(response.context["poor_relief"].rows) == rows

    def test_long_lists_are_cut_and_say_so(self, sites):
        denver = sites["denver"]
        start = datetime(2026, 6, 14, 7, 0, tzinfo=DENVER)
        for n in range(3):
            book(denver, start + timedelta(minutes=20 * n))
        section = todays_procedures(limit=2)
        assert (len(section.rows), section.more) == (2, True)
        assert todays_procedures(limit=3).more is False
