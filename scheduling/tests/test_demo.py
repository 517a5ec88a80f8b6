from datetime import time, timedelta

import pytest
from django.utils import timezone

from clinic.core.demo import DemoContext
from scheduling import demo
from scheduling.availability import free_slots
from scheduling.models import AppointmentType, WorkingHours
from sites import demo as sites_demo

pytestmark = pytest.mark.django_db


def test_demo_hours_make_the_demo_clinic_bookable_and_seed_once():
    ctx = DemoContext(password="demo-password-1", patient_count=1)
    sites_demo.seed(ctx)
    demo.seed_hours(ctx)
    demo.seed_hours(ctx)
    assert WorkingHours.objects.count() == ctx.counts["weekly sessions"] == 6 * 5 * 2
    follow_up = AppointmentType.objects.get(code="follow_up")
    start = timezone.localdate() + timedelta(days=7)
    slots = free_slots(
        appointment_type=follow_up, start_date=start, end_date=start + timedelta(days=6)
    )
    assert {slot.location.code for slot in slots} == {"raleigh", "denver"}
    assert all(8 <= slot.local_start.hour < 17 for slot in slots)
    # Patients book a procedure online only against an authorized order (portal.booking).
    assert AppointmentType.objects.get(code="procedure").patient_bookable
    assert not AppointmentType.objects.get(code="pump_refill").patient_bookable


@pytest.fixture(params=["now", "late evening at both sites"])
def seeded_at(request, clock):
    """The demo is loaded whenever someone runs it: now, and at 23:20 in Raleigh (21:20 in
    Denver), when today's session around the present hour is nearly over."""
    if request.param != "now":
        clock.move_to(clock.day_at(1, time(23, 20), "America/New_York"))


def test_demo_appointments_cover_every_state_once(seeded_at):
    from clinic.core.demo import accounts
    from patients import demo as patient_demo
    from scheduling.models import Appointment, AppointmentStatus

    ctx = DemoContext(password="demo-password-1", patient_count=30)
    accounts.seed_staff(ctx)
    sites_demo.seed(ctx)
    demo.seed_hours(ctx)
    patient_demo.seed(ctx)
    demo.seed_appointments(ctx)
    states = set(Appointment.objects.values_list("status", flat=True))
    assert states == set(AppointmentStatus.values)
    now = timezone.now()
    assert Appointment.objects.filter(start__lt=now - timedelta(days=7)).exists()
    assert Appointment.objects.filter(start__gt=now + timedelta(days=7)).exists()
    assert not Appointment.objects.filter(status=AppointmentStatus.BOOKED, start__lt=now).exists()
    count = Appointment.objects.count()
    demo.seed_appointments(ctx)
    assert Appointment.objects.count() == count
