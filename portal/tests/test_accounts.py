"""Registration with a confirmed email address, password reset and the rate limits on
login, registration and password reset, through the real pages."""

import re
from datetime import date, timedelta
from smtplib import SMTPException

import pytest
from django.core import mail
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from clinic.core.ratelimit import _key
from clinic.users.models import User
from clinic.users.roles import Role
from patients.models import DuplicateCandidate, Patient
from patients.tests.factories import PatientFactory
from portal import accounts
from portal.models import Registration

pytestmark = pytest.mark.django_db

REGISTER = "/accounts/register/"
RESET = "/accounts/password-reset/"
LOGIN = "/accounts/login/"
NEW_PASSWORD = "violet-harbor-lantern-42"
DETAILS = {
    "legal_first_name": "Katherine",
    "legal_last_name": "Johnson",
    "date_of_birth": "1958-07-14",
    "email": "kj@example.org",
    "phone": "(919) 555-0142",
    "preferred_channel": "sms",
    "consent_sms": "yes",
    "consent_email": "no",
    "password": NEW_PASSWORD,
    "password_confirm": NEW_PASSWORD,
}
VERIFY_LINK = re.compile(r"https?://[^\s/]+(/accounts/verify/[\w-]+/)")
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="[^"]*"')


def register(client, **changes):
    return client.post(REGISTER, {**DETAILS, **changes})


def verify_path(message) -> str:
    return VERIFY_LINK.search(message.body).group(1)


def without_csrf(response) -> str:
    return CSRF.sub('name="csrfmiddlewaretoken" value=""', response.content.decode())


def headers(response) -> dict:
    # Expires (never_cache) carries the current second; everything else must match.
    return {name: value for name, value in response.items() if name != "Expires"}


@pytest.fixture
def known_user(make_user):
    """A patient with a login, whose username is not their email."""
    user = make_user("known-patient", Role.PATIENT, email="known@example.org", first_name="Kim")
    PatientFactory(user=user, email="known@example.org")
    return user


# --- Registration and confirmation --------------------------------------------------------


def test_registration_sends_a_link_that_creates_a_patient_login_and_a_flagged_record(client):
    response = register(client)
    assert response.status_code == 302
    assert response["Location"] == "/accounts/register/sent/"
    assert client.get(response["Location"]).status_code == 200
    assert User.objects.filter(email="kj@example.org").count() == 0

    (message,) = mail.outbox
    assert message.to == ["kj@example.org"]
    assert message.subject == "Your Clinic patient portal account"
    for private in ("Katherine", "Johnson", "1958", "0142"):  # no PHI in the email
        assert private not in message.body and private not in message.subject
    path = verify_path(message)
    registration = Registration.objects.get()
    token = path.rstrip("/").rsplit("/", 1)[1]
    assert token not in str(registration.__dict__)  # only the digest is stored
    assert registration.token_digest == accounts.token_digest(token)

    confirm = client.get(path)  # what a link scanner does: nothing happens
    assert confirm.status_code == 200
    assert 'type="submit"' in confirm.content.decode() and "Confirm" in confirm.content.decode()
    assert confirm["Referrer-Policy"] == "same-origin"
    assert not User.objects.filter(email="kj@example.org").exists()

    response = client.post(path)
    assert response.status_code == 302 and response["Location"] == "/portal/"
    user = User.objects.get(email="kj@example.org")
    assert user.username == "kj@example.org"
    assert user.is_active and user.has_role(Role.PATIENT) and not user.is_staff
    assert user.check_password(NEW_PASSWORD)
    assert (user.first_name, user.last_name) == ("Katherine", "Johnson")
    patient = Patient.objects.get(user=user)
    assert patient.needs_verification is True
    assert patient.date_of_birth == date(1958, 7, 14)
    assert patient.phone == "+19195550142"
    assert (patient.preferred_channel, patient.consent_sms, patient.consent_email) == (
        "sms",
        True,
        False,
    )
    registration.refresh_from_db()
    assert registration.verified_at is not None and registration.user == user
    assert registration.password_hash == ""
    assert int(client.session["_auth_user_id"]) == user.pk
    home = client.get("/portal/")
    assert home.status_code == 200 and "Welcome, Katherine" in home.content.decode()


