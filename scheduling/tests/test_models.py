import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from scheduling.tests.factories import LocationFactory, ProviderFactory, RoomFactory

pytestmark = pytest.mark.django_db


def test_a_location_needs_an_iana_time_zone():
    location = LocationFactory.build(time_zone="Central Time")
    with pytest.raises(ValidationError) as caught:
        location.full_clean()
    assert "IANA time zone" in caught.value.message_dict["time_zone"][0]
    LocationFactory.build(time_zone="America/Phoenix").full_clean()


def test_room_names_are_unique_within_a_location_only():
    room = RoomFactory(name="Fluoro A")
    RoomFactory(name="Fluoro A")  # another location
    with pytest.raises(IntegrityError), transaction.atomic():
        RoomFactory(name="Fluoro A", location=room.location)


def test_database_refuses_an_unknown_room_kind():
    with pytest.raises(IntegrityError):
        RoomFactory(kind="kitchen")


def test_npi_is_ten_digits_and_unique_when_given():
    ProviderFactory(npi="")
    ProviderFactory(npi="")
    ProviderFactory(npi="1234567893")
    with pytest.raises(IntegrityError), transaction.atomic():
        ProviderFactory(npi="1234567893")
    with pytest.raises(IntegrityError), transaction.atomic():
        ProviderFactory(npi="12345")


def test_provider_display_names():
    assert ProviderFactory.build(first_name="Maya", last_name="Okafor").display_name == (
        "Dr. Maya Okafor, MD"
    )
    assert (
        ProviderFactory.build(
            first_name="Lauren", last_name="Hayes", kind="pa", credentials="PA-C"
        ).display_name
        == "Lauren Hayes, PA-C"
    )
