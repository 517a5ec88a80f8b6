"""The history page's timeline, rendered by one tag (history/templatetags/timeline.py): the
same markup, escaping and times as the template loop it replaced."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from django.template import engines

from history.views import _timeline_rows

# The template loop the tag replaced, as it stood in history/history.html.
LOOP = """{% for e in events %}
    <li class="event event-{{ e.kind }}"><span class="badge">{{ e.kind }}</span> <time datetime="{{ e.at.isoformat }}">{{ e.local|date:"Y-m-d H:i" }}</time> {{ e.title }}
      {% if e.detail %}<dl class="facts">{% for k, v in e.detail.items %}<dt>{{ k }}</dt><dd>{{ v }}</dd>{% endfor %}</dl>{% endif %}</li>
  {% endfor %}"""
TAG = "{% load timeline %}{% timeline_items events %}"


def events() -> list[dict]:
    at = datetime(2026, 3, 8, 9, 30, tzinfo=UTC)  # the night the US clocks go forward
    denver = ZoneInfo("America/Denver")
    return [
        {
            "kind": "procedure",
            "at": at,
            "local": at.astimezone(denver),
            "title": "Lumbar TFESI · left · L4-L5",
            "region": "lumbar_sacral",
            "detail": {"Steroid": "dexamethasone 10 mg", "Pain before and after": "7 → 2"},
            "id": "1",
        },
        {
            "kind": "message",
            "at": at.replace(hour=3),
            "local": at.replace(hour=3).astimezone(denver),
            "title": 'Reminder <b>"24h"</b> & more',
            "region": "",
            "detail": {},
            "id": "2",
        },
        {
            "kind": "assessment",
            "at": at.replace(month=11, day=1, hour=6),
            "local": at.replace(month=11, day=1, hour=6).astimezone(denver),
            "title": "Pain (NRS): 5",
            "region": "",
            "detail": {"<note>": "O'Brien's"},
            "id": "3",
        },
    ]


def render(source: str, rows: list[dict]) -> str:
    return engines["django"].from_string(source).render({"events": rows})


def test_the_tag_renders_what_the_template_loop_rendered():
    shown = events()
    assert render(TAG, _timeline_rows(shown)) == render(LOOP, shown)


def test_titles_and_facts_are_escaped():
    html = render(TAG, _timeline_rows(events()))
    assert "&lt;b&gt;&quot;24h&quot;&lt;/b&gt; &amp; more" in html
    assert "<dt>&lt;note&gt;</dt><dd>O&#x27;Brien&#x27;s</dd>" in html
    assert "<b>" not in html


def test_times_are_shown_in_the_current_time_zone_as_before():
    """The date filter showed each time in the current zone (the clinic's default), not the
    event's location's; the precomputed time keeps that."""
    html = render(TAG, _timeline_rows(events()[:1]))
    assert '<time datetime="2026-03-08T09:30:00+00:00">2026-03-08 05:30</time>' in html