@pytest.mark.parametrize(
    ("existing", "reason"),
    [
        (
            {"legal_first_name": "Katharine", "legal_last_name": "Jonson", "email": ""},
            "same date of birth and a similar name",
        ),
        (
            {
                "legal_first_name": "Kay",
                "legal_last_name": "Smith",
                "date_of_birth": date(1970, 1, 1),
                "email": "KJ@example.org",
            },
            "same email",
        ),
        (
            {
                "legal_first_name": "Kay",
                "legal_last_name": "Smith",
                "date_of_birth": date(1970, 1, 1),
                "phone": "+19195550142",
            },
            "same phone",
        ),
    ],
)
def test_the_new_record_goes_through_duplicate_detection(client, existing, reason):
    match = PatientFactory(**{"date_of_birth": date(1958, 7, 14), **existing})
    register(client)
    client.post(verify_path(mail.outbox[0]))
    created = Patient.objects.get(user__email="kj@example.org")
    candidate = DuplicateCandidate.objects.get()
    assert (candidate.patient, candidate.match) == (created, match)
    assert reason in candidate.reasons


# --- No account enumeration ---------------------------------------------------------------


def test_a_known_address_gets_the_same_page_and_one_account_exists_email(client, known_user):
    users_before = User.objects.count()
    unknown = register(client, email="new@example.org")
    known = register(client, email="  Known@Example.org ")

    assert (known.status_code, headers(known)) == (unknown.status_code, headers(unknown))
    assert known.content == unknown.content
    assert without_csrf(client.get(known["Location"])) == without_csrf(
        client.get(unknown["Location"])
    )

    assert [m.to for m in mail.outbox] == [["new@example.org"], ["known@example.org"]]
    new_mail, known_mail = mail.outbox
    assert new_mail.subject == known_mail.subject  # neutral, the same on both paths
    assert not VERIFY_LINK.search(known_mail.body)
    assert "already has an account" in known_mail.body
    assert "/accounts/login/" in known_mail.body and "/accounts/password-reset/" in known_mail.body

    assert User.objects.count() == users_before
    row = Registration.objects.get(email="known@example.org")
    assert row.for_existing_account
    assert (row.legal_first_name, row.date_of_birth, row.password_hash) == ("", None, "")
    # No token ever sent can confirm that row.
    assert not Registration.objects.filter(
        for_existing_account=False, email="known@example.org"
    ).exists()


def test_both_registration_paths_do_the_same_work(known_user, monkeypatch):
    """Not a wall-clock comparison, which is flaky on a shared CI machine: the expensive and
    the observable steps are counted instead. Both paths hash the password exactly once
    (the slow part), send exactly one email, write one row and run the same number of SQL
    queries, so their timing differs only by template rendering."""
    calls = {"make_password": 0, "send_mail": 0}

    def spy(name, real):
        def wrapper(*args, **kwargs):
            calls[name] += 1
            return real(*args, **kwargs)

        return wrapper

    monkeypatch.setattr(accounts, "make_password", spy("make_password", accounts.make_password))
    monkeypatch.setattr(accounts, "send_mail", spy("send_mail", accounts.send_mail))
    arguments = {
        **{k: v for k, v in DETAILS.items() if k not in ("password_confirm", "date_of_birth")},
        "date_of_birth": date(1958, 7, 14),
        "consent_sms": True,
        "consent_email": False,
    }
    work = {}
    for email in ("new@example.org", "known@example.org"):
        calls.update(make_password=0, send_mail=0)
        rows = Registration.objects.count()
        with CaptureQueriesContext(connection) as queries:
            accounts.registration_start(**{**arguments, "email": email})
        work[email] = (
            calls["make_password"],
            calls["send_mail"],
            Registration.objects.count() - rows,
            len(queries),
        )
    assert work["new@example.org"][:3] == (1, 1, 1)
    assert work["new@example.org"] == work["known@example.org"]


