from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import factory
from django.utils import timezone

from scheduling.models import AppointmentType, WorkingHours
from sites.models import Location, Provider, ProviderKind, Room, RoomKind


class LocationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Location

    code = factory.Sequence(lambda n: f"site{n}")
    name = factory.Sequence(lambda n: f"Test Pain Center {n}")
    time_zone = "America/Chicago"


class RoomFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Room

    location = factory.SubFactory(LocationFactory)
    name = factory.Sequence(lambda n: f"Room {n}")
    kind = RoomKind.CONSULT


class ProviderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Provider
        skip_postgeneration_save = True

    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    credentials = "MD"
    kind = ProviderKind.PHYSICIAN

    @factory.post_generation
    def locations(self, create, extracted, **kwargs):
        if create and extracted:
            self.locations.set(extracted)


class AppointmentTypeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AppointmentType
        django_get_or_create = ("code",)

    code = "follow_up"
    name = "Follow-up"
    kind = "follow_up"
    duration_minutes = 20
    buffer_after_minutes = 10
    room_kind = RoomKind.CONSULT


def works_every_day(
    provider: Provider, location: Location, start: time | None = None, end: time | None = None
) -> None:
    """`provider` works at `location` every day of the week, 8:00-18:00 unless told, so
    the times a test books are ones availability offers (staff book only those)."""
    WorkingHours.objects.bulk_create(
        WorkingHours(
            provider=provider,
            location=location,
            weekday=weekday,
            start_time=start or time(8),
            end_time=end or time(18),
        )
        for weekday in range(7)
    )


def one_room_clinic(patients: list) -> dict:
    """Contention by design: three providers at a Denver location share its only room, and
    four starts 15 minutes apart three days ahead clash with each other (the visit type is
    20 minutes with 10 after), for the given patients. The booking storms' clinic."""
    location = LocationFactory(time_zone="America/Denver")
    providers = [ProviderFactory(locations=[location]) for _ in range(3)]
    for provider in providers:
        works_every_day(provider, location)
    denver = ZoneInfo("America/Denver")
    day = (timezone.now().astimezone(denver) + timedelta(days=3)).date()
    return {
        "location": location,
        "providers": providers,
        "room": RoomFactory(location=location),
        "type": AppointmentTypeFactory(),
        "patients": patients,
        "starts": [datetime.combine(day, time(9, m), tzinfo=denver) for m in (0, 15, 30, 45)],
    }
