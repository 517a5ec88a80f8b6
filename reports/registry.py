"""The one shape every report has, and the list of reports.

A report is a function from `Filters` to a `ReportResult`: tables of figures (the page's
table, the CSV and the JSON all read them) and charts drawn from the same figures. The pages
(`reports/views.py`) and the API (`reports/apis.py`) render any registered report; each
report module registers its own with `register`.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from uuid import UUID


class Audience(StrEnum):
    """Who reads a report: operations reports are the managers'; the outcome reports are
    read by clinicians and managers."""

    MANAGERS = "managers"
    CLINICIANS = "clinicians"


@dataclass(frozen=True)
class Filters:
    """The filters every report page offers; a report ignores those it has no use for."""

    start: date
    end: date  # inclusive
    location_id: UUID | None = None
    provider_id: UUID | None = None
    procedure_type_id: UUID | None = None


Cell = str | int | float | Decimal | date | datetime | None


@dataclass(frozen=True)
class Column:
    key: str
    label: str


@dataclass(frozen=True)
class Table:
    key: str
    title: str
    columns: list[Column]
    rows: list[dict[str, Cell]]


@dataclass(frozen=True)
class Dataset:
    label: str
    values: list[float | None]


@dataclass(frozen=True)
class Chart:
    """A Chart.js chart of one table's figures."""

    key: str
    title: str
    kind: str  # Chart.js type: "bar" or "line"
    labels: list[str]
    datasets: list[Dataset]
    y_label: str = ""


@dataclass(frozen=True)
class ReportResult:
    tables: list[Table]
    charts: list[Chart] = field(default_factory=list)
    # When the figures were computed, for reports read from summary tables: shown on the page.
    fresh_as_of: datetime | None = None
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Report:
    name: str  # the URL name: /reports/<name>/ and /api/v1/reports/<name>/
    title: str
    description: str
    audience: Audience
    build: Callable[[Filters], ReportResult]


REPORTS: dict[str, Report] = {}


def register(report: Report) -> Report:
    if report.name in REPORTS:
        raise ValueError(f"A report named {report.name!r} is already registered.")
    REPORTS[report.name] = report
    return report
