"""Search parameters as FHIR R4 defines them (http://hl7.org/fhir/R4/search.html): references,
token values (system|code), dates with prefixes, and paging (_count, _offset). Anything else is
a 400 OperationOutcome naming the parameter."""

import uuid
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Q
from django.http import QueryDict
from django.utils.dateparse import parse_date, parse_datetime

from .outcome import FhirError

DEFAULT_COUNT = 20
MAX_COUNT = 100
# Parameters every search accepts and ignores: the format is always JSON.
IGNORED = frozenset({"_format", "_pretty"})
PAGING = frozenset({"_count", "_offset"})
DATE_PREFIXES = ("eq", "ge", "gt", "le", "lt")


def invalid(name: str, message: str) -> FhirError:
    return FhirError(400, f"Search parameter {name}: {message}", fields={name: [message]})


@dataclass(frozen=True)
class Page:
    offset: int
    count: int


def page_of(query: QueryDict) -> Page:
    return Page(
        offset=_whole(query, "_offset", 0, 0, None),
        count=_whole(query, "_count", DEFAULT_COUNT, 1, MAX_COUNT),
    )


def _whole(query: QueryDict, name: str, default: int, low: int, high: int | None) -> int:
    text = query.get(name)
    if text is None:
        return default
    if not text.isdigit() or int(text) < low or (high is not None and int(text) > high):
        limit = f"{low}-{high}" if high is not None else f"{low} or more"
        raise invalid(name, f"must be a whole number, {limit}; got {text!r}.")
    return int(text)


def refuse_unknown(query: QueryDict, known: frozenset[str]) -> None:
    unknown = sorted(set(query) - known - IGNORED - PAGING)
    if unknown:
        allowed = ", ".join(sorted(known | PAGING)) or "none"
        raise FhirError(
            400,
            f"Unsupported search parameter(s): {', '.join(unknown)}. Supported: {allowed}.",
            fields={name: ["Not a supported search parameter."] for name in unknown},
        )


def id_of(name: str, value: str, resource_type: str) -> uuid.UUID:
    """The id in a reference parameter: "Patient/<id>", a full URL ending so, or the id."""
    text = value.rstrip("/").rsplit("/", 2)
    if len(text) >= 2 and text[-2] != resource_type:
        raise invalid(name, f"must reference a {resource_type}; got {value!r}.")
    try:
        return uuid.UUID(text[-1])
    except ValueError:
        raise invalid(name, f"{value!r} is not a {resource_type} id.") from None


def ids_of(query: QueryDict, name: str, resource_type: str) -> list[uuid.UUID]:
    """Every id a reference parameter names (comma-separated values are alternatives)."""
    return [
        id_of(name, value, resource_type)
        for text in query.getlist(name)
        for value in text.split(",")
        if value
    ]


def token_codes(query: QueryDict, name: str) -> list[tuple[str | None, str]]:
    """(system or None, code) pairs of a token parameter; "system|code" or "code"."""
    pairs = []
    for text in query.getlist(name):
        for value in text.split(","):
            system, bar, code = value.rpartition("|")
            pairs.append((system if bar else None, code))
    return pairs


def _bounds(name: str, text: str) -> tuple[str, datetime, datetime]:
    prefix = text[:2] if text[:2] in DATE_PREFIXES else "eq"
    value = text[2:] if text[:2] in DATE_PREFIXES else text
    moment = parse_datetime(value) if "T" in value else None
    if moment is not None:
        if moment.tzinfo is None:
            raise invalid(name, f"a time needs its offset (Z or +hh:mm); got {value!r}.")
        return prefix, moment, moment + timedelta(seconds=1)
    try:
        day = parse_date(value)
    except ValueError:
        day = None
    if day is None:
        raise invalid(name, f"must be a date (2026-01-31) or an instant; got {value!r}.")
    zone = ZoneInfo(settings.TIME_ZONE)
    start = datetime.combine(day, time.min, tzinfo=zone)
    return prefix, start, start + timedelta(days=1)


def date_filter(query: QueryDict, name: str, field: str) -> Q:
    """A date parameter's conditions on a datetime field; dates are whole days in the
    clinic's default zone. Several values all apply (date=ge...&date=lt...)."""
    condition = Q()
    for text in query.getlist(name):
        prefix, start, end = _bounds(name, text)
        condition &= {
            "eq": Q(**{f"{field}__gte": start, f"{field}__lt": end}),
            "ge": Q(**{f"{field}__gte": start}),
            "gt": Q(**{f"{field}__gte": end}),
            "le": Q(**{f"{field}__lt": end}),
            "lt": Q(**{f"{field}__lt": start}),
        }[prefix]
    return condition


def date_window(query: QueryDict, name: str, default_days: int) -> tuple[date, date]:
    """The local days a date-ranged search of free slots covers (ge/gt start, le/lt end)."""
    start: date | None = None
    end: date | None = None
    for text in query.getlist(name):
        prefix, low, high = _bounds(name, text)
        if prefix in ("ge", "gt", "eq"):
            start = low.date()
        if prefix in ("le", "lt", "eq"):
            end = (high - timedelta(seconds=1)).date()
    today = datetime.now(ZoneInfo(settings.TIME_ZONE)).date()
    start = start or today
    return start, end or start + timedelta(days=default_days - 1)
