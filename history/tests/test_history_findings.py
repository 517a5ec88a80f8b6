"""What the history page says before the next procedure, in clinical words: findings with
their source as a readable reference, "eligible now" for a steroid interval already past,
and the pain chart's lines, one per body region."""

from datetime import time, timedelta
from decimal import Decimal

import pytest

from history.selectors import patient_history
from history.tests.test_history import TODAY, record
from history.tests.test_worklist import book
from patients.models import Assessment
from patients.tests.factories import PatientFactory
from procedures.sources import TO_CONFIRM
from procedures.tests.factories import at
from scheduling.tests.factories import LocationFactory

pytestmark = pytest.mark.django_db

OLD_SOURCE = "N18 via secondary calculator (unconfirmed value)"


@pytest.fixture(autouse=True)
def clock_on_today(clock):
    clock.move_to(at(TODAY, time(12)))


def nrs(patient, region: str, days_ago: int, score: int) -> None:
    Assessment.objects.create(
        patient=patient,
        instrument="nrs",
        body_region=region,
        items={"score": score},
        total=Decimal(score),
        taken_at=at(TODAY - timedelta(days=days_ago)),
    )


def page(client, user, patient) -> str:
    client.sign_in(user)
    response = client.get(f"/patients/{patient.pk}/history/")
    assert response.status_code == 200
    return response.content.decode()


class TestChartSeries:
    def test_low_back_and_leg_of_the_same_day_are_two_lines(self):
        patient = PatientFactory()
        for days_ago, back, leg in [(90, 8, 6), (60, 7, 5), (30, 4, 2)]:
            nrs(patient, "low_back", days_ago, back)
            nrs(patient, "leg", days_ago, leg)
        record(patient, "tfesi_ls", 45, relief=60)
        chart = patient_history(patient=patient, today=TODAY)["chart"]
        pain = [s for s in chart["series"] if s["axis"] == "nrs"]
        assert [(s["key"], s["label"]) for s in pain] == [
            ("nrs_low_back", "Pain, low back (NRS 0-10)"),
            ("nrs_leg", "Pain, leg or foot (NRS 0-10)"),
        ]
        assert [p["y"] for p in pain[0]["points"]] == [8.0, 7.0, 4.0]
        assert [p["y"] for p in pain[1]["points"]] == [6.0, 5.0, 2.0]
        assert [s["key"] for s in chart["series"]][2:] == ["odi", "ndi"]
        (procedure,) = chart["procedures"]
        assert procedure["name"] == "Transforaminal epidural steroid injection - lumbar/sacral"

    def test_a_region_filter_keeps_its_own_lines(self):
        patient = PatientFactory()
        nrs(patient, "neck", 10, 5)
        nrs(patient, "leg", 10, 6)
        chart = patient_history(patient=patient, today=TODAY, region="cervical_thoracic")["chart"]
        assert [s["key"] for s in chart["series"] if s["axis"] == "nrs"] == ["nrs_neck"]

    def test_the_page_embeds_one_series_per_region(self, client, clinician_user):
        patient = PatientFactory()
        nrs(patient, "low_back", 20, 7)
        nrs(patient, "leg", 20, 5)
        html = page(client, clinician_user, patient)
        assert '"key": "nrs_low_back"' in html and '"key": "nrs_leg"' in html


class TestSteroidInterval:
    def test_a_next_day_already_past_reads_eligible_now(self, client, clinician_user):
        patient = PatientFactory()
        record(patient, "tfesi_ls", 60, steroid="triamcinolone", dose=40)
        steroid = patient_history(patient=patient, today=TODAY)["ledgers"]["steroid"]
        assert steroid["eligible_now"] is True
        html = page(client, clinician_user, patient)
        assert "eligible now" in html and "no earlier than" not in html

    def test_a_day_still_ahead_is_named(self, client, clinician_user):
        patient = PatientFactory()
        record(patient, "tfesi_ls", 10, steroid="triamcinolone", dose=40)
        html = page(client, clinician_user, patient)
        next_day = (TODAY + timedelta(days=4)).isoformat()
        assert f"the next no earlier than {next_day}" in html and "eligible now" not in html


class TestFindingsInWords:
    def test_a_saved_finding_shows_its_source_as_a_reference(self, client, clinician_user):
        patient = PatientFactory()
        location = LocationFactory(time_zone="America/New_York")
        finding = {
            "code": "hold:clopidogrel",
            "severity": "block",
            "reason": "Clopidogrel: stop 7 days before.",
            "source": OLD_SOURCE,
            "details": {},
        }
        appointment = book(location, at(TODAY + timedelta(days=3), time(10)), patient=patient)
        appointment.procedure_order.findings = [finding]
        appointment.procedure_order.save(update_fields=["findings"])
        html = page(client, clinician_user, patient)
        assert "Blocks the procedure" in html
        assert "ASRA Pain Medicine guidelines" in html
        assert "value to confirm with your clinic&#x27;s policy" in html
        assert "secondary calculator" not in html and "N18" not in html
        assert TO_CONFIRM.startswith("value to confirm")

    def test_each_finding_says_until_when_and_what_to_do(self, client, clinician_user):
        patient = PatientFactory()
        location = LocationFactory(time_zone="America/New_York")
        past = (TODAY - timedelta(days=1)).isoformat()
        ahead = (TODAY + timedelta(days=20)).isoformat()
        findings = [
            {
                "code": "steroid_interval",
                "severity": "block",
                "reason": "The last steroid injection was 13 days before.",
                "source": "KOHAN 2017",
                "details": {},
                "until": {"kind": "date", "text": "allowed", "date": past, "eligible": True},
                "action": "Plan it on or after the eligibility date.",
            },
            {
                "code": "session_limit:esi_max_sessions",
                "severity": "block",
                "reason": "4 sessions in 365 days.",
                "source": "LCD-ESI",
                "details": {},
                "until": {"kind": "date", "text": "covered again", "date": ahead, "eligible": True},
                "action": "Plan it later.",
            },
            {
                "code": "active_infection",
                "severity": "block",
                "reason": "Active infection is a contraindication to injections.",
                "source": "intake.md",
                "details": {},
                "until": {"kind": "condition", "text": "the infection is treated", "date": None, "eligible": False},
                "action": "Treat the infection and postpone the procedure.",
            },
        ]  # fmt: skip
        appointment = book(location, at(TODAY + timedelta(days=3), time(10)), patient=patient)
        appointment.procedure_order.findings = findings
        appointment.procedure_order.save(update_fields=["findings"])
        html = page(client, clinician_user, patient)
        assert "Eligible now" in html and past not in html  # a past date is not shown
        assert f"Until {ahead}: covered again" in html
        assert "Until the infection is treated" in html
        assert "What to do: Treat the infection and postpone the procedure." in html
