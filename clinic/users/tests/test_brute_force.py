"""Sign-in limits on every path (django-axes): per account and per client address, a forged
X-Forwarded-For lifting nothing, growing pauses that end by themselves, the owner's emailed
unlock link, and the managers' list of failed sign-ins."""

import logging
import re
from datetime import timedelta

import pytest
from axes.models import AccessAttempt, AccessFailureLog
from django.core import mail
from django.core.cache import cache
from django.test import RequestFactory
from rest_framework.test import APIClient

from clinic.core.clientip import client_ip
from clinic.core.ratelimit import _key
from clinic.users.models import SignInUnlock
from clinic.users.roles import Role
from clinic.users.signin_limits import Pause, delay_after
from conftest import TEST_PASSWORD

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"
TOKEN_URL = "/api/v1/auth/token/"
UNLOCK = "/accounts/unlock/"
SIGN_INS = "/manage/sign-ins/"
LIFT = "/manage/sign-ins/lift/"
ATTACKER = "203.0.113.66"
OWNER_IP = "198.51.100.20"
PROXY = "10.0.0.2"
LIMIT = 5
OWNER = "owner@example.org"


def forged(n: int) -> str:
    return f"192.0.2.{n % 250 + 1}, 172.16.{n // 250}.{n % 250 + 1}"


def wrong_password(client, username: str, address: str = ATTACKER, **meta):
    data = {"username": username, "password": "not-the-password"}
    return client.post(LOGIN, data, REMOTE_ADDR=address, **meta)


def right_password(client, username: str, address: str = OWNER_IP):
    return client.post(
        LOGIN, {"username": username, "password": TEST_PASSWORD}, REMOTE_ADDR=address
    )


def token_request(api: APIClient, username: str, password: str, address: str = ATTACKER, **meta):
    body = {"username": username, "password": password}
    return api.post(TOKEN_URL, body, format="json", REMOTE_ADDR=address, **meta)


@pytest.fixture
def owner(make_user):
    """A patient (no second factor) whose account attackers go after."""
    return make_user(OWNER, Role.PATIENT, email=OWNER)


def pause_account(client, username: str) -> None:
    """LIMIT failures on one account, each from another address (no address is paused)."""
    for n in range(LIMIT):
        wrong_password(client, username, address=f"203.0.113.{n + 1}")


# --- The client's address -------------------------------------------------------------------


def meta_request(remote: str, forwarded: str = ""):
    extra = {"HTTP_X_FORWARDED_FOR": forwarded} if forwarded else {}
    return RequestFactory().get("/", REMOTE_ADDR=remote, **extra)


def test_forwarded_for_is_ignored_from_an_untrusted_peer(settings):
    settings.TRUSTED_PROXIES = []
    assert client_ip(meta_request(ATTACKER, "192.0.2.1")) == ATTACKER
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]
    assert client_ip(meta_request(ATTACKER, "192.0.2.1")) == ATTACKER


def test_from_trusted_proxies_the_first_untrusted_hop_from_the_right_is_the_client(settings):
    settings.TRUSTED_PROXIES = ["10.0.0.0/8", "2001:db8::1"]
    # The client wrote the left part itself; the proxies appended the rest.
    request = meta_request(PROXY, "192.0.2.1, 198.51.100.7, 10.0.0.9")
    assert client_ip(request) == "198.51.100.7"
    assert client_ip(meta_request("2001:db8::1", "198.51.100.8")) == "198.51.100.8"
    # Nothing forwarded, or garbage: the proxy itself (or the last hop it vouched for).
    assert client_ip(meta_request(PROXY)) == PROXY
    assert client_ip(meta_request(PROXY, "not-an-address")) == PROXY
    assert client_ip(meta_request(PROXY, "junk, 198.51.100.9")) == "198.51.100.9"


def test_the_rate_limits_use_the_same_client_address():
    from clinic.core import ratelimit

    assert ratelimit.client_ip is client_ip


# --- Per address and per account, whatever X-Forwarded-For says ----------------------------


def test_sixty_guesses_with_forged_forwarded_for_on_the_sign_in_page_are_paused(client):
    codes = [
        wrong_password(client, f"victim{n}", HTTP_X_FORWARDED_FOR=forged(n)).status_code
        for n in range(60)
    ]
    assert codes[: LIMIT - 1] == [200] * (LIMIT - 1)
    assert codes[LIMIT - 1 :] == [429] * (60 - LIMIT + 1)
    assert set(AccessFailureLog.objects.values_list("ip_address", flat=True)) == {ATTACKER}


