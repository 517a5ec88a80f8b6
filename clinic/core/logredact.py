"""Secrets in paths, redacted before an access log line is written.

One list of patterns, used by gunicorn's access log (gunicorn.conf.py: `RedactingLogger`) and
by runserver's `django.server` logger (`RedactTokens`, in LOGGING). A token in a message link,
an email verification, a password reset or a calendar feed path is a key: whoever reads the
log could open the page. The token becomes "…"; the rest of the path stays, to debug by.
"""

import logging
import re
from typing import Any

REDACTED = "…"

# (marker, pattern, replacement): each keeps the path's fixed parts and drops the secret; the
# pattern matches only text holding its marker, so other text (most of gunicorn's fifty-odd
# atoms a request) skips the regular expression.
PATTERNS: tuple[tuple[str, re.Pattern[str], str], ...] = (
    # /m/<token>/ (links/urls.py)
    ("/m/", re.compile(r"(/m/)[^/?\s\"]+"), rf"\1{REDACTED}"),
    # /accounts/verify/<token>/ (portal/account_urls.py)
    ("/accounts/verify/", re.compile(r"(/accounts/verify/)[^/?\s\"]+"), rf"\1{REDACTED}"),
    # /accounts/password-reset/<uidb64>/<token>/ ("set-password" is Django's stand-in, no secret)
    (
        "/accounts/password-reset/",
        re.compile(r"(/accounts/password-reset/)(?!done/)[^/?\s\"]+/(?!set-password/)[^/?\s\"]+"),
        rf"\1{REDACTED}/{REDACTED}",
    ),
    (
        "/accounts/password-reset/",
        re.compile(r"(/accounts/password-reset/)(?!done/)[^/?\s\"]+(/set-password/)"),
        rf"\1{REDACTED}\2",
    ),
    # /accounts/unlock/<token>/ (clinic/users/urls.py; "sent/" is a page, no secret)
    ("/accounts/unlock/", re.compile(r"(/accounts/unlock/)(?!sent/)[^/?\s\"]+"), rf"\1{REDACTED}"),
    # /calendars/providers/<token>.ics (scheduling/feed_urls.py)
    (
        "/calendars/providers/",
        re.compile(r"(/calendars/providers/)[^/?\s\"]+?(\.ics)"),
        rf"\1{REDACTED}\2",
    ),
    # Any query string: a search (?search=, ?q=) may carry a name, a birth date or a phone.
    ("?", re.compile(r"\?[^\s\"]*"), f"?{REDACTED}"),
)


def redact(text: str) -> str:
    """The text with every token in a known path replaced by "…"."""
    for marker, pattern, replacement in PATTERNS:
        if marker in text:
            text = pattern.sub(replacement, text)
    return text


def _redact_arg(value: Any) -> Any:
    return redact(value) if isinstance(value, str) else value


def redact_atoms(atoms: dict[str, Any]) -> dict[str, Any]:
    """Gunicorn's access-log atoms (path, request line, query, referer...) redacted."""
    return {key: _redact_arg(value) for key, value in atoms.items()}


class RedactTokens(logging.Filter):
    """Redacts the request line of `django.server` records (runserver's access log)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(_redact_arg(arg) for arg in record.args)
        elif isinstance(record.args, dict):
            record.args = {key: _redact_arg(value) for key, value in record.args.items()}
        return True
