"""The summary tables: every report gives the same figures from them as from the live rows;
the refresh takes in only what changed, one at a time; and each report still makes a fixed
number of queries.

The refresh runs as the Celery task's own function (`refresh_report_summaries`, called
directly) in `transaction=True` tests: its transaction, advisory lock and temporary tables
commit for real, as in a worker; a worker test would add only the broker round trip."""

import threading
from dataclasses import asdict
from datetime import timedelta
from io import StringIO

import psycopg2
import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from reports.models import SummaryChange, SummaryState, VisitDay
from reports.registry import REPORTS, Filters, ReportResult
from reports.summaries import LOCK_KEY, summaries_refresh
from reports.tasks import refresh_report_summaries
from scheduling.models import Appointment, BookingPolicy

from . import outcome_data
from .clinic import END, MONDAY, START, TUESDAY, SmallClinic, at, build_small_clinic

pytestmark = pytest.mark.django_db(transaction=True)

SUMMARIZED = ["no-shows", "utilization", "wait-times", "messages", "outcomes"]


def figures(result: ReportResult) -> dict:
    """What a report shows, less when the figures are as of."""
    return {
        "tables": [asdict(table) for table in result.tables],
        "charts": [asdict(chart) for chart in result.charts],
    }


def every_report(small: SmallClinic) -> dict[tuple[str, int], dict]:
    """Each report over the operations clinic's days and the outcomes clinic's, with and
    without filters."""
    scopes = [
        Filters(start=START, end=END),
        Filters(start=START, end=END, location_id=small.north.pk),
        Filters(start=START, end=END, provider_id=small.baker.pk),
        Filters(start=START - timedelta(days=400), end=END),
        outcome_data.FILTERS,
    ]
    return {
        (name, number): figures(REPORTS[name].build(filters))
        for name in [*SUMMARIZED, "waitlist"]
        for number, filters in enumerate(scopes)
    }


@pytest.fixture
def clinics() -> SmallClinic:
    outcome_data.seed_clinic()
    return build_small_clinic()


def test_every_report_is_the_same_from_the_summaries_as_live(clinics):
    live = every_report(clinics)
    assert not SummaryState.objects.exists()
    assert refresh_report_summaries().startswith("Rebuilt everything")
    assert VisitDay.objects.exists() and not SummaryChange.objects.exists()
    assert every_report(clinics) == live
    result = REPORTS["no-shows"].build(Filters(start=START, end=END))
    assert result.fresh_as_of == SummaryState.objects.get().refreshed_at
    assert any("from the summaries" in note for note in result.notes)


def test_the_days_after_the_summaries_are_read_live(clinics):
    refresh_report_summaries()
    # As if the refresh had run on Tuesday: Monday from the summaries, Tuesday live.
    SummaryState.objects.update(covered_through=MONDAY)
    filters = Filters(start=START, end=END)
    assert every_report(clinics) == _all_live(clinics)
    notes = REPORTS["no-shows"].build(filters).notes
    assert notes[-1].startswith("Figures from the summaries as of ")
    assert notes[-1].endswith(f"except {TUESDAY} to {TUESDAY} from the live records.")
    # A change on Tuesday shows at once; one on Monday waits for the next refresh.
    Appointment.objects.filter(pk=clinics.visits[8].pk).update(status="completed")
    Appointment.objects.filter(pk=clinics.visits[2].pk).update(status="completed")
    weekdays = {
        r["group"]: r["no_shows"] for r in REPORTS["no-shows"].build(filters).tables[4].rows
    }
    assert weekdays == {"Monday": 1, "Tuesday": 0}
    summaries_refresh()
    SummaryState.objects.update(covered_through=MONDAY)
    assert every_report(clinics) == _all_live(clinics)


def _all_live(small: SmallClinic) -> dict[tuple[str, int], dict]:
    """The reports read wholly live (no summaries' state), the state put back after."""
    state = SummaryState.objects.get()
    SummaryState.objects.all().delete()
    try:
        return every_report(small)
    finally:
        state.save()


def test_a_refresh_sums_again_only_the_days_changed(clinics):
    refresh_report_summaries()
    filters = Filters(start=START, end=END)
    before = REPORTS["no-shows"].build(filters).tables[0].rows[0]
    assert (before["visits"], before["no_shows"]) == (6, 2)
    # Visit 1 (Monday, kept) becomes a no-show, and visit 5 moves from Tuesday to Monday.
    Appointment.objects.filter(pk=clinics.visits[1].pk).update(status="no_show")
    moved = at(MONDAY, 15) - clinics.visits[5].start
    visit_5 = Appointment.objects.get(pk=clinics.visits[5].pk)
    Appointment.objects.filter(pk=visit_5.pk).update(
        start=visit_5.start + moved,
        end=visit_5.end + moved,
        block_start=visit_5.block_start + moved,
        block_end=visit_5.block_end + moved,
        checked_in_at=visit_5.checked_in_at + moved,
        in_room_at=visit_5.in_room_at + moved,
        completed_at=visit_5.completed_at + moved,
    )
    # The summaries lag until the next refresh, and say as of when.
    lagging = REPORTS["no-shows"].build(filters)
    assert lagging.tables[0].rows[0]["no_shows"] == 2
    monday_rows = VisitDay.objects.filter(day=MONDAY).count()
    other_days = {row.pk for row in VisitDay.objects.exclude(day__in=[MONDAY, TUESDAY])}
    refreshed = summaries_refresh()
    assert refreshed.ran and not refreshed.visits_rebuilt and refreshed.visit_days >= 2
    # Only the days touched were summed again: rows of other days are the same rows.
    assert {row.pk for row in VisitDay.objects.exclude(day__in=[MONDAY, TUESDAY])} == other_days
    assert VisitDay.objects.filter(day=MONDAY).count() > monday_rows
    after = REPORTS["no-shows"].build(filters)
    assert after.tables[0].rows[0]["no_shows"] == 3
    SummaryState.objects.all().delete()  # read everything live, to compare
    assert figures(REPORTS["no-shows"].build(filters)) == figures(after)
    weekdays = {row["group"]: row["visits"] for row in after.tables[4].rows}
    assert weekdays == {"Monday": 4, "Tuesday": 2}


