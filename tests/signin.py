"""Signing in in tests with the second factor, the way the clinic requires it.

`SignedInClient.sign_in(user)` is `force_login` plus what passing the second step leaves in the
session (django_otp.login: the id of the device that passed); it skips typing the code as
force_login skips typing the password. Everything after it goes through the real middleware.
Browser tests and end-to-end tests type a real code instead: `totp_code(device)`."""

import time

from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from clinic.users.models import User
from clinic.users.two_factor import AUTHENTICATOR_APP, RECOVERY_CODES, is_staff_account


def give_authenticator(user: User) -> TOTPDevice:
    """The user's confirmed authenticator app, set up now if they have none."""
    device = TOTPDevice.objects.filter(user=user, confirmed=True).order_by("pk").first()
    return device or TOTPDevice.objects.create(user=user, name=AUTHENTICATOR_APP, confirmed=True)


def totp_code(device: TOTPDevice) -> str:
    """The code the user's app shows now, as a person would type it. A code is taken once
    (django-otp refuses one at or before the last step used); if this step's was already
    used, the next step's code (within the device's tolerance of one step) is given, and
    past that it waits for the clock to move on."""
    device.refresh_from_db()
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    while True:
        totp.time = time.time()
        if totp.t() > device.last_t:
            break
        if totp.t() + 1 > device.last_t:
            totp.time += device.step
            break
        time.sleep(1)
    return f"{totp.token():0{device.digits}d}"


def totp_code_for(username: str) -> str:
    return totp_code(TOTPDevice.objects.get(user__username=username, confirmed=True))


def fresh_recovery_code(user: User) -> str:
    """One more single-use recovery code for the user: for tests that sign the same user in
    several times within a TOTP step (30 s), where the app's code would be taken once."""
    device, _ = StaticDevice.objects.get_or_create(
        user=user, name=RECOVERY_CODES, defaults={"confirmed": True}
    )
    return StaticToken.objects.create(device=device, token=StaticToken.random_token()).token


def verify_session(client: Client, user: User) -> None:
    """Mark the client's session as having passed the second step with the user's device:
    staff get an authenticator app if they have none; others only if they turned it on."""
    device = (
        give_authenticator(user)
        if is_staff_account(user)
        else TOTPDevice.objects.filter(user=user, confirmed=True).first()
    )
    if device is None:
        return
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()


class SignedInClient(Client):
    def sign_in(self, user: User) -> None:
        """Signed in and past the second step, as after the real sign-in pages."""
        self.force_login(user)
        verify_session(self, user)
