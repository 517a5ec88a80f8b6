"""Local wall-clock arithmetic, checked against hand-computed UTC times."""

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from notifications.clock import after_quiet_hours, at_local, in_quiet_hours, wall_clock_before

NEW_YORK = ZoneInfo("America/New_York")
DENVER = ZoneInfo("America/Denver")
NIGHT, MORNING = time(21, 0), time(8, 0)


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_a_24_hour_reminder_for_the_morning_after_clocks_go_back_keeps_the_local_time():
    # Sunday 1 Nov 2026 02:00 EDT -> 01:00 EST. A 09:00 EST Monday visit is 14:00 UTC;
    # its 24-hour reminder is 09:00 EST on Sunday = 14:00 UTC (the Sunday has 25 hours,
    # so this is 24 real hours; the case that differs is the Sunday visit below).
    monday_visit = datetime(2026, 11, 2, 9, 0, tzinfo=NEW_YORK)
    assert wall_clock_before(monday_visit, 24, NEW_YORK) == utc(2026, 11, 1, 14, 0)
    # A 09:00 EST Sunday visit (14:00 UTC): 09:00 EDT on Saturday is 13:00 UTC, 25 real hours
    # before. Counting 24 real hours would say 10:00 on Saturday, the wrong local time.
    sunday_visit = datetime(2026, 11, 1, 9, 0, tzinfo=NEW_YORK)
    reminder = wall_clock_before(sunday_visit, 24, NEW_YORK)
    assert reminder == utc(2026, 10, 31, 13, 0)
    assert reminder.astimezone(NEW_YORK).hour == 9


def test_a_24_hour_reminder_for_the_morning_after_clocks_go_forward_keeps_the_local_time():
    # Sunday 8 Mar 2026 02:00 EST -> 03:00 EDT. A 09:00 EDT Sunday visit is 13:00 UTC; its
    # reminder is 09:00 EST on Saturday = 14:00 UTC, 23 real hours before.
    sunday_visit = datetime(2026, 3, 8, 9, 0, tzinfo=NEW_YORK)
    reminder = wall_clock_before(sunday_visit, 24, NEW_YORK)
    assert reminder == utc(2026, 3, 7, 14, 0)
    assert (sunday_visit - reminder).total_seconds() == 23 * 3600


def test_a_72_hour_reminder_across_the_change_is_the_same_time_three_days_before():
    tuesday_visit = datetime(2026, 11, 3, 8, 30, tzinfo=DENVER)  # MST, 15:30 UTC
    assert wall_clock_before(tuesday_visit, 72, DENVER) == utc(2026, 10, 31, 14, 30)  # MDT


def test_a_local_time_the_clocks_skip_moves_past_the_gap():
    assert at_local(date(2026, 3, 8), time(2, 30), NEW_YORK) == utc(2026, 3, 8, 7, 30)  # 03:30 EDT


def test_a_repeated_local_time_is_its_first_occurrence():
    assert at_local(date(2026, 11, 1), time(1, 30), NEW_YORK) == utc(2026, 11, 1, 5, 30)  # EDT


class TestQuietHours:
    def test_the_edges(self):
        assert in_quiet_hours(utc(2026, 6, 2, 1, 0), NEW_YORK, NIGHT, MORNING)  # 21:00 EDT
        assert not in_quiet_hours(utc(2026, 6, 2, 0, 59), NEW_YORK, NIGHT, MORNING)  # 20:59
        assert in_quiet_hours(utc(2026, 6, 2, 11, 59), NEW_YORK, NIGHT, MORNING)  # 07:59
        assert not in_quiet_hours(utc(2026, 6, 2, 12, 0), NEW_YORK, NIGHT, MORNING)  # 08:00

    def test_the_same_moment_is_quiet_in_one_zone_and_not_in_another(self):
        moment = utc(2026, 6, 2, 2, 30)  # 22:30 in New York, 20:30 in Denver
        assert in_quiet_hours(moment, NEW_YORK, NIGHT, MORNING)
        assert not in_quiet_hours(moment, DENVER, NIGHT, MORNING)

    def test_an_evening_message_waits_for_the_next_morning(self):
        evening = utc(2026, 6, 2, 2, 30)  # 22:30 EDT on 1 June
        assert after_quiet_hours(evening, NEW_YORK, NIGHT, MORNING) == utc(2026, 6, 2, 12, 0)

    def test_an_early_morning_message_waits_for_eight_the_same_day(self):
        early = utc(2026, 6, 2, 9, 0)  # 05:00 EDT
        assert after_quiet_hours(early, NEW_YORK, NIGHT, MORNING) == utc(2026, 6, 2, 12, 0)

    def test_the_morning_after_clocks_go_back_is_eight_local(self):
        night = utc(2026, 11, 1, 3, 0)  # 23:00 EDT on 31 Oct; 08:00 EST next day is 13:00 UTC
        assert after_quiet_hours(night, NEW_YORK, NIGHT, MORNING) == utc(2026, 11, 1, 13, 0)

    def test_a_message_outside_the_quiet_hours_is_not_moved(self):
        noon = utc(2026, 6, 2, 16, 0)
        assert after_quiet_hours(noon, NEW_YORK, NIGHT, MORNING) == noon