def test_password_reset_gives_the_same_page_and_one_email_for_any_address(client, known_user):
    unknown = client.post(RESET, {"email": "nobody@example.org"})
    known = client.post(RESET, {"email": "known@example.org"})
    assert (known.status_code, known["Location"]) == (unknown.status_code, unknown["Location"])
    assert known.content == unknown.content
    assert without_csrf(client.get(known["Location"])) == without_csrf(
        client.get(unknown["Location"])
    )
    assert [m.to for m in mail.outbox] == [["nobody@example.org"], ["known@example.org"]]
    nobody_mail, known_mail = mail.outbox
    assert nobody_mail.subject == known_mail.subject
    assert "/accounts/register/" in nobody_mail.body
    assert "/accounts/password-reset/" not in nobody_mail.body
    assert re.search(r"/accounts/password-reset/[\w-]+/[\w-]+/", known_mail.body)


def test_both_password_reset_paths_run_the_same_queries(client, known_user):
    counts = []
    for email in ("nobody@example.org", "known@example.org"):
        with CaptureQueriesContext(connection) as queries:
            client.post(RESET, {"email": email})
        counts.append(len(queries))
    assert counts[0] == counts[1]
    assert len(mail.outbox) == 2


def test_a_reset_link_sets_a_new_password(client, known_user):
    client.post(RESET, {"email": "KNOWN@example.org"})
    link = re.search(r"(/accounts/password-reset/[\w-]+/[\w-]+/)", mail.outbox[0].body).group(1)
    form_page = client.get(link, follow=True)
    assert form_page.status_code == 200
    set_password_url = form_page.redirect_chain[-1][0]
    assert "set-password" in set_password_url
    body = form_page.content.decode()
    assert 'autocomplete="new-password"' in body and '<label for="id_new_password1"' in body

    mismatch = client.post(
        set_password_url, {"new_password1": "plum-orbit-ladder-9", "new_password2": "other"}
    )
    assert mismatch.status_code == 400
    assert 'id="id_new_password2_error"' in mismatch.content.decode()

    done = client.post(
        set_password_url,
        {"new_password1": "plum-orbit-ladder-9", "new_password2": "plum-orbit-ladder-9"},
    )
    assert done.status_code == 302 and done["Location"] == "/accounts/password-reset/complete/"
    assert "Sign in" in client.get(done["Location"]).content.decode()
    known_user.refresh_from_db()
    assert known_user.check_password("plum-orbit-ladder-9")
    assert client.get(link).status_code == 200  # used: shows "cannot be used"
    assert "cannot be used" in client.get(link).content.decode()


def test_an_invalid_reset_address_is_a_400_next_to_the_field(client):
    response = client.post(RESET, {"email": "not-an-address"})
    assert response.status_code == 400
    body = response.content.decode()
    assert 'class="error-summary"' in body
    assert 'id="id_email_error"' in body and 'aria-describedby="id_email_error"' in body
    assert mail.outbox == []


# --- Links that cannot be used ------------------------------------------------------------


def test_an_unknown_link_says_so_and_offers_to_register_again(client):
    for method in (client.get, client.post):
        response = method("/accounts/verify/not-a-real-token/")
        assert response.status_code == 404
        body = response.content.decode()
        assert "not valid" in body and 'href="/accounts/register/"' in body
    assert not User.objects.exists()


def test_an_expired_link_cannot_create_an_account(clock, client):
    register(client)
    path = verify_path(mail.outbox[0])
    clock.shift(hours=48, minutes=1)
    assert client.get(path).status_code == 410
    response = client.post(path)
    assert response.status_code == 410
    body = response.content.decode()
    assert "expired" in body and 'href="/accounts/register/"' in body
    assert not User.objects.filter(email="kj@example.org").exists()
    assert not Patient.objects.filter(email="kj@example.org").exists()


def test_a_used_link_says_the_account_exists(client):
    register(client)
    path = verify_path(mail.outbox[0])
    client.post(path)
    client.logout()
    response = client.post(path)
    assert response.status_code == 409
    body = response.content.decode()
    assert "already used" in body and 'href="/accounts/login/"' in body
    assert User.objects.filter(email="kj@example.org").count() == 1
    assert Patient.objects.filter(email="kj@example.org").count() == 1


