"""The physician's view against hand-computed cases: relief, ledgers, steroid totals,
eligibility, hold dates; filters; access; the access log; a fixed number of queries."""

from datetime import date, time, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from clinic.audit.models import AuditEvent
from clinic.users.actor import Actor
from history.selectors import patient_history
from patients.models import Assessment, DrugClass, Medication
from patients.tests.factories import PatientFactory
from procedures.services import outcome_record
from procedures.tests.factories import ProcedureOrderFactory, at
from procedures.tests.factories import record as record_on

pytestmark = pytest.mark.django_db

# The page and the API work on today's date: the cases are built relative to TODAY and the
# clock is put on it, so that every test gives the same answer whenever it runs.
TODAY = date(2026, 6, 15)


@pytest.fixture(autouse=True)
def clock_on_today(clock):
    clock.move_to(at(TODAY, time(12)))


def record(patient, code, days_ago, **fields):
    return record_on(patient, code, days_ago, today=TODAY, **fields)


def region(history, name):
    return next(r for r in history["ledgers"]["regions"] if r["region"] == name)


def row(ledger, family):
    return next(r for r in ledger["rows"] if r["family"] == family)


@pytest.fixture
def treated(db):
    """Epidurals over 400 days before today (hand-computed below)."""
    patient = PatientFactory()
    record(patient, "tfesi_ls", 10, steroid="triamcinolone", dose=80)  # 80 x 1.000 = 80
    record(patient, "tfesi_ls", 100, steroid="dexamethasone", dose=10)  # 10 x 5.333 = 53.330
    record(patient, "ilesi_ls", 200, steroid="betamethasone", dose=6)  # 6 x 6.667 = 40.002
    record(patient, "tfesi_ls", 300)  # no steroid
    record(patient, "tfesi_ls", 400, steroid="triamcinolone", dose=40)  # outside 365 days
    record(patient, "tfesi_ct", 50, steroid="dexamethasone", dose=4)  # 4 x 5.333 = 21.332
    return patient


class TestLedgers:
    def test_sessions_in_the_window_against_the_payer_limit(self, treated):
        history = patient_history(patient=treated, today=TODAY)
        lumbar, cervical = region(history, "lumbar_sacral"), region(history, "cervical_thoracic")
        assert row(lumbar, "esi") | {} == {
            "family": "esi",
            "label": "Epidural steroid injections",
            "count": 4,
            "limit": 4,
            "at_limit": True,
        }
        assert (row(cervical, "esi")["count"], row(cervical, "esi")["at_limit"]) == (1, False)
        assert row(lumbar, "rfa")["limit"] == 2

    def test_steroid_per_region_and_days_since_the_last(self, treated):
        history = patient_history(patient=treated, today=TODAY)
        lumbar, cervical = region(history, "lumbar_sacral"), region(history, "cervical_thoracic")
        assert lumbar["steroid_mg"] == Decimal("173.332")
        assert lumbar["days_since_steroid"] == 10
        assert cervical["steroid_mg"] == Decimal("21.332")
        assert cervical["days_since_steroid"] == 50

    def test_steroid_total_against_the_cap_and_the_next_allowed_day(self, treated):
        steroid = patient_history(patient=treated, today=TODAY)["ledgers"]["steroid"]
        assert steroid["total_mg"] == Decimal("194.664")
        assert steroid["cap_mg"] == Decimal("200")
        assert steroid["last"] == TODAY - timedelta(days=10)
        assert steroid["days_since"] == 10
        assert steroid["next_allowed"] == TODAY + timedelta(days=4)  # 14-day interval

    def test_a_threshold_edit_changes_the_ledger(self, treated):
        from procedures.models import SafetyThreshold

        SafetyThreshold.objects.filter(key="esi_max_sessions").update(value=6)
        lumbar = region(patient_history(patient=treated, today=TODAY), "lumbar_sacral")
        assert (row(lumbar, "esi")["limit"], row(lumbar, "esi")["at_limit"]) == (6, False)


