"""Counting a page's own queries. The idle sign-out renews the session at most once a
minute (clinic/users/sessions.py), writing it back inside a savepoint; whether a request
does so depends on the clock, not the page, so those writes are left out and the session's
read is counted."""

import re

from django.db import connection
from django.test.utils import CaptureQueriesContext

SESSION_WRITE = re.compile(
    r'^(SAVEPOINT|RELEASE SAVEPOINT|ROLLBACK TO SAVEPOINT|UPDATE "django_session"|INSERT INTO "django_session")'
)


def page_queries(client, url: str, data=None, **headers):
    """The SQL of one GET of `url` (without the session's write-back) and the response."""
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, data or {}, **headers)
    sql = [q["sql"] for q in captured.captured_queries]
    return [q for q in sql if not SESSION_WRITE.match(q)], response