def test_a_changed_cutoff_reads_live_until_the_next_refresh_rebuilds(clinics):
    refresh_report_summaries()
    filters = Filters(start=START, end=END)
    BookingPolicy.objects.update_or_create(id=1, defaults={"change_cutoff_hours": 100})
    live = figures(REPORTS["no-shows"].build(filters))
    # The cancellation three days ahead is now late: the live figures show it at once.
    assert live["tables"][0]["rows"][0]["late"] == 2
    assert REPORTS["no-shows"].build(filters).notes[-1].startswith("Visits due")
    assert str(summaries_refresh()).startswith("Rebuilt the visits")
    assert figures(REPORTS["no-shows"].build(filters)) == live


def test_one_refresh_at_a_time(clinics):
    """A refresh that finds another holding the lock returns at once, changing nothing."""
    other = psycopg2.connect(**connection.get_connection_params())
    try:
        with other.cursor() as cursor:
            cursor.execute("BEGIN")
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [LOCK_KEY])
            assert refresh_report_summaries() == "Another refresh is running; skipped."
            assert not SummaryState.objects.exists() and SummaryChange.objects.exists()
            # One that waits goes on once the other ends.
            waiting = threading.Thread(target=_refresh_and_wait)
            waiting.start()
            waiting.join(timeout=1)
            assert waiting.is_alive()
            cursor.execute("ROLLBACK")
            waiting.join(timeout=60)
    finally:
        other.close()
    assert not waiting.is_alive() and SummaryState.objects.exists()


def _refresh_and_wait() -> None:
    try:
        summaries_refresh(wait=True)
    finally:
        connection.close()


SUMMARY_QUERIES = {
    "no-shows": 2,
    "utilization": 2,
    "wait-times": 2,
    "messages": 3,
    "outcomes": 4,  # the survey policy, the state, two sums
}


@pytest.mark.parametrize("name", SUMMARIZED)
def test_a_fixed_number_of_queries_from_the_summaries(clinics, django_assert_num_queries, name):
    refresh_report_summaries()
    REPORTS[name].build(Filters(start=START, end=END))  # the policy rows exist from here on
    for filters in (Filters(start=START, end=END), outcome_data.FILTERS):
        with django_assert_num_queries(SUMMARY_QUERIES[name]):
            REPORTS[name].build(filters)
    build_small_clinic()  # as many visits again, two more providers and locations
    refresh_report_summaries()
    with django_assert_num_queries(SUMMARY_QUERIES[name]):
        REPORTS[name].build(Filters(start=START, end=END, location_id=clinics.north.pk))


def test_the_rebuild_command_says_how_far_it_got(clinics):
    out = StringIO()
    call_command("rebuild_report_summaries", stdout=out)
    text = out.getvalue()
    assert "visits 2026-" in text and "procedure records 2025-" in text
    assert text.strip().splitlines()[-1].startswith("Rebuilt everything:")
    assert SummaryState.objects.exists()


def test_beat_refreshes_the_summaries():
    from clinic.celery import app

    tasks = {entry["task"]: entry for entry in app.conf.beat_schedule.values()}
    assert tasks["reports.tasks.refresh_report_summaries"]["schedule"] <= 600


def test_page_api_and_csv_say_when_the_figures_are_as_of(clinics, client, manager_user):
    refresh_report_summaries()
    as_of = SummaryState.objects.get().refreshed_at
    client.sign_in(manager_user)
    dates = {"start": START.isoformat(), "end": END.isoformat()}
    page = client.get("/reports/no-shows/", dates).content.decode()
    shown = timezone.localtime(as_of).strftime("%Y-%m-%d %H:%M")
    assert f'<p class="freshness">Figures as of {shown}' in page
    answer = client.get("/api/v1/reports/no-shows/", dates)
    assert answer.json()["fresh_as_of"] == as_of.isoformat().replace("+00:00", "Z")
    assert answer["Figures-As-Of"] == as_of.isoformat()
    exported = client.get("/api/v1/reports/no-shows/", {**dates, "format": "csv"})
    assert exported["Content-Type"].startswith("text/csv")
    assert exported["Figures-As-Of"] == as_of.isoformat()