class TestPathway:
    def test_two_positive_medial_branch_blocks_qualify_for_rfa(self):
        patient = PatientFactory()
        record(patient, "mbb_ls", 60, relief=85)
        record(patient, "mbb_ls", 40, relief=90)
        lumbar = patient_history(patient=patient, today=TODAY)["pathway"]["regions"][0]
        assert lumbar["region"] == "lumbar_sacral"
        assert [b["positive"] for b in lumbar["blocks"]] == [True, True]
        assert lumbar["rfa_qualifies"] is True

    def test_one_positive_block_does_not(self):
        patient = PatientFactory()
        record(patient, "mbb_ls", 60, relief=85)
        record(patient, "mbb_ls", 40, relief=60)
        lumbar = patient_history(patient=patient, today=TODAY)["pathway"]["regions"][0]
        assert [b["positive"] for b in lumbar["blocks"]] == [False, True]  # newest first
        assert lumbar["rfa_qualifies"] is False
        assert "1 recorded" in lumbar["rfa_reason"]

    def test_the_80_percent_line_is_positive(self):
        patient = PatientFactory()
        record(patient, "mbb_ls", 60, relief=80)
        record(patient, "mbb_ls", 40, relief="79.9")
        blocks = patient_history(patient=patient, today=TODAY)["pathway"]["regions"][0]["blocks"]
        assert [b["positive"] for b in blocks] == [False, True]

    @pytest.mark.parametrize(("relief", "qualifies"), [(60, True), (50, True), (40, False)])
    def test_the_scs_trial_result(self, relief, qualifies):
        patient = PatientFactory()
        record(patient, "scs_trial", 30, relief=relief)
        scs = patient_history(patient=patient, today=TODAY)["pathway"]["scs"]
        assert scs["relief"] == Decimal(relief)
        assert scs["implant_qualifies"] is qualifies

    def test_no_blocks_no_pathway(self, treated):
        pathway = patient_history(patient=treated, today=TODAY)["pathway"]
        assert pathway["regions"] == [] and pathway["scs"] is None


def test_relief_at_each_follow_up_is_from_the_baseline():
    patient = PatientFactory()
    done = record(patient, "tfesi_ls", 60, pre_nrs=8)
    outcome_record(
        record=done,
        nrs=2,
        measured_at=done.performed_at + timedelta(days=14),
        by=Actor.system(),
    )
    outcome_record(
        record=done,
        nrs=4,
        measured_at=done.performed_at + timedelta(days=30),
        by=Actor.system(),
    )
    (row_,) = patient_history(patient=patient, today=TODAY)["relief"]
    assert row_["baseline"] == 8
    assert [(f["days"], f["nrs"], f["percent_relief"]) for f in row_["follow_ups"]] == [
        (14, 2, Decimal("75.0")),
        (30, 4, Decimal("50.0")),
    ]
    assert row_["best"] == Decimal("75.0")


def test_a_hold_an_upcoming_procedure_needs_shows_its_start_date(clinician_user):
    from notifications.tests.conftest import days_ahead_at, procedure_booking
    from scheduling.tests.factories import (
        AppointmentTypeFactory,
        LocationFactory,
        ProviderFactory,
        works_every_day,
    )
    from sites.models import Room, RoomKind

    location = LocationFactory(time_zone="America/Chicago")
    provider = ProviderFactory(locations=[location])
    works_every_day(provider, location)
    site = {
        "location": location,
        "provider": provider,
        "room": Room.objects.create(location=location, name="C1", kind=RoomKind.CONSULT),
        "type": AppointmentTypeFactory(),
    }
    patient = PatientFactory()
    Medication.objects.create(patient=patient, name="Apixaban", drug_class=DrugClass.DOAC)
    Medication.objects.create(patient=patient, name="Gabapentin", drug_class=DrugClass.OTHER)
    start = days_ahead_at(10, 9)
    procedure_booking(site, patient, clinician_user, start=start)
    history = patient_history(patient=patient)
    meds = {m["medication"].name: m for m in history["medications"]}
    # Apixaban before an intermediate-risk procedure: 72 hours (ASRA 2018) = 3 whole days.
    (hold,) = meds["Apixaban"]["holds"]
    assert hold["hold_start"] == (start.date() - timedelta(days=3)).isoformat()
    assert meds["Apixaban"]["bleeding"] is True
    assert meds["Gabapentin"]["holds"] == []
    (upcoming,) = history["upcoming"]
    assert upcoming["procedure"] == "Transforaminal epidural steroid injection - lumbar/sacral"


class TestTimeline:
    def test_newest_first_and_filtered_by_kind_and_region(self, treated):
        Assessment.objects.create(
            patient=treated,
            instrument="nrs",
            body_region="neck",
            items={"score": 6},
            total=6,
            taken_at=at(TODAY - timedelta(days=5)),
        )
        events = patient_history(patient=treated, today=TODAY)["events"]
        assert [e["at"] for e in events] == sorted((e["at"] for e in events), reverse=True)
        procedures = patient_history(patient=treated, kinds=["procedure"])["events"]
        assert len(procedures) == 6 and {e["kind"] for e in procedures} == {"procedure"}
        neck = patient_history(patient=treated, region="cervical_thoracic")["events"]
        assert {e["kind"] for e in neck} == {"procedure", "assessment"}
        assert len(neck) == 2

    def test_the_chart_marks_each_procedure(self, treated):
        chart = patient_history(patient=treated, today=TODAY)["chart"]
        assert len(chart["procedures"]) == 6
        # Pain has a line per body region scored; none is scored here.
        assert [s["key"] for s in chart["series"]] == ["odi", "ndi"]


