"""Twilio's request signature (X-Twilio-Signature), as its security documentation defines
it: HMAC-SHA1, keyed with the account's auth token, over the full URL Twilio called followed
by each POST parameter's name and value in name order; base64. Why it is written here rather
than taken from the `twilio` package: docs/decisions/0035-visit-links-and-text-replies.md."""

import hmac
from base64 import b64encode
from collections.abc import Iterable
from hashlib import sha1

SIGNATURE_HEADER = "HTTP_X_TWILIO_SIGNATURE"


def twilio_signature(url: str, params: Iterable[tuple[str, str]], auth_token: str) -> str:
    """The signature Twilio sends for a form POST of `params` to `url`. A name given several
    times contributes each of its values, in order of value (as Twilio's libraries do)."""
    signed = url + "".join(name + value for name, value in sorted(params))
    digest = hmac.new(auth_token.encode(), signed.encode(), sha1).digest()
    return b64encode(digest).decode()


def twilio_signature_valid(
    *, url: str, params: Iterable[tuple[str, str]], auth_token: str, signature: str
) -> bool:
    if not auth_token or not signature:
        return False
    expected = twilio_signature(url, params, auth_token)
    return hmac.compare_digest(expected.encode(), signature.encode())
