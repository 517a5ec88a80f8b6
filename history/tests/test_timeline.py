"""The history page's long parts, shaped once in the view: the timeline rendered by one tag
(history/templatetags/timeline.py) and the relief table's days and percentages formatted in
Python, with the same markup, escaping, times and numbers as the template code they
replaced."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from types import SimpleNamespace
from zoneinfo import ZoneInfo

from django.template import engines

from history.views import _relief_rows, _timeline_rows

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


# The relief table's rows as they stood in history/history.html, and as they are now.
RELIEF_BEFORE = """{% for row in relief %}<tr><th scope="row">{{ row.record.performed_at|date:"Y-m-d" }} · {{ row.summary }}</th><td>{{ row.baseline }}</td>
<td>{% for f in row.follow_ups %}{% if f.days %}day {{ f.days }}{% else %}{{ f.hours }} h{% endif %}: NRS {{ f.nrs }}{% if f.percent_relief is not None %} ({{ f.percent_relief|floatformat:0 }}%){% endif %}{% if not forloop.last %}; {% endif %}{% empty %}none yet{% endfor %}</td>
<td>{% if row.best is not None %}{{ row.best|floatformat:0 }}%{% else %}-{% endif %}</td></tr>{% endfor %}"""
RELIEF_NOW = """{% for row in relief %}<tr><th scope="row">{{ row.day }} · {{ row.summary }}</th><td>{{ row.baseline }}</td>
<td>{% for f in row.follow_ups %}{% if f.days %}day {{ f.days }}{% else %}{{ f.hours }} h{% endif %}: NRS {{ f.nrs }}{% if f.relief_shown is not None %} ({{ f.relief_shown }}%){% endif %}{% if not forloop.last %}; {% endif %}{% empty %}none yet{% endfor %}</td>
<td>{% if row.best_shown is not None %}{{ row.best_shown }}%{% else %}-{% endif %}</td></tr>{% endfor %}"""


def follow_up(days: int, relief: str | None) -> dict:
    return {
        "days": days,
        "hours": 2.5,
        "nrs": 3,
        "percent_relief": None if relief is None else Decimal(relief),
    }


def relief_rows() -> list[dict]:
    performed = datetime(2026, 11, 1, 3, 30, tzinfo=UTC)  # the evening before, in New York
    rows = []
    for n, (best, reliefs) in enumerate(
        [("66.7", ["50.5", "66.7", "49.4"]), ("-0.4", ["-0.4", None]), (None, []), ("100", ["0"])]
    ):
        rows.append(
            {
                "record": SimpleNamespace(performed_at=performed + timedelta(days=n)),
                "summary": f"Lumbar MBB <{n}>",
                "baseline": 7,
                "follow_ups": [follow_up(d, r) for d, r in enumerate(reliefs)],
                "best": None if best is None else Decimal(best),
            }
        )
    return rows


def test_the_relief_table_prints_what_it_printed():
    rows = relief_rows()
    before = engines["django"].from_string(RELIEF_BEFORE).render({"relief": rows})
    now = engines["django"].from_string(RELIEF_NOW).render({"relief": _relief_rows(rows)})
    assert now == before
    assert "2026-10-31 · Lumbar MBB &lt;0&gt;" in now and "(51%)" in now and "(49%)" in now
    assert "-0%" not in now and "<td>0%</td>" in now
