"""Sessions lapse after a quiet spell: 15 minutes for staff, 30 for patients; any request
in between starts the spell again."""

import pytest

pytestmark = pytest.mark.django_db


def signed_in(client, user):
    client.sign_in(user)  # sends user_logged_in, as the sign-in page does
    return client


def test_staff_are_signed_out_after_15_idle_minutes_not_before(client, front_desk_user, clock):
    desk = signed_in(client, front_desk_user)
    for _ in range(3):  # active for 42 minutes, never more than 14 apart
        clock.shift(minutes=14)
        assert desk.get("/patients/").status_code == 200
    clock.shift(minutes=16)
    response = desk.get("/patients/")
    assert response.status_code == 302
    assert "login" in response["Location"]


def test_patients_keep_30_idle_minutes(client, patient_user, clock):
    portal = signed_in(client, patient_user)
    clock.shift(minutes=29)
    assert portal.get("/portal/").status_code == 200
    clock.shift(minutes=31)
    response = portal.get("/portal/")
    assert response.status_code == 302
    assert "login" in response["Location"]


def test_a_pages_own_refresh_does_not_keep_the_desk_signed_in(client, front_desk_user, clock):
    desk = signed_in(client, front_desk_user)
    for _ in range(3):  # the calendar polls; nobody touches anything
        clock.shift(minutes=4)
        assert desk.get("/patients/", HTTP_X_CLINIC_POLL="1").status_code == 200
    clock.shift(minutes=4)  # 16 minutes since the person's last request
    response = desk.get("/patients/")
    assert response.status_code == 302
    assert "login" in response["Location"]
