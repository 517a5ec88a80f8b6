"""One report result, three forms: the page's tables, the JSON answer and the CSV file.
Every cell is written by `cell_text` in all of them, so the CSV matches the page."""

import csv
import io
from dataclasses import asdict, dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from .registry import Cell, Column, Filters, Report, ReportResult, Table


def cell_text(value: Cell) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, float):
        return f"{value:.1f}"
    if isinstance(value, Decimal):
        return format(value, "f")
    return str(value)


def table_rows(table: Table) -> list[list[str]]:
    """The table's body as text, in its columns' order."""
    return [[cell_text(row.get(column.key)) for column in table.columns] for row in table.rows]


@dataclass(frozen=True)
class PageCell:
    text: str
    href: str = ""


def is_link_column(column: Column) -> bool:
    """A column of addresses (a drill-down's `..._url`): a link on the page, text elsewhere."""
    return column.key.endswith("_url")


def page_rows(table: Table) -> list[list[PageCell]]:
    """The table's body for the page: the same text as the CSV, addresses as links."""
    links = [is_link_column(column) for column in table.columns]
    return [
        [
            PageCell(text, href=text if link and text.startswith("/") else "")
            for text, link in zip(texts, links, strict=True)
        ]
        for texts in table_rows(table)
    ]


def filters_json(filters: Filters) -> dict[str, Any]:
    return {
        key: str(value) if value is not None else None for key, value in asdict(filters).items()
    }


def result_json(report: Report, filters: Filters, result: ReportResult) -> dict[str, Any]:
    return {
        "name": report.name,
        "title": report.title,
        "description": report.description,
        "audience": report.audience.value,
        "filters": filters_json(filters),
        "fresh_as_of": result.fresh_as_of,
        "notes": result.notes,
        "tables": [asdict(table) for table in result.tables],
        "charts": [asdict(chart) for chart in result.charts],
    }


def result_csv(report: Report, result: ReportResult) -> str:
    """All the report's tables in one CSV: each table is a block of its title on a row of
    its own, its column labels, its rows, and one empty row before the next block."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    for number, table in enumerate(result.tables):
        if number:
            writer.writerow([])
        writer.writerow([table.title])
        writer.writerow([column.label for column in table.columns])
        writer.writerows(table_rows(table))
    return out.getvalue()


def csv_blocks(text: str) -> list[tuple[str, list[str], list[list[str]]]]:
    """Read back what `result_csv` wrote: (title, labels, rows) per table."""
    blocks: list[tuple[str, list[str], list[list[str]]]] = []
    lines = list(csv.reader(io.StringIO(text)))
    current: list[list[str]] = []
    for line in [*lines, []]:
        if line:
            current.append(line)
            continue
        if current:
            blocks.append((current[0][0], current[1], current[2:]))
        current = []
    return blocks
