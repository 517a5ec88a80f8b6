"""Lifting a sign-in pause (clinic/users/signin_limits.py): by the owner, from an emailed
link, or by a manager.

The owner asks with their username or email address; the answer is the same whether or not
an account matches (no account enumeration). A matching active account with an email address
gets a link holding a random token, of which only the sha256 digest is kept (SignInUnlock).
Opening the link and pressing its button (link scanners only GET) marks it used and forgets
the account's failures (axes.utils.reset), once, before it expires.

The email goes out directly through Django's email backend, like the portal's account emails:
the outbox (notifications/) sits on a floor above the users app, is made for messages to
patients (consent, quiet hours) and would delay a link its owner is waiting for.
"""

import hashlib
import logging
import secrets
from datetime import timedelta
from smtplib import SMTPException

from axes.utils import reset as axes_reset
from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy

from clinic.core.errors import DomainError, Forbidden

from .actor import Actor
from .models import SignInUnlock, User
from .roles import Role
from .signin_limits import attempt_key

logger = logging.getLogger(__name__)

SUBJECT_TEMPLATE = "users/unlock_email_subject.txt"
BODY_TEMPLATE = "users/unlock_email.txt"


class UnlockLinkInvalid(DomainError):
    """An unlock link that cannot (any more) lift a pause."""

    STATUS = {"unknown": 404, "used": 409, "expired": 410}
    DETAIL = {
        "unknown": gettext_lazy("This link is not valid. It may have been copied incompletely."),
        "used": gettext_lazy(
            "This link was already used. If sign-in is paused again, ask for a new link."
        ),
        "expired": gettext_lazy("This link has expired. Ask for a new one."),
    }

    def __init__(self, code: str):
        super().__init__(str(self.DETAIL[code]), code=code)
        self.status_code = self.STATUS[code]


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _account(named: str) -> User | None:
    """The active account a person means by `named`: their username, else their email."""
    value = named.strip()
    if not value:
        return None
    active = User.objects.filter(is_active=True)
    return (
        active.filter(username=value).first()
        or active.filter(email__iexact=value).exclude(email="").first()
        or active.filter(username__iexact=value).order_by("pk").first()
    )


def _send(*, user: User, token: str, minutes: int) -> None:
    path = reverse("signin-unlock-use", kwargs={"token": token})
    context = {
        "clinic_name": settings.CLINIC_NAME,
        "unlock_url": settings.CLINIC_BASE_URL.rstrip("/") + path,
        "minutes": minutes,
    }
    subject = render_to_string(SUBJECT_TEMPLATE, context).strip()
    body = render_to_string(BODY_TEMPLATE, context)
    try:
        send_mail(subject, body, None, [user.email], fail_silently=False)
    except (SMTPException, OSError) as exc:
        # The page says the same either way; the owner can ask again.
        logger.warning("sign-in unlock email not sent: %s", type(exc).__name__)


def signin_unlock_request(*, named: str) -> None:
    """Email an unlock link to the account `named` (username or email), if there is one
    with an email address; do nothing visible otherwise. The email goes out once its row is
    saved; a mail server that fails is logged, and the owner can ask again."""
    user = _account(named)
    if user is None or not user.email:
        return
    minutes = settings.SIGNIN_UNLOCK_LINK_MINUTES
    token = _unlock_link_issue(user=user, minutes=minutes)
    _send(user=user, token=token, minutes=minutes)


@transaction.atomic
def _unlock_link_issue(*, user: User, minutes: int) -> str:
    token = secrets.token_urlsafe(32)
    now = timezone.now()
    SignInUnlock.objects.filter(user=user).delete()  # only the newest link works
    SignInUnlock.objects.create(
        user=user,
        token_digest=_digest(token),
        created_at=now,
        expires_at=now + timedelta(minutes=minutes),
    )
    return token


def signin_unlock_check(*, token: str, lock: bool = False) -> SignInUnlock:
    """The link's row if it can still be used; UnlockLinkInvalid otherwise."""
    rows = SignInUnlock.objects.select_related("user").filter(token_digest=_digest(token))
    link = (rows.select_for_update(of=("self",)) if lock else rows).first()
    if link is None:
        raise UnlockLinkInvalid("unknown")
    if link.used_at is not None:
        raise UnlockLinkInvalid("used")
    if link.expires_at <= timezone.now():
        raise UnlockLinkInvalid("expired")
    return link


@transaction.atomic
def signin_unlock_use(*, token: str) -> User:
    """Use the link: its account's failures are forgotten and the link is spent."""
    link = signin_unlock_check(token=token, lock=True)
    link.used_at = timezone.now()
    link.save(update_fields=["used_at"])
    axes_reset(username=attempt_key(link.user.username))
    return link.user


@transaction.atomic
def signin_pause_lift(*, actor: Actor, username: str = "", address: str = "") -> int:
    """A manager lifts the pause of an account (its failures from every address) or of an
    address (every account's failures from it). Returns the attempt rows forgotten."""
    if not actor.has_role(Role.MANAGER):
        raise Forbidden("Only a manager can lift a sign-in pause.")
    lifted = 0
    if username:
        lifted += axes_reset(username=attempt_key(username))
    if address:
        lifted += axes_reset(ip=address)
    logger.info(
        "sign-in pause lifted by user %s: %d attempt rows", actor.user and actor.user.pk, lifted
    )
    return lifted