def test_sixty_guesses_with_forged_forwarded_for_on_the_token_api_are_paused(owner):
    api = APIClient()
    responses = [
        token_request(api, owner.username, f"guess-{n}", HTTP_X_FORWARDED_FOR=forged(n))
        for n in range(60)
    ]
    codes = [response.status_code for response in responses]
    assert codes[: LIMIT - 1] == [400] * (LIMIT - 1)
    assert codes[LIMIT - 1 :] == [429] * (60 - LIMIT + 1)
    # Not even the right password gets through now, whatever the header says.
    right = token_request(api, owner.username, TEST_PASSWORD, HTTP_X_FORWARDED_FOR="192.0.2.99")
    assert right.status_code == 429


def test_a_trusted_proxy_passes_on_the_client_address(client, settings):
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]
    for n in range(LIMIT):
        response = wrong_password(
            client, f"victim{n}", address=PROXY, HTTP_X_FORWARDED_FOR=f"192.0.2.1, {ATTACKER}"
        )
    assert response.status_code == 429
    assert set(AccessFailureLog.objects.values_list("ip_address", flat=True)) == {ATTACKER}
    # Another client behind the same proxy is not paused.
    other = wrong_password(client, "victim9", address=PROXY, HTTP_X_FORWARDED_FOR=OWNER_IP)
    assert other.status_code == 200


def test_one_account_is_paused_across_many_addresses(client, owner):
    codes = [
        wrong_password(client, owner.username, address=f"203.0.113.{n + 1}").status_code
        for n in range(LIMIT)
    ]
    assert codes == [200] * (LIMIT - 1) + [429]
    # The owner's right password, from an address of their own, waits too...
    response = right_password(client, owner.username)
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session
    # ...and so does the same account typed otherwise.
    assert wrong_password(client, " OWNER@example.org", address=OWNER_IP).status_code == 429
    # Other accounts are not paused.
    assert wrong_password(client, "someone-else", address=OWNER_IP).status_code == 200


def test_the_admin_sign_in_is_limited(client, manager_user):
    """The admin signs in through the clinic's sign-in page (GET /admin/ leads there): the
    same limits apply; and a POST to the admin's own login address checks no password."""
    response = client.get("/admin/", follow=True)
    form_url = response.redirect_chain[-1][0]
    assert form_url.startswith(LOGIN)
    data = {"username": manager_user.username, "password": "wrong", "next": "/admin/"}
    codes = [client.post(form_url, data, REMOTE_ADDR=ATTACKER).status_code for _ in range(LIMIT)]
    assert codes == [200] * (LIMIT - 1) + [429]
    data["password"] = TEST_PASSWORD
    assert client.post(form_url, data, REMOTE_ADDR=OWNER_IP).status_code == 429
    assert "_auth_user_id" not in client.session
    direct = client.post("/admin/login/", data, REMOTE_ADDR=OWNER_IP)
    assert direct.status_code == 302 and "_auth_user_id" not in client.session
    assert AccessFailureLog.objects.filter(username=manager_user.username).count() == LIMIT


# --- Growing pauses, never for good ---------------------------------------------------------


def test_the_delay_doubles_after_the_limit_and_is_capped(settings):
    settings.SIGNIN_FIRST_DELAY_SECONDS = 60
    settings.SIGNIN_MAX_DELAY_SECONDS = 3600
    delays = [delay_after(failures).total_seconds() for failures in (0, 5, 6, 7, 8, 10, 11, 500)]
    assert delays == [60, 60, 120, 240, 480, 1920, 3600, 3600]


