"""API tokens (django-rest-knox): stored as SHA-512 digests, expiring, revocable.

A user's tokens all go when their password changes (any path that saves a new password:
Django's password change and reset views, the admin, `user_upsert`) or when the account is
deactivated; the signals below see every `User.save()`.
"""

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.hashers import check_password
from knox.models import AuthToken

from .models import User

# The public id of a token in GET/DELETE /api/v1/auth/tokens/: the start of its digest
# (what the database keeps; it does not let anyone sign in). Never the token itself.
PUBLIC_ID_LENGTH = 16
PREFIX_LENGTH = 8
_REVOKE_FLAG = "_revoke_api_tokens"


def token_ttl_for(user: User) -> timedelta:
    if user.is_clinic_staff or user.is_superuser:
        return timedelta(seconds=settings.API_TOKEN_TTL_SECONDS_STAFF)
    return timedelta(seconds=settings.API_TOKEN_TTL_SECONDS_PATIENT)


def token_issue(*, user: User) -> tuple[AuthToken, str]:
    """A new token for the user; the clear token is returned once and never stored."""
    return AuthToken.objects.create(user=user, expiry=token_ttl_for(user))


def public_id(token: AuthToken) -> str:
    return token.digest[:PUBLIC_ID_LENGTH]


def tokens_revoke_all(*, user: User) -> int:
    deleted, _ = AuthToken.objects.filter(user=user).delete()
    return deleted


def token_revoke_own(*, user: User, token_id: str) -> bool:
    """Revoke one of the user's own tokens by its public id; False when there is none."""
    if len(token_id) != PUBLIC_ID_LENGTH:
        return False
    deleted, _ = AuthToken.objects.filter(user=user, digest__startswith=token_id).delete()
    return deleted > 0


def _password_changed(user: User, old_hash: str) -> bool:
    if user.password == old_hash:
        return False
    raw = getattr(user, "_password", None)  # set by set_password until the save
    # A rehash of the same password (Django upgrading its hasher at sign-in) is no change.
    return not (raw is not None and old_hash and check_password(raw, old_hash))


def note_credential_change(sender: type, instance: User, update_fields=None, **kwargs: Any) -> None:
    """pre_save: flag the user when this save changes the password or deactivates."""
    watched = {"password", "is_active"}
    if instance.pk is None or (update_fields is not None and not watched & set(update_fields)):
        return
    old = User.objects.filter(pk=instance.pk).values_list("password", "is_active").first()
    if old is None:
        return
    old_hash, was_active = old
    deactivated = was_active and not instance.is_active
    if deactivated or _password_changed(instance, old_hash):
        setattr(instance, _REVOKE_FLAG, True)


def revoke_on_credential_change(sender: type, instance: User, **kwargs: Any) -> None:
    """post_save: the flagged user's tokens are deleted (in the caller's transaction, if any)."""
    if instance.__dict__.pop(_REVOKE_FLAG, False):
        tokens_revoke_all(user=instance)
