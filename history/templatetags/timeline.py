"""The history page's timeline, rendered in one pass: a long history has hundreds of events,
and the template engine's per-variable cost (resolve, localize, escape) for each of them was
most of the page's rendering. The markup and escaping are those the template had."""

from django import template
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

register = template.Library()

EVENT = (
    '\n    <li class="event event-{}"><span class="badge">{}</span> '
    '<time datetime="{}">{}</time> {}\n      {}</li>\n  '
)


def _facts(detail: dict[str, str]) -> SafeString | str:
    if not detail:
        return ""
    return format_html(
        '<dl class="facts">{}</dl>', format_html_join("", "<dt>{}</dt><dd>{}</dd>", detail.items())
    )


def _title(event: dict) -> SafeString | str:
    """The event's title, a link when the event has a page of its own (a signed note)."""
    if event.get("url"):
        return format_html('<a href="{}">{}</a>', event["url"], event["title"])
    return event["title"]


@register.simple_tag
def timeline_items(events: list[dict]) -> SafeString:
    """One <li> per event (kind, time, title and its facts), escaped as the template would."""
    return format_html_join(
        "",
        EVENT,
        (
            (e["kind"], e["kind"], e["iso"], e["when"], _title(e), _facts(e["detail"]))
            for e in events
        ),
    )
