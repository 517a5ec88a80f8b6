"""The second step of signing in (django-otp): a code from an authenticator app (TOTP), a
passkey (django-otp-webauthn) or a single-use recovery code.

Staff always need it; a patient once they turn it on. A session is verified once
`django_otp.login()` has stored the device that passed: OTPMiddleware then gives
`request.user.is_verified()`. Wrong codes make the next try wait (the devices' own
throttling: 1, 2, 4, 8... seconds after each failure in a row)."""

from base64 import b32encode
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import qrcode
import qrcode.image.svg
from django.db import transaction
from django.http import HttpRequest
from django.utils.translation import gettext, gettext_noop
from django_otp import user_has_device, verify_token
from django_otp.models import Device
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp_webauthn.models import WebAuthnCredential

from clinic.core.errors import Forbidden, ValidationFailed

from .models import User

RECOVERY_CODE_COUNT = 10
AUTHENTICATOR_APP = "Authenticator app"
RECOVERY_CODES = "Recovery codes"
# Set at sign-in when the user holds a confirmed device, so that a patient's later requests
# know without a query that this session owes a second factor.
REQUIRED_SESSION_KEY = "_second_factor_required"


# --- Who needs it -------------------------------------------------------------------------


def is_staff_account(user: User) -> bool:
    return user.is_staff or user.is_superuser or user.is_clinic_staff


def has_second_factor(user: User) -> bool:
    return bool(user_has_device(user, confirmed=True))


def second_factor_required(user: User) -> bool:
    """Whether signing in as `user` takes a second factor (staff always, others once on)."""
    return is_staff_account(user) or has_second_factor(user)


def is_verified(user: Any) -> bool:
    check = getattr(user, "is_verified", None)  # installed by OTPMiddleware
    return bool(check and check())


def session_owes_second_factor(request: HttpRequest) -> bool:
    """A signed-in session that has not passed the second factor it needs."""
    user = request.user
    if not user.is_authenticated:
        return False
    required = request.session.get(REQUIRED_SESSION_KEY, False) or is_staff_account(user)
    return required and not is_verified(user)


def note_second_factor_at_sign_in(
    sender: type, request: HttpRequest, user: User, **kwargs: Any
) -> None:
    """user_logged_in: remember on the session whether this sign-in owes a second factor."""
    if request is not None and hasattr(request, "session") and second_factor_required(user):
        request.session[REQUIRED_SESSION_KEY] = True


# --- Checking a code --------------------------------------------------------------------------


WRONG_CODE = gettext_noop(
    "That code is not right. Check the app (or your recovery codes) and try again."
)
TOO_MANY_TRIES = gettext_noop("Too many wrong codes in a row: wait a few seconds, then try again.")


@dataclass(frozen=True)
class CodeCheck:
    device: Device | None = None
    # Set when the devices that could take the code are waiting out earlier wrong tries.
    retry_at: datetime | None = None

    @property
    def passed(self) -> bool:
        return self.device is not None

    @property
    def message(self) -> str:
        return gettext(WRONG_CODE if self.retry_at is None else TOO_MANY_TRIES)


def normalize_code(code: str) -> str:
    return "".join(code.split()).replace("-", "").lower()


def _devices_for_code(user: User, code: str) -> list[Device]:
    """A 6-digit code is the app's; anything else can only be a recovery code."""
    if code.isdigit() and len(code) == 6:
        return list(TOTPDevice.objects.devices_for_user(user, confirmed=True))
    return list(StaticDevice.objects.devices_for_user(user, confirmed=True))


def second_factor_check(*, user: User, code: str) -> CodeCheck:
    """Try `code` on the user's devices. A recovery code that passes is used up; a wrong code
    makes that device wait before the next try (and a try while waiting is not counted)."""
    code = normalize_code(code)
    retry_at = None
    for device in _devices_for_code(user, code) if code else []:
        allowed, info = device.verify_is_allowed()
        if not allowed:
            locked_until = (info or {}).get("locked_until")
            retry_at = locked_until if retry_at is None else max(retry_at, locked_until)
            continue
        verified = verify_token(user, device.persistent_id, code)
        if verified is not None:
            return CodeCheck(device=verified)
    return CodeCheck(retry_at=retry_at)