def test_each_failure_after_a_pause_pauses_for_twice_as_long(client, owner, clock):
    pause_account(client, owner.username)
    paused = right_password(client, owner.username)
    assert paused.status_code == 429
    assert "1 minute" in paused.content.decode()
    assert 55 <= int(paused["Retry-After"]) <= 60
    # Tries refused during a pause are not counted: they do not make it longer.
    assert wrong_password(client, owner.username).status_code == 429

    clock.shift(seconds=61)
    sixth = wrong_password(client, owner.username)
    assert sixth.status_code == 429
    assert "2 minutes" in sixth.content.decode()
    clock.shift(seconds=61)
    assert right_password(client, owner.username).status_code == 429  # still inside 2 min

    clock.shift(seconds=60)
    seventh = wrong_password(client, owner.username)
    assert "4 minutes" in seventh.content.decode()
    assert 235 <= int(seventh["Retry-After"]) <= 240

    clock.shift(minutes=4, seconds=1)
    signed_in = right_password(client, owner.username)
    assert signed_in.status_code == 302
    assert client.session["_auth_user_id"] == str(owner.pk)
    # A successful sign-in forgets the account's failures: the next mistake is just a mistake.
    assert not AccessAttempt.objects.filter(username=owner.username).exists()


def test_failures_are_forgotten_a_while_after_the_last(client, owner, clock, settings):
    settings.SIGNIN_FAILURE_MEMORY_SECONDS = 3600
    for _ in range(LIMIT - 1):
        wrong_password(client, owner.username)
    clock.shift(hours=1, seconds=1)
    assert wrong_password(client, owner.username).status_code == 200
    assert AccessAttempt.objects.get(username=owner.username).failures_since_start == 1


def test_a_successful_sign_in_keeps_other_accounts_failures_from_the_same_address(client, owner):
    for username in ("ghost1", "ghost2", owner.username, owner.username):
        wrong_password(client, username)
    assert right_password(client, owner.username, address=ATTACKER).status_code == 302
    assert sorted(AccessAttempt.objects.values_list("username", flat=True)) == [
        "ghost1",
        "ghost2",
    ]


def test_the_paused_page_says_how_long_and_offers_an_unlock_link(client, owner):
    pause_account(client, owner.username)
    response = right_password(client, owner.username)
    assert response.status_code == 429
    body = response.content.decode()
    assert 'role="alert"' in body
    assert "Please try again in 1 minute." in body
    assert f'href="{UNLOCK}"' in body and "Email me an unlock link" in body
    assert int(response["Retry-After"]) > 0


def test_the_paused_token_api_answers_429_with_retry_after_in_the_error_body(owner):
    api = APIClient()
    for n in range(LIMIT - 1):
        token_request(api, owner.username, "wrong", address=f"203.0.113.{n + 1}")
    response = token_request(api, owner.username, "wrong")
    assert response.status_code == 429
    body = response.json()
    assert set(body) == {"code", "detail", "fields"}
    assert body["code"] == "sign_in_paused"
    assert "1 minute" in body["detail"] and UNLOCK in body["detail"]
    assert body["fields"] == {}
    assert 0 < int(response["Retry-After"]) <= 60


def test_pause_wording_rounds_up():
    seconds = (1, 60, 61, 3540, 3541, 3600, 7200)
    assert [Pause(wait).wording for wait in seconds] == [
        "1 minute",
        "1 minute",
        "2 minutes",
        "59 minutes",
        "1 hour",
        "1 hour",
        "2 hours",
    ]


def test_tried_usernames_stay_out_of_the_logs(client, caplog):
    with caplog.at_level(logging.DEBUG):
        for _ in range(LIMIT + 1):
            wrong_password(client, "secret.name@example.org")
    assert caplog.records  # axes did log the failures and the pause...
    assert "secret.name" not in caplog.text  # ...without the username tried


# --- The owner's emailed unlock link ----------------------------------------------------------


def unlock_link(message) -> str:
    match = re.search(r"https?://[^/\s]+(/accounts/unlock/[^/\s]+/)", message.body)
    assert match, message.body
    return match.group(1)


def ask_for_unlock(client, named: str) -> str:
    response = client.post(UNLOCK, {"named": named}, REMOTE_ADDR=OWNER_IP)
    assert response.status_code == 302
    return response["Location"]


def test_the_owner_unlocks_by_email_and_signs_in(client, owner):
    pause_account(client, owner.username)
    assert right_password(client, owner.username).status_code == 429

    assert client.get(UNLOCK).status_code == 200
    sent_page = ask_for_unlock(client, owner.username)
    assert client.get(sent_page).status_code == 200
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [owner.email]
    link = unlock_link(message)

    confirm = client.get(link)  # a link scanner's GET changes nothing
    assert confirm.status_code == 200
    assert confirm["Referrer-Policy"] == "same-origin"
    assert right_password(client, owner.username).status_code == 429

    done = client.post(link, REMOTE_ADDR=OWNER_IP)
    assert done.status_code == 200
    assert "Sign-in unlocked" in done.content.decode()
    signed_in = right_password(client, owner.username)
    assert signed_in.status_code == 302
    assert client.session["_auth_user_id"] == str(owner.pk)


