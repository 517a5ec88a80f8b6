import re
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth import authenticate
from django.core.management import CommandError, call_command
from django.test import override_settings

from clinic.users.models import User
from clinic.users.roles import Role
from patients.models import Patient
from scheduling.models import Location, Provider, ProviderKind, Room, RoomKind

pytestmark = pytest.mark.django_db


def seed(**options):
    with override_settings(DEBUG=True):
        call_command("seed_demo", "--patients", "100", **options)


def demo_counts() -> dict:
    return {
        "locations": Location.objects.count(),
        "rooms": Room.objects.count(),
        "providers": Provider.objects.count(),
        "patients": Patient.objects.count(),
        "users": User.objects.count(),
    }


def test_demo_clinic_is_believable():
    seed(password="demo-password-1")
    locations = list(Location.objects.all())
    assert len(locations) == 2
    winter_noon = datetime(2026, 1, 15, 17, 0, tzinfo=UTC)
    offsets = {winter_noon.astimezone(ZoneInfo(loc.time_zone)).utcoffset() for loc in locations}
    assert len(offsets) == 2, "the two sites are in different US time zones"
    assert all(loc.time_zone.startswith("America/") for loc in locations)
    assert Provider.objects.filter(kind=ProviderKind.PHYSICIAN).count() >= 3
    for location in locations:
        kinds = set(location.rooms.values_list("kind", flat=True))
        assert RoomKind.CONSULT in kinds
        assert RoomKind.FLUOROSCOPY in kinds
        assert location.providers.exists()
    assert Patient.objects.count() == 100
    assert Patient.objects.filter(home_location__isnull=True).count() == 0
    assert Patient.objects.values("mrn").distinct().count() == 100
    fictional = re.compile(r"^\+1(919|303)5550(1\d\d)$")
    assert all(fictional.match(phone) for phone in Patient.objects.values_list("phone", flat=True))
    assert all(
        email.endswith("@example.com") for email in Patient.objects.values_list("email", flat=True)
    )


def test_demo_accounts_sign_in_with_their_roles():
    seed(password="demo-password-1")
    expected = {
        "admin": Role.MANAGER,
        "frontdesk": Role.FRONT_DESK,
        "physician": Role.CLINICIAN,
        "patient": Role.PATIENT,
    }
    for username, role in expected.items():
        user = authenticate(username=username, password="demo-password-1")
        assert user is not None, username
        assert user.role == role
    assert User.objects.get(username="admin").is_superuser
    assert User.objects.get(username="physician").provider.kind == ProviderKind.PHYSICIAN
    assert User.objects.get(username="patient").patient is not None


def test_seeding_twice_changes_nothing_but_the_password():
    seed(password="demo-password-1")
    first = demo_counts()
    mrns = set(Patient.objects.values_list("mrn", flat=True))
    seed(password="demo-password-2")
    assert demo_counts() == first
    assert set(Patient.objects.values_list("mrn", flat=True)) == mrns
    assert authenticate(username="frontdesk", password="demo-password-2") is not None
    assert authenticate(username="frontdesk", password="demo-password-1") is None


def test_refuses_with_debug_off_unless_forced():
    with override_settings(DEBUG=False):
        with pytest.raises(CommandError, match="only runs with DEBUG on"):
            call_command("seed_demo")
        assert Location.objects.count() == 0
        call_command("seed_demo", "--force", "--patients", "3", "--password", "demo-password-3")
    assert Patient.objects.count() == 3


def test_rejects_a_short_password():
    with override_settings(DEBUG=True), pytest.raises(CommandError, match="at least 8"):
        call_command("seed_demo", "--password", "short")
