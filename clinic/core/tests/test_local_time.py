"""The `local` template filters: a moment in a location's zone with the short US zone name
(MT, ET, CT, PT), whatever the server's zone (settings.TIME_ZONE is New York in the tests)."""

from datetime import UTC, datetime
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.template import Context, Template

from clinic.core.templatetags.clinic_time import local, local_date, local_short, local_time

DENVER = SimpleNamespace(zone=ZoneInfo("America/Denver"))  # a location knows its zone
WINTER = datetime(2026, 12, 15, 16, 30, tzinfo=UTC)  # 9:30 AM in Denver (MST)
SUMMER = datetime(2026, 7, 14, 15, 30, tzinfo=UTC)  # 9:30 AM in Denver (MDT)


def test_the_tests_run_with_new_york_as_the_servers_zone():
    assert settings.TIME_ZONE == "America/New_York"


@pytest.mark.parametrize("moment", [WINTER, SUMMER])
def test_denver_is_mt_in_winter_and_summer(moment):
    text = local(moment, DENVER)
    assert text.endswith("9:30 AM MT")
    assert "ET" not in text and "MST" not in text and "MDT" not in text


def test_the_full_form_names_the_day():
    assert local(WINTER, DENVER) == "Tue Dec 15, 9:30 AM MT"
    assert local_time(WINTER, DENVER) == "9:30 AM MT"
    assert local_short(WINTER, DENVER) == "2026-12-15 09:30 MT"


@pytest.mark.parametrize(
    ("zone", "expected"),
    [
        ("America/New_York", "11:30 AM ET"),
        ("America/Chicago", "10:30 AM CT"),
        ("America/Los_Angeles", "8:30 AM PT"),
        ("America/Phoenix", "9:30 AM MT"),  # MST all year
        ("Pacific/Honolulu", "6:30 AM HT"),
        ("Europe/London", "4:30 PM GMT"),  # not a US zone: the abbreviation as it is
    ],
)
def test_each_zone_by_name_or_zoneinfo(zone, expected):
    assert local_time(WINTER, zone) == expected
    assert local_time(WINTER, ZoneInfo(zone)) == expected


def test_without_a_location_the_clinics_default_zone_is_used_never_utc():
    assert local_time(WINTER, None) == "11:30 AM ET"
    assert local_time(WINTER, SimpleNamespace()) == "11:30 AM ET"
    assert local_time(WINTER, "Not/AZone") == "11:30 AM ET"


def test_the_local_day_is_the_locations_not_utcs():
    late = datetime(2026, 12, 16, 3, 0, tzinfo=UTC)  # 8 PM on the 15th in Denver
    assert local_date(late, DENVER) == "2026-12-15"
    assert local_date(late, "UTC") == "2026-12-16"


def test_nothing_to_show_is_empty():
    assert local(None, DENVER) == ""
    assert local("2026-12-15", DENVER) == ""


def test_in_a_template():
    template = Template("{% load clinic_time %}{{ when|local:location }}")
    html = template.render(Context({"when": SUMMER, "location": DENVER}))
    assert html == "Tue Jul 14, 9:30 AM MT"
