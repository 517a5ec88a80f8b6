"""The demo clinic gives every operations report figures to show, and seeding it again adds
no second history."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.test import override_settings
from django.utils import timezone

from procedures.models import ProcedureOutcome
from reports.models import SummaryChange, SummaryState
from reports.registry import REPORTS, Filters
from scheduling.models import AppointmentStatusChange, WaitlistEntry

pytestmark = pytest.mark.django_db

OPERATIONS = ["no-shows", "utilization", "wait-times", "waitlist", "messages"]


def seed() -> None:
    with override_settings(DEBUG=True):
        call_command(
            "seed_demo", "--patients", "12", "--password", "demo-pass-123", stdout=StringIO()
        )


def test_the_demo_gives_each_report_figures(clock):
    seed()
    today = timezone.localdate()
    filters = Filters(start=today - timedelta(days=14), end=today)
    for name in OPERATIONS:
        result = REPORTS[name].build(filters)
        assert all(table.rows for table in result.tables), name
        plotted = [v for chart in result.charts for d in chart.datasets for v in d.values if v]
        assert plotted, f"{name}: the plots have something to draw"
    waits = REPORTS["wait-times"].build(filters).tables[0].rows[0]
    assert waits["visits"] > 5 and waits["to_room_median"] is not None
    late = REPORTS["no-shows"].build(filters).tables[0].rows[0]
    assert late["late"] > 0 and late["no_shows"] > 0

    # Surveys after past procedures: most answered, some not; the summaries hold it all.
    year = Filters(start=today - timedelta(days=364), end=today)
    procedures = REPORTS["outcomes"].build(year).tables[1].rows
    overall = [row for row in procedures if row["dimension"] == "Region"]
    sent = sum(int(row["surveys_sent"]) for row in overall)
    answered = sum(int(row["surveys_answered"]) for row in overall)
    assert 0 < answered < sent
    assert SummaryState.objects.exists() and not SummaryChange.objects.exists()

    histories = AppointmentStatusChange.objects.count(), WaitlistEntry.objects.count()
    answers = ProcedureOutcome.objects.filter(source="survey").count()
    seed()
    assert (AppointmentStatusChange.objects.count(), WaitlistEntry.objects.count()) == histories
    assert ProcedureOutcome.objects.filter(source="survey").count() == answers