def test_a_second_link_for_an_address_that_got_an_account_meanwhile(client, make_user):
    register(client)
    register(client, legal_first_name="Kate")
    first, second = (verify_path(m) for m in mail.outbox)
    assert first != second
    client.post(first)
    client.logout()
    response = client.post(second)
    assert response.status_code == 409
    assert "already exists" in response.content.decode()
    assert User.objects.filter(email="kj@example.org").count() == 1

    # The same when the front desk created the login in between.
    register(client, email="walkin@example.org")
    make_user("walk-in", Role.PATIENT, email="Walkin@example.org")
    assert client.post(verify_path(mail.outbox[-1])).status_code == 409
    assert User.objects.filter(email__iexact="walkin@example.org").count() == 1


# --- Field errors -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"password": "password", "password_confirm": "password"}, "password", "too common"),
        ({"password": "short1", "password_confirm": "short1"}, "password", "too short"),
        (
            {"password": "katherinejohnson", "password_confirm": "katherinejohnson"},
            "password",
            "too similar",
        ),
        ({"password_confirm": "something-else-9"}, "password_confirm", "do not match"),
        ({"date_of_birth": "2999-01-01"}, "date_of_birth", "cannot be in the future"),
        ({"date_of_birth": "1850-01-01"}, "date_of_birth", "year of birth"),
        ({"date_of_birth": "1970-02-30"}, "date_of_birth", "real date"),
        ({"date_of_birth": ""}, "date_of_birth", "Enter your date of birth"),
        ({"consent_sms": ""}, "consent_sms", "Choose yes or no"),
        ({"consent_email": "maybe"}, "consent_email", "Select a valid choice"),
        ({"preferred_channel": ""}, "preferred_channel", "Choose how we should contact you"),
        ({"email": "kj-at-example"}, "email", "such as name@example.com"),
        ({"phone": "12"}, "phone", "phone number"),
        ({"phone": ""}, "phone", "Enter a phone number to be reached"),
        ({"consent_sms": "no"}, "consent_sms", "answer yes"),
        ({"legal_first_name": "  "}, "legal_first_name", "first name"),
    ],
)
def test_field_errors_are_a_400_next_to_the_field_and_write_nothing(
    client, changes, field, message
):
    response = register(client, **changes)
    assert response.status_code == 400
    body = response.content.decode()
    assert "<title>Error: " in body
    assert 'class="error-summary"' in body
    error_list = re.search(
        rf'<ul class="field-errors" id="id_{field}_error">(.*?)</ul>', body, re.S
    ).group(1)
    assert message in error_list.replace("&#x27;", "'")
    assert re.search(rf'aria-describedby="[^"]*id_{field}_error', body)
    assert 'value="' + NEW_PASSWORD not in body  # passwords are never sent back
    assert not Registration.objects.exists()
    assert mail.outbox == []


def test_the_email_server_failing_is_a_clear_error_and_saves_nothing(
    client, known_user, monkeypatch
):
    def refuse(*args, **kwargs):
        raise SMTPException("down")

    monkeypatch.setattr(accounts, "send_mail", refuse)
    unknown = register(client, email="new@example.org")
    known = register(client, email="known@example.org")
    assert unknown.status_code == known.status_code == 503
    assert "could not send the email" in unknown.content.decode()
    assert not Registration.objects.exists()


def test_old_registrations_are_purged(client):
    register(client)
    register(client, email="other@example.org")
    assert accounts.registration_purge() == 0
    later = timezone.now() + timedelta(days=31, hours=49)
    assert accounts.registration_purge(now=later) == 2
    assert not Registration.objects.exists()


# --- The pages themselves -----------------------------------------------------------------


def test_the_registration_page_is_labelled_and_fills_in_from_the_browser(client):
    body = client.get(REGISTER).content.decode()
    for input_id in re.findall(r'<input (?![^>]*type="hidden")[^>]*id="([^"]+)"', body):
        assert f'for="{input_id}"' in body, input_id
    for token in ("given-name", "family-name", "bday", "email", "tel", "new-password"):
        assert f'autocomplete="{token}"' in body, token
    # How to reach you, text messages, email, language.
    assert body.count("<fieldset") == 4 and body.count("<legend") == 4
    assert 'name="viewport" content="width=device-width' in body
    assert 'class="card narrow"' in body


