import pytest

from scheduling.tests.factories import (
    AppointmentTypeFactory,
    LocationFactory,
    ProviderFactory,
    RoomFactory,
)


@pytest.fixture
def clinic(db):
    location = LocationFactory(time_zone="America/Chicago")
    return {
        "location": location,
        "provider": ProviderFactory(locations=[location]),
        "other_provider": ProviderFactory(locations=[location]),
        "room": RoomFactory(location=location),
        "other_room": RoomFactory(location=location),
        "type": AppointmentTypeFactory(),
    }
