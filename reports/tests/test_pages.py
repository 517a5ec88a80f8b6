"""The report pages and API: who may read which report, bad input, the CSV and JSON equal
to the page's tables, an audit row per read, and a fixed number of queries per page."""

import json
import re
from html.parser import HTMLParser

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from clinic.audit.models import AuditEvent
from clinic.users.roles import Role
from reports.presenting import csv_blocks
from reports.registry import REPORTS, Audience
from reports.tests.clinic import END, START, build_small_clinic

pytestmark = pytest.mark.django_db

OPERATIONS = ["no-shows", "utilization", "wait-times", "waitlist", "messages"]
DATES = {"start": START.isoformat(), "end": END.isoformat()}


@pytest.fixture
def small():
    return build_small_clinic()


@pytest.fixture
def as_manager(client, manager_user):
    client.sign_in(manager_user)
    return client


class Tables(HTMLParser):
    """The page's report tables: (title, column labels, rows of cell text or link)."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: list[tuple[str, list[str], list[list[str]]]] = []
        self._title = ""
        self._in: str | None = None
        self._text = ""
        self._row: list[str] = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "h2" and (attributes.get("id") or "").startswith("table-"):
            self._in, self._text = "title", ""
        elif tag == "table" and "data-table" in attributes:
            self.tables.append((self._title, [], []))
        elif tag in ("th", "td") and self.tables:
            self._in, self._text = tag, ""
        elif tag == "a" and self._in == "td":
            self._text = attributes.get("href") or ""
            self._in = "link"
        elif tag == "tr":
            self._row = []

    def handle_data(self, data):
        if self._in in ("title", "th", "td"):
            self._text += data

    def handle_endtag(self, tag):
        if tag == "h2" and self._in == "title":
            self._title, self._in = self._text.strip(), None
        elif tag == "th" and self._in == "th":
            self.tables[-1][1].append(self._text.strip())
            self._in = None
        elif tag == "td" and self._in in ("td", "link"):
            self._row.append(self._text.strip())
            self._in = None
        elif tag == "tr" and self._row and self.tables:
            self.tables[-1][2].append(self._row)
            self._row = []


def page_tables(html: str) -> list[tuple[str, list[str], list[list[str]]]]:
    parser = Tables()
    parser.feed(html)
    return parser.tables


@pytest.mark.parametrize("name", OPERATIONS)
def test_the_csv_and_the_json_hold_the_page_tables(as_manager, small, name):
    page = as_manager.get(f"/reports/{name}/", DATES)
    assert page.status_code == 200
    shown = page_tables(page.content.decode())
    assert shown, "the page shows tables"
    answer = as_manager.get(f"/api/v1/reports/{name}/", {**DATES, "format": "csv"})
    assert answer.status_code == 200
    assert answer["Content-Type"].startswith("text/csv")
    assert answer["Content-Disposition"] == f'attachment; filename="{name}-{START}-{END}.csv"'
    blocks = [block for block in csv_blocks(answer.content.decode()) if block[2]]
    assert blocks == shown
    data = as_manager.get(f"/api/v1/reports/{name}/", DATES).json()
    assert data["name"] == name and data["filters"]["start"] == str(START)
    from_json = [
        (t["title"], [c["label"] for c in t["columns"]], len(t["rows"]))
        for t in data["tables"]
        if t["rows"]
    ]
    assert from_json == [(title, labels, len(rows)) for title, labels, rows in shown]
    assert [c["key"] for c in data["charts"]] == [
        chart["key"] for chart in json.loads(_island(page.content.decode()))
    ]


def _island(html: str) -> str:
    start = html.index('<script id="report-charts-data" type="application/json">')
    start = html.index(">", start) + 1
    return html[start : html.index("</script>", start)]


def test_a_figure_on_the_page_is_the_hand_computed_one(as_manager, small):
    page = as_manager.get("/reports/no-shows/", DATES)
    overall = next(t for t in page_tables(page.content.decode()) if t[0] == "All visits")
    assert overall[1] == [
        "Visits",
        "Visits due",
        "No-shows",
        "Late cancellations",
        "No-show rate (%)",
        "Late-cancellation rate (%)",
    ]
    assert overall[2] == [["All visits", "6", "2", "1", "33.3", "16.7"]]


def test_the_page_has_the_filters_the_plots_and_print(as_manager, small):
    page = as_manager.get("/reports/no-shows/", {**DATES, "location": str(small.north.pk)})
    html = page.content.decode()
    for field in ("start", "end", "location", "provider", "procedure_type"):
        assert f'name="{field}"' in html
    assert 'value="2026-11-02"' in html and "North" in html
    assert html.count("<canvas data-chart=") == 3
    assert "js/reports.js" in html and "vendor/chartjs/chart.umd.js" in html
    assert 'href="/static/css/print.css" media="print"' in html
    assert "format=csv" in html


def test_an_empty_range_shows_the_empty_state(as_manager, small):
    page = as_manager.get("/reports/no-shows/", {"start": "2020-01-01", "end": "2020-01-31"})
    assert page.status_code == 200
    assert "No figures for these dates and filters" in page.content.decode()
    assert "<canvas" not in page.content.decode()


def test_the_index_lists_the_reports_a_manager_reads(as_manager):
    page = as_manager.get("/reports/")
    html = page.content.decode()
    for name in OPERATIONS:
        assert f'href="/reports/{name}/"' in html
    assert 'href="/reports/"' in as_manager.get("/manage/").content.decode()


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"start": "yesterday"}, "start"),
        ({"start": "2026-11-05", "end": "2026-11-01"}, "end"),
        ({"start": "0001-01-01", "end": "0001-01-02"}, "start"),
        ({"start": "2020-01-01", "end": "2026-01-01"}, "start"),
        ({"location": "not-a-uuid"}, "location"),
        ({"provider": "00000000-0000-0000-0000-000000000000"}, "provider"),
    ],
)
def test_bad_filters_are_a_400_naming_the_field(as_manager, query, field):
    page = as_manager.get("/reports/no-shows/", query)
    assert page.status_code == 400
    assert 'class="error"' in page.content.decode()
    for fmt in ("json", "csv"):
        answer = as_manager.get("/api/v1/reports/no-shows/", {**query, "format": fmt})
        assert answer.status_code == 400
        assert answer["Content-Type"] == "application/json"
        assert field in answer.json()["fields"]


def test_an_unknown_report_is_a_404(as_manager):
    assert as_manager.get("/reports/nothing-here/").status_code == 404
    assert as_manager.get("/api/v1/reports/nothing-here/").status_code == 404


def test_writes_are_refused(as_manager):
    assert as_manager.post("/api/v1/reports/no-shows/", {}).status_code == 405
    assert as_manager.post("/reports/no-shows/", {}).status_code == 405


@pytest.mark.parametrize(
    ("role", "allowed"), [(Role.CLINICIAN, False), (Role.FRONT_DESK, False), (Role.PATIENT, False)]
)
def test_only_managers_read_the_operations_reports(client, make_user, role, allowed):
    user = make_user("someone", role)
    client.sign_in(user)
    for name in OPERATIONS:
        assert client.get(f"/reports/{name}/").status_code == 403
        assert client.get(f"/api/v1/reports/{name}/").status_code == 403
    listed = client.get("/reports/")
    if role == Role.CLINICIAN:
        names = [r.name for r in REPORTS.values() if r.audience == Audience.CLINICIANS]
        assert all(f"/reports/{n}/" in listed.content.decode() for n in names)
        assert not any(f"/reports/{n}/" in listed.content.decode() for n in OPERATIONS)
        api = client.get("/api/v1/reports/").json()["results"]
        assert [r["name"] for r in api] == names
    else:
        assert listed.status_code == 403
        assert client.get("/api/v1/reports/").status_code == 403


def test_signed_out_visitors_are_sent_to_sign_in(client):
    assert client.get("/reports/no-shows/").status_code == 302
    assert client.get("/api/v1/reports/no-shows/").status_code in (401, 403)


def test_each_read_leaves_an_audit_row(as_manager, manager_user, small):
    before = AuditEvent.objects.count()
    as_manager.get("/reports/no-shows/", DATES)
    as_manager.get("/api/v1/reports/utilization/", {**DATES, "format": "csv"})
    rows = list(AuditEvent.objects.order_by("at")[before:])
    assert [(r.route, r.path, r.action, r.username, r.patients) for r in rows] == [
        ("reports:report", "/reports/no-shows/", "read", manager_user.username, []),
        ("api-report", "/api/v1/reports/utilization/", "read", manager_user.username, []),
    ]
    assert rows[1].channel == "api"
    # A refused read is not a read of the figures.
    as_manager.get("/reports/no-shows/", {"start": "bad"})
    assert AuditEvent.objects.count() == before + 2


@pytest.mark.parametrize("name", OPERATIONS)
def test_a_page_costs_the_same_queries_at_any_size(as_manager, small, name):
    smaller = _queries_of(as_manager, f"/reports/{name}/")
    build_small_clinic()  # as many rows again, two more providers and locations
    assert _queries_of(as_manager, f"/reports/{name}/") == smaller
    # Signing in (session, user, groups, second factor), the three filter lists, the audit
    # row, and the report's own: the summaries' state and one query (messages: two); the
    # waitlist reads no summary.
    own = {"messages": 3, "waitlist": 1}.get(name, 2)
    assert len(smaller) == 8 + own


def _queries_of(client, path: str) -> list[str]:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(path, DATES).status_code == 200
    return [_shape(query["sql"]) for query in queries]


def _shape(sql: str) -> str:
    """The query without its values, to compare two pages' queries."""
    return re.sub(r"'[^']*'|\b\d+\b|\"_django_curs_\w+\"", "?", sql)
