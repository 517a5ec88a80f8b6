"""A 24-hour reminder for a visit on the morning after a DST change goes out at the same
local time the day before, through the real booking and the real dispatcher."""

from datetime import UTC, datetime, time, timedelta

import pytest

from notifications.dispatcher import dispatch_due
from notifications.models import Message, MessageKind, MessageState
from scheduling.models import WorkingHours
from scheduling.tests.factories import LocationFactory

from .conftest import LocmemSmsBackend, email_patient
from .test_plans import book

pytestmark = pytest.mark.django_db


def run(now):
    from notifications.delivery import deliver

    return [deliver(message_id) for message_id in dispatch_due(now=now).handed_over]


@pytest.mark.parametrize(
    ("visit_utc", "reminder_utc", "zone"),
    [
        # Clocks go back on Sunday 1 Nov 2026 at 02:00 in New York. A visit at 09:00 EST that
        # morning (14:00 UTC) is reminded at 09:00 EDT on Saturday (13:00 UTC): 25 hours.
        (
            datetime(2026, 11, 1, 14, 0, tzinfo=UTC),
            datetime(2026, 10, 31, 13, 0, tzinfo=UTC),
            "America/New_York",
        ),
        # Clocks go forward on Sunday 14 Mar 2027 at 02:00 in Denver. A visit at 08:30 MDT
        # (14:30 UTC) is reminded at 08:30 MST on Saturday (15:30 UTC): 23 hours.
        (
            datetime(2027, 3, 14, 14, 30, tzinfo=UTC),
            datetime(2027, 3, 13, 15, 30, tzinfo=UTC),
            "America/Denver",
        ),
    ],
)
def test_the_24_hour_reminder_goes_out_at_the_visit_local_time_the_day_before(
    clock, site, front_desk_user, visit_utc, reminder_utc, zone
):
    site["location"].time_zone = zone
    site["location"].save()
    clock.move_to(visit_utc - timedelta(days=10), tick=False)
    appointment = book(site, front_desk_user, email_patient(), visit_utc)
    reminder = Message.objects.get(
        subject_id=appointment.pk, kind=MessageKind.APPOINTMENT_REMINDER, variant="24h"
    )
    assert reminder.due_at == reminder_utc
    local = reminder.due_at.astimezone(site["location"].zone)
    assert local.time() == visit_utc.astimezone(site["location"].zone).time()
    run(visit_utc - timedelta(days=10))  # the confirmation
    clock.move_to(reminder_utc - timedelta(minutes=1))
    run(reminder_utc - timedelta(minutes=1))
    reminder.refresh_from_db()
    assert reminder.state == MessageState.PENDING, "not a minute early"
    clock.move_to(reminder_utc)
    assert run(reminder_utc) == ["sent"]
    reminder.refresh_from_db()
    assert reminder.state == MessageState.SENT
    assert reminder.sent_at == reminder_utc


def test_a_text_reminder_due_in_the_quiet_hours_after_a_dst_change_waits_for_8_local(
    clock, front_desk_user, site
):
    # Denver, clocks back on Sunday 1 Nov 2026. A visit at 07:00 MST on Monday 2 Nov
    # (14:00 UTC): its 24-hour reminder is due 07:00 MST Sunday, inside the quiet hours, so
    # it waits for 08:00 MST Sunday = 15:00 UTC.
    location = LocationFactory(time_zone="America/Denver", phone="+13035550100")
    site["provider"].locations.add(location)
    WorkingHours.objects.create(  # Mondays from 7:00, so 7:00 is an offered time
        provider=site["provider"],
        location=location,
        weekday=0,
        start_time=time(7),
        end_time=time(12),
    )
    site.update(location=location, room=None)
    site["type"].room_kind = ""
    site["type"].save()
    from .conftest import sms_patient

    visit = datetime(2026, 11, 2, 14, 0, tzinfo=UTC)
    clock.move_to(visit - timedelta(days=5), tick=False)
    appointment = book(site, front_desk_user, sms_patient(), visit)
    reminder = Message.objects.get(subject_id=appointment.pk, variant="24h")
    assert reminder.due_at == datetime(2026, 11, 1, 14, 0, tzinfo=UTC)
    assert reminder.send_after == datetime(2026, 11, 1, 15, 0, tzinfo=UTC)
    LocmemSmsBackend.outbox.clear()
    a_minute_early = reminder.send_after - timedelta(minutes=1)
    clock.move_to(a_minute_early)
    run(a_minute_early)
    assert str(reminder.pk) not in {m["key"] for m in LocmemSmsBackend.outbox}
    clock.move_to(reminder.send_after)
    run(reminder.send_after)
    reminder.refresh_from_db()
    assert reminder.sent_at == datetime(2026, 11, 1, 15, 0, tzinfo=UTC)
    assert [m["key"] for m in LocmemSmsBackend.outbox].count(str(reminder.pk)) == 1
