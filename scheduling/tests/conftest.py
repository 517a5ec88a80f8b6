import pytest

from scheduling.tests.factories import (
    AppointmentTypeFactory,
    LocationFactory,
    ProviderFactory,
    RoomFactory,
    works_every_day,
)


@pytest.fixture
def clinic(db):
    """A site whose two providers work 8:00-18:00 every day, so the times the tests book are
    ones availability offers (staff book only those, or overbook on purpose)."""
    location = LocationFactory(time_zone="America/Chicago")
    clinic = {
        "location": location,
        "provider": ProviderFactory(locations=[location]),
        "other_provider": ProviderFactory(locations=[location]),
        "room": RoomFactory(location=location),
        "other_room": RoomFactory(location=location),
        "type": AppointmentTypeFactory(),
    }
    for provider in (clinic["provider"], clinic["other_provider"]):
        works_every_day(provider, location)
    return clinic
