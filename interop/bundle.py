"""Searchsets as Bundles: the page of matches (offset paging with _count and _offset, and
self/next/previous links carrying the same parameters), the total, and included resources."""

from urllib.parse import urlencode

from django.http import QueryDict

from clinic.users.models import User
from patients.selectors import patients_visible_to

from . import params
from .outcome import FhirError
from .patient import patient_resource
from .registry import Kind
from .sources import Source


def page_rows(
    sources: list[Source], counts: list[int], page: params.Page
) -> list[tuple[Source, object]]:
    """The rows of the page, taken across the sources in order (at most one page query per
    source)."""
    taken: list[tuple[Source, object]] = []
    skip = page.offset
    for source, size in zip(sources, counts, strict=True):
        if skip >= size or len(taken) >= page.count:
            skip = max(0, skip - size)
            continue
        rows = source.rows[skip : skip + page.count - len(taken)]
        taken += [(source, row) for row in rows]
        skip = 0
    return taken


def link(base: str, query: QueryDict, offset: int) -> str:
    kept = [(key, value) for key, values in query.lists() for value in values if key != "_offset"]
    return f"{base}?{urlencode([*kept, ('_offset', str(offset))])}"


def links(base: str, query: QueryDict, page: params.Page, matched_rows: int) -> list[dict]:
    found = [{"relation": "self", "url": link(base, query, page.offset)}]
    if page.offset + page.count < matched_rows:
        found.append({"relation": "next", "url": link(base, query, page.offset + page.count)})
    if page.offset > 0:
        previous = max(0, page.offset - page.count)
        found.append({"relation": "previous", "url": link(base, query, previous)})
    return found


def public_part(kind: Kind, query: QueryDict) -> QueryDict:
    """The parameters a link may repeat: a search by a person's details is POSTed again
    with its body, and its links carry only the rest (paging included)."""
    kept = query.copy()
    for name in kind.private:
        kept.pop(name, None)
    return kept


def refuse_private_in_url(kind: Kind, url_query: QueryDict) -> None:
    found = sorted(kind.private & set(url_query))
    if found:
        raise FhirError(
            400,
            f"Search by {', '.join(found)} with POST /fhir/{kind.name}/_search and the terms "
            "in a form body: a URL reaches access logs and browser history.",
            fields={name: ["Not in the URL: POST it to _search."] for name in found},
        )


def included_patients(user: User, resources: list[dict]) -> list[dict]:
    ids = {
        part["actor"]["reference"].removeprefix("Patient/")
        for resource in resources
        for part in resource.get("participant", [])
        if part["actor"]["reference"].startswith("Patient/")
    }
    if not ids:
        return []
    patients = patients_visible_to(user).filter(pk__in=ids).select_related("home_location")
    return [patient_resource(patient) for patient in patients.order_by("mrn")]


def searchset(user: User, kind: Kind, query: QueryDict, base: str) -> dict:
    """The Bundle of a search, its resources not validated yet."""
    params.refuse_unknown(query, kind.params | ({"_include"} if kind.includes else set()))
    includes = query.getlist("_include")
    unsupported = [name for name in includes if name not in kind.includes]
    if unsupported:
        raise params.invalid("_include", f"{unsupported[0]!r} is not supported here.")
    page = params.page_of(query)
    sources = kind.search(user, query)
    counts = [source.row_count() for source in sources]
    rows = page_rows(sources, counts, page)
    matches = [resource for source, row in rows for resource in source.build(row)]
    extra = included_patients(user, matches) if includes else []
    entries = [_entry(base, resource, "match") for resource in matches]
    entries += [_entry(base, resource, "include") for resource in extra]
    bundle = {
        "resourceType": "Bundle",
        "type": "searchset",
        "total": sum(
            source.resource_total(count) for source, count in zip(sources, counts, strict=True)
        ),
        "link": links(f"{base}{kind.name}", public_part(kind, query), page, sum(counts)),
        "entry": entries,
    }
    return bundle


def _entry(base: str, resource: dict, mode: str) -> dict:
    return {
        "fullUrl": f"{base}{resource['resourceType']}/{resource['id']}",
        "resource": resource,
        "search": {"mode": mode},
    }
