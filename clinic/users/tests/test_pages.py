import pytest
from django.urls import reverse

from conftest import TEST_PASSWORD
from tests.signin import totp_code_for

pytestmark = pytest.mark.django_db

HOMES = {
    "front_desk_user": "/desk/",
    "clinician_user": "/history/worklist/",
    "manager_user": "/manage/",
    "patient_user": "/portal/",
}


@pytest.mark.parametrize(("fixture", "home"), HOMES.items())
def test_login_lands_each_role_on_its_own_home(client, request, fixture, home):
    user = request.getfixturevalue(fixture)
    response = client.post(
        reverse("login"), {"username": user.username, "password": TEST_PASSWORD}, follow=True
    )
    if user.is_clinic_staff:  # then the second step, with the app's code
        assert response.redirect_chain[-1][0] == "/accounts/two-factor/?next=%2F"
        response = client.post(
            "/accounts/two-factor/",
            {"code": totp_code_for(user.username), "next": "/"},
            follow=True,
        )
    assert response.redirect_chain[-1][0] == home
    assert response.status_code == 200
    assert f'data-role="{user.role}"' in response.content.decode()


def test_wrong_password_shows_an_error_next_to_the_form(client, front_desk_user):
    response = client.post(reverse("login"), {"username": "desk1", "password": "wrong"})
    assert response.status_code == 200
    body = response.content.decode()
    assert 'role="alert"' in body
    assert "enter a correct username and password" in body.lower()
    assert "_auth_user_id" not in client.session


def test_anonymous_visitors_are_sent_to_login(client):
    for url in ["/", "/desk/", "/patients/", "/manage/", "/portal/"]:
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize(
    ("fixture", "forbidden"),
    [
        ("patient_user", ["/desk/", "/patients/", "/manage/"]),
        ("front_desk_user", ["/portal/", "/manage/"]),
        ("clinician_user", ["/portal/", "/manage/"]),
        ("manager_user", ["/portal/"]),
    ],
)
def test_pages_of_other_roles_are_forbidden(client, request, fixture, forbidden):
    client.sign_in(request.getfixturevalue(fixture))
    for url in forbidden:
        assert client.get(url).status_code == 403, url


def test_each_role_sees_its_own_navigation(client, front_desk_user, patient_user):
    client.sign_in(front_desk_user)
    desk = client.get("/desk/").content.decode()
    assert 'href="/desk/"' in desk and 'href="/portal/"' not in desk
    assert 'href="/admin/"' not in desk
    client.sign_in(patient_user)
    portal = client.get("/portal/").content.decode()
    assert 'href="/portal/"' in portal
    assert 'href="/desk/"' not in portal and 'href="/patients/"' not in portal


def test_a_user_without_role_gets_an_explanation(client, django_user_model):
    client.sign_in(django_user_model.objects.create_user("norole", password="x-long-pass"))
    response = client.get("/")
    assert response.status_code == 403
    assert "no role" in response.content.decode()


def test_logout_needs_post_and_ends_the_session(client, front_desk_user):
    client.sign_in(front_desk_user)
    response = client.post(reverse("logout"))
    assert response.status_code == 302
    assert client.get("/desk/").status_code == 302
