"""Portal accounts: registration with a confirmed email address, and the password-reset
email for an address without an account.

No account enumeration: whatever is typed, a registration does the same work (validate,
look the address up, hash the password, write one Registration row, send one email) and the
page that follows is the same. Only the email itself differs, and only its recipient reads
it: a new address gets a confirmation link, an address with a login gets "you already have
an account" with a sign-in and a password-reset link.

Emails go out synchronously through django.core.mail (the console backend in development).
They name no one and carry no health information; the confirmation link holds a random
token, of which only the sha256 digest is stored.
"""

import hashlib
import logging
import secrets
from datetime import date, timedelta
from smtplib import SMTPException

from django.conf import settings
from django.contrib.auth import get_user_model, password_validation
from django.contrib.auth.hashers import make_password
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from clinic.core.errors import DomainError, ValidationFailed
from clinic.core.phones import format_phone, normalize_phone
from clinic.users.actor import Actor
from clinic.users.roles import Role
from clinic.users.services import user_set_role
from patients.models import ContactChannel, Language
from patients.services import patient_create

from .models import Registration

logger = logging.getLogger(__name__)

DEFAULT_LINK_HOURS = 48
EARLIEST_BIRTH_DATE = date(1900, 1, 1)
NAME_MAX_LENGTH = 80
EMAIL_MAX_LENGTH = 150  # the address becomes the username


class EmailNotSent(DomainError):
    """The mail server refused or could not be reached; nothing was saved."""

    status_code = 503
    code = "email_not_sent"


class RegistrationLinkInvalid(DomainError):
    """A confirmation link that cannot create an account (any more)."""

    STATUS = {"unknown": 404, "expired": 410, "used": 409, "account_exists": 409}
    DETAIL = {
        "unknown": gettext_lazy("This link is not valid. It may have been copied incompletely."),
        "expired": gettext_lazy("This link has expired."),
        "used": gettext_lazy("This link was already used: your account exists. Please sign in."),
        "account_exists": gettext_lazy(
            "An account with this email address already exists. Please sign in."
        ),
    }

    def __init__(self, code: str):
        super().__init__(str(self.DETAIL[code]), code=code)
        self.status_code = self.STATUS[code]


# --- Helpers ------------------------------------------------------------------------------


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def normalize_email(email: str) -> str:
    return (email or "").strip().lower()


def link_hours() -> int:
    return getattr(settings, "PORTAL_REGISTRATION_LINK_HOURS", DEFAULT_LINK_HOURS)


def _login_exists(email: str) -> bool:
    user_model = get_user_model()
    return user_model.objects.filter(Q(email__iexact=email) | Q(username__iexact=email)).exists()


def _absolute(path: str) -> str:
    return settings.CLINIC_BASE_URL.rstrip("/") + path


def email_context(**extra) -> dict:
    """What every account email may show: the clinic, how to reach it, and its links."""
    return {
        "clinic_name": settings.CLINIC_NAME,
        "clinic_phone": format_phone(getattr(settings, "CLINIC_PHONE", "")),
        "base_url": settings.CLINIC_BASE_URL.rstrip("/"),
        "login_url": _absolute(reverse("login")),
        "password_reset_url": _absolute(reverse("password_reset")),
        "register_url": _absolute(reverse("register")),
        **extra,
    }


def account_email_subject() -> str:
    """One neutral subject for every registration email, whichever path sent it."""
    return _("Your %(clinic)s patient portal account") % {"clinic": settings.CLINIC_NAME}


def _send(*, to: str, subject: str, template: str, context: dict) -> None:
    body = render_to_string(template, context)
    try:
        send_mail(subject, body, None, [to], fail_silently=False)
    except (SMTPException, OSError) as exc:
        logger.warning("account email not sent: %s", type(exc).__name__)
        raise EmailNotSent(
            _("We could not send the email just now. Please try again in a few minutes.")
        ) from None


# --- Validation ---------------------------------------------------------------------------