def many_events(patient, count: int) -> None:
    """`count` timeline events: a fifth procedures (each with a follow-up), three fifths
    assessments (inserted in bulk), a fifth orders."""
    for i in range(max(1, count // 5)):
        record(patient, "tfesi_ls", 30 + i, relief=50)
    Assessment.objects.bulk_create(
        Assessment(
            patient=patient,
            instrument="nrs",
            body_region="low_back",
            items={"score": 5},
            total=5,
            taken_at=at(TODAY - timedelta(days=i)),
        )
        for i in range(max(1, count * 3 // 5))
    )
    for _ in range(max(1, count // 5)):
        ProcedureOrderFactory(patient=patient)


class TestPagesAndApi:
    def test_the_same_queries_for_5_or_500_events(
        self, client, clinician_user, django_assert_num_queries
    ):
        small, large = PatientFactory(), PatientFactory()
        many_events(small, 5)
        many_events(large, 500)
        client.sign_in(clinician_user)
        counts = {}
        for name, patient in (("small", small), ("large", large)):
            for url in (
                f"/patients/{patient.pk}/history/",
                f"/api/v1/patients/{patient.pk}/history/",
            ):
                from django.db import connection
                from django.test.utils import CaptureQueriesContext

                with CaptureQueriesContext(connection) as queries:
                    assert client.get(url).status_code == 200
                counts[(name, url.startswith("/api"))] = len(queries.captured_queries)
        assert counts[("small", False)] == counts[("large", False)]
        assert counts[("small", True)] == counts[("large", True)]

    def test_every_view_is_in_the_access_log(self, client, clinician_user, treated):
        client.sign_in(clinician_user)
        client.get(f"/patients/{treated.pk}/history/")
        client.get(f"/api/v1/patients/{treated.pk}/history/")
        log = list(AuditEvent.objects.filter(patients__contains=[treated.pk]).order_by("at"))
        assert [(e.user, e.role, e.channel, e.route) for e in log] == [
            (clinician_user, "clinician", "desk", "patient-history"),
            (clinician_user, "clinician", "api", "api-patient-history"),
        ]
        assert timezone.now() - log[0].at < timedelta(minutes=1)

    @pytest.mark.parametrize("who", ["front_desk_user", "manager_user", "patient_user"])
    def test_only_clinicians(self, request, client, who, treated):
        client.sign_in(request.getfixturevalue(who))
        assert client.get(f"/patients/{treated.pk}/history/").status_code == 403
        assert client.get(f"/api/v1/patients/{treated.pk}/history/").status_code == 403
        assert not AuditEvent.objects.exists()

    def test_anonymous(self, client, treated):
        assert client.get(f"/patients/{treated.pk}/history/").status_code == 302
        assert client.get(f"/api/v1/patients/{treated.pk}/history/").status_code in (401, 403)

    def test_an_unknown_patient_is_404(self, client, clinician_user):
        import uuid

        client.sign_in(clinician_user)
        assert client.get(f"/patients/{uuid.uuid4()}/history/").status_code == 404
        assert client.get(f"/api/v1/patients/{uuid.uuid4()}/history/").status_code == 404

    def test_the_api_carries_the_numbers(self, client, clinician_user, treated):
        client.sign_in(clinician_user)
        body = client.get(f"/api/v1/patients/{treated.pk}/history/").json()
        lumbar = next(r for r in body["ledgers"]["regions"] if r["region"] == "lumbar_sacral")
        assert lumbar["steroid_mg_mpe"] == "173.332"
        assert next(s for s in lumbar["sessions"] if s["family"] == "esi")["count"] == 4
        assert body["ledgers"]["steroid"]["days_since"] is not None
        assert len(body["chart"]["procedures"]) == 6

    def test_the_page_shows_the_ledger_and_the_print_summary(self, client, clinician_user, treated):
        client.sign_in(clinician_user)
        html = client.get(f"/patients/{treated.pk}/history/").content.decode()
        assert 'class="card print-summary"' in html
        assert "history-chart-data" in html
        assert "reached" in html  # 4 of 4 lumbar epidurals


def test_numbers_in_the_timeline_are_written_plainly(treated):
    Assessment.objects.create(
        patient=treated, instrument="odi", items={}, total=30, taken_at=at(TODAY)
    )
    titles = [e["title"] for e in patient_history(patient=treated, today=TODAY)["events"]]
    assert "Oswestry Disability Index: 30" in titles
    details = [e["detail"].get("Steroid") for e in patient_history(patient=treated)["events"]]
    assert "dexamethasone 10 mg" in details


def test_opening_the_chart_page_is_in_the_access_log_too(client, front_desk_user, treated):
    client.sign_in(front_desk_user)
    client.get(f"/patients/{treated.pk}/")
    log = AuditEvent.objects.filter(patients__contains=[treated.pk])
    assert [(e.user, e.route, e.action) for e in log] == [
        (front_desk_user, "patients:chart", "read")
    ]