def test_staff_pass_the_password_step_after_unlocking(client, front_desk_user):
    """Staff still owe their second factor after the password (clinic/users/two_factor.py)."""
    front_desk_user.email = "desk1@example.org"
    front_desk_user.save(update_fields=["email"])
    pause_account(client, front_desk_user.username)
    ask_for_unlock(client, "DESK1@example.org")  # by email address, any case
    client.post(unlock_link(mail.outbox[0]), REMOTE_ADDR=OWNER_IP)
    response = right_password(client, front_desk_user.username)
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(front_desk_user.pk)


def test_the_unlock_link_works_once(client, owner):
    pause_account(client, owner.username)
    ask_for_unlock(client, owner.username)
    link = unlock_link(mail.outbox[0])
    assert client.post(link).status_code == 200
    elsewhere = client.__class__()  # not the browser that used the link
    pause_account(elsewhere, owner.username)  # paused again
    again = elsewhere.post(link)
    assert again.status_code == 409
    assert "already used" in again.content.decode()
    assert elsewhere.get(link).status_code == 409
    assert right_password(elsewhere, owner.username).status_code == 429


def test_the_unlock_link_expires(client, owner, clock, settings):
    settings.SIGNIN_FAILURE_MEMORY_SECONDS = 24 * 3600
    settings.SIGNIN_FIRST_DELAY_SECONDS = 3600
    settings.SIGNIN_UNLOCK_LINK_MINUTES = 30
    pause_account(client, owner.username)
    ask_for_unlock(client, owner.username)
    link = unlock_link(mail.outbox[0])
    assert "30 minutes" in mail.outbox[0].body
    clock.shift(minutes=30, seconds=1)
    expired = client.post(link)
    assert expired.status_code == 410
    assert right_password(client, owner.username).status_code == 429


def test_a_newer_link_replaces_the_older(client, owner):
    ask_for_unlock(client, owner.username)
    ask_for_unlock(client, owner.username)
    first, second = (unlock_link(message) for message in mail.outbox)
    assert client.get(first).status_code == 404
    assert client.get(second).status_code == 200
    assert SignInUnlock.objects.filter(user=owner).count() == 1


def test_the_unlock_form_answers_the_same_whatever_is_typed(client, owner, make_user):
    make_user("no-email", Role.PATIENT)
    pages = {
        named: ask_for_unlock(client, named)
        for named in (owner.username, "nobody@example.org", "no-email")
    }
    assert len(set(pages.values())) == 1
    assert [message.to for message in mail.outbox] == [[owner.email]]
    assert client.post(UNLOCK, {"named": ""}).status_code == 400


def test_the_unlock_form_is_rate_limited(client, owner, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "unlock": "2/min"}
    keys = [_key("unlock", "ip", OWNER_IP), _key("unlock", "account", owner.username)]
    cache.delete_many(keys)
    try:
        codes = [
            client.post(UNLOCK, {"named": owner.username}, REMOTE_ADDR=OWNER_IP).status_code
            for _ in range(3)
        ]
    finally:
        cache.delete_many(keys)
    assert codes == [302, 302, 429]
    assert len(mail.outbox) == 2


def test_the_browser_that_used_the_link_gets_past_a_pause_of_its_address(client, owner):
    """A pause of the address (others' failures from behind the same address) does not
    keep the owner out once they used their link; it still holds for any other account."""
    for n in range(LIMIT):
        wrong_password(client, f"sprayed{n}", address=OWNER_IP)
    assert right_password(client, owner.username).status_code == 429
    ask_for_unlock(client, owner.username)
    client.post(unlock_link(mail.outbox[0]), REMOTE_ADDR=OWNER_IP)
    assert wrong_password(client, "sprayed9", address=OWNER_IP).status_code == 429
    assert right_password(client, owner.username).status_code == 302


