"""The operations reports' figures on the small clinic of reports/tests/clinic.py, each
worked out by hand from the rows there, and the fixed number of queries each report makes."""

import random
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection

from reports.operations import (
    messages,
    no_shows,
    utilization,
    wait_times,
    waitlist,
)
from reports.registry import Filters, ReportResult, Table
from reports.sql import histogram_percentile
from reports.tasks import refresh_report_summaries
from reports.tests.clinic import END, START, SmallClinic, build_small_clinic

pytestmark = pytest.mark.django_db

D = Decimal


@pytest.fixture
def small() -> SmallClinic:
    return build_small_clinic()


def table(result: ReportResult, key: str) -> Table:
    return next(t for t in result.tables if t.key == key)


def rows_of(result: ReportResult, key: str, *columns: str) -> list[tuple]:
    return [tuple(row[c] for c in columns) for row in table(result, key).rows]


ATTENDANCE = ("group", "visits", "no_shows", "late", "no_show_rate", "late_rate")


def test_no_shows_and_late_cancellations_by_each_dimension(small):
    result = no_shows(Filters(start=START, end=END))
    # Visits 1-8: 4 (cancelled three days ahead) and 7 (moved) are not due.
    assert rows_of(result, "overall", *ATTENDANCE) == [
        ("All visits", 6, 2, 1, D("33.3"), D("16.7"))
    ]
    assert rows_of(result, "provider", *ATTENDANCE) == [
        ("Ben Baker, PA-C", 3, 1, 0, D("33.3"), D("0.0")),
        ("Dr. Ann Able, MD", 3, 1, 1, D("33.3"), D("33.3")),
    ]
    assert rows_of(result, "type", *ATTENDANCE) == [
        ("Follow-up", 4, 2, 0, D("50.0"), D("0.0")),
        ("New-patient consult", 2, 0, 1, D("0.0"), D("50.0")),
    ]
    assert rows_of(result, "location", *ATTENDANCE) == [
        ("North", 4, 1, 1, D("25.0"), D("25.0")),
        ("South", 2, 1, 0, D("50.0"), D("0.0")),
    ]
    assert rows_of(result, "weekday", *ATTENDANCE) == [
        ("Monday", 3, 1, 1, D("33.3"), D("33.3")),
        ("Tuesday", 3, 1, 0, D("33.3"), D("0.0")),
    ]
    assert rows_of(result, "lead", *ATTENDANCE) == [
        ("Same day (under 24 h)", 1, 0, 0, D("0.0"), D("0.0")),
        ("1-7 days", 2, 1, 0, D("50.0"), D("0.0")),
        ("8-14 days", 1, 0, 0, D("0.0"), D("0.0")),
        ("15-30 days", 1, 0, 1, D("0.0"), D("100.0")),
        ("Entered afterwards", 1, 1, 0, D("100.0"), D("0.0")),
    ]
    weekday_chart = next(c for c in result.charts if c.key == "by-weekday")
    assert weekday_chart.labels == ["Monday", "Tuesday"]
    assert [d.values for d in weekday_chart.datasets] == [[33.3, 33.3], [33.3, 0.0]]


def test_filters_narrow_the_visits(small):
    north = no_shows(Filters(start=START, end=END, location_id=small.north.pk))
    assert rows_of(north, "overall", *ATTENDANCE) == [("All visits", 4, 1, 1, D("25.0"), D("25.0"))]
    able = no_shows(Filters(start=START, end=START, provider_id=small.able.pk))
    assert rows_of(able, "overall", "visits") == [(3,)]
    tuesday_able = no_shows(Filters(start=END, end=END, provider_id=small.able.pk))
    assert all(not t.rows for t in tuesday_able.tables)


def test_utilization_counts_booked_over_available_minutes(small):
    result = utilization(Filters(start=START, end=END))
    # Able: Monday 8-12 (240 min), visits 1 and 2 (a no-show holds its time) at 30 each.
    # Baker: Tuesday 8-12 at North less an hour off, 9-11 at South (300 min); visits 5 (30),
    # 6 (50) and 8 (30, outside his hours); 7 was moved and 3, 4 cancelled.
    assert rows_of(result, "providers", "name", "available", "booked", "utilization") == [
        ("Ben Baker, PA-C", D("300.0"), D("110.0"), D("36.7")),
        ("Dr. Ann Able, MD", D("240.0"), D("60.0"), D("25.0")),
    ]
    # Exam 1 (North, open 9 h Monday and Tuesday): 30 + 30 + 30; Exam 2 (South, 8 h Tuesday).
    assert rows_of(result, "rooms", "name", "available", "booked", "utilization") == [
        ("Exam 1 (North)", D("1080.0"), D("90.0"), D("8.3")),
        ("Exam 2 (South)", D("480.0"), D("80.0"), D("16.7")),
    ]
    by_day = table(result, "providers_day")
    assert [c.label for c in by_day.columns] == [
        "Day",
        "Ben Baker, PA-C (%)",
        "Dr. Ann Able, MD (%)",
    ]
    assert [tuple(r.values()) for r in by_day.rows] == [
        ("2026-11-02", None, D("25.0")),
        ("2026-11-03", D("36.7"), None),
    ]
    assert [tuple(r.values()) for r in table(result, "providers_week").rows] == [
        ("2026-11-02", D("36.7"), D("25.0"))
    ]
    daily = next(c for c in result.charts if c.key == "providers-daily")
    assert daily.kind == "line" and daily.labels == ["2026-11-02", "2026-11-03"]
    assert [d.label for d in daily.datasets] == ["Ben Baker, PA-C", "Dr. Ann Able, MD"]


WAITS = (
    "group",
    "visits",
    "to_room_median",
    "to_room_p90",
    "in_room_median",
    "total_median",
    "total_p90",
)


