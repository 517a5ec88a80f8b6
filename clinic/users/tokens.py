"""API tokens (django-rest-knox): stored as SHA-512 digests, expiring, revocable.

A user's tokens all go when their password changes (any path that saves a new password:
Django's password change and reset views, the admin, `user_upsert`) or when the account is
deactivated; the signals below see every `User.save()`.
"""

import binascii
import functools
from datetime import timedelta
from hmac import compare_digest
from typing import Any

import knox.auth
from django.conf import settings
from django.contrib.auth.hashers import check_password
from django.contrib.auth.models import Group
from django.db import connections, router
from django.db.models import ManyToManyField
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from knox.crypto import hash_token
from knox.models import AuthToken
from knox.settings import CONSTANTS, knox_settings
from knox.signals import token_expired
from rest_framework import exceptions

from clinic.core.preload import columns_of, row_from_db

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
    """A new token for the user; the clear token is returned once and never stored. The
    user's expired tokens go at the same time (knox swept them on every request)."""
    AuthToken.objects.filter(user=user, expiry__lt=timezone.now()).delete()
    return AuthToken.objects.create(user=user, expiry=token_ttl_for(user))


class TokenAuthentication(knox.auth.TokenAuthentication):
    """knox's token check in one statement (`tokens_with_roles`): the token (by its prefix)
    with its user and the user's role, which then needs no query of its own. The check is knox's:
    the digest compared in constant time, an expired token refused (and deleted), an
    inactive user refused. Unlike knox, a request does not also read and sweep the user's
    other tokens: sign-in does (`token_issue`). Tokens are not renewed per request
    (REST_KNOX AUTO_REFRESH is off), so a request writes nothing."""

    def authenticate_credentials(self, token: bytes) -> tuple[User, AuthToken]:
        failed = exceptions.AuthenticationFailed(_("Invalid token."))
        text = token.decode("utf-8")
        candidates = tokens_with_roles(text[: CONSTANTS.TOKEN_KEY_LENGTH])
        for auth_token in candidates:
            if auth_token.expiry is not None and auth_token.expiry < timezone.now():
                auth_token.delete()
                token_expired.send(
                    sender=self.__class__,
                    username=auth_token.user.get_username(),
                    source="auth_token",
                )
                continue
            try:
                digest = hash_token(text)
            except (TypeError, binascii.Error):
                raise failed from None
            if compare_digest(digest, auth_token.digest):
                if knox_settings.AUTO_REFRESH and auth_token.expiry:
                    self.renew_token(auth_token)
                return self.validate_user(auth_token)
        raise failed


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


def tokens_with_roles(token_key: str) -> list[AuthToken]:
    """The tokens with this lookup prefix, each with its user and the user's role (from the
    names of their groups), in one statement: the ORM's select_related with an array
    subquery costs more to compile than the database takes to answer it."""
    connection = connections[router.db_for_read(AuthToken)]
    with connection.cursor() as cursor:
        cursor.execute(_token_sql(connection.alias), [token_key])
        rows = cursor.fetchall()
    token_width = len(AuthToken._meta.concrete_fields)
    found = []
    for row in rows:
        auth_token = row_from_db(AuthToken, list(row[:token_width]), connection)
        user = row_from_db(User, list(row[token_width:-1]), connection)
        assert isinstance(auth_token, AuthToken) and isinstance(user, User)
        user.__dict__["role"] = user.role_of(row[-1])  # the cached_property, filled
        AuthToken._meta.get_field("user").set_cached_value(auth_token, user)
        found.append(auth_token)
    return found


@functools.cache
def _token_sql(alias: str) -> str:
    """The statement of `tokens_with_roles`: names from the models' metadata, the token key
    a parameter."""
    connection = connections[alias]
    groups = User._meta.get_field("groups")
    assert isinstance(groups, ManyToManyField)
    return """
SELECT {token}, {user},
       ARRAY(SELECT g.name FROM {group_table} AS g
             JOIN {through} AS ug ON ug.{group_id} = g.id WHERE ug.{user_id} = u.id)
FROM {token_table} AS t JOIN {user_table} AS u ON u.id = t.user_id
WHERE t.token_key = %s
""".format(  # noqa: S608 - names from the models' metadata, no input
        token=", ".join(columns_of(AuthToken, "t", connection)),
        user=", ".join(columns_of(User, "u", connection)),
        group_table=Group._meta.db_table,
        through=groups.m2m_db_table(),
        group_id=groups.m2m_reverse_name(),
        user_id=groups.m2m_column_name(),
        token_table=AuthToken._meta.db_table,
        user_table=User._meta.db_table,
    )