def _registration_errors(
    *,
    email: str,
    password: str,
    legal_first_name: str,
    legal_last_name: str,
    date_of_birth: object,
    phone: str,
    preferred_channel: str,
    consent_sms: object,
    consent_email: object,
) -> tuple[dict, str]:
    """Every field error at once, and the phone in E.164."""
    errors: dict[str, list[str]] = {}

    def add(field: str, messages: list[str]) -> None:
        if messages:
            errors.setdefault(field, []).extend(messages)

    add("email", _email_errors(email))
    add("legal_first_name", _name_errors(legal_first_name, _("Enter your legal first name.")))
    add("legal_last_name", _name_errors(legal_last_name, _("Enter your legal last name.")))
    add("date_of_birth", _birth_date_errors(date_of_birth))
    try:
        phone = normalize_phone(phone or "")
    except ValidationError as exc:
        add("phone", [exc.messages[0]])
        phone = ""
    for field, messages in _contact_errors(
        phone_given=bool(phone) or "phone" in errors,
        preferred_channel=preferred_channel,
        consent_sms=consent_sms,
        consent_email=consent_email,
    ).items():
        add(field, messages)
    add("password", _password_errors(password, email, legal_first_name, legal_last_name))
    return errors, phone


def _email_errors(email: str) -> list[str]:
    if not email:
        return [_("Enter your email address.")]
    try:
        validate_email(email)
    except ValidationError:
        return [_("Enter an email address such as name@example.com.")]
    if len(email) > EMAIL_MAX_LENGTH:
        return [_("Use an address of at most %(count)d characters.") % {"count": EMAIL_MAX_LENGTH}]
    try:
        UnicodeUsernameValidator()(email)
    except ValidationError:
        return [_("This address cannot be used to sign in; please use another.")]
    return []


def _name_errors(value: str, missing: str) -> list[str]:
    if not value:
        return [missing]
    if len(value) > NAME_MAX_LENGTH:
        return [_("Use at most %(count)d characters.") % {"count": NAME_MAX_LENGTH}]
    return []


def _birth_date_errors(date_of_birth: object) -> list[str]:
    if not isinstance(date_of_birth, date):
        return [_("Enter your date of birth, for example 1970-03-21.")]
    if date_of_birth > timezone.localdate():
        return [_("The date of birth cannot be in the future.")]
    if date_of_birth < EARLIEST_BIRTH_DATE:
        return [_("Check the year of birth.")]
    return []


def _contact_errors(
    *, phone_given: bool, preferred_channel: str, consent_sms: object, consent_email: object
) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if preferred_channel not in ContactChannel.values:
        errors["preferred_channel"] = [_("Choose how we should contact you.")]
    for field, value in (("consent_sms", consent_sms), ("consent_email", consent_email)):
        if not isinstance(value, bool):
            errors[field] = [_("Choose yes or no.")]
    if not phone_given and preferred_channel in ("sms", "phone"):
        errors["phone"] = [_("Enter a phone number to be reached by text message or phone.")]
    if preferred_channel == ContactChannel.SMS and consent_sms is False:
        errors.setdefault("consent_sms", []).append(
            _("To be reached by text message, answer yes here.")
        )
    if preferred_channel == ContactChannel.EMAIL and consent_email is False:
        errors.setdefault("consent_email", []).append(_("To be reached by email, answer yes here."))
    return errors


def _password_errors(password: str, email: str, first_name: str, last_name: str) -> list[str]:
    # The validators compare the password with the details typed, never with a stored account.
    candidate = get_user_model()(
        username=email, email=email, first_name=first_name, last_name=last_name
    )
    try:
        password_validation.validate_password(password or "", user=candidate)
    except ValidationError as exc:
        return list(exc.messages)
    return []


# --- Services -----------------------------------------------------------------------------


