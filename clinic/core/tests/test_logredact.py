"""Tokens in link, verification, reset and feed paths are redacted from access-log lines."""

import logging

import pytest

from clinic.core.logredact import PATTERNS, RedactTokens, redact

TOKEN = "Zq3x-9_aK2pLmN0bVcXr7tYu1iOpAsDfGhJkLqWe"


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (f'"GET /m/{TOKEN}/ HTTP/1.1" 200', '"GET /m/…/ HTTP/1.1" 200'),
        (f"POST /m/{TOKEN}/", "POST /m/…/"),
        (f"/accounts/verify/{TOKEN}/", "/accounts/verify/…/"),
        (f"/accounts/password-reset/MQ/{TOKEN}/", "/accounts/password-reset/…/…/"),
        ("/accounts/password-reset/MQ/set-password/", "/accounts/password-reset/…/set-password/"),
        ("/accounts/password-reset/done/", "/accounts/password-reset/done/"),
        (f"/calendars/providers/{TOKEN}.ics", "/calendars/providers/….ics"),
        (f"POST /accounts/unlock/{TOKEN}/", "POST /accounts/unlock/…/"),
        ("/accounts/unlock/sent/", "/accounts/unlock/sent/"),
        ("/accounts/unlock/", "/accounts/unlock/"),
        ("/patients/", "/patients/"),
        ("/desk/m/", "/desk/m/"),
    ],
)
def test_redact_replaces_the_token_and_keeps_the_path(line, expected):
    assert redact(line) == expected


def test_the_django_server_record_is_redacted(caplog):
    logger = logging.getLogger("clinic.test.redact")
    logger.addFilter(RedactTokens())
    try:
        with caplog.at_level(logging.INFO, logger="clinic.test.redact"):
            logger.info('"%s" %s %s', f"GET /m/{TOKEN}/ HTTP/1.1", "404", "120")
            logger.warning(f"Not Found: /accounts/verify/{TOKEN}/")
    finally:
        logger.filters.clear()
    assert TOKEN not in caplog.text
    assert '"GET /m/…/ HTTP/1.1" 404 120' in caplog.text
    assert "Not Found: /accounts/verify/…/" in caplog.text


def test_the_settings_filter_the_server_and_request_loggers():
    for name in ("django.server", "django.request"):
        assert any(isinstance(f, RedactTokens) for f in logging.getLogger(name).filters), name


def test_each_pattern_matches_only_text_holding_its_marker():
    """`redact` skips the patterns whose marker a text lacks: that must never skip a match."""
    for marker, pattern, _ in PATTERNS:
        literal = pattern.pattern.replace("\\", "").replace("(", "")
        assert literal.startswith(marker), (marker, pattern.pattern)