# --- Enrolling --------------------------------------------------------------------------------


def totp_device_pending(*, user: User) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=False).order_by("pk").first()


@transaction.atomic
def totp_device_start(*, user: User) -> TOTPDevice:
    """The authenticator-app device the user is setting up: a new secret the first time,
    the same one until it is confirmed (reloading the page keeps the QR code)."""
    pending = totp_device_pending(user=user)
    return pending or TOTPDevice.objects.create(user=user, name=AUTHENTICATOR_APP, confirmed=False)


def has_authenticator_app(user: User) -> bool:
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def totp_device_confirm(*, user: User, device: TOTPDevice, code: str) -> list[str]:
    """Confirm the app with one code from it; it replaces any app set up before. Returns
    a fresh set of recovery codes, to be shown once.

    Not one atomic block: a wrong code's throttling must be kept when the error is raised."""
    with transaction.atomic():
        pending = TOTPDevice.objects.select_for_update().get(
            pk=device.pk, user=user, confirmed=False
        )
        allowed, _ = pending.verify_is_allowed()
        passed = allowed and pending.verify_token(normalize_code(code))
        if passed:
            TOTPDevice.objects.filter(user=user).exclude(pk=pending.pk).delete()
            pending.confirmed = True
            pending.save(update_fields=["confirmed"])
            device.confirmed = True
            return recovery_codes_issue(user=user)
    raise ValidationFailed({"code": [gettext(WRONG_CODE if allowed else TOO_MANY_TRIES)]})


@transaction.atomic
def recovery_codes_issue(*, user: User) -> list[str]:
    """Ten new single-use recovery codes; any earlier ones stop working."""
    device, _ = StaticDevice.objects.get_or_create(
        user=user, name=RECOVERY_CODES, defaults={"confirmed": True}
    )
    device.token_set.all().delete()
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODE_COUNT)]
    StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
    device.throttle_reset()
    return codes


@transaction.atomic
def second_factor_turn_off(*, user: User) -> None:
    """A patient turns the second step off: every app, passkey and recovery code goes.
    Staff cannot: for them it is not optional."""
    if is_staff_account(user):
        raise Forbidden("Staff accounts always sign in with a second step.")
    TOTPDevice.objects.filter(user=user).delete()
    StaticDevice.objects.filter(user=user).delete()
    WebAuthnCredential.objects.filter(user=user).delete()


# --- What the pages show ------------------------------------------------------------------------


def second_factor_summary(*, user: User) -> dict[str, Any]:
    recovery = StaticDevice.objects.filter(user=user, confirmed=True).first()
    return {
        "has_app": TOTPDevice.objects.filter(user=user, confirmed=True).exists(),
        "passkeys": list(
            WebAuthnCredential.objects.filter(user=user, confirmed=True).order_by("created_at")
        ),
        "recovery_codes_left": recovery.token_set.count() if recovery else 0,
        "required": is_staff_account(user),
    }


def has_passkey(user: User) -> bool:
    return WebAuthnCredential.objects.filter(user=user, confirmed=True).exists()


def totp_secret(device: TOTPDevice) -> str:
    """The secret as an authenticator app takes it by hand: base32, in groups of four."""
    text = b32encode(device.bin_key).decode()
    return " ".join(text[i : i + 4] for i in range(0, len(text), 4))


def otpauth_qr_svg(uri: str) -> str:
    """The otpauth:// URI as an inline SVG QR code (paths only: no style attributes)."""
    image = qrcode.make(uri, image_factory=qrcode.image.svg.SvgPathImage, box_size=8)
    return image.to_string(encoding="unicode")