def test_wait_times_from_the_status_stamps(small):
    result = wait_times(Filters(start=START, end=END))
    # Checked in: visit 1 (10, 20, 30 minutes), 5 (20, 30, 50) and 6 (5, 50, 55).
    assert rows_of(result, "all", *WAITS) == [
        ("All visits", 3, D("10.0"), D("18.0"), D("30.0"), D("50.0"), D("54.0"))
    ]
    assert rows_of(result, "provider", *WAITS) == [
        ("Ben Baker, PA-C", 2, D("12.5"), D("18.5"), D("40.0"), D("52.5"), D("54.5")),
        ("Dr. Ann Able, MD", 1, D("10.0"), D("10.0"), D("20.0"), D("30.0"), D("30.0")),
    ]
    assert rows_of(result, "location", "group", "visits", "total_median") == [
        ("North", 2, D("40.0")),
        ("South", 1, D("55.0")),
    ]


def test_waits_are_rounded_to_the_whole_minute_before_the_median(small):
    # The definition changed with the wait histograms (decision 0038): each wait is rounded to
    # the nearest minute, halves up, so visit 1's 10.5 minutes to the room count as 11 and
    # visit 5's 20 min 29 s as 20. The median to the room of 5, 6 and 1 is then 11, not 10.5.
    first, fifth = small.visits[1], small.visits[5]
    first.in_room_at += timedelta(seconds=30)
    first.save(update_fields=["in_room_at"])
    fifth.in_room_at += timedelta(seconds=29)
    fifth.save(update_fields=["in_room_at"])
    for _ in range(2):  # live, then from the summaries
        result = wait_times(Filters(start=START, end=END))
        assert rows_of(result, "all", "visits", "to_room_median", "to_room_p90") == [
            (3, D("11.0"), D("18.2"))
        ]
        refresh_report_summaries()


@pytest.mark.parametrize("fraction", [0.5, 0.9])
@pytest.mark.parametrize(
    ("sql_type", "draw"),
    [
        ("int", lambda chooser: chooser.randint(0, 90)),  # wait minutes
        ("float8", lambda chooser: round(chooser.uniform(-50, 100), 1)),  # percent relief
    ],
    ids=["minutes", "relief"],
)
def test_the_histogram_percentile_is_postgresqls_over_the_rows(fraction, sql_type, draw):
    chooser = random.Random(18)
    for size in (1, 2, 7, 100, 1001):
        values = [draw(chooser) for _ in range(size)]
        histogram = sorted({v: values.count(v) for v in values}.items())
        with connection.cursor() as cursor:
            sql = f"SELECT percentile_cont(%s) WITHIN GROUP (ORDER BY v) FROM unnest(%s::{sql_type}[]) v"  # noqa: S608 (the type is a constant)
            cursor.execute(sql, [fraction, values])
            expected = cursor.fetchone()[0]
        assert histogram_percentile(histogram, fraction) == pytest.approx(expected, abs=1e-9)
    assert histogram_percentile([], fraction) is None


def test_waitlist_fill_rate_and_time_to_fill(small):
    result = waitlist(Filters(start=START, end=END))
    columns = (
        "label",
        "entries",
        "filled",
        "withdrawn",
        "waiting",
        "fill_rate",
        "offers",
        "accepted",
        "expired",
        "hours_to_fill",
    )
    # Put on the list Monday 8:00; the accepted offer's visit was booked Tuesday 7:00.
    assert rows_of(result, "by_type", *columns) == [
        ("All kinds of visit", 3, 1, 1, 1, D("33.3"), 2, 1, 1, D("23.0")),
        ("Follow-up", 2, 1, 1, 0, D("50.0"), 2, 1, 1, D("23.0")),
        ("New-patient consult", 1, 0, 0, 1, D("0.0"), 0, 0, 0, None),
    ]


def test_message_delivery_and_visits_confirmed(small):
    result = messages(Filters(start=START, end=END))
    delivery = ("messages", "sent", "failed", "cancelled", "waiting", "delivered")
    assert rows_of(result, "by_channel", "channel", *delivery) == [
        ("Email", 2, 1, 1, 0, 0, D("50.0")),
        ("Text message", 3, 1, 0, 1, 1, D("100.0")),
    ]
    assert rows_of(result, "by_kind", "kind", "channel", *delivery) == [
        ("Appointment confirmation", "Email", 1, 1, 0, 0, 0, D("100.0")),
        ("Appointment reminder", "Email", 1, 0, 1, 0, 0, D("0.0")),
        ("Appointment reminder", "Text message", 3, 1, 0, 1, 1, D("100.0")),
    ]
    confirmed = (
        "group",
        "visits",
        "reminded",
        "confirmed",
        "confirmed_share",
        "confirmed_of_reminded",
    )
    # Not cancelled: visits 1, 2, 5, 6, 8; confirmed 1 and 6; a sent reminder only for 1.
    assert rows_of(result, "confirmed", *confirmed) == [
        ("All visits", 5, 1, 2, D("40.0"), D("100.0"))
    ]
    assert rows_of(result, "confirmed_by_location", *confirmed) == [
        ("North", 3, 1, 1, D("33.3"), D("100.0")),
        ("South", 2, 0, 1, D("50.0"), None),
    ]


@pytest.mark.parametrize(
    ("build", "queries"),
    [(no_shows, 2), (utilization, 2), (wait_times, 2), (waitlist, 1), (messages, 3)],
)
def test_each_report_makes_a_fixed_number_of_queries(
    small, django_assert_num_queries, build, queries
):
    with django_assert_num_queries(queries):
        build(Filters(start=START, end=END))
    with django_assert_num_queries(queries):
        build(Filters(start=START, end=END, location_id=small.north.pk, provider_id=small.baker.pk))