def test_the_login_page_links_to_registration_and_password_reset(client):
    body = client.get(LOGIN).content.decode()
    assert 'href="/accounts/register/"' in body and "Create an account" in body
    assert 'href="/accounts/password-reset/"' in body and "Forgot your password?" in body


def test_a_patient_who_registered_signs_in_with_the_email(client):
    register(client)
    client.post(verify_path(mail.outbox[0]))
    client.logout()
    response = client.post(LOGIN, {"username": "kj@example.org", "password": NEW_PASSWORD})
    assert response.status_code == 302
    assert client.get("/portal/").status_code == 200


def test_a_signed_in_user_is_sent_home_from_the_registration_page(client, patient_user):
    client.sign_in(patient_user)
    assert client.get(REGISTER)["Location"] == "/"


def test_the_admin_shows_registrations_read_only_without_the_password_hash(client, make_user):
    register(client)
    registration = Registration.objects.get()
    root = make_user("root", Role.MANAGER, is_superuser=True)
    client.sign_in(root)
    change = client.get(f"/admin/portal/registration/{registration.pk}/change/")
    assert change.status_code == 200
    body = change.content.decode()
    assert registration.password_hash not in body and registration.token_digest not in body
    assert "kj@example.org" in body
    assert client.get("/admin/portal/registration/add/").status_code == 403


# --- Rate limits --------------------------------------------------------------------------

IPS = [f"198.51.100.{n}" for n in range(1, 6)]
ACCOUNTS = [f"limit{n}@example.org" for n in range(1, 6)]


@pytest.fixture
def tight_limits(settings):
    """Three POSTs a minute per scope, with the counters of the addresses used here cleared
    first (and afterwards); only these keys, never the whole shared cache."""
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, **dict.fromkeys(SCOPES, "3/min")}

    def clear():
        cache.delete_many(
            [_key(scope, "ip", ip) for scope in SCOPES for ip in IPS]
            + [_key(scope, "account", a) for scope in SCOPES for a in ACCOUNTS]
        )

    clear()
    yield
    clear()


# Sign-in has limits of its own (django-axes): clinic/users/tests/test_brute_force.py.
SCOPES = ("register", "password_reset")
FORMS = {
    "register": (REGISTER, lambda account: {**DETAILS, "email": account}),
    "password_reset": (RESET, lambda account: {"email": account}),
}


@pytest.mark.parametrize("scope", SCOPES)
def test_too_many_posts_from_one_ip_are_refused(client, tight_limits, scope):
    url, data = FORMS[scope]
    for account in ACCOUNTS[:3]:
        assert client.post(url, data(account), REMOTE_ADDR=IPS[0]).status_code != 429
    emails = len(mail.outbox)
    refused = client.post(url, data(ACCOUNTS[3]), REMOTE_ADDR=IPS[0])
    assert refused.status_code == 429
    assert "Too many attempts" in refused.content.decode()
    assert len(mail.outbox) == emails  # a refused POST does nothing
    # Another address is not affected.
    assert client.post(url, data(ACCOUNTS[4]), REMOTE_ADDR=IPS[1]).status_code != 429


@pytest.mark.parametrize("scope", SCOPES)
def test_too_many_posts_for_one_account_are_refused_from_any_ip(client, tight_limits, scope):
    url, data = FORMS[scope]
    for ip in IPS[:3]:
        assert client.post(url, data(ACCOUNTS[0]), REMOTE_ADDR=ip).status_code != 429
    assert client.post(url, data(ACCOUNTS[0]), REMOTE_ADDR=IPS[3]).status_code == 429
    # Case and spaces do not make it another account.
    assert client.post(url, data(" LIMIT1@example.org"), REMOTE_ADDR=IPS[4]).status_code == 429
    assert client.post(url, data(ACCOUNTS[1]), REMOTE_ADDR=IPS[4]).status_code != 429


def test_the_limits_come_from_settings(client, tight_limits, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "register": "1/min"}
    first = client.post(REGISTER, {**DETAILS, "email": ACCOUNTS[0]}, REMOTE_ADDR=IPS[0])
    assert first.status_code == 302
    second = client.post(REGISTER, {**DETAILS, "email": ACCOUNTS[1]}, REMOTE_ADDR=IPS[0])
    assert second.status_code == 429