def test_an_unknown_link_is_a_404_page(client):
    response = client.get("/accounts/unlock/not-a-token/")
    assert response.status_code == 404
    assert "not valid" in response.content.decode()


# --- The managers' list of failed sign-ins ---------------------------------------------------


def test_managers_see_failed_sign_ins(client, manager_user, owner, django_assert_num_queries):
    pause_account(client, owner.username)
    wrong_password(client, "ghost@example.org", address=OWNER_IP)
    token_request(APIClient(), "api-ghost", "wrong", address=OWNER_IP)
    client.sign_in(manager_user)
    # Session, user, device, role groups; the failures; the counted attempts.
    with django_assert_num_queries(6):
        response = client.get(SIGN_INS)
    assert response.status_code == 200
    body = response.content.decode()
    assert body.count("owner@example.org") >= LIMIT
    assert "ghost@example.org" in body and "api-ghost" in body
    assert LOGIN in body and TOKEN_URL in body
    assert "203.0.113.5" in body
    assert "Yes" in body  # the fifth failure paused sign-in
    assert 'action="/manage/sign-ins/lift/"' in body


def test_managers_filter_failed_sign_ins_without_putting_names_in_the_url(
    client, manager_user, owner
):
    pause_account(client, owner.username)
    wrong_password(client, "ghost@example.org", address=OWNER_IP)
    client.sign_in(manager_user)
    by_name = client.post(SIGN_INS, {"username": "GHOST"}).content.decode()
    assert "ghost@example.org" in by_name and "owner@example.org" not in by_name
    by_address = client.post(SIGN_INS, {"ip_address": "203.0.113.2"}).content.decode()
    assert by_address.count(f'"Username tried">{OWNER}</th>') == 1
    pausing = client.post(SIGN_INS, {"locked_out": "on"}).content.decode()
    assert pausing.count(f'"Username tried">{OWNER}</th>') == 1
    assert "203.0.113.5" in pausing and "203.0.113.4" not in pausing
    assert client.post(SIGN_INS, {"ip_address": "not-an-address"}).status_code == 400


def test_a_manager_lifts_a_pause(client, manager_user, owner):
    pause_account(client, owner.username)
    assert right_password(client, owner.username).status_code == 429
    manager = client.__class__()
    manager.sign_in(manager_user)
    response = manager.post(LIFT, {"username": owner.username})
    assert response.status_code == 302
    assert right_password(client, owner.username).status_code == 302
    assert manager.post(LIFT, {}).status_code == 302  # names nothing: a message, no change
    assert manager.get(LIFT).status_code == 405


@pytest.mark.parametrize("role_user", ["front_desk_user", "clinician_user", "patient_user"])
def test_only_managers_see_sign_ins(client, request, role_user):
    client.sign_in(request.getfixturevalue(role_user))
    assert client.get(SIGN_INS).status_code == 403
    assert client.post(LIFT, {"username": "anyone"}).status_code == 403


def test_anonymous_visitors_are_sent_to_sign_in(client):
    assert client.get(SIGN_INS)["Location"].startswith(LOGIN)


def test_the_admin_shows_attempts_to_managers_read_only(client, manager_user, owner):
    pause_account(client, owner.username)
    client.sign_in(manager_user)
    attempt = AccessAttempt.objects.filter(username=owner.username).first()
    assert attempt is not None
    for model in ("accessattempt", "accessfailurelog", "accesslog"):
        assert client.get(f"/admin/axes/{model}/").status_code == 200, model
        assert client.get(f"/admin/axes/{model}/add/").status_code == 403, model
    change = client.get(f"/admin/axes/accessattempt/{attempt.pk}/change/")
    assert change.status_code == 200 and "Save" not in change.content.decode()
    assert client.post(f"/admin/axes/accessattempt/{attempt.pk}/delete/").status_code == 403
    assert AccessAttempt.objects.filter(pk=attempt.pk).exists()


def test_a_pause_ends_when_its_delay_has_passed(owner, client, clock):
    """The pause ends exactly when the failures that caused it leave the delay window."""
    pause_account(client, owner.username)
    clock.shift(seconds=30)
    response = right_password(client, owner.username)
    assert 25 <= int(response["Retry-After"]) <= 30
    clock.shift(timedelta(seconds=31))
    assert right_password(client, owner.username).status_code == 302