@transaction.atomic
def registration_start(
    *,
    email: str,
    password: str,
    legal_first_name: str,
    legal_last_name: str,
    date_of_birth: date,
    phone: str = "",
    preferred_channel: str,
    consent_sms: bool,
    consent_email: bool,
    language: str = Language.ENGLISH,
) -> Registration:
    """Record a registration request and send its one email.

    Both paths (new address, address with a login) run the same steps: one lookup, one
    make_password, one token, one Registration row, one email. The row for an address with
    a login keeps no details and the digest of a token that is never sent.
    """
    email = normalize_email(email)
    legal_first_name = (legal_first_name or "").strip()
    legal_last_name = (legal_last_name or "").strip()
    errors, phone = _registration_errors(
        email=email,
        password=password,
        legal_first_name=legal_first_name,
        legal_last_name=legal_last_name,
        date_of_birth=date_of_birth,
        phone=phone,
        preferred_channel=preferred_channel,
        consent_sms=consent_sms,
        consent_email=consent_email,
    )
    if language not in Language.values:
        errors["language"] = [_("Choose English or Spanish.")]
    if errors:
        raise ValidationFailed(errors)

    existing = _login_exists(email)
    password_hash = make_password(password)  # on both paths: the same work, the same time
    token = secrets.token_urlsafe(32)
    now = timezone.now()
    hours = link_hours()
    registration = Registration(
        email=email,
        token_digest=token_digest(token),
        created_at=now,
        expires_at=now + timedelta(hours=hours),
        language=language,
    )
    if existing:
        registration.for_existing_account = True
        template = "portal/accounts/email_account_exists.txt"
        context = email_context()
    else:
        registration.legal_first_name = legal_first_name
        registration.legal_last_name = legal_last_name
        registration.date_of_birth = date_of_birth
        registration.phone = phone
        registration.preferred_channel = preferred_channel
        registration.consent_sms = consent_sms
        registration.consent_email = consent_email
        registration.password_hash = password_hash
        template = "portal/accounts/email_verify.txt"
        context = email_context(
            verify_url=_absolute(reverse("verify", kwargs={"token": token})), hours=hours
        )
    registration.save()
    with translation.override(language):  # the email speaks the language chosen on the form
        _send(to=email, subject=account_email_subject(), template=template, context=context)
    return registration


def registration_check(*, token: str, lock: bool = False) -> Registration:
    """The registration a confirmation link belongs to, if it can still create an account;
    otherwise RegistrationLinkInvalid saying why."""
    rows = Registration.objects.filter(token_digest=token_digest(token), for_existing_account=False)
    if lock:
        rows = rows.select_for_update()
    registration = rows.first()
    if registration is None:
        raise RegistrationLinkInvalid("unknown")
    if registration.verified_at is not None:
        raise RegistrationLinkInvalid("used")
    if registration.expires_at <= timezone.now():
        raise RegistrationLinkInvalid("expired")
    return registration


@transaction.atomic
def registration_verify(*, token: str):
    """Confirm the address: create the patient's login and a patient record flagged for the
    front desk to verify (duplicate detection runs on it). Returns the new user."""
    registration = registration_check(token=token, lock=True)
    if _login_exists(registration.email):
        raise RegistrationLinkInvalid("account_exists")
    user_model = get_user_model()
    try:
        with transaction.atomic():
            user = user_model.objects.create(
                username=registration.email,
                email=registration.email,
                first_name=registration.legal_first_name,
                last_name=registration.legal_last_name,
                password=registration.password_hash,
                is_active=True,
            )
    except IntegrityError:  # the address got a login a moment ago
        raise RegistrationLinkInvalid("account_exists") from None
    user_set_role(user=user, role=Role.PATIENT)
    patient_create(
        by=Actor.portal(user),
        user=user,
        legal_first_name=registration.legal_first_name,
        legal_last_name=registration.legal_last_name,
        date_of_birth=registration.date_of_birth,
        phone=registration.phone,
        email=registration.email,
        preferred_channel=registration.preferred_channel,
        consent_sms=registration.consent_sms,
        consent_email=registration.consent_email,
        language=registration.language,
        needs_verification=True,
    )
    registration.verified_at = timezone.now()
    registration.user = user
    registration.password_hash = ""  # the login holds it now
    registration.save(update_fields=["verified_at", "user", "password_hash"])
    logger.info("portal registration %s confirmed; user %s created", registration.id, user.pk)
    return user


def password_reset_unknown_notify(*, email: str, subject: str, template: str) -> None:
    """The one email a password-reset request sends to an address without a usable login,
    so that both kinds of address get one email. A failure is logged, not raised, exactly as
    Django's own reset email does for a known address: the page must not differ."""
    email = normalize_email(email)
    try:
        send_mail(
            subject, render_to_string(template, email_context()), None, [email], fail_silently=False
        )
    except Exception as exc:  # as broad as Django's handler on the known-address path
        logger.warning("password reset email (no account) not sent: %s", type(exc).__name__)


KEEP_REGISTRATIONS = timedelta(days=30)


@transaction.atomic
def registration_purge(*, now=None) -> int:
    """Delete registrations whose link expired more than 30 days ago, used or not: the
    details live on in the patient record, and nothing else needs them. For a periodic task."""
    cutoff = (now or timezone.now()) - KEEP_REGISTRATIONS
    deleted, _ = Registration.objects.filter(expires_at__lt=cutoff).delete()
    return deleted
