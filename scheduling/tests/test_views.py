import pytest

from scheduling.tests.factories import LocationFactory, ProviderFactory, RoomFactory

pytestmark = pytest.mark.django_db


def build_sites(count: int):
    for index in range(count):
        location = LocationFactory(time_zone="America/Denver" if index % 2 else "America/New_York")
        RoomFactory.create_batch(3, location=location)
        ProviderFactory.create_batch(2, locations=[location])


def test_day_board_shows_each_site_in_its_own_time_zone(client, front_desk_user):
    build_sites(2)
    client.force_login(front_desk_user)
    page = client.get("/desk/").content.decode()
    assert "(America/New_York)" in page and "(America/Denver)" in page
    assert page.count("Room ") >= 6


def test_day_board_without_locations_explains_what_to_do(client, front_desk_user):
    client.force_login(front_desk_user)
    assert "No locations are set up yet" in client.get("/desk/").content.decode()


@pytest.mark.parametrize("sites", [1, 6])
def test_day_board_query_count_is_fixed(client, front_desk_user, django_assert_num_queries, sites):
    build_sites(sites)
    client.force_login(front_desk_user)
    # session, user, groups (role), locations, rooms, providers
    with django_assert_num_queries(6):
        assert client.get("/desk/").status_code == 200
